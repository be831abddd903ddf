// The one instant loop: how it waits (its pacing) changes nothing of what it does. A day paced on a
// clock, as the daemon paces it, holds the same instants and leaves the same audit as a virtual replay.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { clockPacing, virtualPacing, type Pacing } from "../../src/runtime/instants.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { SteppingClock } from "../daemon/stepping-clock.ts"
import type { DaemonClock } from "../../src/daemon/clock.ts"

const file = "simulations/days/2026-02-10-NIFTY.jsonl"
const tuesday = parseRecordedDay(readFileSync(file, "utf8"), file)
const model = constantsMarginModel(defaultConfig.marginConstants)

const dayPacedBy = async (pacing: Pacing) => {
  const held: Array<number> = []
  const r = await replayDay(tuesday, {
    config: defaultConfig,
    policy: "engine",
    truth: model,
    estimate: model,
    pacing,
    afterInstant: async (at) => {
      held.push(at)
    }
  })
  return { held, digest: r.report.auditDigest, rows: r.rows.length }
}

describe("runInstants", () => {
  it("holds the same instants and writes the same audit paced on a clock (the daemon's way) as paced virtually", async () => {
    const virtual = await dayPacedBy(virtualPacing)
    const paced = await dayPacedBy(clockPacing(new SteppingClock(tuesday.ticks[0]!.at), new AbortController().signal))
    expect(virtual.held.length).toBeGreaterThan(300)
    expect(virtual.rows).toBeGreaterThan(500)
    expect(paced.held).toEqual(virtual.held)
    expect(paced.digest).toBe(virtual.digest)
  }, 60_000)

  it("holds each instant once, in order", async () => {
    const { held } = await dayPacedBy(virtualPacing)
    for (let i = 1; i < held.length; i++) expect(held[i]!).toBeGreaterThan(held[i - 1]!)
  }, 30_000)
})

describe("clockPacing", () => {
  /** A clock that sleeps until woken: time moves only when the test says. */
  const stillClock = (now: number): DaemonClock & { now(): number } => ({
    now: () => now,
    sleepUntil: (_at, signal) => new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }))
  })

  /** Paced on a still clock at `now`, waiting for `at`, woken by a queued command. */
  const wokenByCommand = (now: number, at: number, held: number) => {
    let wake: () => void = () => undefined
    const pacing = clockPacing(stillClock(now), new AbortController().signal, (w) => {
      wake = w
      return () => undefined
    })
    const holding = pacing(at, held)
    wake()
    return holding
  }

  it("a queued command makes an instant now, after the one last held", async () => {
    expect(await wokenByCommand(1_000, 60_000, 500)).toBe(1_000)
  })

  it("never holds the instant just held again, even when the clock has not moved past it", async () => {
    expect(await wokenByCommand(1_000, 60_000, 1_000)).toBe(1_001)
  })

  it("a stop request ends the wait", async () => {
    const stop = new AbortController()
    const held = clockPacing(stillClock(1_000), stop.signal)(60_000, 500)
    stop.abort()
    await expect(held).resolves.toBeLessThanOrEqual(60_000)
  })

  it("sleeps until the instant on the clock and holds it", async () => {
    const clock = new SteppingClock(0)
    expect(await clockPacing(clock, new AbortController().signal)(60_000, 0)).toBe(60_000)
    expect(clock.now()).toBe(60_000)
  })
})
