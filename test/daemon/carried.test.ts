// The daemon's next-day start: the engine's wings held at the previous session's close (active_hedges)
// that the broker still holds become the session's hedges from the open.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { analytics, openSession, wingsHeldAtPreviousClose, writeDayRecords, type WingHeld } from "../../adapters/postgres/engine-store.ts"
import { SqlClient } from "effect/sql/SqlClient"
import { carriedShortsAtOpen, carriedWingsAtOpen } from "../../src/daemon/carried.ts"
import { CARRIED_AT_OPEN, PositionWatcher } from "../../src/daemon/position-feed.ts"
import { instantOf } from "../../src/domain/time.ts"
import { niftyDayPlan, straddle } from "../fixtures/entries.ts"
import { tradingSessionOf } from "../../src/domain/session.ts"
import type { DayReport, HedgeReport } from "../../src/runtime/day-report.ts"
import { carriedInputOf } from "../../src/runtime/session-plan.ts"
import { forEachServer } from "../fixtures/databases.ts"

const wing = (strike: number, optionType: "CE" | "PE", quantity: number, expiry = "2026-07-07"): WingHeld => ({ strike, optionType, quantity, entryPrice: 2.15, expiry })
const pos = (strike: number, optionType: "CE" | "PE", quantity: number, expiry = "2026-07-07") => ({ strike, optionType, quantity, expiry })

describe("carriedWingsAtOpen", () => {
  it("carries each wing the broker still holds, as much as it holds, as the engine's (origin hedge)", () => {
    const carried = carriedWingsAtOpen([wing(25100, "CE", 1950), wing(24100, "PE", 1950)], [pos(25100, "CE", 1950), pos(24100, "PE", 975), pos(24600, "CE", -1950)], "2026-07-07")
    expect(carried).toEqual([
      { strike: 25100, optionType: "CE", quantity: 1950, avgPrice: 2.15, expiry: "2026-07-07", origin: { kind: "hedge" } },
      { strike: 24100, optionType: "PE", quantity: 975, avgPrice: 2.15, expiry: "2026-07-07", origin: { kind: "hedge" } }
    ])
    // The session holds them as open hedges from the open.
    expect(carriedInputOf(carried).carriedHedges?.map((h) => [h.strike, h.optionType, h.quantity])).toEqual([[25100, "CE", 1950], [24100, "PE", 975]])
  })

  it("carries nothing the broker no longer holds, nothing expired, and never counts one long twice", () => {
    expect(carriedWingsAtOpen([wing(25100, "CE", 1950)], [], "2026-07-07")).toEqual([])
    expect(carriedWingsAtOpen([wing(25100, "CE", 1950, "2026-07-06")], [pos(25100, "CE", 1950, "2026-07-06")], "2026-07-07")).toEqual([])
    expect(carriedWingsAtOpen([wing(25100, "CE", 1950), wing(25100, "CE", 1950)], [pos(25100, "CE", 2600)], "2026-07-07").map((w) => w.quantity)).toEqual([1950, 650])
    expect(carriedWingsAtOpen([wing(25100, "CE", 1950)], [pos(25100, "PE", 1950), pos(25100, "CE", 1950, "2026-07-14")], "2026-07-07")).toEqual([])
  })
})

