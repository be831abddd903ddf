// The fake OpenAlgo server over real HTTP: OpenAlgo's success and error shapes, the account moving with
// the recorded day and with fills, the analyzer and semi-auto modes, and every injectable fault.
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { spanBreakdown, spanMarginModel } from "../../src/domain/span.ts"
import { atmStrike, priceOf, type OptionType, type Position } from "../../src/domain/market.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"

// 2026-02-03, NIFTY expiry day, a tick every 5 minutes; entry 1 sells a 15-basket ATM straddle at 09:16.
const day = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")
const { lotSize: LOT, baskets } = day.header
const KEY = "test-key"
const BUDGET = baskets * day.header.budgetPerBasket
const at = (time: string) => instantOf(day.header.date, time)
const tickAt = (time: string) => day.ticks.filter((t) => t.at <= at(time)).at(-1)!
const price = (time: string, strike: number, type: OptionType) => priceOf(tickAt(time).chain, strike, type)!
const symbolOf = (strike: number, type: OptionType) => `NIFTY03FEB26${strike}${type}`
/** Entry 1 at 09:16 is struck on the 09:15 tick. */
const ATM = atmStrike(tickAt("09:16:00").spot, day.header.strikeStep)
const STRADDLE: ReadonlyArray<Position> = (["CE", "PE"] as const).map((optionType) => ({ strike: ATM, optionType, quantity: -baskets * LOT, expiry: day.header.expiry }))
// The order and account tests keep the constants model as the broker's margin (its numbers are easy to
// follow); the fake's own default, the simulator's SPAN truth, is tested with /margin below.
const model = constantsMarginModel(defaultConfig.marginConstants)
const truthMargin = (positions: ReadonlyArray<Position>, time: string) =>
  Effect.runSync(model.margin({ index: "NIFTY", date: day.header.date, expiry: day.header.expiry, lotSize: LOT, spot: tickAt(time).spot, at: at(time), positions }))
const spanQuery = (positions: ReadonlyArray<Position>, time: string) =>
  ({ index: "NIFTY" as const, date: day.header.date, expiry: day.header.expiry, lotSize: LOT, spot: tickAt(time).spot, at: at(time), positions, chain: tickAt(time).chain })
const spanMargin = (positions: ReadonlyArray<Position>, time: string) => Effect.runSync(spanMarginModel(defaultConfig.span).margin(spanQuery(positions, time)))
const spanParts = (positions: ReadonlyArray<Position>, time: string) => Effect.runSync(spanBreakdown(spanQuery(positions, time), defaultConfig.span))
const toTick = (x: number) => Math.round(x * 20) / 20

type Json = Record<string, any>
let clock: number
let fake: FakeOpenAlgo

beforeEach(async () => {
  clock = at("09:20:00")
  fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: KEY, truth: model })
})
afterEach(() => fake.close())

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${fake.url}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init
  })
const call = async (path: string, body: Json = {}): Promise<{ status: number; body: Json }> => {
  const res = await post(path, { apikey: KEY, ...body })
  return { status: res.status, body: (await res.json()) as Json }
}
const order = (over: Json = {}): Json => ({
  strategy: "autohedge",
  exchange: "NFO",
  symbol: symbolOf(ATM - 100, "PE"),
  action: "BUY",
  quantity: baskets * LOT,
  pricetype: "MARKET",
  product: "NRML",
  ...over
})
const place = async (over: Json = {}) => {
  const reply = await call("placeorder", order(over))
  expect(reply.status, JSON.stringify(reply.body)).toBe(200)
  return reply.body.orderid as string
}
const statusOf = async (orderid: string) => (await call("orderstatus", { strategy: "autohedge", orderid })).body.data as Json

/** A buy limit that is not marketable at 09:20 and is first reached at a later tick. */
const restingBuy = (() => {
  for (const strike of [ATM - 100, ATM - 50, ATM, ATM + 50, ATM + 100]) {
    for (const type of ["PE", "CE"] as const) {
      const later = day.ticks.filter((t) => t.at > at("09:20:00") && t.at < at("15:00:00"))
      const lows = later.map((t) => ({ at: t.at, price: priceOf(t.chain, strike, type) })).filter((x): x is { at: number; price: number } => x.price !== null)
      const low = Math.min(...lows.map((x) => x.price))
      if (low < price("09:20:00", strike, type)) return { symbol: symbolOf(strike, type), limit: low, fillsAt: lows.find((x) => x.price === low)!.at }
    }
  }
  throw new Error("no resting order possible on this day")
})()

