// The operator API beside the daemon: paper mode against the fake OpenAlgo over HTTP, an in-memory
// PGlite, a recorded day on a clock that steps through its instants, and the API on a loopback port.
// The test holds the daemon asleep before a tick and moves market time itself: a toggle sent then wakes
// it, and the session takes it at once, stamped with the market time it came at; the day's trail in the database holds it and still verifies; the records answer
// analytics; a coming session and the schedule are set up for the daemon's next days. The daemon is
// stopped once the operator is done (SIGINT's way), its trail written up to there.
import { readFile } from "node:fs/promises"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { startFakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { findSession, loadTransitions } from "../../adapters/postgres/engine-store.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { runDaemon } from "../../src/daemon/daemon.ts"
import { makeLog } from "../../src/daemon/log.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { instantOf } from "../../src/domain/time.ts"
import { withOperatorApi } from "../../src/http/daemon-http.ts"
import { Analytics, BuyPreviewSchema, History, HistoryDay, Sessions, Status, Strikes } from "../../src/http/schemas.ts"
import { formatVerification, verifyDay } from "../../src/runtime/verify.ts"
import { paperDaemonSetup } from "../fixtures/paper-daemon.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { SteppingClock } from "../daemon/stepping-clock.ts"
import { bearer, call, expectError, postJson } from "./client.ts"

const day = parseRecordedDay(await readFile("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const h = day.header
const API_KEY = "operator-e2e-key-4711"
const TOKEN = "daemon-api-token-0123456789"
const TICK_MS = 15_000
/** Where the test holds the daemon asleep: trading, its ticks on the 15-second grid. */
const HOLD_AT = instantOf(h.date, "09:20:00")

const until = async <A>(what: string, probe: () => Promise<A | undefined>, timeoutMs = 60_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe().catch(() => undefined)
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe("the daemon with its operator API", () => {
  it("takes a toggle at once, in market time, audited and verifiable; answers from its records; sets up coming days", async () => {
    const clock = new SteppingClock(instantOf(h.date, "08:59:30"))
    clock.hold(HOLD_AT)
    const fake = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: API_KEY, mode: "analyze" })
    const { scheduleFile, schedule, settings } = await paperDaemonSetup({ day, openalgoUrl: fake.url, apiKey: API_KEY, tickMs: TICK_MS, scratchPrefix: "autohedge-daemon-api-" })
    const lines: Array<string> = []
    let listening: (url: string) => void = () => undefined
    const url = new Promise<string>((resolve) => (listening = resolve))
    const auth = bearer(TOKEN)

    /** Market time when each toggle was sent. */
    const sent: Array<number> = []
    const stop = new AbortController()
    // What the operator does while the daemon runs the day.
    const operate = async () => {
      const base = await url
      const status = async () => Schema.decodeUnknownSync(Status)((await call(base, "api/hedge/status")).json)
      // The daemon has worked up to the hold and sleeps until its next tick.
      const tick = await clock.asleep()
      expect(tick).toBeGreaterThanOrEqual(HOLD_AT)
      const trading = await status()
      expect(trading.state).toMatch(/^trading/)
      expect(trading.session).toMatchObject({ date: h.date, index: "NIFTY", mode: "paper", policy: "engine", id: expect.stringMatching(/^\d+$/) })
      // Market time moves a third of the way to the tick (off the ticks' grid), and the toggle comes.
      const moveOn = () => {
        const at = clock.now() + Math.max(1, Math.floor((tick - clock.now()) / 3))
        clock.moveTo(at % TICK_MS === 0 ? at + 1 : at)
        sent.push(clock.now())
      }
      moveOn()
      const off = await postJson(base, "api/hedge/toggle", { enabled: false, reason: "daemon test" }, auth)
      expect(off.status, off.text).toBe(200)
      await until("auto-hedge off", async () => ((await status()).enabled ? undefined : true))
      expect(await clock.asleep(), "asleep again until the same tick").toBe(tick)
      moveOn()
      expect((await postJson(base, "api/hedge/toggle", { enabled: true }, auth)).status).toBe(200)
      await until("auto-hedge back on", async () => ((await status()).enabled ? true : undefined))
      // A manual buy previewed against the daemon's broker and market: nothing is placed.
      const calls = Schema.decodeUnknownSync(Strikes)((await call(base, "api/hedge/manual/strikes?optionType=CE")).json)
      const pick = calls.strikes.find((c) => c.inBand) ?? calls.strikes[0]!
      const before = await status()
      const preview = await call(base, `api/hedge/manual/preview?strike=${pick.strike}&optionType=CE&lots=${calls.unitLots}`)
      expect(preview.status, preview.text).toBe(200)
      const p = Schema.decodeUnknownSync(BuyPreviewSchema)(preview.json)
      expect(p.margin.marginNow).toBeCloseTo(before.utilisation.marginInUse, 2)
      expect(p.spend.left).toBe(before.spend.left)
      expect((await status()).activeHedges).toEqual(before.activeHedges)
      // Tomorrow's session and schedule, for the daemon's next day.
      const planned = await postJson(base, "api/hedge/session", { date: "2026-02-11", baskets: 10, autoHedgeEnabled: false }, auth)
      expect(planned.status, planned.text).toBe(200)
      expect(expectError(await postJson(base, "api/hedge/session", { date: h.date, baskets: 10 }, auth), 409, "date").error).toMatch(/already running/)
      expect(Schema.decodeUnknownSync(Sessions)((await call(base, "api/hedge/session")).json).planned).toEqual([{ date: "2026-02-11", baskets: 10, budgetPerBasket: null, autoHedgeEnabled: false }])
      const wednesday = { version: 1, days: { ...schedule.days, Wednesday: schedule.days.Tuesday } }
      expect((await postJson(base, "api/hedge/schedule", wednesday, auth, "PUT")).status).toBe(200)
      expect(parseSchedule(await readFile(scheduleFile, "utf8"), scheduleFile)).toEqual(wednesday)
      stop.abort()
    }

    let operated: Promise<void> = Promise.resolve()
    try {
      const { rows, analytics, unknownDate, history, historyDay } = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function*() {
            yield* migrate
            const log = makeLog("json", (line) => lines.push(line), "-", () => clock.now())
            const api = { bind: { host: "127.0.0.1", port: 0 }, token: TOKEN, mode: "paper", config: settings.config, scheduleFile, schedule, clock, log, onListening: (u: string) => listening(u) }
            return yield* withOperatorApi(api, (operator) =>
              Effect.gen(function*() {
                // A failing check stops the daemon too, so the test fails at once rather than at its time limit.
                operated = operate().finally(() => stop.abort())
                yield* runDaemon({ settings, schedule, calendar: { years: [] }, instruments: loadInstruments(), clock, log, signal: stop.signal, days: 1, ...(operator === undefined ? {} : { operator }) })
                yield* Effect.promise(() => operated)
                // The daemon has stopped, its records written: they answer, through the same server.
                const base = yield* Effect.promise(() => url)
                const analytics = yield* Effect.promise(() => call(base, "api/hedge/analytics?days=5"))
                const unknownDate = yield* Effect.promise(() => call(base, "api/hedge/transactions?date=2026-02-03"))
                const history = yield* Effect.promise(() => call(base, "api/hedge/history?days=5"))
                const historyDay = yield* Effect.promise(() => call(base, `api/hedge/history/day?date=${h.date}`))
                const sessionId = (yield* findSession(h.date, "paper", "engine"))!
                return { rows: yield* loadTransitions(sessionId), analytics, unknownDate, history, historyDay }
              })
            )
          })
        ).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" })))
      )
      const toggles = rows.filter((r) => r.actorId === "session" && r.event === "TOGGLE")
      expect(toggles.map((r) => r.payload)).toEqual([{ enabled: false, reason: "daemon test" }, { enabled: true }])
      // Each toggle made an instant of its own when it came, off the daemon's 15-second ticks.
      expect(toggles.map((t) => t.at)).toEqual(sent)
      for (const t of toggles) {
        expect(t.at % TICK_MS).not.toBe(0)
        const clockRow = rows.find((r) => r.actorId === "session" && r.event === "CLOCK" && r.at === t.at)
        expect(clockRow!.seq).toBeGreaterThan(t.seq)
      }
      const v = await verifyDay(rows)
      expect(v.ok, formatVerification(v)).toBe(true)
      const a = Schema.decodeUnknownSync(Analytics)(analytics.json)
      expect(a.rows).toEqual([expect.objectContaining({ sessionDate: h.date, mode: "paper", policy: "engine", hedgeCount: expect.any(Number) })])
      expect(expectError(unknownDate, 404, "date").error).toBe("date: no session on 2026-02-03 in the records")
      // History reads the same records: the paper day, no league (one policy), its transactions.
      expect(Schema.decodeUnknownSync(History)(history.json)).toEqual({ source: "records", days: [{ date: h.date, dayOfWeek: "Tuesday", index: "NIFTY", rows: a.rows }] })
      expect(Schema.decodeUnknownSync(HistoryDay)(historyDay.json)).toMatchObject({ date: h.date, source: "records", rows: a.rows, league: [], transactionsOf: "paper" })
      const logged = lines.map((l) => JSON.parse(l) as { actor: string; message: string })
      expect(logged.some((l) => l.actor === "http" && l.message.startsWith("operator API and inspector at http://127.0.0.1:"))).toBe(true)
      expect(logged.filter((l) => l.actor === "operator").map((l) => l.message)).toEqual(
        expect.arrayContaining([
          "operator toggle (api): auto-hedge off (daemon test): queued; the session takes it at the next market instant",
          "operator: auto-hedge off (daemon test)",
          "operator: auto-hedge on",
          "operator session (api): session of 2026-02-11: 10 baskets, auto-hedge off; it applies when the day is set up (09:00 IST)",
          `operator session (api) refused: the session of ${h.date} is already running: its baskets and budget are fixed for the day (switch auto-hedge with the toggle)`,
          `operator schedule (api): schedule saved to ${scheduleFile}; it applies from the next day set up (today's session ${h.date} keeps its entries)`
        ])
      )
    } finally {
      await operated.catch(() => undefined)
      await fake.close()
    }
  }, 180_000)
})
