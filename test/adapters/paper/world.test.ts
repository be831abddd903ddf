// The paper world: strategy entries and exits as recorded, LIMIT orders filled as a broker fills them
// (at once when marketable, else at a later tick that reaches the limit), margin from the truth model.
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { PaperWorld, strategySchedule } from "../../../adapters/paper/world.ts"
import type { OrderRequest } from "../../../machines/protocol.ts"
import { defaultConfig } from "../../../src/domain/config.ts"
import { constantsMarginModel } from "../../../src/domain/margin.ts"
import { priceOf } from "../../../src/domain/market.ts"
import { instantOf } from "../../../src/domain/time.ts"
import { parseRecordedDay, type RecordedDay } from "../../../src/domain/recorded-day.ts"
import type { EntrySpec } from "../../../src/domain/market.ts"

const day = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")
const at = (time: string) => instantOf(day.header.date, time)
const model = constantsMarginModel(defaultConfig.marginConstants)
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runSync(e)

const world = (time: string) => {
  const w = new PaperWorld(day, model)
  run(w.advanceTo(at(time)))
  return w
}
const buy = (over: Partial<OrderRequest> = {}): OrderRequest => ({
  clientOrderId: "AH-1",
  hedgeId: "hedge-1",
  symbol: "NIFTY03FEB2624000PE",
  side: "BUY",
  strike: 24000,
  optionType: "PE",
  quantity: 975,
  limitPrice: 50,
  ...over
})

describe("the paper world", () => {
  it("enters a strategy at its time, at-the-money on the latest tick, one leg per basket and lot", () => {
    const w = world("09:16:00")
    const positions = run(w.broker.positions)
    const spot = day.ticks[0]!.spot
    const atm = Math.round(spot / 50) * 50
    expect(positions).toHaveLength(2)
    for (const p of positions) {
      expect(p.strike).toBe(atm)
      expect(p.quantity).toBe(-15 * 65)
    }
    expect(run(w.strategyFeed.seen).map((e) => `${e.kind} ${e.portfolio}`)).toEqual(["entered ITJ_NF_EXP 1"])
    // Asking again gives the same day so far (a restarted engine loses nothing).
    expect(run(w.strategyFeed.seen).map((e) => e.portfolio)).toEqual(["ITJ_NF_EXP 1"])
    // One naked NIFTY 0DTE straddle per basket, 15 baskets.
    expect(run(w.marginMonitor.marginInUse)).toBeCloseTo(15 * 433_333.33, 0)
    const funds = run(w.broker.funds)
    expect(funds.usedMargin + funds.availableMargin).toBe(15 * 750_000)
  })

  it("fills a marketable buy at once at the tick's price; one below the price rests until a later tick's price reaches it", () => {
    const w = world("09:16:00")
    const now = priceOf(w.tick!.chain, 24000, "PE")!
    const generous = run(w.broker.placeOrder(buy({ clientOrderId: "A", limitPrice: now + 0.1 })))
    expect(run(w.broker.orderStatus(generous.orderId))).toMatchObject({ status: "filled", filledQuantity: 975, averagePrice: now })
    // A later tick where the option is cheaper: an order limited to that price fills there, not before.
    const later = day.ticks.find((t) => t.at > w.tick!.at && priceOf(t.chain, 24000, "PE")! < now)!
    const cheaper = priceOf(later.chain, 24000, "PE")!
    const resting = run(w.broker.placeOrder(buy({ clientOrderId: "B", limitPrice: cheaper })))
    const stingy = run(w.broker.placeOrder(buy({ clientOrderId: "C", limitPrice: Math.max(0.05, cheaper - 5) })))
    expect(run(w.broker.orderStatus(resting.orderId)).status).toBe("open")
    run(w.advanceTo(later.at))
    expect(run(w.broker.orderStatus(resting.orderId))).toMatchObject({ status: "filled", averagePrice: cheaper })
    expect(run(w.broker.orderStatus(stingy.orderId)).status).toBe("open")
    expect(run(w.broker.cancelOrder(stingy.orderId)).status).toBe("cancelled")
    expect(run(w.broker.cancelOrder(generous.orderId)).status).toBe("filled") // a filled order stays filled
    expect(run(w.broker.positions).find((p) => p.strike === 24000 && p.optionType === "PE")?.quantity).toBe(1950)
  })

  it("sells at the tick's price at once, and finds orders by their client id", () => {
    const w = world("10:00:00")
    const price = priceOf(w.tick!.chain, 24000, "PE")!
    const sold = run(w.broker.placeOrder(buy({ clientOrderId: "S", side: "SELL", limitPrice: Math.max(0.05, price - 0.1) })))
    expect(run(w.broker.orderStatus(sold.orderId))).toMatchObject({ status: "filled", averagePrice: price })
    expect(run(w.broker.findOrder("S"))?.orderId).toBe(sold.orderId)
    expect(run(w.broker.findOrder("never-sent"))).toBeNull()
  })

  it("refuses a second order with the same client id", () => {
    const w = world("09:16:00")
    run(w.broker.placeOrder(buy()))
    const again = Effect.runSync(Effect.flip(w.broker.placeOrder(buy())))
    expect(again._tag).toBe("OrderRejected")
    expect(again.message).toContain("duplicate client order id")
  })

  it("applies the recorded stop-loss exits and counts an entry that goes over budget as a breach", () => {
    const w = world("15:30:00")
    const events = run(w.strategyFeed.seen)
    for (const x of day.exits) expect(events).toContainEqual(expect.objectContaining({ kind: "exited", portfolio: x.portfolio, at: x.at, reason: x.reason }))
    expect(w.breaches.length).toBeGreaterThan(0)
    for (const b of w.breaches) expect(b.utilisationPct).toBeGreaterThan(100)
    expect(w.peakUtilisationPct).toBeGreaterThanOrEqual(Math.max(...w.breaches.map((b) => b.utilisationPct)))
    // Expiry day: everything is gone at 15:30.
    expect(run(w.broker.positions)).toEqual([])
  })

  it("in one instant exits before it enters (exits before entries), bar a stop of a portfolio entered that instant", () => {
    const [first, second, third] = day.header.entries as [EntrySpec, EntrySpec, EntrySpec]
    // The first entry timed out at the third's instant; the second stopped out at that instant too; the third stopped at its own entry.
    const when = third.entryTime
    const moved: RecordedDay = {
      ...day,
      header: { ...day.header, entries: day.header.entries.map((e) => (e === first ? { ...e, exitTime: when } : e)) },
      exits: [
        { type: "exit", time: when, at: at(when), portfolio: third.portfolio, reason: "SL_HIT" },
        { type: "exit", time: when, at: at(when), portfolio: second.portfolio, reason: "SL_HIT" }
      ]
    }
    const inInstant = strategySchedule(moved).filter((e) => e.at === at(when)).map((e) => `${e.kind} ${e.portfolio}`)
    expect(inInstant).toEqual([`exited ${first.portfolio}`, `exited ${second.portfolio}`, `entered ${third.portfolio}`, `exited ${third.portfolio}`])
    const w = new PaperWorld(moved, model)
    run(w.advanceTo(at(when)))
    expect(run(w.strategyFeed.seen).filter((e) => e.at === at(when)).map((e) => `${e.kind} ${e.portfolio}`)).toEqual(inInstant)
    expect(w.heldPortfolios().map(([p]) => p)).not.toContain(third.portfolio)
  })
})
