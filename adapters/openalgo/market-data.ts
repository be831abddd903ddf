// Market data from OpenAlgo (always the live broker's, even in analyzer mode): the session's option
// chain and spot from /optionchain, the listed expiries from /expiry, an instrument's lot size,
// freeze quantity and tick size from /symbol.
import { Effect, Schema } from "effect"
import type { ChainRow, MarketSnapshot } from "../../src/domain/market.ts"
import { MarketDataUnavailable, type MarketClock, type MarketData } from "../../src/services/services.ts"
import { Numeric, type OpenAlgoClient, type OpenAlgoError } from "./client.ts"
import { expiryFromListing, expiryParam, spotExchange } from "./symbols.ts"

// ---- /optionchain

const ChainLeg = Schema.NullOr(Schema.Struct({ ltp: Schema.optionalKey(Schema.NullOr(Numeric)) }))

const OptionChainReply = Schema.Struct({
  underlying_ltp: Numeric,
  chain: Schema.Array(Schema.Struct({ strike: Numeric, ce: Schema.optionalKey(ChainLeg), pe: Schema.optionalKey(ChainLeg) }))
})

// A leg not listed, or not traded today (a last price of 0), has no price.
const lastPrice = (leg: typeof ChainLeg.Type | undefined): number | null => {
  const ltp = leg?.ltp
  return ltp === undefined || ltp === null || ltp <= 0 ? null : ltp
}

/** Spot and the chain of the session's expiry, `strikeCount` strikes each side of ATM. */
export const fetchSnapshot = (client: OpenAlgoClient, at: number, strikeCount = client.settings.strikeCount): Effect.Effect<MarketSnapshot, OpenAlgoError> => {
  const s = client.settings
  const body = { underlying: s.index, exchange: spotExchange(s.index), expiry_date: expiryParam(s.expiry), strike_count: strikeCount }
  return Effect.map(client.read("/optionchain", body, OptionChainReply), (reply) => ({
    at,
    spot: reply.underlying_ltp,
    chain: reply.chain.map((row): ChainRow => ({ strike: row.strike, ce: lastPrice(row.ce), pe: lastPrice(row.pe) }))
  }))
}

// ---- /expiry

const ListedExpiry = Schema.String.check(Schema.makeFilter((s: string) => expiryFromListing(s) !== null, { expected: 'a date "DD-MMM-YY"' }))
const ExpiryReply = Schema.Struct({ data: Schema.Array(ListedExpiry) })

/** The index's option expiries listed from today on, as "YYYY-MM-DD", in OpenAlgo's (ascending) order. */
export const fetchExpiries = (client: OpenAlgoClient): Effect.Effect<ReadonlyArray<string>, OpenAlgoError> => {
  const s = client.settings
  return Effect.map(
    client.read("/expiry", { symbol: s.index, exchange: s.exchange, instrumenttype: "options" }, ExpiryReply),
    (reply) => reply.data.map((listed) => expiryFromListing(listed)!)
  )
}

// ---- /quotes

const QuoteReply = Schema.Struct({ data: Schema.Struct({ ltp: Numeric }) })

/** The index's last value: one quote, far lighter than a chain. */
export const fetchSpot = (client: OpenAlgoClient): Effect.Effect<number, OpenAlgoError> =>
  Effect.map(client.read("/quotes", { symbol: client.settings.index, exchange: spotExchange(client.settings.index) }, QuoteReply), (reply) => reply.data.ltp)

// ---- /symbol

export interface Instrument {
  readonly symbol: string
  readonly lotSize: number
  /** The exchange's per-order limit the orders are split at; null when neither OpenAlgo nor the configuration has one. */
  readonly freezeQuantity: number | null
  /** "broker": OpenAlgo's freeze_qty; "configured": the index's limit from the configuration, OpenAlgo's being unknown or implausible. */
  readonly freezeSource: "broker" | "configured" | "none"
  /** What OpenAlgo answered for freeze_qty (null when it gave none). */
  readonly brokerFreezeQuantity: number | null
  readonly tickSize: number
}

const SymbolReply = Schema.Struct({
  data: Schema.Struct({
    symbol: Schema.String,
    lotsize: Numeric,
    tick_size: Numeric,
    freeze_qty: Schema.optionalKey(Schema.NullOr(Numeric))
  })
})

/**
 * A freeze quantity OpenAlgo can mean: a whole number above one lot. OpenAlgo answers 1 for any
 * exchange and underlying it has no entry for (database/qty_freeze_db.py seeds NFO only), and a limit
 * of one lot or less would forbid every order.
 */
export const plausibleFreeze = (freeze: number | null, lotSize: number): boolean => freeze !== null && Number.isInteger(freeze) && freeze > lotSize

/** The freeze quantity to split at: OpenAlgo's when plausible, else the configured one (`settings.freezeLimit`). */
export const effectiveFreeze = (brokerFreeze: number | null, lotSize: number, configured: number | null): Pick<Instrument, "freezeQuantity" | "freezeSource"> =>
  plausibleFreeze(brokerFreeze, lotSize)
    ? { freezeQuantity: brokerFreeze, freezeSource: "broker" }
    : configured !== null
      ? { freezeQuantity: configured, freezeSource: "configured" }
      : { freezeQuantity: null, freezeSource: "none" }

export const fetchInstrument = (client: OpenAlgoClient, symbol: string): Effect.Effect<Instrument, OpenAlgoError> =>
  Effect.map(client.read("/symbol", { symbol, exchange: client.settings.exchange }, SymbolReply), ({ data }) => ({
    symbol: data.symbol,
    lotSize: data.lotsize,
    brokerFreezeQuantity: data.freeze_qty ?? null,
    ...effectiveFreeze(data.freeze_qty ?? null, data.lotsize, client.settings.freezeLimit),
    tickSize: data.tick_size
  }))

// ---- The service

export type OpenAlgoMarketData = MarketData["Service"] & {
  readonly spot: Effect.Effect<number, MarketDataUnavailable>
  readonly expiries: Effect.Effect<ReadonlyArray<string>, MarketDataUnavailable>
  readonly instrument: (symbol: string) => Effect.Effect<Instrument, MarketDataUnavailable>
}

const unavailable = (e: OpenAlgoError) => new MarketDataUnavailable({ message: e.message })

/**
 * `at` of a snapshot is the engine's clock at the time of asking (market time in a simulation);
 * `strikeCount` strikes each side of ATM (default: the client's).
 */
export const makeOpenAlgoMarketData = (client: OpenAlgoClient, clock: MarketClock["Service"], strikeCount = client.settings.strikeCount): OpenAlgoMarketData => ({
  snapshot: Effect.flatMap(clock.now, (at) => fetchSnapshot(client, at, strikeCount)).pipe(Effect.mapError(unavailable)),
  spot: fetchSpot(client).pipe(Effect.mapError(unavailable)),
  expiries: fetchExpiries(client).pipe(Effect.mapError(unavailable)),
  instrument: (symbol) => fetchInstrument(client, symbol).pipe(Effect.mapError(unavailable))
})