describe("success shapes (live)", () => {
  it("ping, analyzer", async () => {
    expect(await call("ping")).toEqual({ status: 200, body: { status: "success", data: { message: "pong", broker: "zerodha" } } })
    expect((await call("analyzer")).body).toEqual({ status: "success", data: { analyze_mode: false, mode: "live", total_logs: 0 } })
  })

  it("funds are strings with two decimals: margin in use from the truth model, available = budget - used", async () => {
    const { body } = await call("funds")
    const used = truthMargin(STRADDLE, "09:20:00")
    expect(used).toBeGreaterThan(0)
    expect(body.status).toBe("success")
    expect(body.data.utiliseddebits).toBe(used.toFixed(2))
    expect(body.data.availablecash).toBe((BUDGET - used).toFixed(2))
    for (const v of Object.values(body.data)) expect(v).toMatch(/^-?\d+\.\d{2}$/)
  })

  it("positionbook holds the strategy's legs as the day entered them", async () => {
    const { body } = await call("positionbook")
    expect(body.data).toEqual(
      (["CE", "PE"] as const).map((type) => {
        const avg = price("09:16:00", ATM, type)
        const ltp = price("09:20:00", ATM, type)
        return {
          symbol: symbolOf(ATM, type),
          exchange: "NFO",
          product: "NRML",
          quantity: -baskets * LOT,
          pnl: Math.round((avg - ltp) * baskets * LOT * 100) / 100,
          average_price: avg.toFixed(2),
          ltp
        }
      })
    )
  })

  it("orderbook and tradebook show the strategy platform's orders; live rows carry no filled_quantity", async () => {
    clock = at("09:30:00") // entries 1-3 are in
    const book = (await call("orderbook")).body
    expect(book.data.orders).toHaveLength(6)
    const row = book.data.orders[0]
    expect(Object.keys(row).sort()).toEqual(["action", "exchange", "order_status", "orderid", "price", "pricetype", "product", "quantity", "symbol", "timestamp", "trigger_price"])
    expect(row).toMatchObject({ action: "SELL", exchange: "NFO", order_status: "complete", pricetype: "MARKET", price: 0, timestamp: "2026-02-03 09:16:00" })
    expect(book.data.statistics).toEqual({ total_buy_orders: 0, total_sell_orders: 6, total_completed_orders: 6, total_open_orders: 0, total_rejected_orders: 0 })
    const trades = (await call("tradebook")).body.data as Array<Json>
    expect(trades).toHaveLength(6)
    expect(trades[0]).toEqual({
      symbol: symbolOf(ATM, "CE"),
      exchange: "NFO",
      product: "NRML",
      action: "SELL",
      quantity: baskets * LOT,
      average_price: price("09:16:00", ATM, "CE"),
      trade_value: Math.round(baskets * LOT * price("09:16:00", ATM, "CE") * 100) / 100,
      orderid: row.orderid,
      timestamp: "2026-02-03 09:16:00"
    })
  })

  it("quotes of the index and of an option come from the current tick", async () => {
    const spot = await call("quotes", { symbol: "NIFTY", exchange: "NSE_INDEX" })
    expect(spot.body.data.ltp).toBe(tickAt("09:20:00").spot)
    expect(spot.body.data.open).toBe(tickAt("09:15:00").spot)
    const option = await call("quotes", { symbol: symbolOf(ATM, "PE"), exchange: "NFO" })
    const ltp = price("09:20:00", ATM, "PE")
    expect(option.body).toEqual({
      status: "success",
      data: {
        open: price("09:15:00", ATM, "PE"),
        high: Math.max(price("09:15:00", ATM, "PE"), ltp),
        low: Math.min(price("09:15:00", ATM, "PE"), ltp),
        ltp,
        ask: ltp,
        bid: ltp,
        prev_close: 0,
        volume: 0,
        oi: 0
      }
    })
  })

  it("symbol and expiry describe the day's contracts", async () => {
    const { body } = await call("symbol", { symbol: symbolOf(ATM, "CE"), exchange: "NFO" })
    expect(body.status).toBe("success")
    expect(body.data).toMatchObject({ symbol: symbolOf(ATM, "CE"), exchange: "NFO", expiry: "03-FEB-26", strike: ATM, lotsize: LOT, tick_size: 0.05, freeze_qty: 1800, instrumenttype: "CE", name: "NIFTY" })
    expect(Object.keys(body.data).sort()).toEqual(["brexchange", "brsymbol", "exchange", "expiry", "freeze_qty", "id", "instrumenttype", "lotsize", "name", "strike", "symbol", "tick_size", "token"])
    expect((await call("expiry", { symbol: "NIFTY", exchange: "NFO", instrumenttype: "options" })).body).toEqual({
      status: "success",
      message: "Found 1 expiry dates for NIFTY options in NFO",
      data: ["03-FEB-26"]
    })
    expect((await call("expiry", { symbol: "NIFTY", exchange: "NFO", instrumenttype: "futures" })).body.data).toEqual([])
  })

  it("optionchain: strikes around ATM with OpenAlgo's labels and the tick's prices", async () => {
    const { body } = await call("optionchain", { underlying: "NIFTY", exchange: "NSE_INDEX", expiry_date: "03FEB26", strike_count: 2 })
    const spot = tickAt("09:20:00").spot
    const atm = atmStrike(spot, 50)
    expect(body).toMatchObject({ status: "success", underlying: "NIFTY", underlying_ltp: spot, expiry_date: "03FEB26", atm_strike: atm, quotes_included: true, greeks_included: false, forward_price: null })
    expect(body.expiry_ts).toBe(at("15:30:00") / 1000)
    expect(body.chain.map((r: Json) => r.strike)).toEqual([atm - 100, atm - 50, atm, atm + 50, atm + 100])
    expect(body.chain.map((r: Json) => `${r.ce.label}/${r.pe.label}`)).toEqual(["ITM2/OTM2", "ITM1/OTM1", "ATM/ATM", "OTM1/ITM1", "OTM2/ITM2"])
    expect(body.chain[2].pe).toMatchObject({ symbol: symbolOf(atm, "PE"), ltp: price("09:20:00", atm, "PE"), lotsize: LOT, tick_size: 0.05 })
    const wrong = await call("optionchain", { underlying: "NIFTY", exchange: "NSE_INDEX", expiry_date: "10FEB26" })
    expect(wrong).toEqual({ status: 404, body: { status: "error", message: "No strikes found for NIFTY expiring 10FEB26. Please check expiry date or update master contract." } })
  })

  it("margin: one position alone; a basket as what it adds to the account; span and exposure from the SPAN model (the default truth)", async () => {
    await fake.close()
    fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: KEY })
    const truthMargin = spanMargin
    const truthParts = spanParts
    const leg = { symbol: symbolOf(ATM + 100, "CE"), exchange: "NFO", action: "SELL", quantity: String(LOT), product: "NRML", pricetype: "MARKET" }
    const single = await call("margin", { positions: [leg] })
    const alone = truthParts([{ strike: ATM + 100, optionType: "CE", quantity: -LOT, expiry: day.header.expiry }], "09:20:00")
    // The SPAN model's own split: a short has both parts.
    expect(alone.span).toBeGreaterThan(0)
    expect(alone.exposure).toBeGreaterThan(0)
    expect(single.body).toEqual({ status: "success", data: { total_margin_required: alone.span + alone.exposure, span_margin: alone.span, exposure_margin: alone.exposure } })
    // A new short call and a put wing that covers the account's short put: priced with the account.
    const q = baskets * LOT
    const basket = [
      { ...leg, quantity: String(q) },
      { ...leg, symbol: symbolOf(ATM - 200, "PE"), action: "BUY", quantity: String(q) }
    ]
    const added: ReadonlyArray<Position> = [
      { strike: ATM + 100, optionType: "CE", quantity: -q, expiry: day.header.expiry },
      { strike: ATM - 200, optionType: "PE", quantity: q, expiry: day.header.expiry }
    ]
    const withAccount = truthMargin([...STRADDLE, ...added], "09:20:00") - truthMargin(STRADDLE, "09:20:00")
    const priced = (await call("margin", { positions: basket })).body.data
    expect(priced.total_margin_required).toBeCloseTo(withAccount, 2)
    const [after, before] = [truthParts([...STRADDLE, ...added], "09:20:00"), truthParts(STRADDLE, "09:20:00")]
    expect(priced.span_margin).toBeCloseTo(after.span - before.span, 2)
    expect(priced.exposure_margin).toBeCloseTo(after.exposure - before.exposure, 2)
    // A basket that frees margin answers the (negative) increment.
    const wings = (["CE", "PE"] as const).map((t) => ({ ...leg, symbol: symbolOf(t === "CE" ? ATM + 200 : ATM - 200, t), action: "BUY", quantity: String(q) }))
    const wingPositions = wings.map((w, i): Position => ({ strike: i === 0 ? ATM + 200 : ATM - 200, optionType: i === 0 ? "CE" : "PE", quantity: q, expiry: day.header.expiry }))
    const relief = truthMargin([...STRADDLE, ...wingPositions], "09:20:00") - truthMargin(STRADDLE, "09:20:00")
    expect(relief).toBeLessThan(0)
    expect(truthMargin(wingPositions, "09:20:00")).toBeGreaterThanOrEqual(0) // alone, wings never free anything
    expect((await call("margin", { positions: wings })).body.data.total_margin_required).toBeCloseTo(relief, 2)
  })
})

