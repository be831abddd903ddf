// Margin from OpenAlgo: what the account has blocked (/funds) and what a basket of positions would
// block (/margin, the broker's basket calculator — always the live broker, even in analyzer mode).
import { Effect, Schema } from "effect"
import { type MarginModel, MarginModelError, netPositions } from "../../src/domain/margin.ts"
import type { IndexName, Position } from "../../src/domain/market.ts"
import { optionSymbol } from "../../src/domain/symbols.ts"
import { type Funds, MarginUnavailable, type MarginMonitor } from "../../src/services/services.ts"
import { Numeric, type OpenAlgoClient, type OpenAlgoError } from "./client.ts"
import { optionsExchange } from "./symbols.ts"

// ---- /funds

// Live values are strings with 2 dp, the sandbox's are numbers; a broker failure can answer `data: {}`
// with a success status, which fails here naming the missing field.
const FundsReply = Schema.Struct({ data: Schema.Struct({ utiliseddebits: Numeric, availablecash: Numeric }) })

export const fetchFunds = (client: OpenAlgoClient): Effect.Effect<Funds, OpenAlgoError> =>
  Effect.map(client.read("/funds", {}, FundsReply), ({ data }) => ({ usedMargin: data.utiliseddebits, availableMargin: data.availablecash }))

export const makeOpenAlgoMarginMonitor = (client: OpenAlgoClient): MarginMonitor["Service"] => ({
  marginInUse: fetchFunds(client).pipe(
    Effect.map((f) => f.usedMargin),
    Effect.mapError((e) => new MarginUnavailable({ message: e.message }))
  )
})

// ---- /margin

/** The broker behind OpenAlgo has no basket margin calculator (HTTP 404 / 501). */
export class MarginNotSupported extends Schema.TaggedError<MarginNotSupported>()("MarginNotSupported", {
  message: Schema.String
}) {}

export const MODEL_NAME = "openalgo-basket"
/** OpenAlgo's limit of positions per /margin call. */
export const MAX_BASKET = 50

// With Zerodha behind it, total_margin_required is Kite's basket `final.total` (span + exposure + the
// net option premium, negative for a net credit) and the basket is priced with consider_positions=true:
// the increment over what the account already holds. span_margin / exposure_margin are `final.span` /
// `final.exposure` where the broker reports them (optional: not every broker does).
const MarginReply = Schema.Struct({
  data: Schema.Struct({
    total_margin_required: Numeric,
    span_margin: Schema.optionalKey(Schema.NullOr(Numeric)),
    exposure_margin: Schema.optionalKey(Schema.NullOr(Numeric))
  })
})

/** The broker's answer for a basket: its total, and the exchange margin's parts when it gives them. */
export interface BasketMarginBreakdown {
  /** total_margin_required (Zerodha: final.total, option premium included). */
  readonly total: number
  readonly span: number | null
  readonly exposure: number | null
}

/**
 * The margin the broker would block for these positions held together, rupees. Shorts go as SELL;
 * quantities and prices go as strings (the /margin schema takes nothing else). More than 50 contracts
 * fail: summing several baskets would lose the spread benefit between them and answer a wrong number.
 */
export const basketMargin = (
  client: OpenAlgoClient,
  index: IndexName,
  positions: ReadonlyArray<Position>
): Effect.Effect<number, MarginNotSupported | MarginModelError> => Effect.map(basketMarginBreakdown(client, index, positions), (m) => m.total)

/** basketMargin with the span / exposure split the broker reports (the calibration report prints it). */
export const basketMarginBreakdown = (
  client: OpenAlgoClient,
  index: IndexName,
  positions: ReadonlyArray<Position>
): Effect.Effect<BasketMarginBreakdown, MarginNotSupported | MarginModelError> => {
  const held = netPositions(positions)
  return held.length === 0 ? Effect.succeed({ total: 0, span: 0, exposure: 0 }) : orderBasketMargin(client, index, held)
}

