// Kite's basket margin as a MarginModel: the request the official client is asked to send (symbols,
// sides, product, units, consider_positions=false, a non-compact mode), the exchange margin read from
// the documented reply, every failure mapped to one MarginModelError without the token; and the real
// kiteconnect client against a local server standing in for api.kite.trade.
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Exit, Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { type KiteClient, kiteAccess, kiteBasketMargin, kitePositions, makeKiteMarginModel } from "../../../adapters/kite/margin.ts"
import { monthlyRuleFrom } from "../../../adapters/kite/symbols.ts"
import type { MarginModelError, MarginQuery } from "../../../src/domain/margin.ts"
import type { Position } from "../../../src/domain/market.ts"

const TOKEN = "kite-access-token-7f3a9-do-not-print"
const API_KEY = "kite-api-key-xq2"
const secrets = { apiKey: Redacted.make(API_KEY), accessToken: Redacted.make(TOKEN) }

/** A Margin object as Kite documents it (kiteconnect-mocks basket_margins.json shape). */
const margin = (span: number, exposure: number, optionPremium: number, symbol = "", exchange = "") => ({
  type: symbol === "" ? "" : "equity",
  tradingsymbol: symbol,
  exchange,
  span,
  exposure,
  option_premium: optionPremium,
  additional: 0,
  bo: 0,
  cash: 0,
  var: 0,
  pnl: { realised: 0, unrealised: 0 },
  leverage: symbol === "" ? 0 : 1,
  charges: { transaction_tax: 0, transaction_tax_type: "", exchange_turnover_charge: 0, sebi_turnover_charge: 0, brokerage: 0, stamp_duty: 0, gst: { igst: 0, cgst: 0, sgst: 0, total: 0 }, total: 0 },
  total: span + exposure + optionPremium
})

const basketReply = {
  initial: margin(221_000.5, 48_750.25, -9_100),
  final: margin(61_250.75, 48_750.25, -9_100),
  orders: [margin(0, 0, 1_300, "NIFTY2621026000CE", "NFO"), margin(221_000.5, 48_750.25, -10_400, "NIFTY2621025500CE", "NFO")]
}

interface Call {
  readonly orders: unknown
  readonly considerPositions: unknown
  readonly mode: unknown
}

const fakeClient = (answer: () => Promise<unknown>, calls: Array<Call> = []): KiteClient => ({
  orderBasketMargins: ((orders: unknown, considerPositions: unknown, mode: unknown) => {
    calls.push({ orders, considerPositions, mode })
    return answer()
  }) as KiteClient["orderBasketMargins"],
  getPositions: (() => answer()) as KiteClient["getPositions"]
})

const query = (positions: ReadonlyArray<Position>): MarginQuery => ({
  index: "NIFTY",
  date: "2026-02-09",
  expiry: "2026-02-10",
  lotSize: 65,
  spot: 25_520,
  at: Date.parse("2026-02-09T10:00:00+05:30"),
  positions
})

const spread: ReadonlyArray<Position> = [
  { strike: 25_500, optionType: "CE", quantity: -130, expiry: "2026-02-10" },
  { strike: 26_000, optionType: "CE", quantity: 130, expiry: "2026-02-10" }
]

const failure = async <A>(effect: Effect.Effect<A, MarginModelError>): Promise<MarginModelError> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined) throw new Error("expected a MarginModelError")
  return (error as unknown as { error: MarginModelError }).error
}

