// The OpenAlgo adapter against the fake OpenAlgo server over real HTTP: orders placed, followed,
// split and cancelled; fills from the trade book; semi-auto and analyzer modes recognised; each fault
// (reads retried, sends never); reconcile after a lost answer; positions, funds, market data, basket
// margin; the rate limits as the server sees them; and the key kept out of every error.
import { readFileSync } from "node:fs"
import { Effect, Redacted } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeOpenAlgoBroker, type OpenAlgoBroker } from "../../../adapters/openalgo/broker.ts"
import { openAlgoClient, type OpenAlgoClient, type OpenAlgoConfig } from "../../../adapters/openalgo/client.ts"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../../simulations/fake-openalgo-server.ts"
import { basketMargin, makeOpenAlgoMarginModel, makeOpenAlgoMarginMonitor } from "../../../adapters/openalgo/margin.ts"
import { makeOpenAlgoMarketData } from "../../../adapters/openalgo/market-data.ts"
import type { OrderRequest } from "../../../machines/protocol.ts"
import { parseRecordedDay } from "../../../src/domain/recorded-day.ts"
import { constantsMarginModel, type MarginModel } from "../../../src/domain/margin.ts"
import { defaultConfig } from "../../../src/domain/config.ts"
import { priceOf } from "../../../src/domain/market.ts"
import { optionSymbol } from "../../../src/domain/symbols.ts"
import { instantOf } from "../../../src/domain/time.ts"
import { MarketClock } from "../../../src/services/services.ts"
import { startScriptedServer } from "./scripted-http.ts"

const KEY = "OA-KEY-2b7d41c9-do-not-print"
const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const { date, expiry, lotSize } = day.header
const at = (time: string) => instantOf(date, time)
const tickAt = (time: string) => day.ticks.filter((t) => t.at <= at(time)).at(-1)!

// Market time, shared by the fake and the adapter's clock; `follow` makes it run with the wall clock.
let marketNow = at("10:00:30")
let wallOffset: number | null = null
const now = () => (wallOffset === null ? marketNow : Date.now() + wallOffset)
const follow = () => (wallOffset = marketNow - Date.now())
const clock: MarketClock["Service"] = {
  now: Effect.sync(now),
  currentMillis: now,
  timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>) }
}

let fake: FakeOpenAlgo
let client: OpenAlgoClient
let broker: OpenAlgoBroker

const configFor = (url: string, over: Partial<OpenAlgoConfig> = {}): OpenAlgoConfig => ({
  baseUrl: url,
  apiKey: Redacted.make(KEY),
  index: "NIFTY",
  expiry,
  timeouts: { readMs: 250, sendMs: 250 },
  retry: { times: 2, baseDelayMs: 10 },
  strikeCount: 5,
  ...over
})

const newBroker = async (over: Partial<OpenAlgoConfig> = {}) => makeOpenAlgoBroker(await Effect.runPromise(openAlgoClient(configFor(fake.url, over))), clock)

beforeEach(async () => {
  marketNow = at("10:00:30")
  wallOffset = null
  // The constants table as the broker's margin: cheap enough for the short read timeouts used here.
  fake = await startFakeOpenAlgo({ day, now, apiKey: KEY, truth: constantsMarginModel(defaultConfig.marginConstants) })
  client = await Effect.runPromise(openAlgoClient(configFor(fake.url)))
  broker = makeOpenAlgoBroker(client, clock)
})
afterEach(async () => {
  await fake.close()
})

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))
const requestsTo = (path: string) => fake.requests.filter((r) => r.path === path)

let sequence = 0
/** A hedge buy of the 24500 PE (about 2.20 at 10:00): at 3.00 it fills at once, at 1.00 it rests. */
const buy = (over: Partial<OrderRequest> = {}): OrderRequest => ({
  clientOrderId: `AH-${++sequence}`,
  hedgeId: "hedge-1",
  symbol: optionSymbol("NIFTY", expiry, 24500, "PE"),
  side: "BUY",
  strike: 24500,
  optionType: "PE",
  quantity: 2 * lotSize,
  limitPrice: 3,
  ...over
})
const ltp = (time: string, strike: number, optionType: "CE" | "PE") => priceOf(tickAt(time).chain, strike, optionType)!

