// OpenAlgo not answering when the day is planned (09:00): the daemon raises one critical alert, plans
// again with back-off on its own clock (1 s, 2 s, …), and trades the day once the broker answers; it
// no longer exits 1. OpenAlgo lost mid-day: a critical watchdog alert for the broker and the market,
// not only a stream of warnings.
import { readFileSync } from "node:fs"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { startFakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { oneAlertPerOutage, runDaemon } from "../../src/daemon/daemon.ts"
import { makeLog } from "../../src/daemon/log.ts"
import type { DaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import type { WatchdogProblem } from "../../src/runtime/watchdog.ts"
import { SteppingClock } from "./stepping-clock.ts"
import type { FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const h = day.header

/** The daemon in paper mode on the fake OpenAlgo for the day, its JSON log lines kept, until `stopWhen`. */
const runPaperDaemon = (o: {
  readonly url: string
  readonly clock: SteppingClock
  readonly lines: Array<Record<string, unknown>>
  readonly stop: AbortController
  readonly stopWhen: (line: Record<string, unknown>) => boolean
  readonly watchdog?: typeof defaultConfig.watchdog
}) => {
  const settings: DaemonSettings = {
    mode: "paper",
    paperBroker: "openalgo",
    openalgoUrl: o.url,
    apiKey: Redacted.make("k"),
    scheduleFile: "",
    holidaysFile: "",
    tickMs: 15_000,
    rateLimits: { ordersPerSecond: 1000, dataPerSecond: 1000 },
    logFormat: "json",
    config: { ...defaultConfig, defaultBaskets: h.baskets, defaultBudgetPerBasket: h.budgetPerBasket, watchdog: o.watchdog ?? defaultConfig.watchdog }
  }
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        yield* migrate
        yield* runDaemon({
          settings,
          schedule: { version: 1, days: { Tuesday: { index: h.index, expiryType: "0DTE", entries: h.entries } } },
          calendar: { years: [] },
          instruments: loadInstruments(),
          clock: o.clock,
          log: makeLog("json", (line) => {
            const parsed = JSON.parse(line) as Record<string, unknown>
            o.lines.push(parsed)
            if (o.stopWhen(parsed)) o.stop.abort()
          }, "-", () => o.clock.now()),
          signal: o.stop.signal,
          days: 1
        })
      })
    ).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" })))
  )
}

describe("a broker down when the day is planned", () => {
  it("alerts once (critical), plans again with back-off, and goes on once the broker answers", async () => {
    const clock = new SteppingClock(instantOf(h.date, "08:59:30"))
    const fake = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: "k", mode: "analyze" })
    // Two planning attempts fail: each is the client's request and its 3 retries.
    fake.inject({ path: "expiry", kind: "status500", times: 8 })
    const lines: Array<Record<string, unknown>> = []
    const stop = new AbortController()
    try {
      // Planned: enough for this test.
      await runPaperDaemon({ url: fake.url, clock, lines, stop, stopWhen: (l) => String(l.message).startsWith("OpenAlgo is in") })
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

/** A stepping clock that takes the broker away once market time passes `at`. */
class ClockThatKillsTheBroker extends SteppingClock {
  fake: FakeOpenAlgo | undefined
  killed = false
  constructor(start: number, private readonly at: number) {
    super(start)
  }
  override async sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    if (!this.killed && at >= this.at && this.fake !== undefined) {
      this.killed = true
      await this.fake.close()
    }
    return super.sleepUntil(at, signal)
  }
}

describe("a broker lost mid-day", () => {
  it("is a critical watchdog alert (broker and market silent) within the configured limit", async () => {
    const lostAt = instantOf(h.date, "10:30:00")
    const clock = new ClockThatKillsTheBroker(instantOf(h.date, "08:59:30"), lostAt)
    const fake = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: "k", mode: "analyze" })
    clock.fake = fake
    const lines: Array<Record<string, unknown>> = []
    const stop = new AbortController()
    try {
      await runPaperDaemon({
        url: fake.url,
        clock,
        lines,
        stop,
        watchdog: { ...defaultConfig.watchdog, quoteSeconds: 20, brokerSeconds: 20 },
        stopWhen: () => lines.filter((l) => l.alert === "WATCHDOG").length === 2
      })
    } finally {
      if (!clock.killed) await fake.close()
    }
    expect(clock.killed).toBe(true)
    const alerts = lines.filter((l) => l.alert === "WATCHDOG")
    expect(alerts.map((a) => a.level)).toEqual(["error", "error"])
    expect(alerts.map((a) => String(a.message).match(/no (market quote|answer from the broker) for/)?.[1]).sort()).toEqual(["answer from the broker", "market quote"])
    // Within the limit (20 s) and a tick (15 s) of the loss, in market time.
    for (const a of alerts) expect(Date.parse(String(a.time)) - lostAt).toBeLessThanOrEqual(20_000 + 15_000 + 15_000)
  }, 120_000)
})

describe("failed exit reviews while the watchdog says the broker is silent", () => {
  it("are logged, not sent: one critical alert stands for the outage", async () => {
    const sent: Array<string> = []
    const logged: Array<string> = []
    const base = { notify: (alert: { kind: string }) => Effect.sync(() => void sent.push(alert.kind)) } as unknown as Parameters<typeof oneAlertPerOutage>[0]
    const log = makeLog("json", (line) => logged.push(line), "-", () => 0)
    let problems: Array<WatchdogProblem> = []
    const notifier = oneAlertPerOutage(base, () => ({ ok: problems.length === 0, problems, lagSeconds: 0, behind: null, lastWriteAt: null, lastQuoteAt: null, lastBrokerAt: null }), log)
    const review = { kind: "EXIT_REVIEW_FAILED" as const, severity: "warning" as const, actor: "session", details: {} }
    await Effect.runPromise(notifier.notify(review, 0))
    problems = [{ kind: "broker", seconds: 100, limitSeconds: 90, message: "no answer from the broker for 100 s (limit 90 s)" }]
    await Effect.runPromise(notifier.notify(review, 0))
    await Effect.runPromise(notifier.notify(review, 0))
    await Effect.runPromise(notifier.notify({ ...review, kind: "HEDGE_ORDER_FAILED" }, 0))
    expect(sent).toEqual(["EXIT_REVIEW_FAILED", "HEDGE_ORDER_FAILED"])
    expect(logged.filter((l) => l.includes('"suppressed":"EXIT_REVIEW_FAILED"'))).toHaveLength(2)
  })
})
