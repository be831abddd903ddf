// The engine's records in Postgres, on every server: a replayed day writes the same transitions it
// reports, its checkpoints restore a killed process, and orders are journaled before they are sent.
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { expect, it } from "vitest"
import { analytics, loadTransitions, openSession, postgresAuditLog, postgresOrderJournal } from "../../../adapters/postgres/engine-store.ts"
import { databaseStore, simulate } from "../../../simulations/simulate.ts"
import { forEachServer } from "../../fixtures/databases.ts"
import { defaultConfig } from "../../../src/domain/config.ts"
import { constantsMarginModel } from "../../../src/domain/margin.ts"
import { tradingSessionOf } from "../../../src/domain/session.ts"
import { parseRecordedDay } from "../../../src/domain/recorded-day.ts"
import { replayDay } from "../../../simulations/replay.ts"
import { toText } from "../../../simulations/report.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const model = constantsMarginModel(defaultConfig.marginConstants)
const options = { config: defaultConfig, policy: "engine" as const, truth: model, estimate: model }
const trading = tradingSessionOf({ ...day.header, autoHedgeEnabled: true, mode: "simulation" })

forEachServer("engine store", (db) => {
  const storeFor = (fresh: boolean) =>
    db.run(
      Effect.gen(function*() {
        const sessionId = yield* openSession(trading, "engine", fresh)
        return { sessionId, audit: yield* postgresAuditLog(sessionId), journal: yield* postgresOrderJournal(sessionId) }
      })
    )

  it("records every transition of a replayed day, in order, and journals every order before it was sent", async () => {
    const { sessionId, audit, journal } = await storeFor(true)
    const r = await replayDay(day, { ...options, store: { audit, journal } })
    expect(r.failure).toBeNull()
    const stored = await db.run(loadTransitions(sessionId))
    expect(stored).toEqual(r.rows)
    const orders = await db.run(
      Effect.gen(function*() {
        const sql = yield* SqlClient
        return yield* sql<{ client_order_id: string; status: string }>`SELECT client_order_id, status FROM auto_hedge.orders WHERE session_id = ${sessionId} ORDER BY created_at, client_order_id`
      })
    )
    expect(orders.map((o) => o.client_order_id).sort()).toEqual(r.orders.map((o) => o.clientOrderId).sort())
    expect(orders.every((o) => ["FILLED", "CANCELLED", "REJECTED", "ACCEPTED"].includes(o.status))).toBe(true)
    // Every filled order carries its fill as the broker answered it.
    const filled = (await Effect.runPromise(journal.all)).filter((o) => o.status === "FILLED")
    expect(filled.length).toBeGreaterThan(0)
    for (const o of filled) {
      expect(o.filledQuantity).toBe(o.quantity)
      expect(o.averagePrice).toBeGreaterThan(0)
    }
    const bought = r.report.hedges.filter((h) => h.boughtAt !== null)
    const spent = filled.filter((o) => o.side === "BUY").reduce((sum, o) => sum + o.filledQuantity * o.averagePrice!, 0)
    expect(spent).toBeCloseTo(bought.reduce((sum, h) => sum + h.paid, 0), 2)
    const latest = await Effect.runPromise(audit.latest)
    expect(latest?.seq).toBe(r.rows.at(-1)!.seq)
  })

  it("a fresh run of the same day replaces the earlier one", async () => {
    const first = await storeFor(true)
    await replayDay(day, { ...options, store: first })
    const again = await storeFor(true)
    expect(again.sessionId).toBe(first.sessionId)
    const r = await replayDay(day, { ...options, store: again })
    expect(await db.run(loadTransitions(again.sessionId))).toEqual(r.rows)
  })

  it("a process killed mid-day carries on from its stored checkpoint and ends as an uninterrupted day", async () => {
    const whole = await replayDay(day, options)
    for (const k of [60, 400, 900]) {
      const store = await storeFor(true)
      const r = await replayDay(day, { ...options, store, killAfterCalls: k })
      expect(r.restarts).toBe(1)
      expect(r.report.hedges).toEqual(whole.report.hedges)
      expect(r.orders).toEqual(whole.orders)
      const stored = await db.run(loadTransitions(store.sessionId))
      expect(stored.map((x) => x.seq)).toEqual(stored.map((_, i) => i + 1))
    }
  }, 120_000)

  it("simulating several policies over the same days in the database decides exactly as in memory", async () => {
    const days = [{ file: "tuesday", day }]
    const inMemory = await Effect.runPromise(simulate(days, ["engine", "static"], defaultConfig))
    const kept = await db.run(simulate(days, ["engine", "static"], defaultConfig, databaseStore()))
    expect(kept).toEqual(inMemory)
    const rows = await db.run(analytics(5))
    const engine = rows.find((r) => r.sessionDate === "2026-02-10" && r.policy === "engine" && r.mode === "simulation")!
    const run = inMemory[0]!.days[0]!
    expect(engine.hedgeCount).toBe(run.hedges.filter((h) => h.boughtAt !== null).length)
    expect(engine.totalCost).toBeCloseTo(run.grossSpend, 2)
    expect(engine.totalRecovered).toBeCloseTo(run.recovered, 2)
    expect(engine.peakUtilization).toBeCloseTo(run.peakUtilization, 2)
    expect(engine.breaches).toBe(run.breaches.length)
    // The money comes from the journal's fills, not from the end-of-day summary rows.
    await db.run(Effect.flatMap(SqlClient, (sql) => sql`DELETE FROM auto_hedge.active_hedges`.pipe(Effect.andThen(sql`DELETE FROM auto_hedge.hedge_transactions`))))
    const fromFills = (await db.run(analytics(5))).find((r) => r.sessionDate === "2026-02-10" && r.policy === "engine" && r.mode === "simulation")!
    expect(fromFills).toEqual(engine)
  }, 60_000)

  it("--resume of a finished day does not run it again: it says so and reports the recorded digest", async () => {
    const days = [{ file: "tuesday", day }]
    const [first] = await db.run(simulate(days, ["engine"], defaultConfig, databaseStore()))
    const recorded = first!.days[0]!.auditDigest
    const stored = async () => (await db.run(analytics(5))).find((r) => r.policy === "engine" && r.mode === "simulation")
    const before = await stored()
    const [again] = await db.run(simulate(days, ["engine"], defaultConfig, databaseStore(true)))
    expect(again!.days[0]).toMatchObject({ auditDigest: recorded, finished: true })
    expect(again!.days[0]!.hedges).toEqual(first!.days[0]!.hedges)
    expect(toText([again!])).toContain(`2026-02-10 NIFTY engine: finished in the database (audit digest ${recorded}); --resume did not run it again`)
    expect(await stored()).toEqual(before)
  }, 60_000)
}, { migrated: true })
