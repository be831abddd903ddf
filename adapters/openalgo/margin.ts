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

const MarginReply = Schema.Struct({ data: Schema.Struct({ total_margin_required: Numeric }) })

/**
 * The margin the broker would block for these positions held together, rupees. Shorts go as SELL;
 * quantities and prices go as strings (the /margin schema takes nothing else). More than 50 contracts
 * fail: summing several baskets would lose the spread benefit between them and answer a wrong number.
 */
export const basketMargin = (
  client: OpenAlgoClient,
  index: IndexName,
  positions: ReadonlyArray<Position>
): Effect.Effect<number, MarginNotSupported | MarginModelError> => {
  const held = netPositions(positions)
  if (held.length === 0) return Effect.succeed(0)
  if (held.length > MAX_BASKET) {
    return Effect.fail(new MarginModelError({ model: MODEL_NAME, message: `${held.length} contracts: /margin takes at most ${MAX_BASKET} in one basket` }))
  }
  const basket = held.map((p) => ({
    symbol: optionSymbol(index, p.expiry, p.strike, p.optionType),
    exchange: optionsExchange(index),
    action: p.quantity > 0 ? "BUY" : "SELL",
    quantity: String(Math.abs(p.quantity)),
    product: "NRML",
    pricetype: "MARKET",
    price: "0"
  }))
  return client.read("/margin", { positions: basket }, MarginReply).pipe(
    Effect.map(({ data }) => data.total_margin_required),
    Effect.mapError((e) =>
      e.kind === "answered" && (e.status === 404 || e.status === 501)
        ? new MarginNotSupported({ message: e.message })
        : new MarginModelError({ model: MODEL_NAME, message: e.message })
    )
  )
}

/** A MarginModel priced by the broker's basket margin; positions keep their own expiries. */
export const makeOpenAlgoMarginModel = (client: OpenAlgoClient): MarginModel => ({
  name: MODEL_NAME,
  margin: (q) =>
    basketMargin(client, q.index, q.positions).pipe(
      Effect.catchTag("MarginNotSupported", (e) => Effect.fail(new MarginModelError({ model: MODEL_NAME, message: `not supported by the broker: ${e.message}` })))
    )
})
