// The daemon's day end to end, for the e2e tests: paper mode (OpenAlgo's analyzer) or live against the
// fake OpenAlgo server over HTTP on loopback, an in-memory PGlite, a recorded day on a clock that steps
// through its instants; and what every such day must show (no order twice, no hedge counted before
// its fill).
import { readFileSync } from "node:fs"
import { Clock, Duration, Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { expect, it } from "vitest"
import { DateTime } from "luxon"
import { startFakeOpenAlgo, type Fault, type FakeOpenAlgo, type FakeOpenAlgoOptions } from "../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { findSession, loadTransitions } from "../../adapters/postgres/engine-store.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { runDaemon, type DaemonOperator } from "../../src/daemon/daemon.ts"
import type { Schedule } from "../../src/domain/schedule.ts"
import { makeLog } from "../../src/daemon/log.ts"
import { type DaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { instantOf } from "../../src/domain/time.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { parseRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import type { HedgeConfig } from "../../src/domain/config.ts"
import type { Instruments } from "../../src/domain/instruments.ts"
import { SteppingClock } from "./stepping-clock.ts"

export const nifty = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const day = nifty
const h = day.header
const weekdayOf = (date: string) => DateTime.fromISO(date).setLocale("en").toFormat("cccc")
export const API_KEY = "e2e-secret-key-4711"
// Re-checks every 30 s: the engine decides between look-ahead and entry, at instants off the recording's grid.
export const settingsConfig = { ...defaultConfig, recheckSeconds: 30, defaultBaskets: h.baskets, defaultBudgetPerBasket: h.budgetPerBasket }

export interface PaperDay {
  readonly fake: FakeOpenAlgo
  readonly rows: ReadonlyArray<TransitionRow>
  readonly orders: ReadonlyArray<{ client_order_id: string; hedge_id: string; status: string; broker_order_id: string | null; side: string; symbol: string; quantity: number }>
  readonly hedgeRows: number
  readonly log: ReadonlyArray<Record<string, unknown>>
}

export interface DayOptions {
  readonly day?: RecordedDay
  readonly faults?: ReadonlyArray<Fault>
  readonly recordInto?: string
  /** "live" runs against the fake as the live broker (Zerodha's behaviours), "paper" against its sandbox. */
  readonly mode?: "paper" | "live"
  readonly fake?: Partial<FakeOpenAlgoOptions>
  readonly config?: HedgeConfig
  /** Default: far above anything, so the day runs at hundreds of times its speed; give OpenAlgo's to test them. */
  readonly rateLimits?: DaemonSettings["rateLimits"]
  readonly instruments?: Instruments
  /** Effect's clock for the daemon's own waits (rate limit windows, backoffs, request timeouts). */
  readonly effectClock?: Clock.Clock
  /** A slow venue: how far market time moves on (ms) while the fake answers a request to `path` arriving at `at`. */
  readonly venueTakes?: (path: string, at: number) => number
  /** The operator API's hooks, given the day's schedule (the test watches the day through them). */
  readonly operator?: (schedule: Schedule) => DaemonOperator
  /** Stop the daemon (as SIGTERM does) when it first sleeps until this market time ("HH:MM:SS") or later. */
  readonly stopAt?: string
}

/**
 * A clock for Effect's waits that runs `speed` times the wall clock's pace and never wakes a sleep
 * early: the client's rate limit windows pass `speed` times faster, and the fake broker, counting its
 * windows on the same clock (`now`), sees them as they would be at OpenAlgo. Whether a request lands in
 * a full window depends on this one clock's order of events, not on how fast the machine runs.
 */
export const quickerClock = (speed: number): { readonly clock: Clock.Clock; readonly now: () => number } => {
  const wallStart = performance.now()
  const epoch = Date.now()
  const now = () => epoch + (performance.now() - wallStart) * speed
  const millis = () => Math.floor(now())
  const nanos = () => BigInt(Math.floor(now() * 1e6))
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: millis,
    currentTimeMillis: Effect.sync(millis),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: nanos,
    monotonicTimeNanos: Effect.sync(nanos),
    sleep: (duration) =>
      Effect.callback<void>((resume) => {
        const until = now() + Duration.toMillis(duration)
        let timer: ReturnType<typeof setTimeout>
        const check = () => {
          const left = until - now()
          if (left <= 0) resume(Effect.void)
          else timer = setTimeout(check, Math.ceil(left / speed))
        }
        check()
        return Effect.sync(() => clearTimeout(timer))
      })
  }
  return { clock, now }
}

export const paperDay = async (faults: ReadonlyArray<Fault> = [], recordInto?: string): Promise<PaperDay> =>
  daemonDay({ faults, ...(recordInto === undefined ? {} : { recordInto }) })

export const daemonDay = async (o: DayOptions): Promise<PaperDay> => {
  const day = o.day ?? nifty
  const h = day.header
  const recordInto = o.recordInto
  const config = o.config ?? { ...settingsConfig, defaultBaskets: h.baskets, defaultBudgetPerBasket: h.budgetPerBasket }
  // Market time steps from one instant the daemon works at to the next: the day in seconds.
  const clock = new SteppingClock(instantOf(h.date, "08:59:30"))
  const venueTakes = o.venueTakes
  const fake = await startFakeOpenAlgo({
    day,
    now: () => clock.now(),
    apiKey: API_KEY,
    mode: o.mode === "live" ? "live" : "analyze",
    ...(venueTakes === undefined ? {} : { onRequest: (path: string) => clock.runAhead(venueTakes(path, clock.now())) }),
    ...o.fake
  })
  for (const f of o.faults ?? []) fake.inject(f)
  const lines: Array<string> = []
  const stop = new AbortController()
  if (o.stopAt !== undefined) {
    clock.hold(instantOf(h.date, o.stopAt))
    void clock.asleep().then(() => stop.abort())
  }
  const settings: DaemonSettings = {
    mode: o.mode ?? "paper",
    paperBroker: "openalgo",
    openalgoUrl: fake.url,
    apiKey: Redacted.make(API_KEY),
    scheduleFile: "",
    holidaysFile: "",
    tickMs: 15_000,
    rateLimits: o.rateLimits ?? { ordersPerSecond: 1000, dataPerSecond: 1000, marginPerSecond: 1000 },
    logFormat: "json",
    config
  }
  try {
    return await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function*() {
          yield* migrate
          // The platform trades what the recorded day says it traded.
          const schedule: Schedule = { version: 1, days: { [weekdayOf(h.date)]: { index: h.index, expiryType: "0DTE", entries: h.entries } } }
          const daemon = runDaemon({
            settings,
            schedule,
            ...(o.operator === undefined ? {} : { operator: o.operator(schedule) }),
            calendar: { years: [] },
            instruments: o.instruments ?? loadInstruments(),
            clock,
            log: makeLog("json", (line) => lines.push(line), "-", () => clock.now()),
            signal: stop.signal,
            days: 1,
            // A grid coarser than the day's own ticks: the replay below holds only if the engine's instants are recorded.
            ...(recordInto === undefined ? {} : { record: { dir: recordInto, everySeconds: 300 } })
          })
          yield* o.effectClock === undefined ? daemon : Effect.provideService(daemon, Clock.Clock, o.effectClock)
          const sql = yield* SqlClient
          const sessionId = (yield* findSession(h.date, settings.mode, "engine"))!
          const rows = yield* loadTransitions(sessionId)
          const orders = yield* sql<PaperDay["orders"][number]>`SELECT client_order_id, hedge_id, status, broker_order_id, side, symbol, quantity FROM auto_hedge.orders WHERE session_id = ${sessionId} ORDER BY created_at`
          const [hedges] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM auto_hedge.hedge_transactions WHERE session_id = ${sessionId} AND action = 'BUY'`
          return { fake, rows, orders, hedgeRows: hedges!.n, log: lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
        })
      ).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" })))
    )
  } finally {
    await fake.close()
  }
}

/**
 * No order sent twice: every order at the broker belongs to exactly one intent the journal wrote down
 * before sending (an intent above the freeze quantity is several orders), and no intent has more at
 * the broker than it asked for.
 */
export const expectNoOrderTwice = (d: PaperDay) => {
  const partsOf = (o: PaperDay["orders"][number]) => (o.broker_order_id ?? "").split("+").filter((x) => x !== "")
  const claimed = d.orders.flatMap(partsOf)
  expect(new Set(claimed).size, "a broker order claimed by two intents").toBe(claimed.length)
  for (const o of d.fake.orders) expect(claimed, `order ${o.orderid} at the broker is in no intent`).toContain(o.orderid)
  for (const intent of d.orders) {
    const atBroker = d.fake.orders.filter((o) => partsOf(intent).includes(o.orderid))
    expect(atBroker.reduce((n, o) => n + o.quantity, 0), `${intent.client_order_id} at the broker`).toBeLessThanOrEqual(intent.quantity)
    for (const o of atBroker) expect([o.symbol, o.action]).toEqual([intent.symbol, intent.side])
  }
}

/** The hedges the audit says were bought: each has, at that instant, a fill at the broker behind it. */
export const expectNoHedgeBeforeFilled = (d: PaperDay) => {
  const bought = d.rows.filter((r) => r.kind === "hedge" && r.to === "open" && r.from !== "open")
  expect(bought.length).toBeGreaterThan(0)
  for (const row of bought) {
    const parts = d.orders.filter((o) => o.hedge_id === row.actorId && o.side === "BUY").flatMap((o) => (o.broker_order_id ?? "").split("+"))
    const filledBy = d.fake.orders.filter((o) => parts.includes(o.orderid) && o.filledAt !== null && o.filledAt <= row.at)
    expect(filledBy.reduce((n, o) => n + o.filledQuantity, 0), `${row.actorId} counted as held at ${new Date(row.at).toISOString()}`).toBeGreaterThan(0)
  }
}

/** The engine's decisions on hedges: what it bought for which entry, and when each was held and let go. */
export const decisions = (rows: ReadonlyArray<TransitionRow>) =>
  rows
    .filter((r) => r.kind === "hedge" && (r.event === "xstate.init" || ["open", "closed", "expired"].includes(r.to)) && r.from !== r.to)
    .map((r) => (r.event === "xstate.init" ? (({ forEntry, symbol, quantity, utilisationBefore }) => ({ hedge: r.actorId, forEntry, symbol, quantity, utilisationBefore }))((r.payload as { input: Record<string, unknown> }).input) : { hedge: r.actorId, to: r.to }))
