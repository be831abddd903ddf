// A fake OpenAlgo server for tests (and for running by hand: simulations/fake-openalgo.ts). It answers,
// over real HTTP on 127.0.0.1, the OpenAlgo v1 endpoints the adapter uses, with OpenAlgo's own response
// and error shapes as its source code has them (the broker behind it behaves like OpenAlgo's Zerodha
// adapter, its reference one).
//
//   const fake = await startFakeOpenAlgo({ day, now: () => clock, apiKey: "k" })
//   await fetch(`${fake.url}/funds`, { method: "POST", headers: { "content-type": "application/json" },
//     body: JSON.stringify({ apikey: "k" }) })
//   fake.inject({ path: "placeorder", kind: "fillAfterTimeout" }); fake.setMode("analyze"); await fake.close()
//
// The market and the account come from a recorded day (adapters/paper/world.ts): every request first
// moves the world to `now()`, event by event, so strategy entries and exits land on the account as the
// day says (as complete orders of the strategy platform, product NRML) and resting orders fill at the
// first tick whose price crosses their limit. Orders are kept here, on top of the world's prices:
// - MARKET fills at the tick's last price; LIMIT fills at the tick's last price when that price is at or
//   better than the limit (at once when placed, else at a later tick). The recorded day keeps last
//   prices only, so bid = ask = ltp and volume, oi and prev_close are 0.
// - A sell that would take margin in use above the day's budget is rejected by the broker's RMS (live:
//   200 with an order id whose status is `rejected`; analyzer: 400 and no order, as the sandbox does).
// - Lot-size multiples, freeze quantity, 0.05 tick, MARKET/LIMIT only, NRML/MIS only and market hours
//   (09:15-15:30) are checked like a broker would (HTTP 400 with the broker's message). At 15:30 open
//   orders are cancelled; on expiry day positions settle at the last price.
// - Margin is the truth model's over the whole account: by default the SPAN model with the
//   configuration's parameters, the simulator's own truth, so a day means the same in both (`span`
//   sets other parameters, `truth` another model). `/funds` reports utiliseddebits = margin in use and
//   availablecash = budget - margin in use. `/margin` answers as OpenAlgo's Zerodha adapter does: one
//   position priced alone (Kite's order margin), two or more as the signed increment over what the
//   account holds (basket, consider_positions), with span_margin and exposure_margin from the SPAN
//   model's own breakdown (a `truth` other than SPAN reports it all as span); unknown symbols are left
//   out without a word.
//
// Modes (setMode at run time): "live"; "analyze" (the sandbox: `mode:"analyze"` on order and account
// responses, numeric sandbox order ids YYMMDD+8 digits, sandbox row shapes, numeric funds); "semi_auto"
// (placeorder is queued for the Action Center and places nothing; cancelorder is refused with 403).
// One account serves all modes (real OpenAlgo keeps a separate sandbox account).
//
// Faults (inject): queued per endpoint, first in first out, each for `times` requests (default 1):
// latency (delay `ms`, then answer), timeout (never answered, until close), status429
// (`{"message":"10 per 1 second"}` as flask-restx renders it, or with `retryAfter` app.py's
// `{"status":"error","message":...,"retry_after":N}`), status500 (the endpoint's generic error),
// transientStatus (placeorder: the order sits in a transient Kite status, `kiteStatus`, for `reads`
// reads of the order book or status and at least `ms` of market time; OpenAlgo's Zerodha mapping has no word for it, so its row carries
// the previous row's order_status, or /orderbook and /orderstatus answer 500 when it is the first row;
// live mode only: the sandbox has no such status), reject (the broker refuses:
// 400 `{"status":"error","message":...}`, placeorder/cancelorder), partialFill (placeorder: when the
// order fills, only `fraction` of it (whole lots, rounded down) fills; the rest stays open until
// cancelled), fillAfterTimeout (placeorder: the order is placed and fills as usual, but the response
// never comes).
//
// Server settings as OpenAlgo's own: `rateLimits` enforces per-route limits in a moving one-second
// window of wall time, as limiter.py does (Flask-Limiter; one client IP here), answering 429 with the
// `rateLimitBody` chosen; `unseededFreeze` answers `freeze_qty: 1` from /symbol, as OpenAlgo does for
// any exchange it has no freeze quantities for (it seeds NFO only), while the exchange still refuses
// an order above the real one.
//
// Not modelled: the other endpoints (modifyorder, basketorder, optionsorder, ... answer 404), SL/SL-M
// orders, Greeks in /optionchain (greeks_included is false), /symbol of index spots, brsymbol/token (made
// up, stable), separate sandbox capital, premium debits in funds, option premium in /margin's total.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { DateTime } from "luxon"
import type { RecordedDay, TickRecord } from "../src/domain/recorded-day.ts"
import { defaultConfig } from "../src/domain/config.ts"
import { exchangeOf, freezeQuantityOf, loadInstruments } from "../src/domain/instruments.ts"
import { netPositions, type MarginModel, type MarginQuery } from "../src/domain/margin.ts"
import { spanBreakdown, spanMarginModel, type SpanParameters } from "../src/domain/span.ts"
import { priceOf, type IndexName, type OptionType, type Position } from "../src/domain/market.ts"
import { optionSymbol } from "../src/domain/symbols.ts"
import { instantOf, MARKET_CLOSE, MARKET_OPEN, MARKET_ZONE } from "../src/domain/time.ts"
import { PaperWorld } from "../adapters/paper/world.ts"

// ---------------------------------------------------------------------------------------------
// Public API

export type FakeMode = "live" | "analyze" | "semi_auto"

export type FaultKind = "latency" | "timeout" | "status429" | "status500" | "reject" | "partialFill" | "fillAfterTimeout" | "transientStatus"

export interface Fault {
  /** The endpoint: "placeorder", "/placeorder" or "/api/v1/placeorder". */
  readonly path: string
  readonly kind: FaultKind
  /** latency: delay in milliseconds; transientStatus: market milliseconds it lasts at least (default 0). */
  readonly ms?: number
  /** How many requests it applies to (default 1). */
  readonly times?: number
  /** reject: the broker's message (default: Kite's "Markets are closed ..." message). */
  readonly message?: string
  /** partialFill: share of the quantity that fills, 0 < fraction < 1 (default 0.5). */
  readonly fraction?: number
  /** status429: answer app.py's body with this `retry_after` (seconds) instead of flask-restx's. */
  readonly retryAfter?: number
  /** transientStatus: Kite's status meanwhile (default "OPEN PENDING"). */
  readonly kiteStatus?: string
  /** transientStatus: how many reads of the order book or status it lasts (default 3). */
  readonly reads?: number
}

/** OpenAlgo's rate limits, requests per second per route (its defaults: RATE_LIMIT_DEFAULTS in client.ts). */
export interface FakeRateLimits {
  readonly order: number
  readonly data: number
  readonly margin: number
}

export interface FakeOpenAlgoOptions {
  readonly day: RecordedDay
  /** Market time (epoch ms); the world is moved there on every request (never back). */
  readonly now: () => number
  readonly apiKey: string
  readonly mode?: FakeMode
  /** 0 (default) = any free port. */
  readonly port?: number
  /** The SPAN parameters of the broker's margin (default: the configuration's, as the simulator's truth). */
  readonly span?: SpanParameters
  /** Another margin model for the broker (its answers carry no span / exposure split). */
  readonly truth?: MarginModel
  /** /market/holidays' rows (OpenAlgo's shape), every year's; default none (an unseeded OpenAlgo). */
  readonly holidays?: ReadonlyArray<Record<string, unknown> & { readonly date: string }>
  /** Enforce OpenAlgo's rate limits (default: none). */
  readonly rateLimits?: FakeRateLimits
  /** The clock the rate limits count on, milliseconds (default: wall time, as OpenAlgo's). */
  readonly rateLimitClock?: () => number
  /** The 429 body: "restx" `{"message":"10 per 1 second"}` (default) or "app" `{"status","message","retry_after":60}`. */
  readonly rateLimitBody?: "restx" | "app"
  /** /symbol answers freeze_qty 1, as OpenAlgo does for an exchange it has no freeze quantities for (BFO). */
  readonly unseededFreeze?: boolean
  /** The exchange's freeze quantity for the day's index (default: config/instruments.json's). */
  readonly freezeQuantity?: number
  /** Told of every request as it arrives, before it is answered (a test's slow venue moves its market clock on here). */
  readonly onRequest?: (path: string) => void
}

export interface ReceivedRequest {
  /** The endpoint name ("placeorder") or, for an unknown one, the URL path as sent. */
  readonly path: string
  /** The JSON body, or the raw text when it was not JSON. */
  readonly body: unknown
  /** Market time when it arrived. */
  readonly at: number
}