describe("orders", () => {
  it("places a LIMIT NRML order on NFO with the strategy label, and reads its fill from the trade book", async () => {
    const { orderId } = await run(broker.placeOrder(buy()))
    expect(fake.orders).toEqual([
      expect.objectContaining({ orderid: orderId, strategy: "auto-hedge", symbol: "NIFTY10FEB2624500PE", action: "BUY", quantity: 130, pricetype: "LIMIT", product: "NRML", price: 3 })
    ])
    const placed = requestsTo("placeorder")[0]!.body as Record<string, unknown>
    expect(placed.exchange).toBe("NFO")
    expect(await run(broker.orderStatus(orderId))).toEqual({ orderId, status: "filled", filledQuantity: 130, averagePrice: ltp("10:00:30", 24500, "PE") })
  })

  it("sends the configured strategy label", async () => {
    const labelled = await newBroker({ strategy: "hedges-desk-2" })
    await run(labelled.placeOrder(buy()))
    expect(fake.orders[0]!.strategy).toBe("hedges-desk-2")
  })

  it("follows a resting order until it fills at a later tick", async () => {
    const limit = 2.05 // 10:00 at 2.20, 10:01 at 2.00
    const { orderId } = await run(broker.placeOrder(buy({ limitPrice: limit })))
    expect(await run(broker.orderStatus(orderId))).toEqual({ orderId, status: "open", filledQuantity: 0, averagePrice: 0 })
    marketNow = at("10:01:10")
    expect(await run(broker.orderStatus(orderId))).toEqual({ orderId, status: "filled", filledQuantity: 130, averagePrice: ltp("10:01:10", 24500, "PE") })
  })

  it("cancels a working order and answers its final state; a done order is left as it is", async () => {
    const { orderId } = await run(broker.placeOrder(buy({ limitPrice: 1 })))
    expect(await run(broker.cancelOrder(orderId))).toEqual({ orderId, status: "cancelled", filledQuantity: 0, averagePrice: 0 })
    expect(fake.orders[0]!.status).toBe("cancelled")
    const filled = await run(broker.placeOrder(buy()))
    const cancels = requestsTo("cancelorder").length
    expect((await run(broker.cancelOrder(filled.orderId))).status).toBe("filled")
    expect(requestsTo("cancelorder")).toHaveLength(cancels)
  })

  it("reports a partial fill, and keeps it through the cancel", async () => {
    fake.inject({ path: "placeorder", kind: "partialFill", fraction: 0.5 })
    const { orderId } = await run(broker.placeOrder(buy({ quantity: 4 * lotSize })))
    const price = ltp("10:00:30", 24500, "PE")
    expect(await run(broker.orderStatus(orderId))).toEqual({ orderId, status: "open", filledQuantity: 2 * lotSize, averagePrice: price })
    expect(await run(broker.cancelOrder(orderId))).toEqual({ orderId, status: "cancelled", filledQuantity: 2 * lotSize, averagePrice: price })
  })

  it("splits an order above the freeze quantity, and status and cancel act on every part", async () => {
    // NIFTY freezes at 1800: whole lots of 65 below it are 1755 a part.
    const quantity = 30 * lotSize // 1950
    const filled = await run(broker.placeOrder(buy({ quantity })))
    expect(fake.orders.map((o) => o.quantity)).toEqual([1755, 195])
    expect(filled.orderId).toBe(fake.orders.map((o) => o.orderid).join("+"))
    expect(await run(broker.orderStatus(filled.orderId))).toEqual({
      orderId: filled.orderId,
      status: "filled",
      filledQuantity: quantity,
      averagePrice: ltp("10:00:30", 24500, "PE")
    })

    const resting = await run(broker.placeOrder(buy({ quantity, limitPrice: 1 })))
    expect(resting.orderId.split("+")).toHaveLength(2)
    expect(await run(broker.cancelOrder(resting.orderId))).toMatchObject({ status: "cancelled", filledQuantity: 0 })
    expect(fake.orders.slice(2).map((o) => o.status)).toEqual(["cancelled", "cancelled"])
  })

  it("aggregates a split order whose parts filled differently, weighting the price", async () => {
    const quantity = 30 * lotSize
    fake.inject({ path: "placeorder", kind: "partialFill", fraction: 0.5 }) // the first part fills 13 of 27 lots
    const { orderId } = await run(broker.placeOrder(buy({ quantity, limitPrice: 2.05 })))
    expect(await run(broker.orderStatus(orderId))).toMatchObject({ status: "open", filledQuantity: 0 })
    marketNow = at("10:01:10")
    const state = await run(broker.orderStatus(orderId))
    expect(state).toEqual({ orderId, status: "open", filledQuantity: 13 * lotSize + 195, averagePrice: ltp("10:01:10", 24500, "PE") })
    expect(await run(broker.cancelOrder(orderId))).toMatchObject({ status: "cancelled", filledQuantity: 13 * lotSize + 195 })
  })

  it("keeps the parts placed when a later part is refused, and says what the order lacks", async () => {
    fake.inject({ path: "placeorder", kind: "latency", ms: 1 }) // the first part goes through
    fake.inject({ path: "placeorder", kind: "reject", message: "RMS: quantity limit" })
    const { orderId } = await run(broker.placeOrder(buy({ quantity: 30 * lotSize })))
    expect(orderId).toBe(fake.orders[0]!.orderid)
    expect(await run(broker.orderStatus(orderId))).toEqual({
      orderId,
      status: "filled",
      filledQuantity: 1755,
      averagePrice: ltp("10:00:30", 24500, "PE"),
      message: "part 2 of 2 (195) not placed: /placeorder: HTTP 400: RMS: quantity limit; the order holds 1755 of 1950"
    })
  })

  it("refuses before sending what cannot be right, naming why", async () => {
    for (const [req, why] of [
      [buy({ quantity: 100 }), "not a whole number of lots of 65"],
      [buy({ symbol: "NIFTY10FEB2624500CE" }), "not the requested 24500 PE"],
      [buy({ limitPrice: 0 }), "positive price"],
      [buy({ symbol: "NIFTY10FEB2699950PE", strike: 99950 }), "not sent: no instrument data: /symbol: HTTP 404"]
    ] as const) {
      const error = await fail(broker.placeOrder(req))
      expect(error).toMatchObject({ _tag: "OrderRejected", clientOrderId: req.clientOrderId })
      expect(error.message).toContain(why)
    }
    expect(requestsTo("placeorder")).toHaveLength(0)
  })

  it("turns a broker rejection into OrderRejected with the broker's message", async () => {
    fake.inject({ path: "placeorder", kind: "reject", message: "RMS: blocked for trading" })
    const req = buy()
    expect(await fail(broker.placeOrder(req))).toMatchObject({
      _tag: "OrderRejected",
      clientOrderId: req.clientOrderId,
      message: "/placeorder: HTTP 400: RMS: blocked for trading"
    })
  })

  it("reports an order the broker's RMS rejected after accepting it", async () => {
    // A broker whose every short lot costs more than the account holds.
    await fake.close()
    const shortsCostAFortune: MarginModel = {
      name: "fortune",
      margin: (q) => Effect.succeed(q.positions.reduce((sum, p) => sum + Math.max(0, -p.quantity) * 1e9, 0))
    }
    fake = await startFakeOpenAlgo({ day, now, apiKey: KEY, truth: shortsCostAFortune })
    const rms = await newBroker()
    const sell = buy({ side: "SELL", symbol: optionSymbol("NIFTY", expiry, 25000, "CE"), strike: 25000, optionType: "CE", limitPrice: 50 })
    const { orderId } = await run(rms.placeOrder(sell))
    // The live order book does not say why (the sandbox's does): the state still says rejected.
    expect(await run(rms.orderStatus(orderId))).toEqual({ orderId, status: "rejected", filledQuantity: 0, averagePrice: 0, message: "rejected by the broker" })
  })

  it("answers OrderNotFound for an id the broker does not know", async () => {
    expect(await fail(broker.orderStatus("999"))).toMatchObject({ _tag: "OrderNotFound", orderId: "999" })
  })
})