describe("error shapes", () => {
  it("a wrong key is refused with 403 everywhere", async () => {
    for (const [path, body] of [["placeorder", order()], ["funds", {}], ["optionchain", { underlying: "NIFTY", exchange: "NSE_INDEX", expiry_date: "03FEB26" }]] as const) {
      const res = await post(path, { ...body, apikey: "nope" })
      expect(res.status).toBe(403)
      expect(await res.json()).toEqual({ status: "error", message: "Invalid openalgo apikey" })
    }
  })

  it("unknown fields: a Python-repr string on order endpoints, an object on data endpoints, `errors` on options ones", async () => {
    expect(await call("placeorder", order({ client_order_id: "AH-1" }))).toEqual({ status: 400, body: { status: "error", message: "{'client_order_id': ['Unknown field.']}" } })
    expect(await call("funds", { client_order_id: "AH-1" })).toEqual({ status: 400, body: { status: "error", message: { client_order_id: ["Unknown field."] } } })
    expect(await call("optionchain", { underlying: "NIFTY", exchange: "NSE_INDEX", expiry_date: "03FEB26", extra: 1 })).toEqual({
      status: 400,
      body: { status: "error", message: "Validation error", errors: { extra: ["Unknown field."] } }
    })
  })

  it("missing and invalid fields, in schema order; strategy is required on order endpoints", async () => {
    const { strategy: _, ...noStrategy } = order({ action: "HOLD" })
    expect((await call("placeorder", noStrategy)).body.message).toBe("{'strategy': ['Missing data for required field.'], 'action': ['Must be one of: BUY, SELL, buy, sell.']}")
    expect((await call("orderstatus", { orderid: "1" })).body.message).toBe("{'strategy': ['Missing data for required field.']}")
    expect((await call("cancelorder", { orderid: "1" })).body.message).toBe("{'strategy': ['Missing data for required field.']}")
    expect((await call("placeorder", order({ quantity: 1.5 }))).body.message).toBe("{'quantity': ['Fractional quantity (1.5) is not allowed for non-crypto exchanges.']}")
    expect(await call("quotes", { exchange: "NFO" })).toEqual({ status: 400, body: { status: "error", message: { symbol: ["Missing data for required field."] } } })
    expect((await call("optionchain", { underlying: "NIFTY", exchange: "NSE_INDEX", strike_count: 0 })).body.errors).toEqual({
      expiry_date: ["Missing data for required field."],
      strike_count: ["Must be greater than or equal to 1 and less than or equal to 100."]
    })
  })

  it("/margin quantities and prices must be JSON strings", async () => {
    const leg = { symbol: symbolOf(ATM, "CE"), exchange: "NFO", action: "SELL", quantity: LOT, product: "NRML", pricetype: "MARKET", price: 0 }
    expect(await call("margin", { positions: [leg] })).toEqual({
      status: 400,
      body: { status: "error", message: "{'positions': {0: {'quantity': ['Not a valid string.'], 'price': ['Not a valid string.']}}}" }
    })
    expect((await call("margin", { positions: [{ ...leg, quantity: "1.5", price: "0" }] })).body.message).toBe("Position 1: Invalid quantity format")
  })

  it("unknown order, unknown symbol, unknown path, non-JSON body", async () => {
    expect(await call("orderstatus", { strategy: "s", orderid: "12345" })).toEqual({ status: 404, body: { status: "error", message: "Order 12345 not found" } })
    const unknown = await call("placeorder", order({ symbol: "NIFTY03FEB2699999PE" }))
    expect(unknown.status).toBe(400)
    expect(unknown.body.message).toMatch(/^Symbol 'NIFTY03FEB2699999PE' not found for exchange 'NFO'/)
    const lots = await call("placeorder", order({ quantity: LOT + 1 }))
    expect(lots).toEqual({ status: 400, body: { status: "error", message: `Quantity must be in multiples of lot size ${LOT}` } })

    const notFound = await post("modifyorder", { apikey: KEY })
    expect(notFound.status).toBe(404)
    expect(await notFound.json()).toEqual({ status: "error", message: "Not found", path: "/api/v1/modifyorder" })
    const garbled = await post("placeorder", "{not json")
    expect(garbled.status).toBe(500)
    expect(await garbled.json()).toEqual({ status: "error", message: "An unexpected error occurred in the API endpoint" })
    const plainText = await post("funds", JSON.stringify({ apikey: KEY }), { headers: { "content-type": "text/plain" } })
    expect(plainText.status).toBe(500)
    expect(await plainText.json()).toEqual({ status: "error", message: "An unexpected error occurred" })
    expect((await post("funds/", { apikey: KEY })).status).toBe(200) // trailing slash
  })
})

