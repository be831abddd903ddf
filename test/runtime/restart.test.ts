// Killed and restarted: the process dies at a service call (nothing after it happens) and starts again
// from its last checkpoint, with the broker, audit trail and order journal outliving it. For every kill
// point the day must end with the same hedges, the same orders at the broker (none twice) and one
// continuous audit sequence.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import type { Policy } from "../../machines/protocol.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay, type ReplayResult } from "../../simulations/replay.ts"
import { VirtualClock } from "../../src/runtime/virtual-clock.ts"
import { FULL_KILL_SWEEP } from "../kill-sweep.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const model = constantsMarginModel(defaultConfig.marginConstants)
const options = (policy: Policy) => ({ config: defaultConfig, policy, truth: model, estimate: model })

const outcome = (r: ReplayResult) => ({
  hedges: r.report.hedges.map((h) => ({ ...h })),
  grossSpend: r.report.grossSpend,
  recovered: r.report.recovered,
  breaches: r.report.breaches,
  entries: r.report.entries,
  orders: r.orders
})

/** Kill points spread over the day's service calls (the first among them: killed before it wrote anything). */
const KILL_POINTS = FULL_KILL_SWEEP ? 40 : 8

describe.each(["engine", "static"] as const)("a %s day killed at service calls spread over the whole day", (policy) => {
  it("ends as an uninterrupted run does, at every kill point", async () => {
    const whole = await replayDay(day, options(policy))
    expect(whole.restarts).toBe(0)
    expect(whole.orders.length).toBeGreaterThan(3)
    // How many service calls a whole day makes (a kill point past the end never fires).
    const total = (await replayDay(day, { ...options(policy), killAfterCalls: Number.MAX_SAFE_INTEGER })).serviceCalls
    expect(total).toBeGreaterThan(500)
    const killPoints = Array.from({ length: KILL_POINTS }, (_, i) => 1 + Math.floor((i * (total - 1)) / KILL_POINTS))
    for (const k of killPoints) {
      const r = await replayDay(day, { ...options(policy), killAfterCalls: k })
      expect(r.restarts, `kill at call ${k}`).toBe(1)
      expect(outcome(r), `kill at call ${k}`).toEqual(outcome(whole))
      const ids = r.orders.map((o) => o.clientOrderId)
      expect(new Set(ids).size, `kill at call ${k}: an order sent twice`).toBe(ids.length)
      expect(r.rows.map((x) => x.seq), `kill at call ${k}: audit sequence`).toEqual(r.rows.map((_, i) => i + 1))
      // Restored (the last checkpoint brought forward by the rows after it), or afresh when it died before writing anything.
      const restored = r.rows.filter((x) => x.event === "RESTORED")
      expect(restored.length, `kill at call ${k}`).toBeLessThanOrEqual(1)
      if (restored.length === 0) expect(r.rows[0]!.event).toBe("xstate.init")
    }
  }, 120_000)
})

describe("a kill while actors are still messaging each other", () => {
  // Every 7th call in the full sweep, every 49th in the sample.
  const stride = FULL_KILL_SWEEP ? 7 : 49
  it("loses no event: the example day, killed at calls spread over its first 400 (and at call 241, found by replay)", async () => {
    const example = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")
    for (const policy of ["engine", "static"] as const) {
      const whole = await replayDay(example, options(policy))
      for (const k of [241, ...Array.from({ length: Math.ceil(400 / stride) }, (_, i) => 1 + i * stride)]) {
        const r = await replayDay(example, { ...options(policy), killAfterCalls: k })
        expect(outcome(r), `${policy}, kill at call ${k}`).toEqual(outcome(whole))
      }
    }
  }, 120_000)
})

type Replayed = Awaited<ReturnType<typeof replayDay>>

/** The engine halted once, critically, and nothing left the process after its last recorded transition. */
const expectHaltedWithNothingAfter = (broken: Replayed, whole: Replayed) => {
  const halted = broken.alerts.filter((a) => a.alert.kind === "ENGINE_HALTED")
  expect(halted).toHaveLength(1)
  expect(halted[0]!.alert.severity).toBe("critical")
  // Only orders whose transitions were recorded left the process: a prefix of the whole day's orders.
  expect(broken.orders.length).toBeLessThan(whole.orders.length)
  expect(broken.orders).toEqual(whole.orders.slice(0, broken.orders.length))
  // Nothing recorded after the failure, and what was recorded is the whole day's beginning.
  expect(broken.rows).toEqual(whole.rows.slice(0, broken.rows.length))
}

describe("a database that dies mid-day", () => {
  it("stops every decision, raises a critical alert, and sends nothing after the last recorded transition", async () => {
    const whole = await replayDay(day, options("engine"))
    const broken = await replayDay(day, { ...options("engine"), auditFailsAfterBatches: 10 })
    expect(broken.failure).toMatch(/^audit write failed: .*connection to the database lost/)
    expectHaltedWithNothingAfter(broken, whole)
  })
})

describe("a database that stops answering mid-day (a hung connection)", () => {
  it("fails the write at the configured deadline and takes the refused connection's path: halt, one critical alert, nothing sent after", async () => {
    const whole = await replayDay(day, options("engine"))
    // The deadline's timers are this test's: time passes only when the test moves it.
    const wall = new VirtualClock(0)
    const hung = replayDay(day, { ...options("engine"), auditHangsAfterBatches: 10, databaseDeadline: { seconds: 10, timers: wall } })
    let settled = false
    void hung.finally(() => (settled = true))
    // Wait for the write that hangs (its deadline armed), then let 10 s pass.
    while (!settled && wall.nextDue() === undefined) await new Promise((resolve) => setImmediate(resolve))
    expect(settled, "the day ended before any write hung").toBe(false)
    wall.advanceTo(wall.nextDue()! - 1)
    expect(wall.fireNext(), "nothing gives up before the deadline").toBe(false)
    wall.advanceTo(wall.now() + 1)
    expect(wall.fireNext()).toBe(true)
    const broken = await hung
    expect(broken.failure).toMatch(/^audit write failed: .*the database did not answer append within 10 s/)
    expectHaltedWithNothingAfter(broken, whole)
  })
})
