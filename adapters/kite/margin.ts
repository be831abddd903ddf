// Zerodha's basket margin as a MarginModel, through the official `kiteconnect` client: the positions go
// to /margins/basket as one basket of orders, and the margin is `final.span + final.exposure`, the
// exchange margin (SPAN + exposure/ELM with the full spread benefit): the same quantity the SPAN model
// computes. `final.total` adds `final.option_premium` (negative for a net credit, positive for premium
// paid), the cash-blocked view; it is reported beside, never used as the model's number.
//
// - consider_positions=false: the basket is priced on its own, whatever the account holds, so the
//   answer is margin(positions), not the increment over the account.
// - mode: kiteconnect defaults both margin calls to 'compact', which answers totals only; the empty
//   mode is sent instead (Kite reads an empty mode as no mode: the full breakdown). A reply without
//   the breakdown fails, naming the missing field, rather than pass a total off as exchange margin.
// - Every failure (no answer, TokenException, InputException, a reply not as documented) is one
//   MarginModelError whose message never holds the access token or the API key.
import { Effect, Predicate, Redacted, Result, Schema } from "effect"
import { KiteConnect, type Connect, type MarginOrder } from "kiteconnect"
import { type MarginModel, MarginModelError, netPositions } from "../../src/domain/margin.ts"
import type { IndexName, Position } from "../../src/domain/market.ts"
import { keyPath, schemaProblems } from "../../src/domain/schema-issues.ts"
import { expiryOfParsed, isMonthlyByCalendar, kiteExchange, kiteOptionSymbol, type MonthlyRule, parseKiteOptionSymbol } from "./symbols.ts"

export const KITE_MODEL_NAME = "kite-basket"

/** The part of the kiteconnect client used here: a real KiteConnect, or a fake in tests. */
export type KiteClient = Pick<Connect, "orderBasketMargins" | "getPositions">

export interface KiteOptions {
  readonly apiKey: Redacted.Redacted<string>
  readonly accessToken: Redacted.Redacted<string>
  /** Default: `new KiteConnect({ api_key, access_token, timeout })`. */
  readonly client?: KiteClient
  /** Which expiries are monthly contracts (their symbols differ). Default: the calendar rule (symbols.ts). */
  readonly monthly?: MonthlyRule
  /** Per request, milliseconds. Default 7000 (kiteconnect's own default). */
  readonly timeoutMs?: number
  /** Kite's API root for the default client. Default kiteconnect's (https://api.kite.trade); tests point it at a local server. */
  readonly root?: string
}

// Kite reads `mode=` as no mode at all: the full reply (see the head of the file).
const FULL_MODE = ""

/** One margin figure of Kite's reply: the basket's `final`, or one order's. */
export interface KiteMarginFigures {
  readonly span: number
  readonly exposure: number
  /** Negative for a net credit (premium received), positive for premium paid. */
  readonly optionPremium: number
  /** span + exposure + optionPremium (+ any additional margin): what Kite would block in cash. */
  readonly total: number
}

export interface KiteBasketMargin extends KiteMarginFigures {
  /** final.span + final.exposure: the exchange margin, the model's number. */
  readonly exchange: number
  /** Kite's per-order figures within the basket (`orders[]`), in the order sent. */
  readonly orders: ReadonlyArray<KiteMarginFigures & { readonly symbol: string }>
}

const Figures = Schema.Struct({ span: Schema.Finite, exposure: Schema.Finite, option_premium: Schema.Finite, total: Schema.Finite })
const BasketReply = Schema.Struct({
  final: Figures,
  orders: Schema.Array(Schema.Struct({ tradingsymbol: Schema.String, span: Schema.Finite, exposure: Schema.Finite, option_premium: Schema.Finite, total: Schema.Finite }))
})

const PositionsReply = Schema.Struct({
  net: Schema.Array(Schema.Struct({ tradingsymbol: Schema.String, exchange: Schema.String, quantity: Schema.Finite }))
})