describe("modes", () => {
  it("recognises semi-auto: the order waits in the Action Center and is not placed", async () => {
    fake.setMode("semi_auto")
    const req = buy()
    const waiting = await fail(broker.place(req))
    expect(waiting).toMatchObject({ _tag: "OrderAwaitingApproval", clientOrderId: req.clientOrderId, pendingOrderId: "1" })
    expect(waiting.message).toContain("Action Center")
    expect(waiting.message).toContain("NOT placed")
    const refused = await fail(broker.placeOrder(buy()))
    expect(refused).toMatchObject({ _tag: "OrderRejected" })
    expect(refused.message).toContain("waits for approval in its Action Center")
    expect(fake.orders).toHaveLength(0)
    expect(await run(broker.mode)).toEqual({ analyzer: "live", lastOrderReply: "semi_auto" })
  })

  it("reports a cancel that semi-auto refuses as the broker being unavailable, with OpenAlgo's message", async () => {
    const { orderId } = await run(broker.placeOrder(buy({ limitPrice: 1 })))
    fake.setMode("semi_auto")
    const error = await fail(broker.cancelOrder(orderId))
    expect(error).toMatchObject({ _tag: "BrokerUnavailable", operation: "cancelOrder" })
    expect(error.message).toContain("HTTP 403: Cancel order operation is not allowed in Semi-Auto mode")
  })

  it("recognises analyzer mode from /analyzer and from order replies, and works against the sandbox", async () => {
    expect(await run(broker.mode)).toEqual({ analyzer: "live", lastOrderReply: null })
    await run(broker.placeOrder(buy()))
    expect((await run(broker.mode)).lastOrderReply).toBe("live")
    fake.setMode("analyze")
    expect((await run(broker.mode)).analyzer).toBe("analyze")
    const { orderId } = await run(broker.placeOrder(buy()))
    expect(await run(broker.mode)).toEqual({ analyzer: "analyze", lastOrderReply: "analyze" })
    expect(await run(broker.orderStatus(orderId))).toMatchObject({ status: "filled", filledQuantity: 130 })
    const funds = await run(broker.funds)
    expect(typeof funds.usedMargin).toBe("number")
  })
})