describe("the shorts held before the first entry, as one carried portfolio", () => {
  const plan = niftyDayPlan([straddle("A", "09:20:00", "13:00:00")])
  const at = (t: string) => instantOf(plan.date, t)
  const carriedShorts = [pos(24000, "CE", -130, plan.expiry), pos(24000, "PE", -130, plan.expiry)]
  const wings = [pos(24500, "CE", 130, plan.expiry), pos(23500, "PE", 130, plan.expiry)]

  it("the session keeps the carried wings while that portfolio is held", () => {
    const opening = [...carriedShortsAtOpen([...carriedShorts, ...wings], plan.expiry), ...carriedWingsAtOpen([wing(24500, "CE", 130, plan.expiry), wing(23500, "PE", 130, plan.expiry)], wings, plan.date)]
    const input = carriedInputOf(opening)
    expect(input.carriedEntries).toEqual([`entry:${CARRIED_AT_OPEN}`])
    expect(input.carriedHedges?.map((h) => h.covers)).toEqual([[`entry:${CARRIED_AT_OPEN}`], [`entry:${CARRIED_AT_OPEN}`]])
  })

  it("the position feed says when the carried shorts are gone, before it takes any of the day's entries for gone", () => {
    const w = new PositionWatcher(plan)
    w.setBaseline([...carriedShorts, ...wings])
    const a = [pos(25000, "CE", -130, plan.expiry), pos(25000, "PE", -130, plan.expiry)]
    expect(w.observe(at("09:20:05"), [...carriedShorts, ...a, ...wings]).map((e) => `${e.kind} ${e.portfolio}`)).toEqual(["entered A"])
    expect(w.observe(at("10:00:00"), [...a, ...wings])).toEqual([{ kind: "exited", portfolio: CARRIED_AT_OPEN, at: at("10:00:00"), reason: "CLOSED" }])
    expect(w.observe(at("13:00:05"), wings).map((e) => `${e.kind} ${e.portfolio} ${e.reason}`)).toEqual(["exited A TIMED"])
  })
})

const hedge = (strike: number, optionType: "CE" | "PE", status: string, more: Partial<HedgeReport> = {}): HedgeReport => ({
  id: `hedge-${strike}`, forEntry: "OVERNIGHT", symbol: `NIFTY${strike}${optionType}`, trigger: "OVERNIGHT", utilisationBefore: 40, otmDistance: 500,
  strike, optionType, lots: 30, quantity: 1950, held: status === "closed" ? 0 : 1950, status, boughtAt: "15:20:05", buyPrice: 2.15, paid: 4192.5,
  closedAt: status === "closed" ? "15:25:00" : null, received: status === "closed" ? 2000 : 0, ...more
})
/** A wing carried in at the open (paid for on an earlier day at `entryPrice`), as the day's report has it. */
const carriedHedge = (n: number, strike: number, optionType: "CE" | "PE", status: string, entryPrice: number, more: Partial<HedgeReport> = {}): HedgeReport =>
  hedge(strike, optionType, status, { id: `hedge-carried-${n}`, utilisationBefore: 0, otmDistance: 0, boughtAt: "09:15:00", buyPrice: 0, paid: 0, carried: { entryPrice }, ...more })
const report = (date: string, hedges: ReadonlyArray<HedgeReport>) => ({ date, hedges, peakUtilization: 50, breaches: [], grossSpend: 0, recovered: 0 }) as unknown as DayReport
const sessionOf = (date: string, index: "NIFTY" | "SENSEX", expiry: string, mode: "paper" | "live" = "paper") =>
  tradingSessionOf({ date, index, expiry, baskets: 15, budgetPerBasket: 1_000_000, autoHedgeEnabled: true, mode })