describe("orders and the account", () => {
  it("a marketable buy fills at the tick price and moves the positionbook and the funds", async () => {
    const hedge = symbolOf(ATM - 100, "PE")
    const p = price("09:20:00", ATM - 100, "PE")
    const orderid = await place({ pricetype: "LIMIT", price: toTick(p + 5) })
    expect(orderid).toMatch(/^260203\d{9}$/)
    const status = await statusOf(orderid)
    expect(status).toMatchObject({ order_status: "complete", average_price: p, symbol: hedge, price: toTick(p + 5) })
    expect(status).not.toHaveProperty("filled_quantity")

    const rows = (await call("positionbook")).body.data as Array<Json>
    expect(rows.find((r) => r.symbol === hedge && r.product === "NRML")).toMatchObject({ quantity: baskets * LOT, average_price: p.toFixed(2) })
    const used = truthMargin([...STRADDLE, { strike: ATM - 100, optionType: "PE", quantity: baskets * LOT, expiry: day.header.expiry }], "09:20:00")
    expect(used).toBeLessThan(truthMargin(STRADDLE, "09:20:00"))
    expect((await call("funds")).body.data.utiliseddebits).toBe(used.toFixed(2))
  })

  it("a resting limit stays open, fills at the first tick that reaches it, and answers average_price only when complete", async () => {
    const orderid = await place({ symbol: restingBuy.symbol, pricetype: "LIMIT", price: restingBuy.limit, quantity: LOT })
    expect(await statusOf(orderid)).toMatchObject({ order_status: "open", average_price: 0 })
    clock = restingBuy.fillsAt - 1
    expect((await statusOf(orderid)).order_status).toBe("open")
    clock = restingBuy.fillsAt
    expect(await statusOf(orderid)).toMatchObject({ order_status: "complete", average_price: restingBuy.limit })
  })

  it("the broker's RMS rejects a sell beyond the budget after accepting it (live)", async () => {
    const orderid = await place({ symbol: symbolOf(ATM + 100, "CE"), action: "SELL", quantity: 27 * LOT })
    expect((await statusOf(orderid)).order_status).toBe("rejected")
    expect((await call("positionbook")).body.data).toHaveLength(2)
    expect((await call("orderbook")).body.data.statistics.total_rejected_orders).toBe(1)
  })

  it("cancel an open order once; a second cancel fails the way the Zerodha adapter fails", async () => {
    const orderid = await place({ pricetype: "LIMIT", price: 0.05, quantity: LOT })
    expect(await call("cancelorder", { strategy: "autohedge", orderid })).toEqual({ status: 200, body: { status: "success", orderid } })
    expect((await statusOf(orderid)).order_status).toBe("cancelled")
    const again = await call("cancelorder", { strategy: "autohedge", orderid })
    expect(again.status).toBe(500)
    expect(again.body.message).toMatch(/^Failed to cancel order: Client error '400 Bad Request'/)
  })

  it("at 15:30 open orders are cancelled and the expiring positions settle; later orders are refused", async () => {
    const orderid = await place({ pricetype: "LIMIT", price: 0.05, quantity: LOT })
    clock = at("15:31:00")
    expect((await statusOf(orderid)).order_status).toBe("cancelled")
    const rows = (await call("positionbook")).body.data as Array<Json>
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r.quantity).toBe(0)
    // Settlement is not a trade: nothing is traded at or after the close.
    const trades = (await call("tradebook")).body.data as Array<Json>
    expect(trades.length).toBeGreaterThan(0)
    for (const t of trades) expect(t.timestamp < "2026-02-03 15:30:00").toBe(true)
    expect((await call("funds")).body.data.utiliseddebits).toBe("0.00")
    expect((await call("placeorder", order())).body.message).toBe("Markets are closed right now. Use GTT for placing long standing orders instead.")
  })
})