describe("makeKiteMarginModel", () => {
  it("sends the basket as Kite orders, on its own and with the breakdown, and answers span + exposure", async () => {
    const calls: Array<Call> = []
    const model = makeKiteMarginModel({ ...secrets, client: fakeClient(async () => basketReply, calls) })
    expect(model.name).toBe("kite-basket")
    const value = await Effect.runPromise(model.margin(query(spread)))
    expect(value).toBeCloseTo(61_250.75 + 48_750.25, 6) // not final.total, which nets the premium
    expect(calls).toHaveLength(1)
    expect(calls[0]!.considerPositions).toBe(false)
    expect(calls[0]!.mode).not.toBe("compact")
    expect(calls[0]!.mode).not.toBeUndefined() // undefined would bring back kiteconnect's 'compact' default
    const base = { exchange: "NFO", variety: "regular", product: "NRML", order_type: "MARKET", price: 0, trigger_price: 0 }
    expect(calls[0]!.orders).toEqual([
      { ...base, tradingsymbol: "NIFTY2621026000CE", transaction_type: "BUY", quantity: 130 },
      { ...base, tradingsymbol: "NIFTY2621025500CE", transaction_type: "SELL", quantity: 130 }
    ])
  })

  it("nets positions first, answers 0 for nothing held without asking, and writes monthly symbols", async () => {
    const calls: Array<Call> = []
    const model = makeKiteMarginModel({ ...secrets, client: fakeClient(async () => basketReply, calls), monthly: monthlyRuleFrom(["2026-02-10", "2026-02-24"]) })
    expect(await Effect.runPromise(model.margin(query([{ ...spread[0]!, quantity: 65 }, { ...spread[0]!, quantity: -65 }])))).toBe(0)
    expect(calls).toHaveLength(0)
    await Effect.runPromise(model.margin(query([{ strike: 25_000, optionType: "PE", quantity: -65, expiry: "2026-02-24" }, { ...spread[0]!, quantity: -65 }, { ...spread[0]!, quantity: -65 }])))
    const sent = calls[0]!.orders as Array<{ tradingsymbol: string; quantity: number }>
    expect(sent.map((o) => [o.tradingsymbol, o.quantity])).toEqual([["NIFTY2621025500CE", 130], ["NIFTY26FEB25000PE", 65]])
  })

  it("keeps the breakdown and Kite's per-order figures", async () => {
    const access = kiteAccess({ ...secrets, client: fakeClient(async () => basketReply) })
    const m = await Effect.runPromise(kiteBasketMargin(access, "NIFTY", spread))
    expect(m).toMatchObject({ span: 61_250.75, exposure: 48_750.25, optionPremium: -9_100, exchange: 110_001, total: 100_901 })
    expect(m.orders.map((o) => o.symbol)).toEqual(["NIFTY2621026000CE", "NIFTY2621025500CE"])
    expect(m.orders[1]).toMatchObject({ span: 221_000.5, exposure: 48_750.25 })
  })

  const failures: ReadonlyArray<readonly [string, () => Promise<unknown>, ReadonlyArray<string>]> = [
    ["a TokenException", () => Promise.reject({ status: "error", message: "Incorrect `api_key` or `access_token`.", data: null, error_type: "TokenException" }), ["TokenException: Incorrect `api_key` or `access_token`.", "KITE_ACCESS_TOKEN"]],
    ["an InputException", () => Promise.reject({ status: "error", message: "Invalid `tradingsymbol`.", data: null, error_type: "InputException" }), ["InputException: Invalid `tradingsymbol`."]],
    ["no answer", () => Promise.reject({ message: "No response from server with error code: ECONNREFUSED", error_type: "NetworkException", data: null }), ["NetworkException: No response from server with error code: ECONNREFUSED"]],
    ["a non-JSON reply (resolved as an error body)", () => Promise.resolve({ error_type: "DataException", message: "Unknown content type (text/html) with response: (<html>)" }), ["DataException: Unknown content type"]],
    ["an Error echoing the token", () => Promise.reject(new Error(`Request failed: token ${API_KEY}:${TOKEN}`)), ["Error: Request failed: token <redacted>:<redacted>"]],
    ["a compact reply", () => Promise.resolve({ initial: { total: 1 }, final: { total: 1 }, orders: [] }), ["final.span: missing", "final.exposure: missing", "compact reply"]],
    ["a malformed number", () => Promise.resolve({ ...basketReply, final: { ...basketReply.final, exposure: "48750.25" } }), ['final.exposure = "48750.25": expected number']],
    ["no orders", () => Promise.resolve({ final: basketReply.final }), ["orders: missing"]],
    ["nothing", () => Promise.resolve(undefined), ["unexpected reply"]]
  ]

  for (const [what, answer, expected] of failures) {
    it(`maps ${what} to a MarginModelError without the secrets`, async () => {
      const model = makeKiteMarginModel({ ...secrets, client: fakeClient(answer) })
      const e = await failure(model.margin(query(spread)))
      expect(e._tag).toBe("MarginModelError")
      expect(e.model).toBe("kite-basket")
      expect(e.message).toMatch(/^Kite \/margins\/basket: /)
      for (const part of expected) expect(e.message).toContain(part)
      expect(e.message).not.toContain(TOKEN)
      expect(e.message).not.toContain(API_KEY)
      expect(e.message).not.toContain("[object Object]")
    })
  }

  it("names a position whose symbol cannot be written", async () => {
    const model = makeKiteMarginModel({ ...secrets, client: fakeClient(async () => basketReply) })
    const e = await failure(model.margin(query([{ strike: 25_000, optionType: "CE", quantity: -65, expiry: "2026-13-01" }])))
    expect(e.message).toContain('expiry "2026-13-01"')
  })

  it("gives up on a client that never answers", async () => {
    const model = makeKiteMarginModel({ ...secrets, client: fakeClient(() => new Promise(() => {})), timeoutMs: 50 })
    expect((await failure(model.margin(query(spread)))).message).toContain("no answer within 1050 ms")
  })
})