export type OrderStatus = "open" | "complete" | "cancelled" | "rejected"

/** An order placed through /placeorder (the strategy platform's own orders are not listed). */
export interface PlacedOrder {
  readonly orderid: string
  readonly strategy: string
  readonly symbol: string
  readonly action: "BUY" | "SELL"
  readonly quantity: number
  readonly pricetype: string
  readonly product: string
  /** The limit price (0 for MARKET). */
  readonly price: number
  readonly status: OrderStatus
  readonly filledQuantity: number
  readonly placedAt: number
  /** Market time of its last fill (null before any). */
  readonly filledAt: number | null
}

export interface FakeOpenAlgo {
  /** http://127.0.0.1:<port>/api/v1 */
  readonly url: string
  readonly mode: FakeMode
  /** Every request received, in order (faulted and unknown ones included). */
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** How many requests the rate limits refused (429). */
  readonly rateLimited: number
  readonly orders: ReadonlyArray<PlacedOrder>
  setMode(mode: FakeMode): void
  inject(fault: Fault): void
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>
}

export const startFakeOpenAlgo = async (options: FakeOpenAlgoOptions): Promise<FakeOpenAlgo> => {
  const fake = new FakeServer(options)
  await fake.listen(options.port ?? 0)
  return fake
}

// ---------------------------------------------------------------------------------------------
// OpenAlgo's vocabulary (utils/constants.py, restx_api schemas)

const VALID_EXCHANGES = ["NSE", "NFO", "CDS", "BSE", "BFO", "BCD", "MCX", "NCDEX", "NCO", "NSE_INDEX", "BSE_INDEX", "MCX_INDEX", "GLOBAL_INDEX", "CRYPTO"]
const FNO_EXCHANGES = ["NFO", "BFO", "MCX", "CDS", "NCO", "BCD", "NCDEX", "CRYPTO"]
const ACTIONS = ["BUY", "SELL", "buy", "sell"]
const PRICE_TYPES = ["MARKET", "LIMIT", "SL", "SL-M"]
const PRODUCTS = ["MIS", "NRML", "CNC"]
const TICK_SIZE = 0.05
const BROKER = "zerodha"
const MARKETS_CLOSED = "Markets are closed right now. Use GTT for placing long standing orders instead."
const SEMI_AUTO_CANCEL = "Cancel order operation is not allowed in Semi-Auto mode. Please switch to Auto mode to cancel orders."

// ---------------------------------------------------------------------------------------------
// Request validation the way marshmallow 3 does it (default unknown=RAISE), with its messages

type Messages = Array<string>
interface ErrorTree extends Map<string | number, Messages | ErrorTree> {}

interface Field {
  readonly type: "str" | "float" | "int" | "bool" | "list"
  readonly required?: boolean
  /** marshmallow's load_default: used when the key is absent. */
  readonly loadDefault?: unknown
  readonly allowNone?: boolean
  readonly oneOf?: ReadonlyArray<string>
  readonly length?: { readonly min: number; readonly max: number; readonly error?: string }
  readonly range?: { readonly min?: number; readonly max?: number; readonly minInclusive?: boolean; readonly error?: string }
  /** list: the schema of each item. */
  readonly items?: Schema
}
type Schema = Readonly<Record<string, Field>>
type Loaded = { readonly value: Record<string, unknown> } | { readonly errors: ErrorTree }

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const NUMBER_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/
const SPECIAL_NUMBER_TEXT = /^\s*[+-]?(inf|infinity|nan)\s*$/i
const TRUTHY: ReadonlyArray<unknown> = ["t", "T", "true", "True", "TRUE", "on", "On", "ON", "y", "Y", "yes", "Yes", "YES", "1", 1, true]
const FALSY: ReadonlyArray<unknown> = ["f", "F", "false", "False", "FALSE", "off", "Off", "OFF", "n", "N", "no", "No", "NO", "0", 0, false]

const deserialize = (field: Field, raw: unknown): { value: unknown } | { error: Messages | ErrorTree } => {
  switch (field.type) {
    case "str":
      return typeof raw === "string" ? { value: raw } : { error: ["Not a valid string."] }
    case "float": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && NUMBER_TEXT.test(raw) ? Number(raw) : NaN
      if (typeof raw === "string" && SPECIAL_NUMBER_TEXT.test(raw)) return { error: ["Special numeric values (nan or infinity) are not permitted."] }
      if (Number.isNaN(n)) return { error: ["Not a valid number."] }
      return Number.isFinite(n) ? { value: n } : { error: ["Special numeric values (nan or infinity) are not permitted."] }
    }
    case "int": {
      // Python's int() truncates a float and reads only whole-number text.
      if (typeof raw === "number" && Number.isFinite(raw)) return { value: Math.trunc(raw) }
      if (typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw)) return { value: Number(raw) }
      return { error: ["Not a valid integer."] }
    }
    case "bool":
      if (TRUTHY.includes(raw)) return { value: true }
      if (FALSY.includes(raw)) return { value: false }
      return { error: ["Not a valid boolean."] }
    case "list": {
      if (!Array.isArray(raw)) return { error: ["Not a valid list."] }
      const errors: ErrorTree = new Map()
      const items = raw.map((item, i) => {
        const loaded = loadSchema(field.items ?? {}, item)
        if ("errors" in loaded) errors.set(i, loaded.errors)
        return "value" in loaded ? loaded.value : undefined
      })
      return errors.size > 0 ? { error: errors } : { value: items }
    }
  }
}

const rangeMessage = (r: NonNullable<Field["range"]>): string => {
  const low = `${r.minInclusive === false ? "greater than" : "greater than or equal to"} ${r.min}`
  const high = `less than or equal to ${r.max}`
  if (r.min !== undefined && r.max !== undefined) return `Must be ${low} and ${high}.`
  return r.min !== undefined ? `Must be ${low}.` : `Must be ${high}.`
}

const validate = (field: Field, value: unknown): Messages => {
  const problems: Messages = []
  if (field.length !== undefined && (typeof value === "string" || Array.isArray(value))) {
    const { min, max, error } = field.length
    if (value.length < min || value.length > max) problems.push(error ?? `Length must be between ${min} and ${max}.`)
  }
  if (field.oneOf !== undefined && !field.oneOf.includes(value as string)) problems.push(`Must be one of: ${field.oneOf.join(", ")}.`)
  if (field.range !== undefined && typeof value === "number") {
    const r = field.range
    const low = r.min === undefined || (r.minInclusive === false ? value > r.min : value >= r.min)
    const high = r.max === undefined || value <= r.max
    if (!low || !high) problems.push(r.error ?? rangeMessage(r))
  }
  return problems
}

/** Field errors in declaration order, then unknown fields, as marshmallow reports them. */
const loadSchema = (schema: Schema, input: unknown): Loaded => {
  if (!isRecord(input)) return { errors: new Map([["_schema", ["Invalid input type."]]]) }
  const errors: ErrorTree = new Map()
  const value: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(schema)) {
    if (!Object.hasOwn(input, name)) {
      if (field.required === true) errors.set(name, ["Missing data for required field."])
      else if (field.loadDefault !== undefined) value[name] = field.loadDefault
      continue
    }
    const raw = input[name]
    if (raw === null) {
      if (field.allowNone === true) value[name] = null
      else errors.set(name, ["Field may not be null."])
      continue
    }
    const result = deserialize(field, raw)
    if ("error" in result) {
      errors.set(name, result.error)
      continue
    }
    const problems = validate(field, result.value)
    if (problems.length > 0) errors.set(name, problems)
    else value[name] = result.value
  }
  for (const name of Object.keys(input)) if (!Object.hasOwn(schema, name)) errors.set(name, ["Unknown field."])
  return errors.size > 0 ? { errors } : { value }
}