describe("modes", () => {
  it("analyze: sandbox ids, mode tags, sandbox rows and numeric funds; market data untagged", async () => {
    fake.setMode("analyze")
    const placed = await call("placeorder", order({ quantity: LOT }))
    expect(placed.body).toEqual({ status: "success", orderid: expect.stringMatching(/^260203\d{8}$/), mode: "analyze" })
    const book = (await call("orderbook")).body
    expect(book.mode).toBe("analyze")
    expect(book.data.orders[0]).toMatchObject({ orderid: placed.body.orderid, order_status: "complete", filled_quantity: LOT, pending_quantity: 0, strategy: "autohedge" })
    const status = (await call("orderstatus", { strategy: "autohedge", orderid: placed.body.orderid })).body
    expect(status.mode).toBe("analyze")
    expect(status.data).toHaveProperty("price_type", "MARKET")
    expect(status.data).not.toHaveProperty("pricetype")
    const funds = (await call("funds")).body
    expect(funds.mode).toBe("analyze")
    expect(typeof funds.data.utiliseddebits).toBe("number")
    expect((await call("analyzer")).body.data).toMatchObject({ analyze_mode: true, mode: "analyze" })
    expect((await call("quotes", { symbol: "NIFTY", exchange: "NSE_INDEX" })).body).not.toHaveProperty("mode")
    // The sandbox checks margin before it makes an order.
    const tooBig = await call("placeorder", order({ symbol: symbolOf(ATM + 100, "CE"), action: "SELL", quantity: 27 * LOT }))
    expect(tooBig.status).toBe(400)
    expect(tooBig.body).toMatchObject({ status: "error", mode: "analyze", message: expect.stringMatching(/^Insufficient funds/) })
    expect(fake.orders).toHaveLength(1)
    fake.setMode("live")
    expect((await call("analyzer")).body.data).toMatchObject({ analyze_mode: false, mode: "live" })
  })

  it("semi_auto: placeorder is queued and places nothing; cancelorder is refused", async () => {
    fake.setMode("semi_auto")
    expect(await call("placeorder", order())).toEqual({
      status: 200,
      body: { status: "success", message: "Order queued for approval in Action Center", mode: "semi_auto", pending_order_id: 1 }
    })
    expect((await call("placeorder", order())).body.pending_order_id).toBe(2)
    expect(fake.orders).toHaveLength(0)
    expect((await call("orderbook")).body.data.orders).toHaveLength(2) // the strategy's own legs only
    expect(await call("cancelorder", { strategy: "autohedge", orderid: "1" })).toEqual({
      status: 403,
      body: { status: "error", message: "Cancel order operation is not allowed in Semi-Auto mode. Please switch to Auto mode to cancel orders." }
    })
  })
})