forEachServer("wings held at the previous close", (db) => {
  it("reads the hedges still held at the index's latest earlier session's close, in its expiry", () =>
    db.run(
      Effect.gen(function*() {
        const friday = yield* openSession(sessionOf("2026-07-03", "NIFTY", "2026-07-07"), "engine", true)
        yield* writeDayRecords(friday, report("2026-07-03", [hedge(25300, "CE", "open")]), "NFO")
        const monday = yield* openSession(sessionOf("2026-07-06", "NIFTY", "2026-07-07"), "engine", true)
        yield* writeDayRecords(monday, report("2026-07-06", [hedge(25100, "CE", "open"), hedge(24100, "PE", "open"), hedge(23900, "PE", "closed")]), "NFO")
        // Another index's later session, and another mode: not this day's.
        const sensex = yield* openSession(sessionOf("2026-07-02", "SENSEX", "2026-07-02"), "engine", true)
        yield* writeDayRecords(sensex, report("2026-07-02", [hedge(82000, "CE", "open")]), "BFO")
        const tuesday = yield* wingsHeldAtPreviousClose("NIFTY", "paper", "2026-07-07")
        expect(tuesday).toEqual([wing(25100, "CE", 1950), wing(24100, "PE", 1950)])
        expect(yield* wingsHeldAtPreviousClose("NIFTY", "live", "2026-07-07")).toEqual([])
        expect(yield* wingsHeldAtPreviousClose("NIFTY", "paper", "2026-07-03")).toEqual([])
        expect(yield* wingsHeldAtPreviousClose("SENSEX", "paper", "2026-07-09")).toEqual([wing(82000, "CE", 1950, "2026-07-02")])
      })
    ))

  it("carries what is held at the close, not what was ordered, and a wing whose sale is still working", () =>
    db.run(
      Effect.gen(function*() {
        const day = yield* openSession(sessionOf("2026-07-13", "NIFTY", "2026-07-14"), "engine", true)
        yield* writeDayRecords(day, report("2026-07-13", [
          // Half of it bought (or half sold before the close): 975 of the 1,950 ordered are the engine's.
          hedge(25300, "CE", "open", { held: 975 }),
          // Its sale was working at the close: the broker still holds it.
          hedge(24300, "PE", "exiting"),
          // A sale cancelled part filled: what is left is still held.
          hedge(24200, "PE", "exiting", { held: 650, received: 500 }),
          hedge(23900, "PE", "closed")
        ]), "NFO")
        expect(yield* wingsHeldAtPreviousClose("NIFTY", "paper", "2026-07-14")).toEqual([
          wing(25300, "CE", 975, "2026-07-14"), wing(24300, "PE", 1950, "2026-07-14"), wing(24200, "PE", 650, "2026-07-14")
        ])
        // A trader's own long beside the wing is not claimed as the engine's.
        expect(carriedWingsAtOpen(yield* wingsHeldAtPreviousClose("NIFTY", "paper", "2026-07-14"), [pos(25300, "CE", 1950, "2026-07-14")], "2026-07-14").map((w) => w.quantity)).toEqual([975])
      })
    ))

  it("a carried wing writes no BUY (it was bought on an earlier day), keeps its real price for the next carry, and its sale is written", () =>
    db.run(
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const thursday = yield* openSession(sessionOf("2026-07-16", "NIFTY", "2026-07-21"), "engine", true)
        yield* writeDayRecords(thursday, report("2026-07-16", [hedge(25600, "CE", "open", { buyPrice: 3.4, paid: 6630 })]), "NFO")
        const friday = yield* openSession(sessionOf("2026-07-17", "NIFTY", "2026-07-21"), "engine", true)
        yield* writeDayRecords(friday, report("2026-07-17", [
          carriedHedge(1, 25600, "CE", "open", 3.4),
          carriedHedge(2, 24100, "PE", "closed", 2.9, { received: 3900 }),
          hedge(25700, "CE", "closed")
        ]), "NFO")
        const rows = yield* sql<{ action: string; strike: number; total_cost: string }>`
          SELECT action, strike, total_cost FROM auto_hedge.hedge_transactions WHERE session_id = ${friday} ORDER BY strike, action`
        expect(rows.map((r) => [r.action, r.strike, Number(r.total_cost)])).toEqual([["SELL", 24100, 3900], ["BUY", 25700, 4192.5], ["SELL", 25700, 2000]])
        // Held on into Monday at what it was bought for on Thursday, not at the ₹0 Friday paid.
        expect(yield* wingsHeldAtPreviousClose("NIFTY", "paper", "2026-07-20")).toEqual([{ ...wing(25600, "CE", 1950, "2026-07-21"), entryPrice: 3.4 }])
        // The history counts the hedges bought that day: one, not three.
        const friday_ = (yield* analytics(30)).find((r) => r.sessionDate === "2026-07-17" && r.mode === "paper")!
        expect([friday_.hedgeCount, friday_.totalCost, friday_.totalRecovered]).toEqual([1, 4192.5, 5900])
      })
    ))
}, { migrated: true })