/** Python's repr() of a str: single quotes unless the text holds one and no double quote. */
const pyStr = (s: string): string => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = ""
  for (const ch of s) {
    const code = ch.codePointAt(0)!
    if (ch === "\\" || ch === quote) out += `\\${ch}`
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (ch === "\t") out += "\\t"
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`
    else out += ch
  }
  return `${quote}${out}${quote}`
}

/** str(err.messages): what the order endpoints put in `message`. */
const pyRepr = (v: Messages | ErrorTree): string =>
  Array.isArray(v)
    ? `[${v.map(pyStr).join(", ")}]`
    : `{${[...v].map(([k, sub]) => `${typeof k === "number" ? k : pyStr(k)}: ${pyRepr(sub)}`).join(", ")}}`

/** jsonify(err.messages): what the data and options endpoints put in `message` / `errors`. */
const toJson = (v: Messages | ErrorTree): unknown =>
  Array.isArray(v) ? v : Object.fromEntries([...v].map(([k, sub]) => [String(k), toJson(sub)]))

const str = (extra: Partial<Field> = {}): Field => ({ type: "str", required: true, ...extra })
const apikey = (length: boolean): Field => str(length ? { length: { min: 1, max: 256 } } : {})
const positive = (error: string): Field["range"] => ({ min: 0, minInclusive: false, error })
const nonNegative = (error: string): Field["range"] => ({ min: 0, error })

const ORDER_SCHEMA: Schema = {
  apikey: apikey(true),
  strategy: str(),
  exchange: str({ oneOf: VALID_EXCHANGES }),
  symbol: str(),
  action: str({ oneOf: ACTIONS }),
  quantity: { type: "float", required: true, range: positive("Quantity must be a positive number.") },
  pricetype: { type: "str", loadDefault: "MARKET", oneOf: PRICE_TYPES },
  product: { type: "str", loadDefault: "MIS", oneOf: PRODUCTS },
  price: { type: "float", loadDefault: 0, range: nonNegative("Price must be a non-negative number.") },
  trigger_price: { type: "float", loadDefault: 0, range: nonNegative("Trigger price must be a non-negative number.") },
  disclosed_quantity: { type: "int", loadDefault: 0, range: nonNegative("Disclosed quantity must be a non-negative integer.") },
  underlying_ltp: { type: "float", loadDefault: null, allowNone: true }
}
const CANCEL_SCHEMA: Schema = { apikey: apikey(true), strategy: str(), orderid: str() }
const ORDER_STATUS_SCHEMA: Schema = { apikey: apikey(false), strategy: str(), orderid: str() }
const KEY_ONLY_SCHEMA: Schema = { apikey: apikey(false) }
const HOLIDAYS_SCHEMA: Schema = { apikey: apikey(true), year: { type: "int", required: false, range: { min: 2020, max: 2050 } } }
const MARGIN_POSITION_SCHEMA: Schema = {
  symbol: str({ length: { min: 1, max: 50, error: "Symbol must be between 1 and 50 characters." } }),
  exchange: str({ oneOf: VALID_EXCHANGES }),
  action: str({ oneOf: ACTIONS }),
  quantity: str(),
  product: str({ oneOf: PRODUCTS }),
  pricetype: str({ oneOf: PRICE_TYPES }),
  price: { type: "str", loadDefault: "0" },
  trigger_price: { type: "str", loadDefault: "0" }
}
const MARGIN_SCHEMA: Schema = {
  apikey: str({ length: { min: 1, max: 256, error: "API key must be between 1 and 256 characters." } }),
  positions: { type: "list", required: true, items: MARGIN_POSITION_SCHEMA, length: { min: 1, max: 50, error: "Positions must contain 1 to 50 items." } }
}
const QUOTES_SCHEMA: Schema = { apikey: apikey(true), symbol: str(), exchange: str({ oneOf: VALID_EXCHANGES }) }
const EXPIRY_SCHEMA: Schema = {
  apikey: apikey(true),
  symbol: str(),
  exchange: str({ oneOf: FNO_EXCHANGES }),
  instrumenttype: str({ oneOf: ["futures", "options"] })
}
const OPTION_CHAIN_SCHEMA: Schema = {
  apikey: apikey(true),
  underlying: str(),
  exchange: str({ oneOf: VALID_EXCHANGES }),
  expiry_date: str(),
  strike_count: { type: "int", allowNone: true, range: { min: 1, max: 100 } },
  with_greeks: { type: "bool", loadDefault: false },
  interest_rate: { type: "float", allowNone: true, range: { min: 0, max: 100 } }
}

// ---------------------------------------------------------------------------------------------
// Symbols and formats

interface Contract {
  readonly index: IndexName
  readonly expiry: string
  readonly strike: number
  readonly optionType: OptionType
}

const OPTION_SYMBOL = /^(NIFTY|SENSEX)(\d{2}(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\d{2})(\d+(?:\.\d+)?)(CE|PE)$/

/** `NIFTY30DEC2525800PE` -> NIFTY, 2025-12-30, 25800, PE; null for anything else. */
const parseOptionSymbol = (symbol: string): Contract | null => {
  const m = OPTION_SYMBOL.exec(symbol)
  if (m === null) return null
  const date = DateTime.fromFormat(m[2]!, "ddLLLyy", { locale: "en", zone: MARKET_ZONE })
  if (!date.isValid) return null
  return { index: m[1] as IndexName, expiry: date.toISODate()!, strike: Number(m[3]), optionType: m[4] as OptionType }
}

const upperDate = (iso: string, format: string): string => DateTime.fromISO(iso).setLocale("en").toFormat(format).toUpperCase()
/** "2026-02-10" -> "10FEB26" (request parameters). */
const compactExpiry = (iso: string): string => upperDate(iso, "ddLLLyy")
/** "2026-02-10" -> "10-FEB-26" (/expiry and /symbol answers). */
const dashedExpiry = (iso: string): string => upperDate(iso, "dd-LLL-yy")
/** Kite's order and trade timestamps, Indian wall-clock time. */
const timestampOf = (at: number): string => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toFormat("yyyy-LL-dd HH:mm:ss")
const spotExchangeOf = (index: IndexName): string => (index === "NIFTY" ? "NSE_INDEX" : "BSE_INDEX")
const round2 = (x: number): number => Math.round(x * 100) / 100
const isMultiple = (value: number, step: number): boolean => Math.abs(value / step - Math.round(value / step)) < 1e-9

// ---------------------------------------------------------------------------------------------
// The account: the recorded day's world, the order book kept on top of it, positions and fills

type Action = "BUY" | "SELL"

interface BookOrder {
  readonly orderid: string
  readonly strategy: string
  readonly symbol: string
  readonly exchange: string
  readonly contract: Contract
  readonly action: Action
  readonly quantity: number
  readonly pricetype: string
  readonly product: string
  readonly price: number
  readonly placedAt: number
  /** Placed through /placeorder; the strategy platform's own orders are not. */
  readonly viaApi: boolean
  /** At most this much ever fills (a partial-fill fault lowers it). */
  readonly fillable: number
  status: OrderStatus
  filledQuantity: number
  filledAt: number | null
  rejectionReason: string
  /** A transient Kite status (OPEN PENDING, ...) and the reads it lasts; not at the exchange meanwhile. */
  transient: { readonly kiteStatus: string; reads: number; readonly until: number } | null
}

interface Trade {
  readonly order: BookOrder
  readonly quantity: number
  readonly price: number
  readonly at: number
}

/** Kite's net position of one symbol and product: pnl = sell value - buy value + quantity * ltp. */
interface Holding {
  readonly symbol: string
  readonly exchange: string
  readonly product: string
  readonly contract: Contract
  quantity: number
  buyQuantity: number
  buyValue: number
  sellQuantity: number
  sellValue: number
}

interface PriceRange {
  open: number
  high: number
  low: number
}

const SPOT = "spot"
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
const contractKey = (p: { readonly expiry: string; readonly strike: number; readonly optionType: OptionType }) =>
  `${p.expiry}|${p.strike}|${p.optionType}`

class Account {
  readonly world: PaperWorld
  readonly orders: Array<BookOrder> = []
  readonly trades: Array<Trade> = []
  readonly holdings = new Map<string, Holding>()
  /** Strikes listed for the day (the instrument master), ascending. */
  readonly strikes: ReadonlyArray<number>
  readonly exchange: "NFO" | "BFO"
  readonly freezeQuantity: number
  /** Order ids in the sandbox's format (YYMMDD + 8 digits) rather than the live broker's (+ 9). */
  sandboxIds = false
  private worldPositions: ReadonlyArray<Position>
  private eventsSeen = 0
  private lastTick: TickRecord | undefined
  private readonly ranges = new Map<string, PriceRange>()
  private closed = false
  private readonly closeAt: number
  private readonly openAt: number

  constructor(
    readonly day: RecordedDay,
    private readonly truth: MarginModel,
    /** The truth's SPAN parameters; null when the truth is another model. */
    private readonly spanParams: SpanParameters | null,
    freezeQuantity?: number
  ) {
    const h = day.header
    this.world = new PaperWorld(day, truth)
    const instruments = loadInstruments()
    this.exchange = exchangeOf(instruments, h.index)
    this.freezeQuantity = freezeQuantity ?? freezeQuantityOf(instruments, h.index)
    this.strikes = [...new Set(day.ticks.flatMap((t) => t.chain.map((r) => r.strike)))].sort((a, b) => a - b)
    this.openAt = instantOf(h.date, MARKET_OPEN)
    this.closeAt = instantOf(h.date, MARKET_CLOSE)
    // Positions carried from an earlier day are on the account at their average price.
    for (const p of h.openingPositions) {
      const contract = { index: h.index, expiry: p.expiry, strike: p.strike, optionType: p.optionType }
      this.book(contract, "NRML", p.quantity > 0 ? "BUY" : "SELL", Math.abs(p.quantity), p.avgPrice)
    }
    this.worldPositions = netPositions(h.openingPositions)
  }

  get at(): number {
    return this.world.at
  }

  /** The market now; before the day's first tick, that tick (a broker before the open shows the last prices). */
  get tick(): TickRecord | undefined {
    return this.world.tick ?? this.day.ticks[0]
  }

  get budget(): number {
    return this.world.budget
  }

  symbolOf(c: Contract): string {
    return optionSymbol(c.index, c.expiry, c.strike, c.optionType)
  }

  /** The contract of a symbol listed on the day's exchange, null when the master has no such symbol. */
  contractOf(symbol: string, exchange: string): Contract | null {
    const c = parseOptionSymbol(symbol)
    const h = this.day.header
    if (c === null || exchange !== this.exchange || c.index !== h.index || c.expiry !== h.expiry) return null
    return this.strikes.includes(c.strike) ? c : null
  }

  ltpOf(c: Contract): number | null {
    return this.tick === undefined ? null : priceOf(this.tick.chain, c.strike, c.optionType)
  }

  rangeOf(key: string): PriceRange | undefined {
    return this.ranges.get(key)
  }

  /** Move to `at` one world event at a time, so fills and strategy trades happen at their own ticks. */
  async advanceTo(at: number): Promise<void> {
    if (at < this.world.at) return
    for (let next = this.world.nextEventAt(); next !== undefined && next <= at; next = this.world.nextEventAt()) {
      await run(this.world.advanceTo(next))
      await this.afterStep()
    }
    await run(this.world.advanceTo(at))
    await this.afterStep()
  }

  private async afterStep(): Promise<void> {
    const tick = this.tick
    const newTick = tick !== undefined && tick !== this.lastTick
    if (newTick) {
      this.lastTick = tick
      this.recordPrices(tick)
    }
    // The close comes first: an expiry that empties the world's positions is a settlement, not trades.
    if (!this.closed && this.at >= this.closeAt) this.closeTheDay()
    await this.followStrategies()
    if (newTick) for (const order of this.orders) this.tryFill(order)
  }

  private recordPrices(tick: TickRecord): void {
    const note = (key: string, price: number | null) => {
      if (price === null) return
      const r = this.ranges.get(key)
      if (r === undefined) this.ranges.set(key, { open: price, high: price, low: price })
      else {
        r.high = Math.max(r.high, price)
        r.low = Math.min(r.low, price)
      }
    }
    note(SPOT, tick.spot)
    const { index, expiry } = this.day.header
    for (const row of tick.chain) {
      note(this.symbolOf({ index, expiry, strike: row.strike, optionType: "CE" }), row.ce)
      note(this.symbolOf({ index, expiry, strike: row.strike, optionType: "PE" }), row.pe)
    }
  }

  /** The strategy platform's entries and exits, seen as changes of the world's positions. */
  private async followStrategies(): Promise<void> {
    const now = await run(this.world.broker.positions)
    if (this.closed) {
      this.worldPositions = now
      return
    }
    const before = new Map(this.worldPositions.map((p) => [contractKey(p), p.quantity]))
    const changes: Array<Position> = []
    for (const p of now) {
      const delta = p.quantity - (before.get(contractKey(p)) ?? 0)
      before.delete(contractKey(p))
      if (delta !== 0) changes.push({ ...p, quantity: delta })
    }
    for (const p of this.worldPositions) if (before.has(contractKey(p))) changes.push({ ...p, quantity: -p.quantity })
    this.worldPositions = now
    if (changes.length === 0) return
    const seen = await run(this.world.strategyFeed.seen)
    const strategy = [...new Set(seen.slice(this.eventsSeen).map((e) => e.portfolio))].join(", ") || "external"
    this.eventsSeen = seen.length
    for (const p of changes) {
      const contract = { index: this.day.header.index, expiry: p.expiry, strike: p.strike, optionType: p.optionType }
      const order = this.newOrder({
        strategy,
        contract,
        action: p.quantity > 0 ? "BUY" : "SELL",
        quantity: Math.abs(p.quantity),
        pricetype: "MARKET",
        product: "NRML",
        price: 0,
        viaApi: false,
        fillable: Math.abs(p.quantity)
      })
      this.fill(order, order.quantity, this.ltpOf(contract) ?? 0)
    }
  }

  /** 15:30: the exchange cancels what is still open; on expiry day every position settles at its last price. */
  private closeTheDay(): void {
    this.closed = true
    for (const order of this.orders) if (order.status === "open") order.status = "cancelled"
    if (this.day.header.expiry !== this.day.header.date) return
    for (const h of this.holdings.values()) {
      const price = this.ltpOf(h.contract) ?? 0
      if (h.quantity > 0) {
        h.sellQuantity += h.quantity
        h.sellValue += h.quantity * price
      } else if (h.quantity < 0) {
        h.buyQuantity -= h.quantity
        h.buyValue -= h.quantity * price
      }
      h.quantity = 0
    }
  }

  /** Why the market refuses orders now, or null while it is open. */
  marketClosedReason(): string | null {
    return this.at < this.openAt || this.at >= this.closeAt ? MARKETS_CLOSED : null
  }

  newOrder(o: Omit<BookOrder, "orderid" | "symbol" | "exchange" | "placedAt" | "status" | "filledQuantity" | "filledAt" | "rejectionReason" | "transient">): BookOrder {
    const prefix = DateTime.fromMillis(this.at, { zone: MARKET_ZONE }).toFormat("yyLLdd")
    const sequence = String(this.orders.length + 1).padStart(this.sandboxIds ? 8 : 9, "0")
    const order: BookOrder = {
      ...o,
      orderid: `${prefix}${sequence}`,
      symbol: this.symbolOf(o.contract),
      exchange: this.exchange,
      placedAt: this.at,
      status: "open",
      filledQuantity: 0,
      filledAt: null,
      rejectionReason: "",
      transient: null
    }
    this.orders.push(order)
    return order
  }

  /** An open order fills (up to what it may) when the tick's price is at or better than its limit. */
  tryFill(order: BookOrder): void {
    const left = order.fillable - order.filledQuantity
    if (order.status !== "open" || order.transient !== null || left <= 0) return
    const price = this.ltpOf(order.contract)
    if (price === null) return
    const marketable = order.pricetype === "MARKET" || (order.action === "BUY" ? price <= order.price : price >= order.price)
    if (marketable) this.fill(order, left, price)
  }

  private fill(order: BookOrder, quantity: number, price: number): void {
    order.filledQuantity += quantity
    order.filledAt = this.at
    if (order.filledQuantity === order.quantity) order.status = "complete"
    this.trades.push({ order, quantity, price, at: this.at })
    this.book(order.contract, order.product, order.action, quantity, price)
  }

  private book(contract: Contract, product: string, action: Action, quantity: number, price: number): void {
    const symbol = this.symbolOf(contract)
    const key = `${symbol}|${product}`
    let h = this.holdings.get(key)
    if (h === undefined) {
      h = { symbol, exchange: this.exchange, product, contract, quantity: 0, buyQuantity: 0, buyValue: 0, sellQuantity: 0, sellValue: 0 }
      this.holdings.set(key, h)
    }
    if (action === "BUY") {
      h.quantity += quantity
      h.buyQuantity += quantity
      h.buyValue += quantity * price
    } else {
      h.quantity -= quantity
      h.sellQuantity += quantity
      h.sellValue += quantity * price
    }
  }

  /** The account's open positions, netted per contract (products share the margin). */
  positions(): ReadonlyArray<Position> {
    return netPositions(
      [...this.holdings.values()].map((h) => ({ strike: h.contract.strike, optionType: h.contract.optionType, quantity: h.quantity, expiry: h.contract.expiry }))
    )
  }

  async marginOf(positions: ReadonlyArray<Position>): Promise<number> {
    return this.remembered(`total ${JSON.stringify(positions)}`, () => run(this.truth.margin(this.marginQuery(positions))))
  }

  /** SPAN and exposure of a portfolio as the broker reports them; all of it as span when the truth is not the SPAN model. */
  async marginParts(positions: ReadonlyArray<Position>): Promise<{ readonly span: number; readonly exposure: number }> {
    const params = this.spanParams
    if (params === null) return { span: await this.marginOf(positions), exposure: 0 }
    return this.remembered(`parts ${JSON.stringify(positions)}`, async () => {
      const b = await run(spanBreakdown(this.marginQuery(positions), params))
      return { span: b.span, exposure: b.exposure }
    })
  }

  // Within one market instant the same portfolio has the same margin: /funds is asked often, and SPAN is not cheap.
  private readonly margins = new Map<string, unknown>()
  private marginsAt = Number.NaN
  private async remembered<A>(key: string, compute: () => Promise<A>): Promise<A> {
    if (this.marginsAt !== this.at || this.tick !== this.marginsTick) {
      this.margins.clear()
      this.marginsAt = this.at
      this.marginsTick = this.tick
    }
    if (this.margins.has(key)) return this.margins.get(key) as A
    const value = await compute()
    this.margins.set(key, value)
    return value
  }
  private marginsTick: TickRecord | undefined

  private marginQuery(positions: ReadonlyArray<Position>): MarginQuery {
    const h = this.day.header
    // The chain lets a SPAN truth price each leg at its own implied vol.
    return { index: h.index, date: h.date, expiry: h.expiry, lotSize: h.lotSize, spot: this.tick?.spot ?? 0, at: this.at, positions, ...(this.tick === undefined ? {} : { chain: this.tick.chain }) }
  }

  /** Kite's average price of a net position: of the buys when long, of the sells when short. */
  averagePrice(h: Holding): number {
    if (h.quantity > 0) return h.buyValue / h.buyQuantity
    if (h.quantity < 0) return h.sellValue / h.sellQuantity
    return 0
  }

  pnl(h: Holding): { readonly realised: number; readonly unrealised: number } {
    const ltp = this.ltpOf(h.contract) ?? 0
    const total = h.sellValue - h.buyValue + h.quantity * ltp
    const unrealised = h.quantity === 0 ? 0 : h.quantity * (ltp - this.averagePrice(h))
    return { realised: total - unrealised, unrealised }
  }
}

// ---------------------------------------------------------------------------------------------
// The HTTP server

interface Reply {
  readonly status: number
  readonly body: unknown
}

type Family = "order" | "data" | "options"

interface Request {
  readonly value: Record<string, unknown>
  readonly fault: QueuedFault | undefined
}

interface Endpoint {
  /** Which of OpenAlgo's three validation-error shapes it answers with. */
  readonly family: Family
  readonly schema: Schema
  /** The endpoint's own "unexpected error" message (HTTP 500). */
  readonly unexpected: string
  /** Checks OpenAlgo's service makes before it looks at the key. */
  readonly precheck?: (value: Record<string, unknown>) => Reply | null
  readonly handle: (request: Request) => Reply | Promise<Reply>
}

interface QueuedFault {
  readonly kind: FaultKind
  readonly ms: number
  readonly message: string
  readonly fraction: number
  readonly retryAfter: number | undefined
  readonly kiteStatus: string
  readonly reads: number
  left: number
}

/** Faults that only make sense where the broker acts. */
const FAULT_ENDPOINTS: Partial<Record<FaultKind, ReadonlyArray<string>>> = {
  reject: ["placeorder", "cancelorder"],
  partialFill: ["placeorder"],
  fillAfterTimeout: ["placeorder"],
  transientStatus: ["placeorder"]
}

const RATE_WINDOW_MS = 1000
/** flask-restx's rendering of Flask-Limiter's 429 ("N per 1 second"), or app.py's own handler's body. */
const rateLimitedReply = (limit: number, body: "restx" | "app", retryAfter = 60): Reply =>
  body === "restx"
    ? { status: 429, body: { message: `${limit} per 1 second` } }
    : { status: 429, body: { status: "error", message: "Rate limit exceeded. Please slow down your requests.", retry_after: retryAfter } }

const error = (status: number, message: string, extra: Record<string, unknown> = {}): Reply => ({ status, body: { status: "error", message, ...extra } })
const UNEXPECTED = "An unexpected error occurred"
const UNEXPECTED_IN_ENDPOINT = "An unexpected error occurred in the API endpoint"
const INVALID_KEY = "Invalid openalgo apikey"

class FakeServer implements FakeOpenAlgo {
  private readonly account: Account
  // A request that breaks off mid-way (the client gave up) just loses its connection.
  private readonly server = createServer((req, res) => void this.serve(req, res).catch(() => res.destroy()))
  private readonly received: Array<ReceivedRequest> = []
  private readonly faults = new Map<string, Array<QueuedFault>>()
  private readonly endpoints: Readonly<Record<string, Endpoint>>
  private currentMode: FakeMode
  private pendingOrders = 0
  private analyzerLogs = 0
  /** Per route, the wall times of the requests its moving window holds. */
  private readonly windows = new Map<string, Array<number>>()
  rateLimited = 0
  /** Requests change one account: they are handled one at a time, in arrival order. */
  private queue: Promise<unknown> = Promise.resolve()
  url = ""

  constructor(private readonly options: FakeOpenAlgoOptions) {
    const span = options.span ?? defaultConfig.span
    this.account = options.truth === undefined
      ? new Account(options.day, spanMarginModel(span), span, options.freezeQuantity)
      : new Account(options.day, options.truth, null, options.freezeQuantity)
    this.currentMode = options.mode ?? "live"
    this.account.sandboxIds = this.currentMode === "analyze"
    this.endpoints = {
      placeorder: { family: "order", schema: ORDER_SCHEMA, unexpected: UNEXPECTED_IN_ENDPOINT, handle: (r) => this.placeOrder(r) },
      cancelorder: { family: "order", schema: CANCEL_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.cancelOrder(r) },
      orderstatus: { family: "order", schema: ORDER_STATUS_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.orderStatus(r) },
      orderbook: { family: "data", schema: KEY_ONLY_SCHEMA, unexpected: UNEXPECTED, handle: () => this.orderBook() },
      tradebook: { family: "data", schema: KEY_ONLY_SCHEMA, unexpected: UNEXPECTED, handle: () => this.tradeBook() },
      positionbook: { family: "data", schema: KEY_ONLY_SCHEMA, unexpected: UNEXPECTED, handle: () => this.positionBook() },
      funds: { family: "data", schema: KEY_ONLY_SCHEMA, unexpected: UNEXPECTED, handle: () => this.funds() },
      margin: { family: "order", schema: MARGIN_SCHEMA, unexpected: UNEXPECTED_IN_ENDPOINT, precheck: marginPrecheck, handle: (r) => this.margin(r) },
      optionchain: { family: "options", schema: OPTION_CHAIN_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.optionChain(r) },
      quotes: { family: "data", schema: QUOTES_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.quotes(r) },
      symbol: { family: "data", schema: QUOTES_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.symbol(r) },
      expiry: { family: "data", schema: EXPIRY_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.expiry(r) },
      analyzer: { family: "order", schema: KEY_ONLY_SCHEMA, unexpected: UNEXPECTED, handle: () => this.analyzer() },
      "market/holidays": { family: "data", schema: HOLIDAYS_SCHEMA, unexpected: UNEXPECTED, handle: (r) => this.holidays(r) },
      ping: { family: "data", schema: KEY_ONLY_SCHEMA, unexpected: UNEXPECTED, handle: () => ({ status: 200, body: { status: "success", data: { message: "pong", broker: BROKER } } }) }
    }
  }

  // ---- the FakeOpenAlgo interface

  get mode(): FakeMode {
    return this.currentMode
  }

  get requests(): ReadonlyArray<ReceivedRequest> {
    return [...this.received]
  }

  get orders(): ReadonlyArray<PlacedOrder> {
    return this.account.orders
      .filter((o) => o.viaApi)
      .map((o) => ({
        orderid: o.orderid,
        strategy: o.strategy,
        symbol: o.symbol,
        action: o.action,
        quantity: o.quantity,
        pricetype: o.pricetype,
        product: o.product,
        price: o.price,
        status: o.status,
        filledQuantity: o.filledQuantity,
        placedAt: o.placedAt,
        filledAt: o.filledAt
      }))
  }

  setMode(mode: FakeMode): void {
    this.currentMode = mode
    this.account.sandboxIds = mode === "analyze"
  }

  inject(fault: Fault): void {
    const endpoint = this.endpointOf(fault.path)
    if (endpoint === null) throw new Error(`inject: unknown endpoint ${JSON.stringify(fault.path)}; expected one of ${Object.keys(this.endpoints).join(", ")}`)
    const only = FAULT_ENDPOINTS[fault.kind]
    if (only !== undefined && !only.includes(endpoint)) throw new Error(`inject: ${fault.kind} applies to ${only.join(" or ")}, not ${endpoint}`)
    const times = fault.times ?? 1
    if (!Number.isInteger(times) || times < 1) throw new Error(`inject: times must be a whole number >= 1, got ${times}`)
    const ms = fault.ms ?? 0
    if (fault.kind === "latency" && !(ms > 0)) throw new Error(`inject: latency needs ms > 0, got ${fault.ms}`)
    const fraction = fault.fraction ?? 0.5
    if (!(fraction > 0 && fraction < 1)) throw new Error(`inject: fraction must be between 0 and 1 (exclusive), got ${fraction}`)
    const reads = fault.reads ?? 3
    if (!Number.isInteger(reads) || reads < 1) throw new Error(`inject: reads must be a whole number >= 1, got ${reads}`)
    if (fault.retryAfter !== undefined && !(fault.retryAfter >= 0)) throw new Error(`inject: retryAfter must be a number of seconds >= 0, got ${fault.retryAfter}`)
    const queue = this.faults.get(endpoint) ?? []
    queue.push({ kind: fault.kind, ms, message: fault.message ?? MARKETS_CLOSED, fraction, retryAfter: fault.retryAfter, kiteStatus: fault.kiteStatus ?? "OPEN PENDING", reads, left: times })
    this.faults.set(endpoint, queue)
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject)
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1`
        resolve()
      })
    })
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((e) => (e ? reject(e) : resolve()))
      this.server.closeAllConnections()
    })
  }

  // ---- request handling

  private endpointOf(path: string): string | null {
    const name = path.replace(/^\/api\/v1/, "").replace(/^\/+|\/+$/g, "")
    return Object.hasOwn(this.endpoints, name) ? name : null
  }

  private takeFault(endpoint: string): QueuedFault | undefined {
    const queue = this.faults.get(endpoint)
    const fault = queue?.[0]
    if (fault === undefined) return undefined
    if (--fault.left === 0) queue!.shift()
    return fault
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString("utf8")
    const at = this.options.now()
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname
    const endpointName = path.startsWith("/api/v1/") ? this.endpointOf(path) : null
    this.options.onRequest?.(endpointName ?? path)
    const json = parseJson(text, req.headers["content-type"])
    this.received.push({ path: endpointName ?? path, body: json.ok ? json.value : text, at })

    if (endpointName === null) return send(res, { status: 404, body: { status: "error", message: "Not found", path } })
    if (req.method !== "POST") return send(res, { status: 405, body: { message: "The method is not allowed for the requested URL." } })
    const endpoint = this.endpoints[endpointName]!
    const limited = this.overLimit(endpointName)
    if (limited !== null) return send(res, limited)
    const fault = this.takeFault(endpointName)
    if (fault?.kind === "latency") await new Promise((resolve) => setTimeout(resolve, fault.ms))
    if (fault?.kind === "timeout") return // never answered; close() drops the connection
    if (fault?.kind === "status429") return send(res, fault.retryAfter === undefined ? rateLimitedReply(10, "restx") : rateLimitedReply(10, "app", fault.retryAfter))
    if (fault?.kind === "status500") return send(res, error(500, endpoint.unexpected))
    // Flask's request.json fails on a non-JSON body inside the handler's try: a generic 500.
    if (!json.ok) return send(res, error(500, endpoint.unexpected))

    const reply = await this.exclusively(() => this.handle(endpointName, endpoint, json.value, fault)).catch(() => error(500, endpoint.unexpected))
    if (fault?.kind === "fillAfterTimeout") return // the order is placed; its answer is lost
    send(res, reply)
  }

  /** Flask-Limiter's moving window: a request over the route's limit is refused and not counted. */
  private overLimit(endpoint: string): Reply | null {
    const limits = this.options.rateLimits
    if (limits === undefined) return null
    const limit = ["placeorder", "cancelorder"].includes(endpoint) ? limits.order : endpoint === "margin" ? limits.margin : limits.data
    const now = (this.options.rateLimitClock ?? performance.now.bind(performance))()
    const hits = (this.windows.get(endpoint) ?? []).filter((t) => t > now - RATE_WINDOW_MS)
    this.windows.set(endpoint, hits)
    if (hits.length >= limit) {
      this.rateLimited++
      return rateLimitedReply(limit, this.options.rateLimitBody ?? "restx")
    }
    hits.push(now)
    return null
  }

  private exclusively<A>(task: () => Promise<A>): Promise<A> {
    const result = this.queue.then(task, task)
    this.queue = result.catch(() => undefined)
    return result
  }

  private async handle(name: string, endpoint: Endpoint, body: unknown, fault: QueuedFault | undefined): Promise<Reply> {
    const loaded = loadSchema(endpoint.schema, body)
    if ("errors" in loaded) return this.validationError(name, endpoint.family, loaded.errors)
    const value = loaded.value
    // The order schemas' post_load: a whole-number quantity outside CRYPTO.
    if (name === "placeorder" && value.exchange !== "CRYPTO" && !Number.isInteger(value.quantity)) {
      return this.validationError(name, "order", new Map([["quantity", [`Fractional quantity (${value.quantity}) is not allowed for non-crypto exchanges.`]]]))
    }
    const early = endpoint.precheck?.(value)
    if (early != null) return early
    if (value.apikey === "") return error(400, "Either api_key or both auth_token and broker must be provided")
    if (value.apikey !== this.options.apiKey) return error(403, INVALID_KEY)
    await this.account.advanceTo(this.options.now())
    if (this.currentMode === "analyze" && ["placeorder", "cancelorder", "orderstatus", "orderbook", "tradebook", "positionbook", "funds"].includes(name)) {
      this.analyzerLogs++
    }
    return endpoint.handle({ value, fault })
  }

  private validationError(name: string, family: Family, errors: ErrorTree): Reply {
    switch (family) {
      case "order": {
        // cancelorder and orderstatus report schema errors through the analyzer log in analyze mode.
        const analyzed = this.currentMode === "analyze" && (name === "cancelorder" || name === "orderstatus")
        return error(400, pyRepr(errors), analyzed ? { mode: "analyze" } : {})
      }
      case "data":
        return { status: 400, body: { status: "error", message: toJson(errors) } }
      case "options":
        return error(400, "Validation error", { errors: toJson(errors) })
    }
  }

  private get sandbox(): boolean {
    return this.currentMode === "analyze"
  }

  /** `mode:"analyze"` on what the sandbox answers. */
  private tagged(body: Record<string, unknown>): Record<string, unknown> {
    return this.sandbox ? { ...body, mode: "analyze" } : body
  }

  private brokerError(status: number, message: string): Reply {
    return { status, body: this.tagged({ status: "error", message }) }
  }

  // ---- orders

  private async placeOrder({ value, fault }: Request): Promise<Reply> {
    if (this.currentMode === "semi_auto") {
      return {
        status: 200,
        body: { status: "success", message: "Order queued for approval in Action Center", mode: "semi_auto", pending_order_id: ++this.pendingOrders }
      }
    }
    if (fault?.kind === "reject") return this.brokerError(400, fault.message)
    const account = this.account
    const symbol = value.symbol as string
    const exchange = value.exchange as string
    const contract = account.contractOf(symbol, exchange)
    if (contract === null) {
      return this.brokerError(400, `Symbol '${symbol}' not found for exchange '${exchange}'. Please verify the symbol name and ensure master contracts are downloaded.`)
    }
    const quantity = value.quantity as number
    const pricetype = value.pricetype as string
    const product = value.product as string
    const price = value.price as number
    const lotSize = account.day.header.lotSize
    const refusal =
      pricetype === "SL" || pricetype === "SL-M"
        ? `Order type ${pricetype} is not supported by this fake broker (only MARKET and LIMIT)`
        : product === "CNC"
          ? `Product CNC is not allowed for ${exchange} options; use NRML or MIS`
          : quantity % lotSize !== 0
            ? `Quantity must be in multiples of lot size ${lotSize}`
            : quantity > account.freezeQuantity
              ? `Quantity ${quantity} exceeds the freeze quantity ${account.freezeQuantity} of ${symbol}; split the order`
              : pricetype === "LIMIT" && !(price > 0)
                ? `LIMIT orders need a price above 0, got ${price}`
                : pricetype === "LIMIT" && !isMultiple(price, TICK_SIZE)
                  ? `Price ${price} is not a multiple of the tick size ${TICK_SIZE} of ${symbol}`
                  : account.marketClosedReason()
    if (refusal !== null) return this.brokerError(400, refusal)

    const action = (value.action as string).toUpperCase() as Action
    const signed = action === "BUY" ? quantity : -quantity
    const usedBefore = await account.marginOf(account.positions())
    const usedAfter = await account.marginOf(netPositions([...account.positions(), { ...contract, quantity: signed }]))
    const shortOfMargin = usedAfter > account.budget && usedAfter > usedBefore
    const rms = `Insufficient funds. Required margin is ${(usedAfter - usedBefore).toFixed(2)} but available margin is ${(account.budget - usedBefore).toFixed(2)}. Check the orderbook for open orders.`
    // The sandbox checks margin before it makes an order; Kite's RMS rejects an order it has accepted.
    if (shortOfMargin && this.sandbox) return this.brokerError(400, rms)

    const fillable = fault?.kind === "partialFill" ? Math.floor((quantity * fault.fraction) / lotSize) * lotSize : quantity
    const order = account.newOrder({
      strategy: value.strategy as string,
      contract,
      action,
      quantity,
      pricetype,
      product,
      price: pricetype === "MARKET" ? 0 : price,
      viaApi: true,
      fillable
    })
    if (shortOfMargin) {
      order.status = "rejected"
      order.rejectionReason = rms
    } else if (fault?.kind === "transientStatus" && !this.sandbox) order.transient = { kiteStatus: fault.kiteStatus, reads: fault.reads, until: account.at + fault.ms }
    else account.tryFill(order)
    return { status: 200, body: this.tagged({ status: "success", orderid: order.orderid }) }
  }

  private cancelOrder({ value, fault }: Request): Reply {
    if (this.currentMode === "semi_auto") return error(403, SEMI_AUTO_CANCEL)
    if (fault?.kind === "reject") return this.brokerError(400, fault.message)
    const orderid = value.orderid as string
    if (orderid === "") return error(400, "Order ID is missing")
    const order = this.account.orders.find((o) => o.orderid === orderid)
    if (this.sandbox) {
      if (order === undefined) return this.brokerError(404, `Order ${orderid} not found`)
      if (order.status !== "open") return this.brokerError(400, `Cannot cancel order in ${order.status} status`)
      order.status = "cancelled"
      return { status: 200, body: { status: "success", orderid, message: "Order cancelled successfully", mode: "analyze" } }
    }
    if (order === undefined || order.status !== "open") {
      // Kite answers 400 and the Zerodha adapter reports httpx's text of it as a 500.
      const url = `https://api.kite.trade/orders/regular/${orderid}`
      return error(500, `Failed to cancel order: Client error '400 Bad Request' for url '${url}'\nFor more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/400`)
    }
    order.status = "cancelled"
    return { status: 200, body: { status: "success", orderid } }
  }

  private orderStatus({ value }: Request): Reply {
    const orderid = value.orderid as string
    const order = this.account.orders.find((o) => o.orderid === orderid)
    if (order === undefined) return this.brokerError(404, `Order ${orderid} not found`)
    if (this.sandbox) {
      const { pricetype, ...row } = this.sandboxRow(order)
      return { status: 200, body: { status: "success", data: { ...row, price_type: pricetype }, mode: "analyze" } }
    }
    // OpenAlgo reads the status out of the mapped order book, so a transient status is mapped here too.
    const book = this.liveBook()
    if (book === null) return error(500, UNEXPECTED)
    const row = book.find((r) => r.orderid === orderid)!
    // average_price comes from the tradebook's first row of the order, and only once it reads complete.
    const first = this.account.trades.find((t) => t.order === order)
    const averagePrice = row.order_status === "complete" && first !== undefined ? round2(first.price) : 0
    return { status: 200, body: { status: "success", data: { ...row, average_price: averagePrice } } }
  }

  /**
   * The live order book as OpenAlgo's Zerodha mapping makes it, oldest first: a row in a transient Kite
   * status keeps the order_status of the row before it (the mapping's variable is not reset), and the
   * mapping fails when it is the first row (null: the endpoint answers 500). Each read moves the
   * transient statuses on; an order leaving one reaches the exchange and may fill at once.
   */
  private liveBook(): Array<Record<string, unknown>> | null {
    const account = this.account
    let previous: OrderStatus | null = null
    let rows: Array<Record<string, unknown>> | null = []
    for (const o of account.orders) {
      const status: OrderStatus | null = o.transient === null ? o.status : previous
      if (status === null) {
        rows = null
        break
      }
      rows.push({ ...this.liveRow(o), order_status: status })
      previous = status
    }
    for (const o of account.orders) {
      if (o.transient === null || --o.transient.reads > 0 || account.at < o.transient.until) continue
      o.transient = null
      account.tryFill(o)
    }
    return rows
  }

  private liveRow(o: BookOrder): Record<string, unknown> {
    return {
      symbol: o.symbol,
      exchange: o.exchange,
      action: o.action,
      quantity: o.quantity,
      price: round2(o.price),
      trigger_price: 0,
      pricetype: o.pricetype,
      product: o.product,
      orderid: o.orderid,
      order_status: o.status,
      timestamp: timestampOf(o.placedAt)
    }
  }

  private sandboxRow(o: BookOrder): Record<string, unknown> {
    const fills = this.account.trades.filter((t) => t.order === o)
    const value = fills.reduce((s, t) => s + t.quantity * t.price, 0)
    return {
      orderid: o.orderid,
      symbol: o.symbol,
      exchange: o.exchange,
      action: o.action,
      quantity: o.quantity,
      price: o.price,
      trigger_price: 0,
      pricetype: o.pricetype,
      product: o.product,
      order_status: o.status,
      average_price: o.filledQuantity > 0 ? round2(value / o.filledQuantity) : 0,
      filled_quantity: o.filledQuantity,
      pending_quantity: o.status === "open" ? o.quantity - o.filledQuantity : 0,
      rejection_reason: o.rejectionReason,
      timestamp: timestampOf(o.placedAt),
      strategy: o.strategy
    }
  }

  private orderBook(): Reply {
    const orders = this.account.orders
    const count = (f: (o: BookOrder) => boolean) => orders.filter(f).length
    // Counted on Kite's own statuses: a transient one counts as none of them.
    const statistics = {
      total_buy_orders: count((o) => o.action === "BUY"),
      total_sell_orders: count((o) => o.action === "SELL"),
      total_completed_orders: count((o) => o.status === "complete"),
      total_open_orders: count((o) => o.status === "open" && o.transient === null),
      total_rejected_orders: count((o) => o.status === "rejected")
    }
    // Kite lists the day's orders oldest first; the sandbox newest first.
    const rows = this.sandbox ? [...orders].reverse().map((o) => this.sandboxRow(o)) : this.liveBook()
    if (rows === null) return error(500, UNEXPECTED)
    return { status: 200, body: this.tagged({ status: "success", data: { orders: rows, statistics } }) }
  }

  private tradeBook(): Reply {
    const data = this.account.trades.map((t) => ({
      symbol: t.order.symbol,
      exchange: t.order.exchange,
      product: t.order.product,
      action: t.order.action,
      quantity: t.quantity,
      average_price: round2(t.price),
      trade_value: round2(t.quantity * t.price),
      orderid: t.order.orderid,
      timestamp: timestampOf(t.at)
    }))
    return { status: 200, body: this.tagged({ status: "success", data }) }
  }

  // ---- account

  private positionBook(): Reply {
    const account = this.account
    const data = [...account.holdings.values()].map((h) => {
      const { realised, unrealised } = account.pnl(h)
      const average = account.averagePrice(h)
      return {
        symbol: h.symbol,
        exchange: h.exchange,
        product: h.product,
        quantity: h.quantity,
        pnl: round2(realised + unrealised),
        // The Zerodha adapter formats the average price as text; the sandbox keeps a number.
        average_price: this.sandbox ? round2(average) : average.toFixed(2),
        ltp: round2(account.ltpOf(h.contract) ?? 0)
      }
    })
    return { status: 200, body: this.tagged({ status: "success", data }) }
  }

  private async funds(): Promise<Reply> {
    const account = this.account
    const used = await account.marginOf(account.positions())
    let realised = 0
    let unrealised = 0
    for (const h of account.holdings.values()) {
      const p = account.pnl(h)
      realised += p.realised
      unrealised += p.unrealised
    }
    const amounts = { availablecash: account.budget - used, collateral: 0, m2mrealized: realised, m2munrealized: unrealised, utiliseddebits: used }
    // Live (Zerodha) values are text with two decimals; the sandbox's are numbers.
    const data = Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, this.sandbox ? round2(v) : round2(v).toFixed(2)]))
    return { status: 200, body: this.tagged({ status: "success", data }) }
  }

  /** /margin always asks the live broker: Kite's order margin for one position (alone), basket margin over the account for more (the signed increment). */
  private async margin({ value }: Request): Promise<Reply> {
    const account = this.account
    const basket: Array<Position> = []
    for (const p of value.positions as ReadonlyArray<Record<string, unknown>>) {
      // The Zerodha adapter silently leaves out symbols it cannot find.
      const contract = account.contractOf(p.symbol as string, p.exchange as string)
      if (contract === null) continue
      const quantity = Number(p.quantity)
      basket.push({ ...contract, quantity: (p.action as string).toUpperCase() === "BUY" ? quantity : -quantity })
    }
    if (basket.length === 0) return error(400, "No valid positions to calculate margin. Check if symbols are valid.")
    let parts: { readonly span: number; readonly exposure: number }
    if (basket.length === 1) parts = await account.marginParts(basket)
    else {
      const held = account.positions()
      const [after, before] = [await account.marginParts(netPositions([...held, ...basket])), await account.marginParts(held)]
      parts = { span: after.span - before.span, exposure: after.exposure - before.exposure }
    }
    const data = { total_margin_required: parts.span + parts.exposure, span_margin: parts.span, exposure_margin: parts.exposure }
    return { status: 200, body: { status: "success", data } }
  }

  /** OpenAlgo's services/market_calendar_service.py: the year's rows (default: the market date's year). */
  private holidays({ value }: Request): Reply {
    const year = (value.year as number | undefined) ?? DateTime.fromMillis(this.options.now(), { zone: MARKET_ZONE }).year
    const data = (this.options.holidays ?? []).filter((h) => h.date.startsWith(`${year}-`))
    return { status: 200, body: { status: "success", year, timezone: MARKET_ZONE, data } }
  }

  private analyzer(): Reply {
    const on = this.sandbox
    return { status: 200, body: { status: "success", data: { analyze_mode: on, mode: on ? "analyze" : "live", total_logs: this.analyzerLogs } } }
  }

  // ---- market data (always the live broker's, in every mode)

  private quoteOf(symbol: string, exchange: string): { ok: true; data: Record<string, number> } | { ok: false; reply: Reply } {
    const account = this.account
    const { index } = account.day.header
    const notFound = error(400, `Symbol '${symbol}' not found for exchange '${exchange}'. Please verify the symbol name and ensure master contracts are downloaded.`)
    const tick = account.tick
    let key: string
    let ltp: number | null
    if (symbol === index && exchange === spotExchangeOf(index)) {
      key = SPOT
      ltp = tick?.spot ?? null
    } else {
      const contract = account.contractOf(symbol, exchange)
      if (contract === null) return { ok: false, reply: notFound }
      key = symbol
      ltp = account.ltpOf(contract)
    }
    if (tick === undefined) return { ok: false, reply: error(500, "Failed to fetch quotes") }
    const range = account.rangeOf(key)
    const last = ltp ?? 0
    return {
      ok: true,
      data: { open: range?.open ?? 0, high: range?.high ?? 0, low: range?.low ?? 0, ltp: last, ask: last, bid: last, prev_close: 0, volume: 0, oi: 0 }
    }
  }

  private quotes({ value }: Request): Reply {
    const quote = this.quoteOf(value.symbol as string, value.exchange as string)
    return quote.ok ? { status: 200, body: { status: "success", data: quote.data } } : quote.reply
  }

  private symbol({ value }: Request): Reply {
    const account = this.account
    const symbol = value.symbol as string
    const exchange = value.exchange as string
    const contract = account.contractOf(symbol, exchange)
    if (contract === null) return error(404, `Symbol ${symbol} not found in exchange ${exchange}`)
    // Stable made-up identifiers: the real ones come from the broker's instrument master.
    const id = account.strikes.indexOf(contract.strike) * 2 + (contract.optionType === "CE" ? 1 : 2)
    const data = {
      id,
      symbol,
      brsymbol: symbol,
      name: contract.index,
      exchange,
      brexchange: exchange,
      token: String((contract.index === "NIFTY" ? 10_000_000 : 20_000_000) + id),
      expiry: dashedExpiry(contract.expiry),
      strike: contract.strike,
      lotsize: account.day.header.lotSize,
      instrumenttype: contract.optionType,
      tick_size: TICK_SIZE,
      freeze_qty: this.options.unseededFreeze === true ? 1 : account.freezeQuantity
    }
    return { status: 200, body: { status: "success", data } }
  }

  private expiry({ value }: Request): Reply {
    const { index, expiry } = this.account.day.header
    const symbol = (value.symbol as string).trim().toUpperCase()
    const exchange = value.exchange as string
    const type = value.instrumenttype as string
    // The recorded day lists the options of one expiry and no futures.
    const dates = symbol === index && exchange === this.account.exchange && type === "options" ? [dashedExpiry(expiry)] : []
    const message = dates.length === 0 ? `No expiry dates found for ${symbol} ${type} in ${exchange}` : `Found ${dates.length} expiry dates for ${symbol} ${type} in ${exchange}`
    return { status: 200, body: { status: "success", message, data: dates } }
  }

  private optionChain({ value }: Request): Reply {
    const account = this.account
    const { index, expiry, lotSize } = account.day.header
    const underlying = value.underlying as string
    const exchange = value.exchange as string
    const expiryDate = value.expiry_date as string
    const strikeCount = value.strike_count as number | null | undefined
    const quoteExchange = exchange === "NFO" ? "NSE_INDEX" : exchange === "BFO" ? "BSE_INDEX" : exchange
    const spot = this.quoteOf(underlying, quoteExchange)
    if (!spot.ok) {
      const body = spot.reply.body as { message: string }
      return error(spot.reply.status, `Failed to fetch LTP for ${underlying}: ${body.message}`)
    }
    const optionsExchange = quoteExchange === "NSE_INDEX" || quoteExchange === "NSE" ? "NFO" : quoteExchange === "BSE_INDEX" || quoteExchange === "BSE" ? "BFO" : quoteExchange
    const listed = underlying === index && optionsExchange === account.exchange && expiryDate.toUpperCase() === compactExpiry(expiry)
    if (!listed) {
      return error(404, `No strikes found for ${underlying} expiring ${expiryDate}. Please check expiry date or update master contract.`)
    }
    const ltp = spot.data.ltp!
    const strikes = account.strikes
    // The listed strike nearest the underlying; a tie goes to the lower one.
    const atm = strikes.reduce((best, k) => (Math.abs(k - ltp) < Math.abs(best - ltp) ? k : best), strikes[0]!)
    const at = strikes.indexOf(atm)
    const selected = strikeCount == null ? strikes : strikes.slice(Math.max(0, at - strikeCount), at + strikeCount + 1)
    const leg = (strike: number, optionType: OptionType) => {
      const i = strikes.indexOf(strike)
      const away = Math.abs(i - at)
      const inTheMoney = optionType === "CE" ? i < at : i > at
      const symbol = account.symbolOf({ index, expiry, strike, optionType })
      const q = this.quoteOf(symbol, account.exchange)
      const quote = q.ok ? q.data : {}
      return {
        symbol,
        label: away === 0 ? "ATM" : `${inTheMoney ? "ITM" : "OTM"}${away}`,
        ...quote,
        bid_qty: 0,
        ask_qty: 0,
        lotsize: lotSize,
        tick_size: TICK_SIZE
      }
    }
    return {
      status: 200,
      body: {
        status: "success",
        underlying,
        underlying_ltp: ltp,
        underlying_prev_close: spot.data.prev_close,
        expiry_date: expiryDate,
        expiry_ts: Math.floor(instantOf(expiry, MARKET_CLOSE) / 1000),
        server_ts: Math.floor(account.at / 1000),
        atm_strike: atm,
        quotes_included: true,
        greeks_included: false,
        forward_price: null,
        chain: selected.map((strike) => ({ strike, ce: leg(strike, "CE"), pe: leg(strike, "PE") }))
      }
    }
  }
}

/** margin_service's own checks of each position, made before the key is looked at. */
const marginPrecheck = (value: Record<string, unknown>): Reply | null => {
  const positions = value.positions as ReadonlyArray<Record<string, unknown>>
  for (const [i, p] of positions.entries()) {
    const n = i + 1
    const quantity = p.quantity as string
    if (!/^\s*[+-]?\d+\s*$/.test(quantity)) return error(400, `Position ${n}: Invalid quantity format`)
    if (Number(quantity) <= 0) return error(400, `Position ${n}: Quantity must be a positive number`)
    const price = p.price as string
    if (!NUMBER_TEXT.test(price)) return error(400, `Position ${n}: Invalid price format`)
    if (Number(price) < 0) return error(400, `Position ${n}: Price cannot be negative`)
  }
  return null
}

const parseJson = (text: string, contentType: string | undefined): { ok: true; value: unknown } | { ok: false } => {
  const mime = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (mime !== "application/json" && !(mime.startsWith("application/") && mime.endsWith("+json"))) return { ok: false }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

const send = (res: ServerResponse, reply: Reply): void => {
  const text = JSON.stringify(reply.body)
  res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}