describe("faults", () => {
  it("latency delays the answer, on that endpoint only", async () => {
    fake.inject({ path: "funds", kind: "latency", ms: 150 })
    // Asked together: the other endpoint answers first (an order of answers, not a speed), funds no sooner than its latency.
    const answered: Array<string> = []
    const delayed = performance.now()
    const [funds, ping] = await Promise.all(
      (["funds", "ping"] as const).map((path) => call(path).then((r) => (answered.push(path), { status: r.status, after: performance.now() - delayed })))
    )
    expect([funds!.status, ping!.status]).toEqual([200, 200])
    expect(answered).toEqual(["ping", "funds"])
    expect(funds!.after).toBeGreaterThanOrEqual(140)
  })

  it("timeout: the request is never answered; the next one is", async () => {
    fake.inject({ path: "/api/v1/funds", kind: "timeout" })
    await expect(post("funds", { apikey: KEY }, { signal: AbortSignal.timeout(150) })).rejects.toMatchObject({ name: "TimeoutError" })
    expect((await call("funds")).status).toBe(200)
  })

  it("status429 and status500 for the number of requests asked, with nothing done", async () => {
    fake.inject({ path: "placeorder", kind: "status429", times: 2 })
    fake.inject({ path: "placeorder", kind: "status500" })
    for (let i = 0; i < 2; i++) expect(await call("placeorder", order())).toEqual({ status: 429, body: { message: "10 per 1 second" } })
    expect(await call("placeorder", order())).toEqual({ status: 500, body: { status: "error", message: "An unexpected error occurred in the API endpoint" } })
    expect(fake.orders).toHaveLength(0)
    expect((await call("placeorder", order())).status).toBe(200)
    expect(fake.orders).toHaveLength(1)
  })

  it("reject: the broker refuses with 400 and its message; no order exists", async () => {
    fake.inject({ path: "placeorder", kind: "reject", message: "RMS:Margin Exceeds" })
    expect(await call("placeorder", order())).toEqual({ status: 400, body: { status: "error", message: "RMS:Margin Exceeds" } })
    expect(fake.orders).toHaveLength(0)
    const orderid = await place({ pricetype: "LIMIT", price: 0.05, quantity: LOT })
    fake.inject({ path: "cancelorder", kind: "reject", message: "Order cannot be cancelled as it is being processed. Try later." })
    expect((await call("cancelorder", { strategy: "s", orderid })).status).toBe(400)
    expect((await statusOf(orderid)).order_status).toBe("open")
  })

  it("partialFill: part fills, the order stays open, the tradebook shows the fill", async () => {
    fake.inject({ path: "placeorder", kind: "partialFill", fraction: 0.5 })
    const orderid = await place({ quantity: 4 * LOT })
    clock = at("09:40:00")
    expect(await statusOf(orderid)).toMatchObject({ order_status: "open", average_price: 0 })
    const fills = ((await call("tradebook")).body.data as Array<Json>).filter((t) => t.orderid === orderid)
    expect(fills).toEqual([expect.objectContaining({ quantity: 2 * LOT, action: "BUY", average_price: price("09:20:00", ATM - 100, "PE") })])
    expect(fake.orders[0]).toMatchObject({ status: "open", filledQuantity: 2 * LOT })
    await call("cancelorder", { strategy: "autohedge", orderid })
    expect((await statusOf(orderid)).order_status).toBe("cancelled")
    const row = ((await call("positionbook")).body.data as Array<Json>).find((r) => r.symbol === symbolOf(ATM - 100, "PE"))
    expect(row?.quantity).toBe(2 * LOT)
  })

  it("fillAfterTimeout: the answer is lost but exactly one order exists and later fills", async () => {
    fake.inject({ path: "placeorder", kind: "fillAfterTimeout" })
    const lost = post("placeorder", { apikey: KEY, ...order({ symbol: restingBuy.symbol, pricetype: "LIMIT", price: restingBuy.limit, quantity: LOT }) }, { signal: AbortSignal.timeout(200) })
    await expect(lost).rejects.toMatchObject({ name: "TimeoutError" })
    expect(fake.orders).toHaveLength(1)
    expect(fake.orders[0]).toMatchObject({ symbol: restingBuy.symbol, status: "open" })
    const orderid = fake.orders[0]!.orderid
    clock = restingBuy.fillsAt
    const mine = ((await call("orderbook")).body.data.orders as Array<Json>).filter((o) => o.orderid === orderid)
    expect(mine).toEqual([expect.objectContaining({ symbol: restingBuy.symbol, action: "BUY", order_status: "complete" })])
    expect(((await call("tradebook")).body.data as Array<Json>).filter((t) => t.orderid === orderid)).toHaveLength(1)
    expect(fake.orders).toEqual([expect.objectContaining({ orderid, status: "complete", filledQuantity: LOT })])
  })

  it("inject refuses faults that cannot apply", () => {
    expect(() => fake.inject({ path: "modifyorder", kind: "timeout" })).toThrow(/unknown endpoint "modifyorder"/)
    expect(() => fake.inject({ path: "funds", kind: "reject" })).toThrow(/reject applies to placeorder or cancelorder, not funds/)
    expect(() => fake.inject({ path: "placeorder", kind: "partialFill", fraction: 1 })).toThrow(/fraction/)
  })

  it("records every request with its path, body and market time", async () => {
    await call("funds")
    clock = at("09:25:00")
    await post("nowhere", "plain text")
    expect(fake.requests).toEqual([
      { path: "funds", body: { apikey: KEY }, at: at("09:20:00") },
      { path: "/api/v1/nowhere", body: "plain text", at: at("09:25:00") }
    ])
  })
})