describe("faults", () => {
  it("retries reads after 429 and 500", async () => {
    fake.inject({ path: "funds", kind: "status429", times: 2 })
    await run(broker.funds)
    expect(requestsTo("funds")).toHaveLength(3)
    fake.inject({ path: "positionbook", kind: "status500", times: 2 })
    await run(broker.positions)
    expect(requestsTo("positionbook")).toHaveLength(3)
    fake.inject({ path: "orderbook", kind: "timeout" })
    await run(broker.findOrder("unknown", { symbol: "NIFTY10FEB2624500PE", side: "BUY", quantity: 65, limitPrice: 1, sentAt: now() }))
    expect(requestsTo("orderbook")).toHaveLength(2)
  })

  it("gives up on a read after a bounded number of retries, naming endpoint, status and message", async () => {
    fake.inject({ path: "funds", kind: "status500", times: 5 })
    const error = await fail(broker.funds)
    expect(error).toEqual(expect.objectContaining({ _tag: "BrokerUnavailable", operation: "funds", message: "/funds: HTTP 500: An unexpected error occurred" }))
    expect(requestsTo("funds")).toHaveLength(3)
  })

  it("never retries a send refused with 429: rejected, not placed", async () => {
    fake.inject({ path: "placeorder", kind: "status429" })
    expect(await fail(broker.placeOrder(buy()))).toMatchObject({ _tag: "OrderRejected", message: "/placeorder: HTTP 429: rate limited: 10 per 1 second" })
    expect(requestsTo("placeorder")).toHaveLength(1)
    expect(fake.orders).toHaveLength(0)
  })

  it("never retries a send that failed with 500: the outcome is unknown, and the reconcile finds nothing", async () => {
    fake.inject({ path: "placeorder", kind: "status500" })
    const req = buy()
    const error = await fail(broker.placeOrder(req))
    expect(error).toMatchObject({ _tag: "OrderOutcomeUnknown", clientOrderId: req.clientOrderId })
    expect(error.message).toContain("/placeorder: HTTP 500: An unexpected error occurred in the API endpoint")
    expect(requestsTo("placeorder")).toHaveLength(1)
    expect(await run(broker.findOrder(req.clientOrderId))).toBeNull()
  })

  it("makes a send that times out OrderOutcomeUnknown, sent exactly once", async () => {
    fake.inject({ path: "placeorder", kind: "timeout" })
    const req = buy()
    const error = await fail(broker.placeOrder(req))
    expect(error).toMatchObject({ _tag: "OrderOutcomeUnknown", clientOrderId: req.clientOrderId })
    expect(error.message).toContain("/placeorder: no answer within 250 ms")
    expect(requestsTo("placeorder")).toHaveLength(1)
    expect(fake.orders).toHaveLength(0)
    expect(await run(broker.findOrder(req.clientOrderId))).toBeNull()
  })

  it("finds an order that was placed and filled though its answer was lost", async () => {
    fake.inject({ path: "placeorder", kind: "fillAfterTimeout" })
    const req = buy()
    expect(await fail(broker.placeOrder(req))).toMatchObject({ _tag: "OrderOutcomeUnknown" })
    expect(fake.orders).toHaveLength(1)
    marketNow = at("10:00:45")
    const found = await run(broker.findOrder(req.clientOrderId))
    expect(found).toEqual({ orderId: fake.orders[0]!.orderid, status: "filled", filledQuantity: 130, averagePrice: ltp("10:00:30", 24500, "PE") })
  })

  it("finds every part of a split order whose last answer was lost", async () => {
    fake.inject({ path: "placeorder", kind: "latency", ms: 1, times: 1 })
    fake.inject({ path: "placeorder", kind: "fillAfterTimeout" })
    const req = buy({ quantity: 30 * lotSize })
    const error = await fail(broker.placeOrder(req))
    expect(error.message).toContain(`parts ${fake.orders[0]!.orderid} placed; part 2 of 2 (195)`)
    const found = await run(broker.findOrder(req.clientOrderId))
    expect(found).toMatchObject({ orderId: fake.orders.map((o) => o.orderid).join("+"), status: "filled", filledQuantity: 1950 })
  })

  it("retries a read slower than its timeout", async () => {
    fake.inject({ path: "funds", kind: "latency", ms: 400 })
    await run(broker.funds)
    expect(requestsTo("funds")).toHaveLength(2)
  })
})