/** One /margin call over these orders as given (not netted: two orders of one contract stay two). */
const orderBasketMargin = (
  client: OpenAlgoClient,
  index: IndexName,
  orders: ReadonlyArray<Position>
): Effect.Effect<BasketMarginBreakdown, MarginNotSupported | MarginModelError> => {
  if (orders.length > MAX_BASKET) {
    return Effect.fail(new MarginModelError({ model: MODEL_NAME, message: `${orders.length} orders: /margin takes at most ${MAX_BASKET} in one basket` }))
  }
  const basket = orders.map((p) => ({
    symbol: optionSymbol(index, p.expiry, p.strike, p.optionType),
    exchange: optionsExchange(index),
    action: p.quantity > 0 ? "BUY" : "SELL",
    quantity: String(Math.abs(p.quantity)),
    product: "NRML",
    pricetype: "MARKET",
    price: "0"
  }))
  return client.read("/margin", { positions: basket }, MarginReply).pipe(
    Effect.map(({ data }) => ({ total: data.total_margin_required, span: data.span_margin ?? null, exposure: data.exposure_margin ?? null })),
    Effect.mapError((e) =>
      e.kind === "answered" && (e.status === 404 || e.status === 501)
        ? new MarginNotSupported({ message: e.message })
        : new MarginModelError({ model: MODEL_NAME, message: e.message })
    )
  )
}

/**
 * The orders to ask /margin for a change of the account's positions, always two or more: OpenAlgo's
 * Zerodha adapter prices one order alone with Kite's order-margin call (what that leg would block by
 * itself: far too much for a short, a premium instead of a relief for a hedge) and only a basket of
 * two or more with the account's positions considered. A single leg goes as two orders of the same
 * contract that net to it (one lot more one way, one lot the other); no change goes as a pair that
 * nets to nothing on a contract the account holds.
 */
export const basketOrdersFor = (change: ReadonlyArray<Position>, held: ReadonlyArray<Position>, lotSize: number): ReadonlyArray<Position> => {
  if (change.length >= 2) return change
  const leg = change[0]
  if (leg !== undefined) {
    const sign = Math.sign(leg.quantity)
    return [{ ...leg, quantity: leg.quantity + sign * lotSize }, { ...leg, quantity: -sign * lotSize }]
  }
  const anchor = held[0]
  return anchor === undefined ? [] : [{ ...anchor, quantity: lotSize }, { ...anchor, quantity: -lotSize }]
}

/**
 * A MarginModel priced by the broker's basket margin; positions keep their own expiries. The broker
 * prices a basket of two or more orders on top of what the account holds (consider_positions), so the
 * model asks for the change from `accountHeld` to the positions asked about, always as two or more
 * orders (basketOrdersFor). Every answer is then the same function of the positions asked about: the
 * account's margin with them, less what it blocks now if the broker answers the increment (as the fake
 * does), or not if it answers the whole; either way exact wherever the engine uses it, which is always
 * in differences. The exchange margin (span + exposure) is taken where the broker reports it, as the
 * SPAN model computes. A contract OpenAlgo does not list fails the question, naming it: its Zerodha
 * adapter would leave it out of the basket without a word and answer for the rest.
 */
export const makeOpenAlgoMarginModel = (
  client: OpenAlgoClient,
  accountHeld: Effect.Effect<ReadonlyArray<Position>, unknown> = Effect.succeed([])
): MarginModel => {
  const listed = new Set<string>()
  const checkListed = (index: IndexName, positions: ReadonlyArray<Position>) =>
    Effect.forEach(positions, (p) => {
      const symbol = optionSymbol(index, p.expiry, p.strike, p.optionType)
      if (listed.has(symbol)) return Effect.void
      return client.read("/symbol", { symbol, exchange: optionsExchange(index) }, ListedReply).pipe(
        Effect.tap(() => Effect.sync(() => listed.add(symbol))),
        Effect.mapError((e) =>
          new MarginModelError({
            model: MODEL_NAME,
            message: e.kind === "answered" && e.status === 404 ? `${symbol} is not listed at OpenAlgo: no margin without it (${e.message})` : `checking ${symbol}: ${e.message}`
          })
        )
      )
    }, { discard: true })
  return {
    name: MODEL_NAME,
    margin: (q) =>
      Effect.gen(function*() {
        const held = yield* accountHeld.pipe(Effect.mapError((e) => new MarginModelError({ model: MODEL_NAME, message: `the account's positions: ${String((e as { message?: unknown }).message ?? e)}` })))
        const change = netPositions([...q.positions, ...held.map((p) => ({ ...p, quantity: -p.quantity }))])
        yield* checkListed(q.index, change)
        const orders = basketOrdersFor(change, netPositions(held), q.lotSize)
        if (orders.length === 0) return 0
        const m = yield* orderBasketMargin(client, q.index, orders)
        return m.span !== null && m.exposure !== null ? m.span + m.exposure : m.total
      }).pipe(
        Effect.catchTag("MarginNotSupported", (e) => Effect.fail(new MarginModelError({ model: MODEL_NAME, message: `not supported by the broker: ${e.message}` })))
      )
  }
}

const ListedReply = Schema.Struct({ data: Schema.Struct({ symbol: Schema.String }) })