const clip = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}…` : text)

/** "final.span: missing; orders[0].total = \"x\": expected a finite number, got \"x\"" */
const describeDecodeFailure = (error: Schema.SchemaError, root: unknown): string =>
  schemaProblems(error.issue, root)
    .map((p) => {
      const field = p.path.length === 0 ? "reply" : keyPath(p.path)
      return p.value === undefined ? `${field}: missing` : `${field} = ${clip(JSON.stringify(p.value) ?? String(p.value), 80)}: ${p.problem}`
    })
    .join("; ")

/**
 * What a kiteconnect call failed with, in words: its rejections are Kite's error bodies
 * (`{error_type, message}`: TokenException, InputException, NetworkException, …) or, rarely, an Error.
 * Nothing else of the value is used: an axios error carries the request, Authorization header included.
 */
const describeKiteFailure = (e: unknown): string => {
  if (Predicate.isObject(e)) {
    const { error_type, message } = e as { error_type?: unknown; message?: unknown }
    const text = typeof message === "string" && message.trim() !== "" ? message.trim() : "no message"
    if (typeof error_type === "string") {
      const hint = error_type === "TokenException"
        ? " (the access token is wrong or expired: Kite tokens lapse every morning; log in again and set KITE_ACCESS_TOKEN)"
        : ""
      return `${error_type}: ${text}${hint}`
    }
    if (e instanceof Error) return `${e.name}: ${text}`
  }
  return `unexpected failure: ${typeof e === "string" ? e : "no details"}`
}

export interface KiteAccess {
  readonly client: KiteClient
  /** Call the client, mapping every failure to MarginModelError naming `what` (secrets cut out). */
  readonly call: <A>(what: string, request: (client: KiteClient) => Promise<unknown>, reply: Schema.Decoder<A>) => Effect.Effect<A, MarginModelError>
}

export const kiteAccess = (options: KiteOptions): KiteAccess => {
  const token = Redacted.value(options.accessToken)
  const apiKey = Redacted.value(options.apiKey)
  const timeoutMs = options.timeoutMs ?? 7000
  const client = options.client ?? new KiteConnect({ api_key: apiKey, access_token: token, timeout: timeoutMs, ...(options.root === undefined ? {} : { root: options.root }) })
  // Whatever Kite or the network echoes, the secrets are cut out before a message is made of it.
  const redact = (text: string) => [token, apiKey].filter((s) => s !== "").reduce((t, s) => t.split(s).join("<redacted>"), text)
  const fail = (what: string, message: string) => new MarginModelError({ model: KITE_MODEL_NAME, message: redact(`Kite ${what}: ${message}`) })
  const call: KiteAccess["call"] = (what, request, reply) =>
    Effect.gen(function*() {
      const value = yield* Effect.tryPromise({ try: () => request(client), catch: (e) => fail(what, describeKiteFailure(e)) }).pipe(
        // kiteconnect has its own timeout; this one also bounds an injected client.
        Effect.timeoutOrElse({ duration: timeoutMs + 1000, orElse: () => Effect.fail(fail(what, `no answer within ${timeoutMs + 1000} ms`)) })
      )
      // A reply that is not JSON resolves (not rejects) as an error body in kiteconnect.
      if (Predicate.isObject(value) && typeof (value as { error_type?: unknown }).error_type === "string") {
        return yield* fail(what, describeKiteFailure(value))
      }
      const decoded = Schema.decodeUnknownResult(reply)(value, { errors: "all" })
      if (Result.isFailure(decoded)) {
        const compact = Predicate.isObject(value) && Predicate.isObject((value as { final?: unknown }).final) && !("span" in (value as { final: object }).final)
        const hint = compact ? " (a compact reply: the span/exposure breakdown is needed)" : ""
        return yield* fail(what, `unexpected reply: ${describeDecodeFailure(decoded.failure, value)}${hint}`)
      }
      return decoded.success
    })
  return { client, call }
}

/** The basket's orders: one per contract held, BUY legs first (Kite's advice for hedges), quantity in units. */
export const basketOrders = (index: IndexName, positions: ReadonlyArray<Position>, monthly: MonthlyRule): Array<MarginOrder> =>
  [...netPositions(positions)]
    .sort((a, b) => Number(b.quantity > 0) - Number(a.quantity > 0))
    .map((p) => ({
      exchange: kiteExchange(index),
      tradingsymbol: kiteOptionSymbol(index, p.expiry, p.strike, p.optionType, monthly(index, p.expiry)),
      transaction_type: p.quantity > 0 ? "BUY" : "SELL",
      variety: "regular",
      product: "NRML",
      order_type: "MARKET",
      quantity: Math.abs(p.quantity),
      price: 0,
      trigger_price: 0
    }))

const figures = (f: typeof Figures.Type): KiteMarginFigures => ({ span: f.span, exposure: f.exposure, optionPremium: f.option_premium, total: f.total })

/** Kite's basket margin of these positions held together (on their own: consider_positions=false). */
export const kiteBasketMargin = (
  access: KiteAccess,
  index: IndexName,
  positions: ReadonlyArray<Position>,
  monthly: MonthlyRule = isMonthlyByCalendar
): Effect.Effect<KiteBasketMargin, MarginModelError> =>
  Effect.try({
    try: () => basketOrders(index, positions, monthly),
    // A symbol that cannot be built (a bad expiry date, a bad strike) is the caller's input, named as such.
    catch: (e) => new MarginModelError({ model: KITE_MODEL_NAME, message: e instanceof Error ? e.message : String(e) })
  }).pipe(
    Effect.flatMap((orders) =>
      orders.length === 0
        ? Effect.succeed({ span: 0, exposure: 0, optionPremium: 0, total: 0, exchange: 0, orders: [] })
        : Effect.map(access.call("/margins/basket", (c) => c.orderBasketMargins(orders, false, FULL_MODE), BasketReply), (reply) => ({
          ...figures(reply.final),
          exchange: reply.final.span + reply.final.exposure,
          orders: reply.orders.map((o) => ({ symbol: o.tradingsymbol, ...figures(o) }))
        }))
    )
  )

/** A MarginModel priced by Kite's basket margin (exchange margin: final.span + final.exposure). */
export const makeKiteMarginModel = (options: KiteOptions): MarginModel => {
  const access = kiteAccess(options)
  const monthly = options.monthly ?? isMonthlyByCalendar
  return {
    name: KITE_MODEL_NAME,
    margin: (q) => Effect.map(kiteBasketMargin(access, q.index, q.positions, monthly), (m) => m.exchange)
  }
}

/**
 * The account's net option positions of `index` from Kite's position book (products netted: they share
 * the margin). Monthly symbols carry only their month: `listed` expiries give the day (else the calendar).
 */
export const kitePositions = (access: KiteAccess, index: IndexName, listed: ReadonlyArray<string> = []): Effect.Effect<ReadonlyArray<Position>, MarginModelError> =>
  Effect.map(access.call("/portfolio/positions", (c) => c.getPositions(), PositionsReply), (reply) =>
    netPositions(
      reply.net.flatMap((row) => {
        const parsed = row.exchange === kiteExchange(index) && row.quantity !== 0 ? parseKiteOptionSymbol(index, row.tradingsymbol) : null
        return parsed === null ? [] : [{ strike: parsed.strike, optionType: parsed.optionType, quantity: row.quantity, expiry: expiryOfParsed(index, parsed, listed) }]
      })
    ))
