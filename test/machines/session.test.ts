// The session's rules on real machines: replays of small generated days with crafted entries and
// operator commands, read back from the audit rows.
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { ORDER_POLL_SECONDS } from "../../src/runtime/session-plan.ts"
import { createActor, type ActorRefFrom } from "xstate"
import { hedgeWakeTimes, type hedgeMachine } from "../../machines/hedge.ts"
import { wakeTimes, wakeTimesOf, type SessionContext, type SessionEvent, type SessionInput } from "../../machines/session.ts"
import { sessionWith } from "../fixtures/session-services.ts"
import type { RecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { calmExpiryDay, straddle } from "../fixtures/entries.ts"

const DATE = "2026-02-10"
const at = (time: string) => instantOf(DATE, time)

/** A calm NIFTY expiry day with the given entries; no stop-loss ever fires. */
const day = calmExpiryDay

const model = constantsMarginModel(defaultConfig.marginConstants)
// The rules one entry at a time: without foresight, an entry's projection counts only the entries up to it.
const replay = (d: RecordedDay, commands: ReadonlyArray<{ at: number; event: SessionEvent }> = [], foresight = false) =>
  replayDay(d, { config: defaultConfig, policy: "engine", truth: model, estimate: model, commands, foresight })

const firstRow = (rows: ReadonlyArray<TransitionRow>, p: (r: TransitionRow) => boolean) => {
  const row = rows.find(p)
  expect(row, "expected audit row").toBeDefined()
  return row!
}

describe("session rules", () => {
  it("grants the decision turn to one entry at a time, in entry order", async () => {
    // Both look ahead at the open (09:15, their look-ahead clamped to it); alone A fits (54 %), A and B
    // together do not (108 %).
    const r = await replay(day([straddle("A", "09:16:00"), straddle("B", "09:18:00")], 800_000))
    // Both ask at the open; then each re-checks on the 30 s beat until it is entered (A at 09:16, B at 09:18).
    const requests = r.rows.filter((x) => x.actorId === "session" && x.event === "REQUEST_TURN")
    expect(requests.slice(0, 2).map((x) => x.at)).toEqual([at("09:15:00"), at("09:15:00")])
    expect(requests.slice(2).every((x) => x.at > at("09:15:00") && (x.at - at("09:15:00")) % 30_000 === 0)).toBe(true)
    const grantA = firstRow(r.rows, (x) => x.actorId === "entry:A" && x.event === "TURN_GRANTED")
    const doneA = firstRow(r.rows, (x) => x.actorId === "session" && x.event === "TURN_DONE" && (x.payload as { entryId: string }).entryId === "entry:A")
    const grantB = firstRow(r.rows, (x) => x.actorId === "entry:B" && x.event === "TURN_GRANTED")
    expect(grantA.seq).toBeLessThan(doneA.seq)
    expect(doneA.seq).toBeLessThan(grantB.seq)
    // A's own projection stays under the trigger; B's counts A's coming legs and buys.
    expect(firstRow(r.rows, (x) => x.actorId === "entry:A" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.clear")
    expect(firstRow(r.rows, (x) => x.actorId === "entry:B" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.hedged")
    expect(r.report.hedges.every((h) => h.forEntry === "entry:B")).toBe(true)
    expect(r.report.breaches).toHaveLength(0)
  })

  it("with foresight, a hedge is kept while a later entry (not only the next) would need it", async () => {
    // A and A2 together need hedges (108 %) and leave at 10:00; B alone fits (54 %), B and C do not.
    const entries = [straddle("A", "09:30:00", "10:00:00"), straddle("A2", "09:31:00", "10:00:00"), straddle("B", "11:00:00"), straddle("C", "11:05:00")]
    const soldBefore = (r: Awaited<ReturnType<typeof replay>>, time: string) =>
      r.report.hedges.filter((h) => h.forEntry === "entry:A2" && h.closedAt !== null && h.closedAt < time).length
    const origin = await replay(day(entries, 800_000), [], false)
    const foresight = await replay(day(entries, 800_000), [], true)
    // Without foresight the hedges go once A has left (only B, next, is looked at), and C buys again.
    expect(soldBefore(origin, "11:00:00")).toBeGreaterThan(0)
    expect(origin.report.hedges.some((h) => h.forEntry === "entry:C")).toBe(true)
    // With it they are kept for C, which then needs nothing more.
    expect(foresight.report.hedges.filter((h) => h.forEntry === "entry:A2").length).toBeGreaterThan(0)
    expect(soldBefore(foresight, "11:05:00")).toBe(0)
    expect(foresight.report.hedges.some((h) => h.forEntry === "entry:C")).toBe(false)
    expect(foresight.report.breaches).toHaveLength(0)
  })

  it("judges an entry on the portfolio open at its instant: an entry timed to exit before it is not counted with it", async () => {
    // A alone fits (54 %), A and B together do not (108 %); A's timed exit (10:28) comes after B's
    // look-ahead (10:25) and before B's entry (10:30).
    // The engine's way (foresight); the origin's reference behaviour counts every entry in now as staying.
    const r = await replay(day([straddle("A", "09:30:00", "10:28:00"), straddle("B", "10:30:00")], 800_000), [], true)
    expect(firstRow(r.rows, (x) => x.actorId === "entry:B" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.clear")
    expect(r.report.hedges).toHaveLength(0)
    expect(r.report.breaches).toHaveLength(0)
    // Where A was struck is kept when it is seen entered: the projection takes its legs out by it.
    const seen = firstRow(r.rows, (x) => x.actorId === "session" && x.event === "ENTRY_SEEN" && (x.payload as { entryId: string }).entryId === "entry:A")
    expect(seen.at).toBe(at("09:30:00"))
  })

  it("waits out the cooldown before a second hedge action, then hedges", async () => {
    // Each entry alone is over the trigger (108 %): A buys at 09:25, B looks ahead at 09:26.
    const r = await replay(day([straddle("A", "09:30:00"), straddle("B", "09:31:00")], 400_000))
    const buys = r.rows.filter((x) => x.event === "BUY_HEDGES" && x.actorId === "session")
    expect(buys.map((b) => (b.payload as { entryId: string }).entryId)).toEqual(["entry:A", "entry:B"])
    expect(buys[1]!.at - buys[0]!.at).toBeGreaterThanOrEqual(defaultConfig.cooldownSeconds * 1000)
    expect(r.rows.some((x) => x.actorId === "entry:B" && x.to === "projecting.coolingDown")).toBe(true)
  })

  it("a missed entry counts as left: once the others have left too, the hedges all go without waiting out the cooldown", async () => {
    // A alone needs two wings (144 %) and leaves at 10:00; the hedges are kept for M (10:30), which the
    // platform never enters: M is missed at 10:35.
    const d = day([straddle("A", "09:30:00", "10:00:00"), straddle("M", "10:30:00")], 300_000)
    const r = await replayDay(d, { config: defaultConfig, policy: "engine", truth: model, estimate: model, platformSkips: ["M"] })
    expect(firstRow(r.rows, (x) => x.actorId === "entry:M" && x.to === "missed").at).toBe(at("10:35:00"))
    expect(r.rows.filter((x) => x.actorId === "session" && x.event === "ENTRY_MISSED").map((x) => x.payload)).toEqual([{ entryId: "entry:M" }])
    expect(r.report.hedges).toHaveLength(2)
    // Both sold within a few seconds of the miss, not a cooldown (120 s) apart.
    for (const h of r.report.hedges) expect([h.status, h.closedAt! >= "10:35:00" && h.closedAt! <= "10:35:30"], h.symbol).toEqual(["closed", true])
  })

  it("switched off, it buys nothing and says so; switched back on, later entries are hedged", async () => {
    const d = day([straddle("A", "09:30:00"), straddle("B", "11:00:00")], 400_000)
    const r = await replay(d, [
      { at: at("09:20:00"), event: { type: "TOGGLE", enabled: false } },
      { at: at("10:00:00"), event: { type: "TOGGLE", enabled: true } }
    ])
    expect(firstRow(r.rows, (x) => x.actorId === "entry:A" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.disabled")
    expect(r.alerts.filter((a) => a.alert.kind === "HEDGE_NEEDED_DISABLED").map((a) => a.alert.actor)).toEqual(["entry:A"])
    expect(r.report.hedges.length).toBeGreaterThan(0)
    expect(r.report.hedges.every((h) => h.forEntry === "entry:B")).toBe(true)
  })

  it("hedge now: the next entry still to come decides at once, through the turn, as at its look-ahead, and again at its look-ahead", async () => {
    // Each entry alone is over the trigger (108 %): B's look-ahead is 10:55; the trader asks at 10:00.
    const d = day([straddle("A", "09:30:00"), straddle("B", "11:00:00")], 400_000)
    const r = await replay(d, [{ at: at("10:00:00"), event: { type: "HEDGE_NOW" } }])
    const asked = firstRow(r.rows, (x) => x.actorId === "session" && x.event === "HEDGE_NOW")
    expect(asked.at).toBe(at("10:00:00"))
    // Forwarded to B (A is in): B leaves idle for the look-ahead's path, asks for the turn, projects, selects, buys.
    const early = firstRow(r.rows, (x) => x.actorId === "entry:B" && x.event === "HEDGE_NOW")
    expect([early.from, early.to, early.at]).toEqual(["idle", "lookahead", at("10:00:00")])
    expect(r.rows.some((x) => x.actorId === "entry:A" && x.event === "HEDGE_NOW")).toBe(false)
    const granted = firstRow(r.rows, (x) => x.actorId === "entry:B" && x.event === "TURN_GRANTED")
    expect(granted.at).toBe(at("10:00:00"))
    const buy = firstRow(r.rows, (x) => x.actorId === "session" && x.event === "BUY_HEDGES" && (x.payload as { entryId: string }).entryId === "entry:B")
    expect(buy.at).toBe(at("10:00:00"))
    // Without the ask, B first decides at its look-ahead.
    const plain = await replay(d)
    expect(firstRow(plain.rows, (x) => x.actorId === "entry:B" && x.event === "TURN_GRANTED").at).toBe(at("10:55:00"))
    // The look-ahead still comes: B decides again then (already hedged, nothing more to buy).
    expect(r.rows.some((x) => x.actorId === "entry:B" && x.event === "TURN_GRANTED" && x.at === at("10:55:00"))).toBe(true)
  })

  it("hedge now is refused by the session while auto-hedge is off and once no entry is to come: no row, nothing decided", async () => {
    const d = day([straddle("A", "09:30:00"), straddle("B", "11:00:00")], 400_000)
    const off = await replay(d, [
      { at: at("09:50:00"), event: { type: "TOGGLE", enabled: false } },
      { at: at("10:00:00"), event: { type: "HEDGE_NOW" } }
    ])
    expect(off.rows.some((x) => x.event === "HEDGE_NOW")).toBe(false)
    const late = await replay(d, [{ at: at("12:00:00"), event: { type: "HEDGE_NOW" } }])
    expect(late.rows.some((x) => x.event === "HEDGE_NOW")).toBe(false)
  })

  it("a manual exit sells an open hedge at once; an exit for an unknown hedge changes nothing", async () => {
    const d = day([straddle("A", "09:30:00", null)], 400_000)
    const untouched = await replay(d)
    const manual = await replay(d, [
      { at: at("11:00:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-404" } },
      { at: at("09:45:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-1" } }
    ])
    // Held to expiry, the position keeps needing its hedge: the engine alone never sells it.
    expect(untouched.report.hedges.find((h) => h.id === "hedge-1")!.status).toBe("expired")
    const sold = manual.report.hedges.find((h) => h.id === "hedge-1")!
    expect(sold.status).toBe("closed")
    // Sold at 09:45:00; the hedge learns of the fill at its next status poll (5 s).
    expect(sold.closedAt! >= "09:45:00" && sold.closedAt! <= "09:45:05").toBe(true)
    expect(sold.received).toBeGreaterThan(0)
    expect(manual.rows.filter((x) => x.event === "MANUAL_EXIT").map((x) => (x.payload as { hedgeId: string }).hedgeId)).toEqual(["hedge-1"])
  })

  /** A far out-of-the-money put with a usable last price at `time`: what a trader would buy by hand. */
  const farPut = (d: RecordedDay, time: string) => {
    const tick = d.ticks.find((t) => t.at >= at(time))!
    const row = [...tick.chain].filter((r) => r.strike < tick.spot - 300 && r.pe !== null && r.pe >= 1).sort((a, b) => a.strike - b.strike)[0]!
    return { strike: row.strike, ltp: row.pe! }
  }
  const manualBuy = (strike: number, cost: number, limitPrice: number | null = null): SessionEvent => ({
    type: "MANUAL_BUY",
    strike,
    optionType: "PE",
    quantity: 15 * 65,
    limitPrice,
    cost,
    utilisationBefore: 50
  })

  /** Budget enough that no entry needs a hedge, whatever the margin model: the engine never buys. */
  const AMPLE = 5_000_000

  it("a manual buy spawns the trader's hedge: bought like the engine's, left alone by the exit review", async () => {
    // Far under the exit threshold the engine's review would sell any hedge of its own.
    const d = day([straddle("A", "09:30:00", null), straddle("B", "13:00:00", null)], AMPLE)
    const put = farPut(d, "10:00:00")
    const r = await replay(d, [{ at: at("10:00:00"), event: manualBuy(put.strike, put.ltp * 975 + 100) }])
    const buy = firstRow(r.rows, (x) => x.actorId === "session" && x.event === "MANUAL_BUY")
    expect(buy.at).toBe(at("10:00:00"))
    const hedge = r.report.hedges.find((h) => h.id === "hedge-1")!
    expect(hedge).toMatchObject({ forEntry: "MANUAL", trigger: "MANUAL", strike: put.strike, optionType: "PE", quantity: 975, status: "expired" })
    expect(hedge.paid).toBeGreaterThan(0)
    expect(r.report.grossSpend).toBe(hedge.paid)
    // Bought at the next status poll, as the engine's hedges are.
    expect(hedge.boughtAt! >= "10:00:00" && hedge.boughtAt! <= "10:00:05").toBe(true)
    // The exit review never looks at it (an engine's hedge this far under the exit threshold would be sold).
    expect(r.rows.some((x) => x.event.startsWith("xstate.done.actor.assessExits"))).toBe(false)
    expect(r.rows.some((x) => x.actorId === "hedge-1" && x.event === "EXIT")).toBe(false)
    expect(r.report.hedges.every((h) => h.forEntry === "MANUAL")).toBe(true)
  })

  it("a manual buy beyond the spend left is refused by the session; a limit of the trader's is sent as is, never re-priced", async () => {
    const d = day([straddle("A", "09:30:00", null)], AMPLE)
    const put = farPut(d, "10:00:00")
    const tooDear = await replay(d, [{ at: at("10:00:00"), event: manualBuy(put.strike, defaultConfig.maxHedgeCostPerDay + 1) }])
    expect(tooDear.rows.some((x) => x.event === "MANUAL_BUY")).toBe(false)
    expect(tooDear.report.hedges).toHaveLength(0)

    // A limit well under the market never fills: one order, cancelled at its fill timeout, nothing spent.
    const low = 0.05
    const r = await replay(d, [{ at: at("10:00:00"), event: manualBuy(put.strike, low * 975, low) }])
    const orders = r.orders.filter((o) => o.hedgeId === "hedge-1")
    expect(orders.map((o) => [o.side, o.limitPrice])).toEqual([["BUY", low]])
    expect(r.report.hedges.find((h) => h.id === "hedge-1")!.status).toBe("cancelled")
    expect(r.report.grossSpend).toBe(0)
  })

  it("a manual exit sells a hedge the trader bought", async () => {
    const d = day([straddle("A", "09:30:00", null)], AMPLE)
    const put = farPut(d, "10:00:00")
    const r = await replay(d, [
      { at: at("10:00:00"), event: manualBuy(put.strike, put.ltp * 975 + 100) },
      { at: at("11:00:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-1" } }
    ])
    const sold = r.report.hedges.find((h) => h.id === "hedge-1")!
    expect(sold.status).toBe("closed")
    expect(sold.closedAt! >= "11:00:00" && sold.closedAt! <= "11:00:05").toBe(true)
  })

  it("is woken at every hedge's deadline: an order placed is polled one poll interval later, to the millisecond", async () => {
    const r = await replay(day([straddle("A", "09:16:00"), straddle("B", "09:18:00")], 800_000))
    const hedgeRows = r.rows.filter((x) => x.kind === "hedge")
    const placed = hedgeRows.filter((x) => x.to === "ordering.awaitingFill.working" && x.from === "ordering.placing")
    expect(placed.length).toBeGreaterThan(0)
    for (const p of placed) {
      const poll = firstRow(hedgeRows, (x) => x.actorId === p.actorId && x.seq > p.seq)
      expect(poll).toMatchObject({ from: "ordering.awaitingFill.working", to: "ordering.awaitingFill.checking", event: "CLOCK", at: p.at + ORDER_POLL_SECONDS * 1000 })
      // Not a tick (those are whole minutes): an instant the loop visited for the deadline alone.
      expect(poll.at % 60_000).not.toBe(0)
    }
  })

  it("a hedge started after an observation, before its instant's clock event, counts its deadlines from that clock event", async () => {
    const machine = sessionWith({
      quoteOption: async () => ({ ltp: 3, at: 0 }),
      placeOrder: async () => ({ outcome: "accepted" as const, orderId: "O1" })
    })
    const rules = { limitPriceBuffer: 0.1, minExitPrice: 0.5, fillTimeoutMs: 60_000, orderPollMs: 5_000, maxReprices: 2 }
    const input = { date: DATE, index: "NIFTY", expiry: DATE, expiryDay: true, baskets: 1, budget: 1_000_000, policy: "engine", enabled: true, openAt: at("09:15:00"), closeAt: at("15:30:00"), eodAt: at("15:35:00"), entries: [], entryRules: {}, hedgeRules: rules, cooldownMs: 0, exitBufferMs: 0, spendCap: 1e9 } as unknown as SessionInput
    // Bought by hand: worked until the close, so only its own deadlines act on it here.
    const buy = { type: "MANUAL_BUY", strike: 25_600, optionType: "CE", quantity: 65, limitPrice: null, cost: 201.5, utilisationBefore: 90 } as SessionEvent
    const settle = () => new Promise((resolve) => setImmediate(resolve))
    const actor = createActor(machine, { input }).start()
    actor.send({ type: "CLOCK", at: at("09:15:00"), spot: 25_000 })
    // Started after the clock event: counted from its instant.
    actor.send(buy)
    await settle()
    expect(wakeTimesOf(actor.getSnapshot())).toContain(at("09:15:05"))
    // Started after an observation of the next instant, before its clock event: not counted from 09:15.
    actor.send({ type: "ENTRY_SEEN", entryId: "entry:X", at: at("09:16:00") })
    actor.send(buy)
    await settle()
    const second = () => (actor.getSnapshot().children["hedge-2"] as ActorRefFrom<typeof hedgeMachine>).getSnapshot()
    expect(second().matches({ ordering: { awaitingFill: "working" } })).toBe(true)
    expect(hedgeWakeTimes(second().context)).toEqual([])
    actor.send({ type: "CLOCK", at: at("09:16:00"), spot: 25_000 })
    expect(hedgeWakeTimes(second().context)).toEqual([at("09:16:05"), at("09:17:00")])
    expect(wakeTimesOf(actor.getSnapshot())).toEqual(expect.arrayContaining([at("09:16:05"), at("09:17:00")]))
    actor.stop()
  })

  it("wakes at every instant a decision may be due, and only in the future", () => {
    const d = day([straddle("A", "09:30:00")], 400_000)
    const entries = [{ id: "entry:A", portfolio: "A", entryAt: at("09:30:00"), lookaheadAt: at("09:25:00"), exitAt: at("15:00:00"), missAt: at("09:35:00"), legs: d.header.entries[0]!.legs }]
    const context = {
      openAt: at("09:15:00"),
      closeAt: at("15:30:00"),
      eodAt: at("15:35:00"),
      now: at("09:20:00"),
      lastActionAt: at("09:19:00"),
      cooldownMs: 120_000,
      exitBufferMs: 15 * 60_000,
      entryRules: { triggerPct: 95, targetPct: 85, infoPct: 85, recheckEveryMs: 60_000 },
      entries
    } as unknown as SessionContext
    // The cooldown's end, the look-ahead, its first re-check, the entry, the miss time, close and summary.
    expect(wakeTimes(context)).toEqual([at("09:21:00"), at("09:25:00"), at("09:26:00"), at("09:30:00"), at("09:35:00"), at("15:30:00"), at("15:35:00")])
    // Between re-checks, the next one on the clock's beat.
    expect(wakeTimes({ ...context, now: at("09:27:30") })).toContain(at("09:28:00"))
  })
})