describe("reconciling by client order id", () => {
  it("refuses to answer after a restart, when it has no record of what was sent", async () => {
    const req = buy()
    await run(broker.placeOrder(req))
    const restarted = await newBroker()
    const error = await fail(restarted.findOrder(req.clientOrderId))
    expect(error).toMatchObject({ _tag: "BrokerUnavailable", operation: "findOrder" })
    expect(error.message).toContain("no record of what client order")
  })

  it("finds the order from the details the journal kept, when they are given", async () => {
    const sentAt = now()
    const req = buy({ limitPrice: 1 })
    const { orderId } = await run(broker.placeOrder(req))
    const restarted = await newBroker()
    const found = await run(restarted.findOrder(req.clientOrderId, { symbol: req.symbol, side: req.side, quantity: req.quantity, limitPrice: req.limitPrice, sentAt }))
    expect(found).toEqual({ orderId, status: "open", filledQuantity: 0, averagePrice: 0 })
  })

  it("leaves out orders claimed by other client ids, and orders older than the send", async () => {
    const early = await run(broker.placeOrder(buy({ limitPrice: 1 }))) // identical, 10:00:30
    marketNow = at("10:05:00")
    const claimed = await run(broker.placeOrder(buy({ limitPrice: 1 }))) // identical, ours under another id
    fake.inject({ path: "placeorder", kind: "timeout" })
    const lost = buy({ limitPrice: 1 })
    await fail(broker.placeOrder(lost))
    expect(await run(broker.findOrder(lost.clientOrderId))).toBeNull()
    expect(fake.orders.map((o) => o.orderid)).toEqual([early.orderId, claimed.orderId]) // both alike, both at the fake
  })

  it("fails rather than choose when more orders match than were sent", async () => {
    fake.inject({ path: "placeorder", kind: "fillAfterTimeout" })
    const lost = buy({ limitPrice: 1 })
    await fail(broker.placeOrder(lost))
    const other = await newBroker() // another client of the same account sends the very same order
    await run(other.placeOrder(buy({ limitPrice: 1 })))
    const error = await fail(broker.findOrder(lost.clientOrderId))
    expect(error).toMatchObject({ _tag: "BrokerUnavailable", operation: "findOrder" })
    expect(error.message).toContain("ambiguous")
    expect(error.message).toContain(fake.orders.map((o) => o.orderid).join(", "))
    expect(requestsTo("placeorder")).toHaveLength(2)
  })
})

