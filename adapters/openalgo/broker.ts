// Hedge orders and the account through OpenAlgo: LIMIT NRML orders on the index's options exchange,
// split at the exchange's freeze quantity; fills from the trade book (live /orderstatus has no
// filled quantity); positions, funds, and the reconcile of an order whose send got no answer.
//
// An order counts as filled only when its fills are confirmed: the trade book's quantity and average
// price, or the order's own filled_quantity and average_price (sandbox rows). OpenAlgo's word
// "complete" alone is not enough: its Zerodha mapping sets order_status only for five Kite statuses,
// so an order in a transient one (OPEN PENDING, VALIDATION PENDING, PUT ORDER REQ RECEIVED) carries
// the previous row's status, "complete" included, or makes /orderbook and /orderstatus answer 500.
//
// A split order is one order to the engine: its id joins the broker's ids with "+", and status and
// cancel act on every part and aggregate them.
import { Effect, Result, Schema } from "effect"
import type { OrderRequest, OrderState } from "../../machines/protocol.ts"
import { netPositions } from "../../src/domain/margin.ts"
import type { Position } from "../../src/domain/market.ts"
import {
  BrokerUnavailable,
  OrderNotFound,
  OrderOutcomeUnknown,
  OrderRejected,
  type Broker,
  type MarketClock,
  type SentOrder
} from "../../src/services/services.ts"
import { Numeric, type OpenAlgoClient, type OpenAlgoError, type OpenAlgoSettings } from "./client.ts"
import { fetchFunds } from "./margin.ts"
import { fetchInstrument, type Instrument } from "./market-data.ts"
import { parseOptionSymbol, parseOrderTimestamp } from "./symbols.ts"

// ---- Errors

/**
 * OpenAlgo is in semi-auto mode: the order was queued in its Action Center for a human to approve and
 * is NOT placed. The engine must alert and must not count it as placed.
 */
export class OrderAwaitingApproval extends Schema.TaggedError<OrderAwaitingApproval>()("OrderAwaitingApproval", {
  clientOrderId: Schema.String,
  pendingOrderId: Schema.String,
  message: Schema.String
}) {}

// ---- Replies

// Order ids are opaque; most brokers send strings, a few numbers.
const OrderId = Schema.Union([Schema.String, Schema.Finite])

const PlaceReply = Schema.Struct({
  orderid: Schema.optionalKey(OrderId),
  mode: Schema.optionalKey(Schema.String),
  pending_order_id: Schema.optionalKey(OrderId)
})

const CancelReply = Schema.Struct({})

