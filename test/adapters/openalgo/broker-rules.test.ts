// The broker's pure rules: freeze splits, status mapping, fills from the trade book, aggregation of a
// split order, the reconcile's matching, request checks and the session's positions.
import fc from "fast-check"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import {
  aggregateParts,
  fillsByOrder,
  joinOrderIds,
  matchParts,
  partState,
  requestProblem,
  sessionPositions,
  splitOrderId,
  splitQuantity,
  statusOf,
  type OrderRow
} from "../../../adapters/openalgo/broker.ts"
import { openAlgoSettings } from "../../../adapters/openalgo/client.ts"
import type { OrderRequest, OrderState } from "../../../machines/protocol.ts"

const settings = openAlgoSettings({ baseUrl: "http://x/api/v1", apiKey: Redacted.make("k"), index: "NIFTY", expiry: "2026-02-10" })

describe("splitting at the freeze quantity", () => {
  it("sends an order under the freeze whole", () => {
    expect(splitQuantity(975, 65, 1800)).toEqual([975])
    expect(splitQuantity(975, 65, null)).toEqual([975])
  })

  it("sends whole lots strictly below the freeze per part", () => {
    expect(splitQuantity(1800, 75, 1801)).toEqual([1800])
    expect(splitQuantity(3600, 75, 1801)).toEqual([1800, 1800])
    expect(splitQuantity(4000, 65, 1800)).toEqual([1755, 1755, 490])
  })

  it("keeps every part a lot multiple under the freeze, summing to the order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 2, max: 40 }), (lot, lots, freezeLots) => {
        const freeze = lot * freezeLots + 1
        const parts = splitQuantity(lot * lots, lot, freeze)
        expect(parts.reduce((a, b) => a + b, 0)).toBe(lot * lots)
        for (const p of parts) {
          expect(p % lot).toBe(0)
          expect(p).toBeLessThan(freeze)
        }
      })
    )
  })

  it("joins and splits composite order ids", () => {
    expect(joinOrderIds(["a1", "b2"])).toBe("a1+b2")
    expect(splitOrderId("a1+b2")).toEqual(["a1", "b2"])
    expect(splitOrderId("a1")).toEqual(["a1"])
  })
})

describe("order status", () => {
  it("maps OpenAlgo's order_status", () => {
    expect(statusOf("complete").status).toBe("filled")
    expect(statusOf("cancelled").status).toBe("cancelled")
    expect(statusOf("rejected").status).toBe("rejected")
    expect(statusOf("open").status).toBe("open")
    expect(statusOf("trigger pending").status).toBe("open")
    expect(statusOf("COMPLETE").status).toBe("filled")
    expect(statusOf("after market order req received")).toEqual({ status: "open", recognised: false })
  })

  const row = (over: Partial<OrderRow> = {}): OrderRow => ({ orderid: "1", symbol: "S", action: "BUY", quantity: 130, order_status: "open", ...over })

  it("takes the filled quantity and price from the trade book", () => {
    const fills = fillsByOrder([
      { orderid: "1", quantity: 65, average_price: 10 },
      { orderid: 1, quantity: 65, average_price: 12 },
      { orderid: "2", quantity: 65, average_price: 99 }
    ])
    expect(fills.get("1")).toEqual({ quantity: 130, value: 1430 })
    expect(partState(row({ order_status: "open" }), { quantity: 65, value: 650 })).toEqual({ orderId: "1", status: "open", filledQuantity: 65, averagePrice: 10 })
  })

  it("counts a complete order as filled only once its fills are confirmed (issue 21)", () => {
    // OpenAlgo's Zerodha mapping gives a row in a transient Kite status the previous row's "complete":
    // no trade, no filled quantity, no price. It is in flight, not a hedge held.
    const unconfirmed = partState(row({ order_status: "complete", average_price: 0 }), undefined)
    expect(unconfirmed).toMatchObject({ orderId: "1", status: "open", filledQuantity: 0, averagePrice: 0, message: expect.stringContaining("0 of 130 is confirmed filled") })
    // A price alone (live orderstatus) confirms nothing: the quantity is not in the row.
    expect(partState(row({ order_status: "complete", average_price: 11.5 }), undefined)).toMatchObject({ status: "open", filledQuantity: 0 })
    // The trade book confirms it, or the order's own filled fields (sandbox rows).
    expect(partState(row({ order_status: "complete", average_price: 11.5 }), { quantity: 130, value: 130 * 11.5 })).toEqual({ orderId: "1", status: "filled", filledQuantity: 130, averagePrice: 11.5 })
    expect(partState(row({ order_status: "complete", filled_quantity: 130, average_price: 11.5 }), undefined)).toEqual({ orderId: "1", status: "filled", filledQuantity: 130, averagePrice: 11.5 })
    // Part of it in the trade book: in flight with what is confirmed.
    expect(partState(row({ order_status: "complete" }), { quantity: 65, value: 65 * 11 })).toMatchObject({ status: "open", filledQuantity: 65, averagePrice: 11 })
  })

  it("says why an order was rejected, and that a status was not recognised", () => {
    expect(partState(row({ order_status: "rejected", rejection_reason: "margin shortfall" }), undefined).message).toBe("margin shortfall")
    expect(partState(row({ order_status: "rejected" }), undefined).message).toBe("rejected by the broker")
    expect(partState(row({ order_status: "amo" }), undefined)).toMatchObject({ status: "open", message: expect.stringContaining('"amo"') })
  })
})