describe("the account and the market", () => {
  it("answers the session's positions, the strategy's shorts and the hedge bought", async () => {
    await run(broker.placeOrder(buy()))
    const positions = await run(broker.positions)
    expect(positions).toContainEqual({ strike: 24500, optionType: "PE", quantity: 130, expiry })
    const shorts = positions.filter((p) => p.quantity < 0)
    expect(shorts.length).toBeGreaterThan(0) // the strategies entered at 09:16, 09:24 and 09:29
    for (const p of shorts) expect(Math.abs(p.quantity) % lotSize).toBe(0)
  })

  it("reads margin in use and funds from /funds, text or numbers", async () => {
    const funds = await run(broker.funds)
    const monitor = makeOpenAlgoMarginMonitor(client)
    expect(await run(monitor.marginInUse)).toBe(funds.usedMargin)
    expect(funds.usedMargin).toBeGreaterThan(0)
    expect(funds.usedMargin + funds.availableMargin).toBeCloseTo(day.header.baskets * day.header.budgetPerBasket, 2)
    fake.setMode("analyze")
    expect(await run(monitor.marginInUse)).toBe(funds.usedMargin)
  })

  it("snapshots spot and the session's chain at the engine's clock", async () => {
    const data = makeOpenAlgoMarketData(client, clock)
    const snapshot = await run(data.snapshot)
    const tick = tickAt("10:00:30")
    expect(snapshot.at).toBe(at("10:00:30"))
    expect(snapshot.spot).toBe(tick.spot)
    expect(snapshot.chain).toHaveLength(11) // strikeCount 5 each side of ATM
    for (const row of snapshot.chain) {
      expect(row.ce).toBe(priceOf(tick.chain, row.strike, "CE"))
      expect(row.pe).toBe(priceOf(tick.chain, row.strike, "PE"))
    }
    const sent = requestsTo("optionchain")[0]!.body as Record<string, unknown>
    expect(sent).toMatchObject({ underlying: "NIFTY", exchange: "NSE_INDEX", expiry_date: "10FEB26", strike_count: 5 })
  })

  it("lists expiries and instrument data", async () => {
    const data = makeOpenAlgoMarketData(client, clock)
    expect(await run(data.expiries)).toEqual([expiry])
    expect(await run(data.instrument("NIFTY10FEB2624500PE"))).toEqual({ symbol: "NIFTY10FEB2624500PE", lotSize: 65, freezeQuantity: 1800, freezeSource: "broker", brokerFreezeQuantity: 1800, tickSize: 0.05 })
    expect(await fail(data.instrument("NIFTY10FEB2699999PE"))).toMatchObject({ _tag: "MarketDataUnavailable", message: expect.stringContaining("/symbol: HTTP 404") })
  })

  it("takes freeze_qty 1 (OpenAlgo's answer where it has none, as on BFO) as unknown: the configured limit splits the orders", async () => {
    await fake.close()
    fake = await startFakeOpenAlgo({ day, now, apiKey: KEY, truth: constantsMarginModel(defaultConfig.marginConstants), unseededFreeze: true, freezeQuantity: 200 })
    const unseeded = makeOpenAlgoBroker(await run(openAlgoClient(configFor(fake.url, { freezeLimit: 200 }))), clock)
    const data = makeOpenAlgoMarketData(await run(openAlgoClient(configFor(fake.url, { freezeLimit: 200 }))), clock)
    expect(await run(data.instrument("NIFTY10FEB2624500PE"))).toMatchObject({ freezeQuantity: 200, freezeSource: "configured", brokerFreezeQuantity: 1 })
    const placed = await run(unseeded.placeOrder(buy({ quantity: 4 * lotSize })))
    expect(placed.orderId.split("+")).toHaveLength(2)
    expect(requestsTo("placeorder").map((r) => (r.body as { quantity: number }).quantity)).toEqual([3 * lotSize, lotSize])
    // Without a configured limit, nothing to split at: the order goes whole, and the exchange decides.
    const bare = makeOpenAlgoMarketData(await run(openAlgoClient(configFor(fake.url))), clock)
    expect(await run(bare.instrument("NIFTY10FEB2624500PE"))).toMatchObject({ freezeQuantity: null, freezeSource: "none" })
  })

  it("prices a basket by the broker's margin, shorts as SELL and quantities as text", async () => {
    const model = makeOpenAlgoMarginModel(client)
    const short = [{ strike: 25000, optionType: "CE" as const, quantity: -lotSize, expiry }]
    const naked = await run(model.margin({ index: "NIFTY", date, expiry, lotSize, spot: 25000, at: now(), positions: short }))
    expect(naked).toBeGreaterThan(0)
    const sent = requestsTo("margin")[0]!.body as { positions: Array<Record<string, unknown>> }
    // One leg goes as two orders that net to it: one order alone would be priced without the account.
    const order = { symbol: "NIFTY10FEB2625000CE", exchange: "NFO", product: "NRML", pricetype: "MARKET", price: "0" }
    expect(sent.positions).toEqual([{ ...order, action: "SELL", quantity: "130" }, { ...order, action: "BUY", quantity: "65" }])
    expect(await run(model.margin({ index: "NIFTY", date, expiry, lotSize, spot: 25000, at: now(), positions: [] }))).toBe(0)
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ strike: 22300 + 50 * i, optionType: "CE" as const, quantity: -lotSize, expiry }))
    expect(await fail(model.margin({ index: "NIFTY", date, expiry, lotSize, spot: 25000, at: now(), positions: tooMany }))).toMatchObject({
      _tag: "MarginModelError",
      message: "51 orders: /margin takes at most 50 in one basket"
    })
  })
})