describe("OpenAlgo's own behaviours (issue 21)", () => {
  it("transientStatus: the order's row carries the previous row's status, and no fill, until Kite moves on", async () => {
    // The strategy platform's entry orders (complete) come first in the book.
    fake.inject({ path: "placeorder", kind: "transientStatus", reads: 2, ms: 60_000 })
    const orderid = await place()
    const first = await statusOf(orderid)
    expect(first).toMatchObject({ order_status: "complete", average_price: 0 })
    expect((await call("tradebook")).body.data.filter((t: Json) => t.orderid === orderid)).toEqual([])
    const book = (await call("orderbook")).body.data
    expect(book.orders.find((o: Json) => o.orderid === orderid).order_status).toBe("complete")
    // Counted on Kite's own statuses: the transient order is neither complete nor open.
    expect(book.statistics.total_open_orders).toBe(0)
    // Reads alone do not move it on before its time; the market's clock does.
    expect((await statusOf(orderid)).average_price).toBe(0)
    clock = at("09:21:00")
    await statusOf(orderid)
    const after = await statusOf(orderid)
    expect(after.order_status).toBe("complete")
    expect(after.average_price).toBeGreaterThan(0)
    expect((await call("tradebook")).body.data.some((t: Json) => t.orderid === orderid)).toBe(true)
  })

  it("transientStatus on the first row of the book: /orderbook and /orderstatus answer 500", async () => {
    await fake.close()
    // Before the first entry, the book is empty: the hedge's order is its first row.
    clock = at("09:15:30")
    fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: KEY, truth: model })
    fake.inject({ path: "placeorder", kind: "transientStatus", reads: 1 })
    const orderid = await place()
    expect(await call("orderbook")).toEqual({ status: 500, body: { status: "error", message: "An unexpected error occurred" } })
    expect((await call("orderstatus", { strategy: "autohedge", orderid })).status).toBe(200) // moved on after one read
  })

  it("rate limits per route in a moving window, with flask-restx's 429 body or app.py's", async () => {
    await fake.close()
    // A clock that stands still: every request falls in one window, however slow the machine.
    fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: KEY, truth: model, rateLimits: { order: 10, data: 3, margin: 50 }, rateLimitClock: () => 0 })
    const replies = await Promise.all(Array.from({ length: 5 }, () => call("funds")))
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429])
    expect(replies.find((r) => r.status === 429)!.body).toEqual({ message: "3 per 1 second" })
    // Another route has its own window.
    expect((await call("positionbook")).status).toBe(200)
    expect(fake.rateLimited).toBe(2)
    await fake.close()
    fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: KEY, truth: model, rateLimits: { order: 10, data: 1, margin: 50 }, rateLimitBody: "app", rateLimitClock: () => 0 })
    await call("funds")
    expect(await call("funds")).toEqual({ status: 429, body: { status: "error", message: "Rate limit exceeded. Please slow down your requests.", retry_after: 60 } })
    fake.inject({ path: "quotes", kind: "status429", retryAfter: 2 })
    expect((await call("quotes", { symbol: "NIFTY", exchange: "NSE_INDEX" })).body).toMatchObject({ retry_after: 2 })
  })

  it("unseededFreeze: /symbol answers freeze_qty 1, while the exchange still refuses an order above its limit", async () => {
    await fake.close()
    fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: KEY, truth: model, unseededFreeze: true, freezeQuantity: 100 })
    expect((await call("symbol", { symbol: symbolOf(ATM, "CE"), exchange: "NFO" })).body.data.freeze_qty).toBe(1)
    const refused = await call("placeorder", order({ quantity: 2 * LOT }))
    expect(refused).toMatchObject({ status: 400, body: { message: expect.stringContaining("exceeds the freeze quantity 100") } })
  })
})