describe("a split order as one", () => {
  const part = (status: OrderState["status"], filledQuantity: number, averagePrice: number): OrderState => ({ orderId: "x", status, filledQuantity, averagePrice })

  it("is filled only when every part is, with quantity summed and price weighted", () => {
    expect(aggregateParts("a+b", [part("filled", 1755, 10), part("filled", 490, 12)])).toEqual({
      orderId: "a+b",
      status: "filled",
      filledQuantity: 2245,
      averagePrice: Math.round(((1755 * 10 + 490 * 12) / 2245) * 10_000) / 10_000
    })
    expect(aggregateParts("a+b", [part("filled", 1755, 10), part("open", 0, 0)])).toMatchObject({ status: "open", filledQuantity: 1755, averagePrice: 10 })
  })

  it("is rejected when all parts are, cancelled when done otherwise", () => {
    expect(aggregateParts("a+b", [part("rejected", 0, 0), part("rejected", 0, 0)]).status).toBe("rejected")
    expect(aggregateParts("a+b", [part("filled", 65, 10), part("cancelled", 0, 0)])).toMatchObject({ status: "cancelled", filledQuantity: 65 })
    expect(aggregateParts("a+b", [part("filled", 65, 10), part("rejected", 0, 0)]).status).toBe("cancelled")
  })

  it("carries the parts' messages and a note", () => {
    const rejected = { ...part("rejected", 0, 0), message: "no margin" }
    expect(aggregateParts("a", [rejected], "part 2 not placed").message).toBe("no margin; part 2 not placed")
    expect(aggregateParts("a", [part("open", 0, 0)]).message).toBeUndefined()
  })
})

describe("matching sent parts in the order book", () => {
  const c = (id: string, quantity: number) => ({ id, quantity })

  it("finds nothing when no candidate has a sent quantity", () => {
    expect(matchParts([975], [])).toEqual({ kind: "none" })
    expect(matchParts([975], [c("1", 65)])).toEqual({ kind: "none" })
  })

  it("finds the one order, or all parts, or the parts that got there", () => {
    expect(matchParts([975], [c("1", 975)])).toEqual({ kind: "found", ids: ["1"] })
    expect(matchParts([1755, 1755, 490], [c("1", 1755), c("2", 1755), c("3", 490)])).toEqual({ kind: "found", ids: ["1", "2", "3"] })
    expect(matchParts([1755, 490], [c("1", 1755)])).toEqual({ kind: "found", ids: ["1"] })
  })

  it("refuses to choose between more orders than were sent", () => {
    const match = matchParts([975], [c("1", 975), c("2", 975)])
    expect(match).toMatchObject({ kind: "ambiguous", message: expect.stringContaining("2 orders of quantity 975 (1, 2)") })
  })
})

describe("requests and positions", () => {
  const req = (over: Partial<OrderRequest> = {}): OrderRequest => ({
    clientOrderId: "c1",
    hedgeId: "h1",
    symbol: "NIFTY10FEB2624000PE",
    side: "BUY",
    strike: 24000,
    optionType: "PE",
    quantity: 65,
    limitPrice: 12.5,
    ...over
  })

  it("accepts a session option request and names what is wrong with others", () => {
    expect(requestProblem(req(), settings)).toBeNull()
    expect(requestProblem(req({ symbol: "NIFTY" }), settings)).toContain("not an OpenAlgo option symbol")
    expect(requestProblem(req({ symbol: "SENSEX10FEB2624000PE" }), settings)).toContain("not a NIFTY option")
    expect(requestProblem(req({ symbol: "NIFTY17FEB2624000PE" }), settings)).toContain("session's expiry 2026-02-10")
    expect(requestProblem(req({ strike: 24050 }), settings)).toContain("not the requested 24050 PE")
    expect(requestProblem(req({ quantity: 0 }), settings)).toContain("quantity 0")
    expect(requestProblem(req({ quantity: 6.5 }), settings)).toContain("quantity 6.5")
    expect(requestProblem(req({ limitPrice: 0 }), settings)).toContain("positive price")
  })

  it("keeps the session's options of its exchange, netted", () => {
    const rows = [
      { symbol: "NIFTY10FEB2624000PE", exchange: "NFO", quantity: -130 },
      { symbol: "NIFTY10FEB2624000PE", exchange: "NFO", quantity: 65 },
      { symbol: "NIFTY10FEB2625000CE", exchange: "NFO", quantity: 0 },
      { symbol: "NIFTY17FEB2624000PE", exchange: "NFO", quantity: 65 },
      { symbol: "SENSEX10FEB2680000CE", exchange: "BFO", quantity: 20 },
      { symbol: "RELIANCE", exchange: "NSE", quantity: 5 },
      { symbol: "NIFTY10FEB2623000PE", quantity: 65 }
    ]
    expect(sessionPositions(rows, settings)).toEqual([
      { strike: 23000, optionType: "PE", quantity: 65, expiry: "2026-02-10" },
      { strike: 24000, optionType: "PE", quantity: -65, expiry: "2026-02-10" }
    ])
  })
})