describe("the broker's basket margin as the engine's estimate", () => {
  it("asks only for what goes beyond the account's positions (the broker adds those itself), so differences are the broker's", async () => {
    const server = await startScriptedServer((path, body) =>
      path === "/symbol"
        ? { status: 200, body: { status: "success", data: { symbol: body.symbol } } }
        : { status: 200, body: { status: "success", data: { total_margin_required: 90_000, span_margin: 60_000, exposure_margin: 20_000 } } }
    )
    const scripted = await run(openAlgoClient(configFor(server.url)))
    const held = [{ strike: 25000, optionType: "CE" as const, quantity: -65, expiry }]
    const model = makeOpenAlgoMarginModel(scripted, Effect.succeed(held))
    const wing = { strike: 25500, optionType: "CE" as const, quantity: 65, expiry }
    const baskets = () => server.requests.filter((r) => r.path === "/margin").map((r) => (r.body as { positions: Array<Record<string, unknown>> }).positions)
    // The exchange margin (span + exposure), not the total with the premium.
    expect(await run(model.margin({ index: "NIFTY", date, expiry, lotSize: 65, spot: 25000, at: 0, positions: [...held, wing] }))).toBe(80_000)
    // Always two orders or more, so that the broker prices them with the account's positions.
    expect(baskets()[0]).toEqual([
      expect.objectContaining({ symbol: "NIFTY10FEB2625500CE", action: "BUY", quantity: "130" }),
      expect.objectContaining({ symbol: "NIFTY10FEB2625500CE", action: "SELL", quantity: "65" })
    ])
    // A portfolio without a held short is that short bought back.
    await run(model.margin({ index: "NIFTY", date, expiry, lotSize: 65, spot: 25000, at: 0, positions: [] }))
    expect(baskets()[1]).toEqual([
      expect.objectContaining({ symbol: "NIFTY10FEB2625000CE", action: "BUY", quantity: "130" }),
      expect.objectContaining({ symbol: "NIFTY10FEB2625000CE", action: "SELL", quantity: "65" })
    ])
    // Exactly the account's positions: a pair that nets to nothing, priced on the same footing as the rest.
    await run(model.margin({ index: "NIFTY", date, expiry, lotSize: 65, spot: 25000, at: 0, positions: held }))
    expect(baskets()[2]).toEqual([
      expect.objectContaining({ symbol: "NIFTY10FEB2625000CE", action: "BUY", quantity: "65" }),
      expect.objectContaining({ symbol: "NIFTY10FEB2625000CE", action: "SELL", quantity: "65" })
    ])
    // Each contract is checked at OpenAlgo once.
    expect(server.requests.filter((r) => r.path === "/symbol").map((r) => r.body.symbol)).toEqual(["NIFTY10FEB2625500CE", "NIFTY10FEB2625000CE"])
    await server.close()
  })
})

describe("margin not supported", () => {
  it("recognises 404 and 501 from /margin as MarginNotSupported", async () => {
    for (const [status, message] of [[404, "Margin calculation not supported for broker: upstox"], [501, "Not implemented"]] as const) {
      const server = await startScriptedServer((path) => (path === "/symbol" ? { status: 200, body: { status: "success", data: { symbol: "S" } } } : { status, body: { status: "error", message } }))
      const scripted = await run(openAlgoClient(configFor(server.url)))
      const positions = [{ strike: 25000, optionType: "CE" as const, quantity: -65, expiry }]
      expect(await fail(basketMargin(scripted, "NIFTY", positions))).toMatchObject({ _tag: "MarginNotSupported", message: `/margin: HTTP ${status}: ${message}` })
      const model = makeOpenAlgoMarginModel(scripted)
      expect((await fail(model.margin({ index: "NIFTY", date, expiry, lotSize, spot: 1, at: 0, positions }))).message).toContain("not supported by the broker")
      expect(server.requests.filter((r) => r.path === "/margin")).toHaveLength(2) // one call each: a definite answer is not asked again
      await server.close()
    }
  })
})

describe("replies as other brokers shape them", () => {
  it("reads string quantities, and names the field and value of a reply that is not as documented", async () => {
    const server = await startScriptedServer((path) =>
      path === "/positionbook"
        ? { status: 200, body: { status: "success", data: [{ symbol: "NIFTY10FEB2624500PE", exchange: "NFO", product: "NRML", quantity: "-130", average_price: "2.20" }] } }
        : path === "/expiry"
          ? { status: 200, body: { status: "success", data: ["10-FEB-26", "2026-02-17"] } }
          : { status: 200, body: { status: "success", data: {} } }
    )
    const scripted = makeOpenAlgoBroker(await run(openAlgoClient(configFor(server.url))), clock)
    expect(await run(scripted.positions)).toEqual([{ strike: 24500, optionType: "PE", quantity: -130, expiry }])
    expect(await fail(scripted.funds)).toMatchObject({
      _tag: "BrokerUnavailable",
      operation: "funds",
      message: "/funds: HTTP 200: unexpected reply: data.utiliseddebits: missing; data.availablecash: missing"
    })
    const monitor = makeOpenAlgoMarginMonitor(await run(openAlgoClient(configFor(server.url))))
    expect(await fail(monitor.marginInUse)).toMatchObject({ _tag: "MarginUnavailable", message: expect.stringContaining("data.utiliseddebits: missing") })
    const data = makeOpenAlgoMarketData(await run(openAlgoClient(configFor(server.url))), clock)
    expect(await fail(data.expiries)).toMatchObject({
      _tag: "MarketDataUnavailable",
      message: '/expiry: HTTP 200: unexpected reply: data[1] = "2026-02-17": expected a date "DD-MMM-YY"'
    })
    await server.close()
  })
})

