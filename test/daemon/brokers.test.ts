// The brokers the daemon's modes put in front of the engine: recommendation mode places nothing and
// says what it would have placed; the internal paper broker fills hedge orders from live prices and
// moves the account's margin by what its hedges change, and keeps its orders across a restart.
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { livePaperBroker, type LivePaperState } from "../../adapters/paper/live-broker.ts"
import { recommendBroker } from "../../adapters/recommend/venue.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import type { MarketSnapshot, Position } from "../../src/domain/market.ts"
import { instantOf } from "../../src/domain/time.ts"
import type { OrderRequest } from "../../machines/protocol.ts"
import type { Broker } from "../../src/services/services.ts"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const date = "2026-02-10"
const strategy: ReadonlyArray<Position> = [
  { strike: 25000, optionType: "CE", quantity: -975, expiry: date },
  { strike: 25000, optionType: "PE", quantity: -975, expiry: date }
]
const account: Broker["Service"] = {
  placeOrder: () => Effect.die("the real account must not be sent paper orders"),
  orderStatus: () => Effect.die("not used"),
  cancelOrder: () => Effect.die("not used"),
  findOrder: () => Effect.die("not used"),
  positions: Effect.succeed(strategy),
  funds: Effect.succeed({ usedMargin: 6_000_000, availableMargin: 9_000_000 })
}
const buy: OrderRequest = { clientOrderId: "AH-1", hedgeId: "hedge-1", symbol: "NIFTY10FEB2624000PE", side: "BUY", strike: 24000, optionType: "PE", quantity: 975, limitPrice: 3.1 }

describe("recommendation mode", () => {
  it("places nothing and names the order it would have placed", async () => {
    const broker = recommendBroker(account)
    const exit = await Effect.runPromiseExit(broker.placeOrder(buy))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain("recommend mode, not placed: BUY 975 NIFTY10FEB2624000PE LIMIT 3.10")
    expect(await run(broker.positions)).toBe(strategy)
    expect(await run(broker.findOrder("AH-1"))).toBeNull()
  })
})

describe("the internal paper broker over live data", () => {
  const setup = async (prices: Array<number>, store?: { state: LivePaperState | null }) => {
    let tick = 0
    const snapshot = (): MarketSnapshot => ({ at: instantOf(date, "10:00:00") + tick * 1000, spot: 25000, chain: [{ strike: 24000, ce: null, pe: prices[Math.min(tick, prices.length - 1)]! }, { strike: 25000, ce: 100, pe: 100 }] })
    const paper = await run(
      livePaperBroker({
        account,
        accountMargin: { marginInUse: Effect.succeed(6_000_000) },
        market: { snapshot: Effect.sync(() => snapshot()) },
        model: constantsMarginModel(defaultConfig.marginConstants),
        session: { index: "NIFTY", date, expiry: date, lotSize: 65 },
        ...(store === undefined ? {} : { store: { load: Effect.sync(() => store.state), save: (s) => Effect.sync(() => void (store.state = JSON.parse(JSON.stringify(s)) as LivePaperState)) } })
      })
    )
    return { ...paper, next: () => void tick++ }
  }

  it("fills a buy on a later snapshot at or under its limit, at that price, and moves positions and margin", async () => {
    const p = await setup([3.5, 3.2, 3.05])
    const { orderId } = await run(p.broker.placeOrder(buy))
    expect((await run(p.broker.orderStatus(orderId))).status).toBe("open") // same snapshot as the send
    p.next()
    expect((await run(p.broker.orderStatus(orderId))).status).toBe("open") // 3.20 > 3.10
    p.next()
    expect(await run(p.broker.orderStatus(orderId))).toEqual({ orderId, status: "filled", filledQuantity: 975, averagePrice: 3.05 })
    expect(await run(p.broker.positions)).toEqual([...strategy, { strike: 24000, optionType: "PE", quantity: 975, expiry: date }])
    // A hedge lowers the margin the account's strategies block.
    expect(await run(p.marginMonitor.marginInUse)).toBeLessThan(6_000_000)
    expect(await run(p.broker.findOrder("AH-1"))).toMatchObject({ orderId, status: "filled" })
    expect(await run(p.broker.findOrder("AH-never"))).toBeNull()
  })

  it("refuses a second order with the same client id, cancels what is open, keeps its orders across a restart", async () => {
    const store: { state: LivePaperState | null } = { state: null }
    const p = await setup([9], store)
    const { orderId } = await run(p.broker.placeOrder(buy))
    expect(JSON.stringify(await Effect.runPromiseExit(p.broker.placeOrder(buy)))).toContain("duplicate client order id")
    const again = await setup([9], store)
    expect(await run(again.broker.findOrder("AH-1"))).toMatchObject({ orderId, status: "open" })
    expect((await run(again.broker.cancelOrder(orderId))).status).toBe("cancelled")
    expect((await run(again.broker.orderStatus(orderId))).status).toBe("cancelled")
  })
})
