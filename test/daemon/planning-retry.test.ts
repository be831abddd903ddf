// OpenAlgo not answering when the day is planned (09:00): the daemon raises one critical alert, plans
// again with back-off on its own clock (1 s, 2 s, …), and trades the day once the broker answers; it
// no longer exits 1.
import { readFileSync } from "node:fs"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { startFakeOpenAlgo } from "../../adapters/openalgo/fake-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { runDaemon } from "../../src/daemon/daemon.ts"
import { makeLog } from "../../src/daemon/log.ts"
import type { DaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay } from "../../simulations/recorded-day.ts"
import { SteppingClock } from "./stepping-clock.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const h = day.header

describe("a broker down when the day is planned", () => {
  it("alerts once (critical), plans again with back-off, and goes on once the broker answers", async () => {
    const clock = new SteppingClock(instantOf(h.date, "08:59:30"))
    const fake = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: "k", mode: "analyze" })
    // Two planning attempts fail: each is the client's request and its 3 retries.
    fake.inject({ path: "expiry", kind: "status500", times: 8 })
    const lines: Array<Record<string, unknown>> = []
    const stop = new AbortController()
    const settings: DaemonSettings = {
      mode: "paper",
      paperBroker: "openalgo",
      openalgoUrl: fake.url,
      apiKey: Redacted.make("k"),
      scheduleFile: "",
      holidaysFile: "",
      tickMs: 15_000,
      rateLimits: { ordersPerSecond: 1000, dataPerSecond: 1000 },
      logFormat: "json",
      config: { ...defaultConfig, defaultBaskets: h.baskets, defaultBudgetPerBasket: h.budgetPerBasket }
    }
    try {
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function*() {
            yield* migrate
            yield* runDaemon({
              settings,
              schedule: { version: 1, days: { Tuesday: { index: h.index, expiryType: "0DTE", entries: h.entries } } },
              calendar: { holidays: { NSE: new Set(), BSE: new Set() } },
              instruments: loadInstruments(),
              clock,
              log: makeLog("json", (line) => {
                const parsed = JSON.parse(line) as Record<string, unknown>
                lines.push(parsed)
                // Planned: enough for this test.
                if (String(parsed.message).startsWith("OpenAlgo is in")) stop.abort()
              }, "-", () => clock.now()),
              signal: stop.signal,
              days: 1
            })
          })
        ).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" })))
      )
    } finally {
      await fake.close()
    }
    const alerts = lines.filter((l) => l.alert === "WATCHDOG")
    expect(alerts).toHaveLength(1)
    expect(alerts[0]!.level).toBe("error")
    expect(String(alerts[0]!.message)).toMatch(/the broker did not answer while 2026-02-10 was planned/)
    const retries = lines.filter((l) => String(l.message).startsWith("planning 2026-02-10 failed"))
    expect(retries.map((l) => String(l.message).replace(/: .*;/, ":;"))).toEqual([
      "planning 2026-02-10 failed (attempt 1):; trying again in 1 s",
      "planning 2026-02-10 failed (attempt 2):; trying again in 2 s"
    ])
    expect(lines.some((l) => String(l.message).startsWith("OpenAlgo is in analyze mode"))).toBe(true)
  }, 120_000)
})