const OrderRow = Schema.Struct({
  orderid: OrderId,
  symbol: Schema.String,
  action: Schema.String,
  quantity: Numeric,
  order_status: Schema.String,
  price: Schema.optionalKey(Schema.NullOr(Numeric)),
  pricetype: Schema.optionalKey(Schema.String),
  timestamp: Schema.optionalKey(Schema.NullOr(Schema.String)),
  average_price: Schema.optionalKey(Schema.NullOr(Numeric)),
  // Sandbox rows only.
  filled_quantity: Schema.optionalKey(Schema.NullOr(Numeric)),
  rejection_reason: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type OrderRow = typeof OrderRow.Type

const OrderStatusReply = Schema.Struct({ data: OrderRow })
const OrderBookReply = Schema.Struct({ data: Schema.Struct({ orders: Schema.Array(OrderRow) }) })
const TradeBookReply = Schema.Struct({
  data: Schema.Array(Schema.Struct({ orderid: OrderId, quantity: Numeric, average_price: Numeric }))
})
const PositionBookReply = Schema.Struct({
  data: Schema.Array(Schema.Struct({ symbol: Schema.String, exchange: Schema.optionalKey(Schema.String), quantity: Numeric }))
})
const AnalyzerReply = Schema.Struct({ data: Schema.Struct({ mode: Schema.Literals(["analyze", "live"]) }) })

// ---- Pure rules

export const ORDER_ID_SEPARATOR = "+"
export const joinOrderIds = (ids: ReadonlyArray<string>): string => ids.join(ORDER_ID_SEPARATOR)
export const splitOrderId = (orderId: string): ReadonlyArray<string> => orderId.split(ORDER_ID_SEPARATOR)

/**
 * The parts an order is sent in. The exchange freezes an order at its freeze quantity, so each part
 * is the most whole lots strictly below it (NSE lists the first frozen quantity, e.g. 1801 for 1800).
 * Without a freeze quantity, or with one below a lot, the order goes whole and the broker decides.
 */
export const splitQuantity = (quantity: number, lotSize: number, freezeQuantity: number | null): ReadonlyArray<number> => {
  const maxPart = freezeQuantity === null ? 0 : Math.floor((freezeQuantity - 1) / lotSize) * lotSize
  if (maxPart <= 0 || quantity <= maxPart) return [quantity]
  const parts: Array<number> = []
  for (let left = quantity; left > 0; left -= maxPart) parts.push(Math.min(maxPart, left))
  return parts
}

/** OpenAlgo's order_status (lower-case, broker-normalised) as ours; an unknown one is still working. */
export const statusOf = (orderStatus: string): { readonly status: OrderState["status"]; readonly recognised: boolean } => {
  switch (orderStatus.trim().toLowerCase()) {
    case "complete":
    case "completed":
    case "filled":
      return { status: "filled", recognised: true }
    case "cancelled":
    case "canceled":
      return { status: "cancelled", recognised: true }
    case "rejected":
      return { status: "rejected", recognised: true }
    case "open":
    case "pending":
    case "trigger pending":
    case "validation pending":
    case "put order req received":
    case "modify pending":
    case "cancel pending":
      return { status: "open", recognised: true }
    default:
      return { status: "open", recognised: false }
  }
}

export interface Fill {
  readonly quantity: number
  /** Σ quantity × price */
  readonly value: number
}

/** The trade book summed by order id. */
export const fillsByOrder = (trades: ReadonlyArray<{ readonly orderid: string | number; readonly quantity: number; readonly average_price: number }>): ReadonlyMap<string, Fill> => {
  const fills = new Map<string, Fill>()
  for (const t of trades) {
    const id = String(t.orderid)
    const prev = fills.get(id) ?? { quantity: 0, value: 0 }
    fills.set(id, { quantity: prev.quantity + t.quantity, value: prev.value + t.quantity * t.average_price })
  }
  return fills
}

/**
 * One broker order's state: its status from the order row, what it filled as confirmed by the trade
 * book (or by the row's own filled_quantity and average_price). A row that says complete without that
 * confirmation is still in flight: it is read again until the fills show.
 */
export const partState = (row: OrderRow, fill: Fill | undefined): OrderState => {
  const orderId = String(row.orderid)
  const { status: said, recognised } = statusOf(row.order_status)
  const confirmed = confirmedFill(row, fill)
  const filledQuantity = Math.min(confirmed.quantity, row.quantity)
  const unconfirmed = said === "filled" && filledQuantity < row.quantity
  const status = unconfirmed ? "open" : said
  const message = !recognised
    ? `unrecognised order_status "${row.order_status}", taken as still working`
    : unconfirmed
      ? `OpenAlgo says "${row.order_status}" but ${filledQuantity} of ${row.quantity} is confirmed filled (trade book): still in flight`
      : status === "rejected"
        ? (row.rejection_reason ?? "rejected by the broker")
        : undefined
  return { orderId, status, filledQuantity, averagePrice: confirmed.averagePrice, ...(message === undefined ? {} : { message }) }
}

/** Fills with a quantity and a price: the trade book's, else the row's own filled fields; none without both. */
const confirmedFill = (row: OrderRow, fill: Fill | undefined): { readonly quantity: number; readonly averagePrice: number } => {
  if (fill !== undefined && fill.quantity > 0 && fill.value > 0) return { quantity: fill.quantity, averagePrice: fill.value / fill.quantity }
  const quantity = row.filled_quantity ?? 0
  const averagePrice = row.average_price ?? 0
  return quantity > 0 && averagePrice > 0 ? { quantity, averagePrice } : { quantity: 0, averagePrice: 0 }
}

/** The parts of a split order as one: filled when all are, quantities summed, price weighted by quantity. */
export const aggregateParts = (orderId: string, parts: ReadonlyArray<OrderState>, note?: string): OrderState => {
  const filledQuantity = parts.reduce((s, p) => s + p.filledQuantity, 0)
  const value = parts.reduce((s, p) => s + p.filledQuantity * p.averagePrice, 0)
  const status: OrderState["status"] = parts.every((p) => p.status === "filled")
    ? "filled"
    : parts.some((p) => p.status === "open")
      ? "open"
      : parts.every((p) => p.status === "rejected")
        ? "rejected"
        : "cancelled"
  const messages = [...parts.map((p) => p.message), note].filter((m): m is string => m !== undefined)
  return {
    orderId,
    status,
    filledQuantity,
    averagePrice: filledQuantity > 0 ? Math.round((value / filledQuantity) * 10_000) / 10_000 : 0,
    ...(messages.length === 0 ? {} : { message: messages.join("; ") })
  }
}

export type PartsMatch =
  | { readonly kind: "none" }
  | { readonly kind: "found"; readonly ids: ReadonlyArray<string> }
  | { readonly kind: "ambiguous"; readonly message: string }

/**
 * Which order-book candidates are the parts that were sent: each part quantity may be matched by at
 * most as many orders as parts of that quantity were sent; more is ambiguous (not ours to choose).
 */
export const matchParts = (parts: ReadonlyArray<number>, candidates: ReadonlyArray<{ readonly id: string; readonly quantity: number }>): PartsMatch => {
  const wanted = new Map<number, number>()
  for (const q of parts) wanted.set(q, (wanted.get(q) ?? 0) + 1)
  const matching = candidates.filter((c) => wanted.has(c.quantity))
  for (const [quantity, count] of wanted) {
    const same = matching.filter((c) => c.quantity === quantity)
    if (same.length > count) {
      return { kind: "ambiguous", message: `${same.length} orders of quantity ${quantity} (${same.map((c) => c.id).join(", ")}) where ${count} was sent` }
    }
  }
  return matching.length === 0 ? { kind: "none" } : { kind: "found", ids: matching.map((c) => c.id) }
}

/** Why a request cannot be sent as it is, or null. */
export const requestProblem = (req: OrderRequest, settings: OpenAlgoSettings): string | null => {
  const parsed = parseOptionSymbol(req.symbol)
  if (parsed === null) return `"${req.symbol}" is not an OpenAlgo option symbol`
  if (parsed.underlying !== settings.index) return `${req.symbol} is not a ${settings.index} option`
  if (parsed.expiry !== settings.expiry) return `${req.symbol} expires ${parsed.expiry}, not on the session's expiry ${settings.expiry}`
  if (parsed.strike !== req.strike || parsed.optionType !== req.optionType) {
    return `${req.symbol} is not the requested ${req.strike} ${req.optionType}`
  }
  if (!Number.isInteger(req.quantity) || req.quantity <= 0) return `quantity ${req.quantity} is not a positive whole number`
  if (!(req.limitPrice > 0)) return `a LIMIT order needs a positive price, got ${req.limitPrice}`
  return null
}

/** The session's option positions out of the position book, netted by contract. */
export const sessionPositions = (
  rows: ReadonlyArray<{ readonly symbol: string; readonly exchange?: string; readonly quantity: number }>,
  settings: OpenAlgoSettings
): ReadonlyArray<Position> =>
  netPositions(
    rows.flatMap((row) => {
      const parsed = parseOptionSymbol(row.symbol)
      const ours = parsed !== null && parsed.underlying === settings.index && parsed.expiry === settings.expiry
        && (row.exchange === undefined || row.exchange === settings.exchange)
      return ours && row.quantity !== 0
        ? [{ strike: parsed.strike, optionType: parsed.optionType, quantity: row.quantity, expiry: parsed.expiry }]
        : []
    })
  )

// ---- The broker

export interface OpenAlgoMode {
  /** What /analyzer says: "analyze" = OpenAlgo's sandbox takes every order and answers the account. */
  readonly analyzer: "analyze" | "live"
  /** The `mode` of the last order reply ("live" when it had none; "semi_auto" = queued, not placed); null before any. */
  readonly lastOrderReply: string | null
}

export type OpenAlgoBroker = Omit<Broker["Service"], "findOrder"> & {
  /** placeOrder with semi-auto queueing as its own error (the Broker service reports it as OrderRejected). */
  readonly place: (req: OrderRequest) => Effect.Effect<{ readonly orderId: string }, OrderRejected | OrderOutcomeUnknown | OrderAwaitingApproval>
  /** Without `sent`, the details remembered from this process's placeOrder; with it, those given. */
  readonly findOrder: (clientOrderId: string, sent?: SentOrder) => Effect.Effect<OrderState | null, BrokerUnavailable>
  readonly mode: Effect.Effect<OpenAlgoMode, BrokerUnavailable>
}

// The order book stamps whole seconds on the broker's clock: an order sent at 10:00:00.900 may read
// 10:00:00, and the two clocks differ a little.
const SENT_AT_SLACK_MS = 2000
// After a cancel, the broker may still report the order open for a moment.
const CANCEL_CONFIRM_TRIES = 5
const CANCEL_CONFIRM_DELAY_MS = 200

const samePrice = (a: number, b: number): boolean => Math.abs(a - b) < 0.005

export const makeOpenAlgoBroker = (client: OpenAlgoClient, clock: MarketClock["Service"]): OpenAlgoBroker => {
  const settings = client.settings
  const instruments = new Map<string, Instrument>()
  /** Per client order id, what its placeOrder sent (this process only). */
  const sent = new Map<string, SentOrder>()
  /** Broker order id -> the client order id it belongs to. */
  const claims = new Map<string, string>()
  /** Per composite order id, why it holds less than was asked (a part refused at the send). */
  const shortfalls = new Map<string, string>()
  let lastOrderReply: string | null = null

  const unavailable = (operation: string) => (e: OpenAlgoError) => new BrokerUnavailable({ operation, message: e.message })

  const instrumentOf = (symbol: string): Effect.Effect<Instrument, OpenAlgoError> => {
    const known = instruments.get(symbol)
    return known !== undefined ? Effect.succeed(known) : Effect.tap(fetchInstrument(client, symbol), (i) => Effect.sync(() => instruments.set(symbol, i)))
  }

  // -- placing

  /** A send that got no answer, an unreadable one or a server error may have placed the order. */
  const sendFailure = (clientOrderId: string, e: OpenAlgoError): OrderRejected | OrderOutcomeUnknown =>
    e.kind === "answered" && (e.status ?? 0) < 500
      ? new OrderRejected({ clientOrderId, message: e.message })
      : new OrderOutcomeUnknown({ clientOrderId, message: `${e.message} (the order may exist: reconcile with findOrder, never re-send)` })

  const sendPart = (req: OrderRequest, quantity: number) =>
    client
      .send("/placeorder", {
        strategy: settings.strategy,
        exchange: settings.exchange,
        symbol: req.symbol,
        action: req.side,
        quantity,
        pricetype: "LIMIT",
        product: "NRML",
        price: req.limitPrice
      }, PlaceReply)
      .pipe(
        Effect.mapError((e) => sendFailure(req.clientOrderId, e)),
        Effect.flatMap((reply): Effect.Effect<string, OrderOutcomeUnknown | OrderAwaitingApproval> => {
          lastOrderReply = reply.mode ?? "live"
          if (reply.mode === "semi_auto" || (reply.orderid === undefined && reply.pending_order_id !== undefined)) {
            const pendingOrderId = String(reply.pending_order_id ?? "?")
            return Effect.fail(new OrderAwaitingApproval({
              clientOrderId: req.clientOrderId,
              pendingOrderId,
              message: `/placeorder: OpenAlgo is in semi-auto mode: the ${req.side} of ${quantity} ${req.symbol} waits for approval in its Action Center `
                + `(pending order ${pendingOrderId}) and is NOT placed; the engine does not track it — switch OpenAlgo to auto mode`
            }))
          }
          if (reply.orderid === undefined) {
            return Effect.fail(new OrderOutcomeUnknown({ clientOrderId: req.clientOrderId, message: "/placeorder: HTTP 200: success without an orderid (the order may exist)" }))
          }
          return Effect.succeed(String(reply.orderid))
        })
      )

  const place: OpenAlgoBroker["place"] = (req) =>
    Effect.gen(function*() {
      const cid = req.clientOrderId
      const notSent = (why: string) => new OrderRejected({ clientOrderId: cid, message: `not sent: ${why}` })
      const problem = requestProblem(req, settings)
      if (problem !== null) return yield* notSent(problem)
      const instrument = yield* instrumentOf(req.symbol).pipe(Effect.mapError((e) => notSent(`no instrument data: ${e.message}`)))
      if (req.quantity % instrument.lotSize !== 0) return yield* notSent(`quantity ${req.quantity} is not a whole number of lots of ${instrument.lotSize}`)
      const parts = splitQuantity(req.quantity, instrument.lotSize, instrument.freezeQuantity)
      sent.set(cid, { symbol: req.symbol, side: req.side, quantity: req.quantity, limitPrice: req.limitPrice, sentAt: yield* clock.now })
      const placed: Array<string> = []
      let placedQuantity = 0
      for (const [i, quantity] of parts.entries()) {
        const result = yield* Effect.result(sendPart(req, quantity))
        if (Result.isSuccess(result)) {
          placed.push(result.success)
          placedQuantity += quantity
          claims.set(result.success, cid)
          continue
        }
        const error = result.failure
        if (placed.length === 0) return yield* error
        const part = `part ${i + 1} of ${parts.length} (${quantity})`
        if (error._tag === "OrderOutcomeUnknown") {
          return yield* new OrderOutcomeUnknown({ clientOrderId: cid, message: `parts ${joinOrderIds(placed)} placed; ${part}: ${error.message}` })
        }
        // Refused outright: what was placed stands (it may fill), and the order says what it lacks.
        shortfalls.set(joinOrderIds(placed), `${part} not placed: ${error.message}; the order holds ${placedQuantity} of ${req.quantity}`)
        break
      }
      return { orderId: joinOrderIds(placed) }
    })

  // -- following

  const tradeBook = Effect.map(client.read("/tradebook", {}, TradeBookReply), (r) => fillsByOrder(r.data))

  /** Each broker order of a (possibly composite) order id, as it stands. */
  const partsOf = (orderId: string): Effect.Effect<ReadonlyArray<OrderState>, BrokerUnavailable | OrderNotFound> =>
    Effect.gen(function*() {
      const rows: Array<OrderRow> = []
      for (const id of splitOrderId(orderId)) {
        rows.push((yield* client.read("/orderstatus", { strategy: settings.strategy, orderid: id }, OrderStatusReply)).data)
      }
      const fills = yield* tradeBook
      return rows.map((row) => partState(row, fills.get(String(row.orderid))))
    }).pipe(Effect.mapError((e) => (e.kind === "answered" && e.status === 404 ? new OrderNotFound({ orderId }) : unavailable("orderStatus")(e))))

  const orderStatus = (orderId: string): Effect.Effect<OrderState, BrokerUnavailable | OrderNotFound> =>
    Effect.map(partsOf(orderId), (parts) => aggregateParts(orderId, parts, shortfalls.get(orderId)))

  const cancelOrder = (orderId: string): Effect.Effect<OrderState, BrokerUnavailable | OrderNotFound> =>
    Effect.gen(function*() {
      const parts = yield* partsOf(orderId)
      const working = parts.filter((p) => p.status === "open")
      if (working.length === 0) return aggregateParts(orderId, parts, shortfalls.get(orderId))
      const refusals: Array<string> = []
      for (const part of working) {
        // A part that completes meanwhile answers the cancel with an error; what counts is the state read after.
        const result = yield* Effect.result(client.send("/cancelorder", { strategy: settings.strategy, orderid: part.orderId }, CancelReply))
        if (Result.isFailure(result)) refusals.push(result.failure.message)
      }
      for (let attempt = 1; ; attempt++) {
        const after = yield* orderStatus(orderId)
        if (after.status !== "open") return after
        if (attempt === CANCEL_CONFIRM_TRIES) {
          const why = refusals.length === 0 ? "" : `: ${refusals.join("; ")}`
          return yield* new BrokerUnavailable({ operation: "cancelOrder", message: `order ${orderId} is still open after the cancel${why}` })
        }
        yield* Effect.sleep(CANCEL_CONFIRM_DELAY_MS)
      }
    })

  // -- reconciling

  const findOrder = (clientOrderId: string, given?: SentOrder): Effect.Effect<OrderState | null, BrokerUnavailable> =>
    Effect.gen(function*() {
      const request = given ?? sent.get(clientOrderId)
      if (request === undefined) {
        return yield* new BrokerUnavailable({
          operation: "findOrder",
          message: `no record of what client order ${clientOrderId} sent (the process restarted?): cannot tell whether OpenAlgo has it`
        })
      }
      const instrument = yield* instrumentOf(request.symbol).pipe(Effect.mapError(unavailable("findOrder")))
      const parts = splitQuantity(request.quantity, instrument.lotSize, instrument.freezeQuantity)
      const book = yield* client.read("/orderbook", {}, OrderBookReply).pipe(Effect.mapError(unavailable("findOrder")))
      const taken = new Set((request.claimedElsewhere ?? []).flatMap(splitOrderId))
      for (const [id, owner] of claims) if (owner !== clientOrderId) taken.add(id)
      const candidates = book.data.orders
        .filter((row) => {
          const at = row.timestamp == null ? null : parseOrderTimestamp(row.timestamp)
          return row.symbol === request.symbol
            && row.action.toUpperCase() === request.side
            && (row.pricetype === undefined || row.pricetype.toUpperCase() === "LIMIT")
            && (row.price == null || samePrice(row.price, request.limitPrice))
            && !taken.has(String(row.orderid))
            // A time that cannot be read cannot rule the order out.
            && (at === null || at >= request.sentAt - SENT_AT_SLACK_MS)
        })
        .map((row) => ({ id: String(row.orderid), quantity: row.quantity }))
      const match = matchParts(parts, candidates)
      if (match.kind === "none") return null
      if (match.kind === "ambiguous") {
        return yield* new BrokerUnavailable({
          operation: "findOrder",
          message: `ambiguous: client order ${clientOrderId} (${request.side} ${request.quantity} ${request.symbol} @ ${request.limitPrice}) matches ${match.message}; nothing is re-sent`
        })
      }
      for (const id of match.ids) claims.set(id, clientOrderId)
      return yield* orderStatus(joinOrderIds(match.ids)).pipe(
        Effect.catchTag("OrderNotFound", (e) => Effect.fail(new BrokerUnavailable({ operation: "findOrder", message: `order ${e.orderId} is in the order book but /orderstatus does not know it` })))
      )
    })

  return {
    place,
    // Until the Broker service knows OrderAwaitingApproval, semi-auto is a refusal: alerted, never counted as placed.
    placeOrder: (req) =>
      place(req).pipe(Effect.catchTag("OrderAwaitingApproval", (e) => Effect.fail(new OrderRejected({ clientOrderId: e.clientOrderId, message: e.message })))),
    orderStatus,
    cancelOrder,
    findOrder,
    positions: client.read("/positionbook", {}, PositionBookReply).pipe(
      Effect.map((r) => sessionPositions(r.data, settings)),
      Effect.mapError(unavailable("positions"))
    ),
    funds: fetchFunds(client).pipe(Effect.mapError(unavailable("funds"))),
    mode: client.read("/analyzer", {}, AnalyzerReply).pipe(
      Effect.map((r) => ({ analyzer: r.data.mode, lastOrderReply })),
      Effect.mapError(unavailable("mode"))
    )
  }
}
