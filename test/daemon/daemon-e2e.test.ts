// End to end: the daemon in paper mode (OpenAlgo's analyzer) against the fake OpenAlgo server over HTTP
// on loopback, with an in-memory PGlite, over a recorded day on a clock that steps through its instants. Asserted: the orders
// the fake received, the audit rows written (and that `replay` verifies them), the day's records; and
// the same day with faults injected ends with no order sent twice and every failure alerted.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { describe, expect, it } from "vitest"
import { startFakeOpenAlgo, type Fault, type FakeOpenAlgo } from "../../adapters/openalgo/fake-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { findSession, loadTransitions } from "../../adapters/postgres/engine-store.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { runDaemon } from "../../src/daemon/daemon.ts"
import { makeLog } from "../../src/daemon/log.ts"
import type { DaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { instantOf } from "../../src/domain/time.ts"
import { formatVerification, verifyDay } from "../../src/runtime/verify.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { parseRecordedDay } from "../../simulations/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { marginModelOf } from "../../src/runtime/policies.ts"
import { SteppingClock } from "./stepping-clock.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const h = day.header
const API_KEY = "e2e-secret-key-4711"
// Re-checks every 30 s: the engine decides between look-ahead and entry, at instants off the recording's grid.
const settingsConfig = { ...defaultConfig, recheckSeconds: 30, defaultBaskets: h.baskets, defaultBudgetPerBasket: h.budgetPerBasket }

interface PaperDay {
  readonly fake: FakeOpenAlgo
  readonly rows: ReadonlyArray<TransitionRow>
  readonly orders: ReadonlyArray<{ client_order_id: string; hedge_id: string; status: string; broker_order_id: string | null; side: string; symbol: string; quantity: number }>
  readonly hedgeRows: number
  readonly log: ReadonlyArray<Record<string, unknown>>
}

const paperDay = async (faults: ReadonlyArray<Fault> = [], recordInto?: string): Promise<PaperDay> => {
  // Market time steps from one instant the daemon works at to the next: the day in seconds.
  const clock = new SteppingClock(instantOf(h.date, "08:59:30"))
  const fake = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: API_KEY, mode: "analyze" })
  for (const f of faults) fake.inject(f)
  const lines: Array<string> = []
  const settings: DaemonSettings = {
    mode: "paper",
    paperBroker: "openalgo",
    openalgoUrl: fake.url,
    apiKey: Redacted.make(API_KEY),
    scheduleFile: "",
    holidaysFile: "",
    tickMs: 15_000,
    // The fake OpenAlgo has no rate limit; the day is run at hundreds of times its speed.
    rateLimits: { ordersPerSecond: 1000, dataPerSecond: 1000 },
    logFormat: "json",
    config: settingsConfig
  }
  try {
    return await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function*() {
          yield* migrate
          yield* runDaemon({
            settings,
            // The platform trades what the recorded day says it traded.
            schedule: { version: 1, days: { Tuesday: { index: h.index, expiryType: "0DTE", entries: h.entries } } },
            calendar: { years: [] },
            instruments: loadInstruments(),
            clock,
            log: makeLog("json", (line) => lines.push(line), "-", () => clock.now()),
            signal: new AbortController().signal,
            days: 1,
            // A grid coarser than the day's own ticks: the replay below holds only if the engine's instants are recorded.
            ...(recordInto === undefined ? {} : { record: { dir: recordInto, everySeconds: 300 } })
          })
          const sql = yield* SqlClient
          const sessionId = (yield* findSession(h.date, "paper", "engine"))!
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
const expectNoOrderTwice = (d: PaperDay) => {
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

describe("the daemon in paper mode against a fake OpenAlgo (HTTP, PGlite)", () => {
  it("trades the day: hedges bought at the broker as journaled, every transition audited and verifiable", async () => {
    const recordDir = mkdtempSync(join(tmpdir(), "autohedge-recorded-"))
    const d = await paperDay([], recordDir)
    // The session ran to its end and was stored.
    expect(d.rows.filter((r) => r.actorId === "session" && r.event === "xstate.init")).toHaveLength(1)
    expect(d.rows.at(-1)?.to).toBe("closed")
    expect(d.rows.map((r) => r.seq)).toEqual(d.rows.map((_, i) => i + 1))
    // Replay rebuilds the live day through the same machines, row for row.
    const v = await verifyDay(d.rows)
    expect(v.ok, formatVerification(v)).toBe(true)
    // Hedges were needed and bought: LIMIT NRML buys on NFO in OpenAlgo's symbol format.
    const buys = d.fake.orders.filter((o) => o.action === "BUY")
    expect(buys.length).toBeGreaterThan(0)
    for (const o of buys) expect(o).toMatchObject({ strategy: "auto-hedge", pricetype: "LIMIT", product: "NRML", symbol: expect.stringMatching(/^NIFTY10FEB26\d+(CE|PE)$/) })
    expectNoOrderTwice(d)
    // The hedges the audit says were bought are the broker's filled buys, and the day's records hold them.
    const bought = new Set(d.rows.filter((r) => r.kind === "hedge" && r.to === "open").map((r) => r.actorId))
    expect(bought.size).toBeGreaterThan(0)
    expect(d.hedgeRows).toBe(bought.size)
    // Every line of the log names its session and actor; the key appears nowhere.
    for (const line of d.log) expect(line).toMatchObject({ session: expect.any(String), actor: expect.any(String) })
    expect(JSON.stringify(d.log)).not.toContain(API_KEY)
    expect(JSON.stringify(d.rows)).not.toContain(API_KEY)
    expect(d.log.some((l) => l.message === "day done")).toBe(true)

    // The day was recorded as the engine saw it: a valid recorded day that the simulator replays to
    // the daemon's decisions: the same hedges, for the same entries, at the same utilisation.
    const file = join(recordDir, readdirSync(recordDir)[0]!)
    const recorded = parseRecordedDay(readFileSync(file, "utf8"), file)
    expect(recorded.header).toMatchObject({ date: h.date, index: h.index, expiry: h.expiry, lotSize: h.lotSize, baskets: h.baskets, entries: h.entries })
    expect(recorded.ticks.length).toBeGreaterThan(75)
    expect(recorded.margins.length).toBe(recorded.ticks.length)
    // The fake broker's margin is the constants model's; the daemon decided on the config's estimate.
    const truth = constantsMarginModel(defaultConfig.marginConstants)
    const estimate = marginModelOf(settingsConfig.marginEstimate, settingsConfig, () => truth)
    const replayed = await replayDay(recorded, { config: settingsConfig, policy: "engine", truth, estimate })
    const decisions = (rows: ReadonlyArray<TransitionRow>) =>
      rows
        .filter((r) => r.kind === "hedge" && (r.event === "xstate.init" || ["open", "closed", "expired"].includes(r.to)) && r.from !== r.to)
        .map((r) => (r.event === "xstate.init" ? (({ forEntry, symbol, quantity, utilisationBefore }) => ({ hedge: r.actorId, forEntry, symbol, quantity, utilisationBefore }))((r.payload as { input: Record<string, unknown> }).input) : { hedge: r.actorId, to: r.to }))
    expect(decisions(replayed.rows).length).toBeGreaterThan(0)
    expect(decisions(replayed.rows)).toEqual(decisions(d.rows))
  }, 180_000)

  it("with faults injected: no order sent twice, and every failure alerted", async () => {
    const d = await paperDay([
      // The first hedge order reaches the broker and fills, but its answer never comes back.
      { path: "placeorder", kind: "fillAfterTimeout" },
      // The next one is refused by the broker.
      { path: "placeorder", kind: "reject", message: "RMS: margin exceeds limit" },
      // Reads that fail and are retried.
      { path: "orderbook", kind: "status500", times: 2 },
      { path: "optionchain", kind: "status429", times: 3 },
      { path: "funds", kind: "latency", ms: 50, times: 5 }
    ])
    expectNoOrderTwice(d)
    expect(d.rows.at(-1)?.to).toBe("closed")
    // The order whose answer was lost was found at the broker, not sent again.
    const timedOut = d.fake.orders[0]!
    expect(d.orders.some((o) => (o.broker_order_id ?? "").split("+").includes(timedOut.orderid))).toBe(true)
    // The refusal was alerted, with the broker's words.
    const alerts = d.log.filter((l) => typeof l.alert === "string")
    expect(alerts.some((a) => a.alert === "HEDGE_ORDER_FAILED" && String(a.message).includes("RMS: margin exceeds limit"))).toBe(true)
    const v = await verifyDay(d.rows)
    expect(v.ok, formatVerification(v)).toBe(true)
  }, 180_000)
})