describe("kitePositions", () => {
  it("reads the index's option positions, netted, with monthly symbols dated by the listing", async () => {
    const row = (tradingsymbol: string, quantity: number, exchange = "NFO", product = "NRML") => ({ tradingsymbol, exchange, quantity, product, average_price: 10 })
    const net = [
      row("NIFTY2621025500CE", -130),
      row("NIFTY2621025500CE", 65, "NFO", "MIS"),
      row("NIFTY26FEB25000PE", -65),
      row("NIFTY2621026000CE", 0),
      row("BANKNIFTY26FEB60000CE", -30),
      row("NIFTY26FEBFUT", 65),
      row("SENSEX2621282000CE", -20, "BFO"),
      row("INFY", 10, "NSE", "CNC")
    ]
    const access = kiteAccess({ ...secrets, client: fakeClient(async () => ({ net, day: [] })) })
    const positions = await Effect.runPromise(kitePositions(access, "NIFTY", ["2026-02-10", "2026-02-17", "2026-02-24"]))
    expect(positions).toEqual([
      { strike: 25_500, optionType: "CE", quantity: -65, expiry: "2026-02-10" },
      { strike: 25_000, optionType: "PE", quantity: -65, expiry: "2026-02-24" }
    ])
  })

  it("names a malformed position row", async () => {
    const access = kiteAccess({ ...secrets, client: fakeClient(async () => ({ net: [{ tradingsymbol: "NIFTY2621025500CE", exchange: "NFO", quantity: "x" }] })) })
    const e = await failure(kitePositions(access, "NIFTY"))
    expect(e.message).toContain('Kite /portfolio/positions: unexpected reply: net[0].quantity = "x"')
  })
})

describe("the official kiteconnect client against a local Kite", () => {
  let server: Server | undefined
  afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))))

  const kite = async (status: number, body: unknown) => {
    const seen: Array<{ url: string; headers: IncomingMessage["headers"]; body: string }> = []
    server = createServer((req, res) => {
      let text = ""
      req.on("data", (d: Buffer) => (text += d.toString()))
      req.on("end", () => {
        seen.push({ url: req.url ?? "", headers: req.headers, body: text })
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      })
    })
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve))
    return { root: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
  }

  it("posts the orders to /margins/basket without positions and without compact mode", async () => {
    const { root, seen } = await kite(200, { status: "success", data: basketReply })
    const model = makeKiteMarginModel({ ...secrets, root })
    expect(await Effect.runPromise(model.margin(query(spread)))).toBeCloseTo(110_001, 6)
    expect(seen).toHaveLength(1)
    const url = new URL(seen[0]!.url, root)
    expect(url.pathname).toBe("/margins/basket")
    expect(url.searchParams.get("consider_positions")).toBe("false")
    expect(url.searchParams.get("mode") ?? "").toBe("")
    expect(seen[0]!.headers.authorization).toBe(`token ${API_KEY}:${TOKEN}`)
    expect(seen[0]!.headers["x-kite-version"]).toBe("3")
    expect((JSON.parse(seen[0]!.body) as Array<{ tradingsymbol: string }>).map((o) => o.tradingsymbol)).toEqual(["NIFTY2621026000CE", "NIFTY2621025500CE"])
  })

  it("reports Kite's TokenException in one line without the token", async () => {
    const { root } = await kite(403, { status: "error", message: "Incorrect `api_key` or `access_token`.", data: null, error_type: "TokenException" })
    const e = await failure(makeKiteMarginModel({ ...secrets, root }).margin(query(spread)))
    expect(e.message).toMatch(/^Kite \/margins\/basket: TokenException: Incorrect `api_key` or `access_token`\./)
    expect(e.message).not.toContain(TOKEN)
    expect(e.message).not.toContain("\n")
  })

  it("reports a refused connection", async () => {
    const { root } = await kite(200, {})
    await new Promise<void>((resolve) => server!.close(() => resolve()))
    server = undefined
    const e = await failure(makeKiteMarginModel({ ...secrets, root, timeoutMs: 2000 }).margin(query(spread)))
    expect(e.message).toContain("NetworkException: No response from server")
  })
})