describe("rate limits", () => {
  /** The most requests the server saw in any one-second window. */
  const busiest = (times: ReadonlyArray<number>) => {
    const sorted = [...times].sort((a, b) => a - b)
    let most = 0
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! >= 1000) j++
      most = Math.max(most, i - j + 1)
    }
    return most
  }

  it("keeps every route within OpenAlgo's default limits, counted per route as the server counts them: no 429", async () => {
    await fake.close()
    // OpenAlgo with its defaults when its .env sets none: 10/s on orders and on each data route, 50/s on /margin.
    fake = await startFakeOpenAlgo({ day, now, apiKey: KEY, truth: constantsMarginModel(defaultConfig.marginConstants), rateLimits: { order: 10, data: 10, margin: 50 } })
    const limited = makeOpenAlgoBroker(await run(openAlgoClient(configFor(fake.url, { timeouts: { readMs: 5000, sendMs: 5000 }, retry: { times: 0 } }))), clock)
    follow()
    // Each send first reads /symbol (once per contract), then sends: two routes, each its own window.
    await run(Effect.forEach(Array.from({ length: 15 }), () => limited.placeOrder(buy({ limitPrice: 1 })), { concurrency: "unbounded" }))
    const sends = requestsTo("placeorder").map((r) => r.at)
    expect(sends).toHaveLength(15)
    expect(busiest(sends)).toBeLessThanOrEqual(10)
    // Reads of two routes at once: neither waits for the other's window, neither goes over its own.
    await run(Effect.all([
      Effect.forEach(Array.from({ length: 25 }), () => limited.funds, { concurrency: "unbounded" }),
      Effect.forEach(Array.from({ length: 25 }), () => limited.positions, { concurrency: "unbounded" })
    ], { concurrency: "unbounded" }))
    expect(busiest(requestsTo("funds").map((r) => r.at))).toBeLessThanOrEqual(10)
    expect(busiest(requestsTo("positionbook").map((r) => r.at))).toBeLessThanOrEqual(10)
    expect(fake.rateLimited).toBe(0)
  })

  it("honours a 429's retry_after: the route waits that long, the others do not", async () => {
    const server = await startScriptedServer((path, _body, i) =>
      path === "/funds" && i === 0
        ? { status: 429, body: { status: "error", message: "Rate limit exceeded. Please slow down your requests.", retry_after: 2 } }
        : path === "/funds"
          ? { status: 200, body: { status: "success", data: { utiliseddebits: "1.00", availablecash: "2.00" } } }
          : { status: 200, body: { status: "success", data: [] } }
    )
    const scripted = makeOpenAlgoBroker(await run(openAlgoClient(configFor(server.url, { retry: { times: 2, baseDelayMs: 10 } }))), clock)
    await run(Effect.all([scripted.funds, Effect.andThen(Effect.sleep(50), scripted.positions)], { concurrency: "unbounded" }))
    const funds = server.requests.filter((r) => r.path === "/funds")
    expect(funds).toHaveLength(2)
    // Not the 10 ms backoff: the second /funds waited out the two seconds the server asked for.
    expect(funds[1]!.at - funds[0]!.at).toBeGreaterThanOrEqual(2000)
    // /positionbook was not held back by /funds's pause.
    const positions = server.requests.find((r) => r.path === "/positionbook")!
    expect(positions.at).toBeLessThan(funds[1]!.at)
    await server.close()
  })
})

describe("the API key", () => {
  it("appears in no error of the broker, market data or margin services", async () => {
    const messages: Array<string> = []
    const note = (e: { readonly message: string }) => messages.push(e.message, String(e), JSON.stringify(e))
    const data = makeOpenAlgoMarketData(client, clock)

    fake.inject({ path: "placeorder", kind: "reject", message: `bad request from ${KEY}` })
    note(await fail(broker.placeOrder(buy())))
    fake.inject({ path: "placeorder", kind: "status429" })
    note(await fail(broker.placeOrder(buy())))
    fake.inject({ path: "placeorder", kind: "status500" })
    note(await fail(broker.placeOrder(buy())))
    fake.inject({ path: "placeorder", kind: "timeout" })
    note(await fail(broker.placeOrder(buy())))
    note(await fail(broker.orderStatus("404")))
    note(await fail((await newBroker()).findOrder("nobody")))
    fake.inject({ path: "funds", kind: "status500", times: 3 })
    note(await fail(makeOpenAlgoMarginMonitor(client).marginInUse))
    fake.inject({ path: "optionchain", kind: "timeout", times: 3 })
    note(await fail(data.snapshot))
    fake.setMode("semi_auto")
    note(await fail(broker.place(buy())))
    const wrongKey = makeOpenAlgoBroker(await run(openAlgoClient({ ...configFor(fake.url), apiKey: Redacted.make(`${KEY}-old`) })), clock)
    const forbidden = await fail(wrongKey.funds)
    expect(forbidden.message).toBe("/funds: HTTP 403: Invalid openalgo apikey")
    note(forbidden)

    expect(messages).toHaveLength(30)
    for (const m of messages) expect(m).not.toContain(KEY)
  })
})
