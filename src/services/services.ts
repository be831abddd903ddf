// The outside world as Effect services. Machines never touch these; the runtime calls them and turns
// their results into events. Every failure a real implementation can meet is a typed error here.
import { Context, Effect, Schema } from "effect"
import type { AlertEvent, OrderRequest, OrderState } from "../../machines/protocol.ts"
import type { MarketSnapshot, Position } from "../domain/market.ts"

// ---- Errors
export class MarketDataUnavailable extends Schema.TaggedError<MarketDataUnavailable>()("MarketDataUnavailable", {
  message: Schema.String
}) {}

export class BrokerUnavailable extends Schema.TaggedError<BrokerUnavailable>()("BrokerUnavailable", {
  operation: Schema.String,
  message: Schema.String
}) {}

/** The broker answered and refused the order: definitive, the order does not exist. */
export class OrderRejected extends Schema.TaggedError<OrderRejected>()("OrderRejected", {
  clientOrderId: Schema.String,
  message: Schema.String
}) {}

/** The send timed out or broke: the order may exist. Resolve by asking the broker, never by re-sending. */
export class OrderOutcomeUnknown extends Schema.TaggedError<OrderOutcomeUnknown>()("OrderOutcomeUnknown", {
  clientOrderId: Schema.String,
  message: Schema.String
}) {}

export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", {
  orderId: Schema.String
}) {}

export class MarginUnavailable extends Schema.TaggedError<MarginUnavailable>()("MarginUnavailable", {
  message: Schema.String
}) {}

export class NotifyFailed extends Schema.TaggedError<NotifyFailed>()("NotifyFailed", {
  message: Schema.String
}) {}

export class AuditWriteFailed extends Schema.TaggedError<AuditWriteFailed>()("AuditWriteFailed", {
  message: Schema.String
}) {}

// ---- Services
/** What XState needs to run delayed transitions (`after`): the clock's timers. */
export interface TimerClock {
  setTimeout(fn: (...args: Array<unknown>) => void, timeout: number): unknown
  clearTimeout(id: unknown): void
}

/**
 * Market time. The simulator's clock is virtual; the daemon's follows the wall clock. Machines' timers
 * run on `timers`, so a simulated day fires them in market time, not in wall time.
 */
export class MarketClock extends Context.Service<MarketClock, {
  readonly now: Effect.Effect<number>
  /** The same instant, for synchronous callers (audit stamps). */
  readonly currentMillis: () => number
  readonly timers: TimerClock
}>()("auto-hedge/services/MarketClock") {}

export class MarketData extends Context.Service<MarketData, {
  /** Spot and option chain of the day's expiry, as of now. */
  readonly snapshot: Effect.Effect<MarketSnapshot, MarketDataUnavailable>
}>()("auto-hedge/services/MarketData") {}

export class Broker extends Context.Service<Broker, {
  readonly placeOrder: (req: OrderRequest) => Effect.Effect<{ readonly orderId: string }, OrderRejected | OrderOutcomeUnknown>
  readonly orderStatus: (orderId: string) => Effect.Effect<OrderState, BrokerUnavailable | OrderNotFound>
  /** Cancel if still working; answers the order's final state either way. */
  readonly cancelOrder: (orderId: string) => Effect.Effect<OrderState, BrokerUnavailable | OrderNotFound>
  /**
   * Look an order up by the client id it was sent with; null when the broker never saw it. A broker
   * without client order ids recognises it by what was sent (`sent`, from the order journal).
   */
  readonly findOrder: (clientOrderId: string, sent?: SentOrder) => Effect.Effect<OrderState | null, BrokerUnavailable>
  readonly positions: Effect.Effect<ReadonlyArray<Position>, BrokerUnavailable>
  /** The account's margin: used and still available, rupees. */
  readonly funds: Effect.Effect<Funds, BrokerUnavailable>
}>()("auto-hedge/services/Broker") {}

/** What an order was sent as: enough for a broker without client order ids to recognise it. */
export interface SentOrder {
  readonly symbol: string
  readonly side: "BUY" | "SELL"
  readonly quantity: number
  readonly limitPrice: number
  /** When the send started, epoch ms of market time. */
  readonly sentAt: number
  /** Broker order ids that belong to other orders of the session (never this one). */
  readonly claimedElsewhere?: ReadonlyArray<string>
}

export interface Funds {
  readonly usedMargin: number
  readonly availableMargin: number
}

export class MarginMonitor extends Context.Service<MarginMonitor, {
  /** Margin blocked right now, rupees, as the broker reports it. */
  readonly marginInUse: Effect.Effect<number, MarginUnavailable>
}>()("auto-hedge/services/MarginMonitor") {}

/** What the external execution platform did: strategy entries and exits as they are seen. */
export interface StrategyEvent {
  readonly kind: "entered" | "exited"
  readonly portfolio: string
  readonly at: number
  readonly reason: string
}

export class StrategyFeed extends Context.Service<StrategyFeed, {
  /** Every event seen today so far, in order (asking again is harmless: a restart loses nothing). */
  readonly seen: Effect.Effect<ReadonlyArray<StrategyEvent>, BrokerUnavailable>
}>()("auto-hedge/services/StrategyFeed") {}

export class Notifier extends Context.Service<Notifier, {
  readonly notify: (alert: AlertEvent["alert"], at: number) => Effect.Effect<void, NotifyFailed>
}>()("auto-hedge/services/Notifier") {}

/** One actor transition, in the order it happened. */
export interface TransitionRow {
  readonly seq: number
  readonly actorId: string
  readonly kind: "session" | "entry" | "hedge"
  readonly from: string
  readonly to: string
  readonly event: string
  readonly payload: unknown
  /** Market time of the transition (epoch ms). */
  readonly at: number
  /** The row of the transition that sent this row's event (null for events from outside). */
  readonly causation: number | null
}

/** The whole actor tree as XState persists it, consistent with the transitions up to `seq`. */
export interface Checkpoint {
  readonly seq: number
  /** The market time it was taken at. */
  readonly at: number
  readonly machineVersion: string
  readonly snapshot: unknown
  /** Each actor's latest transition row (what its next events are caused by). */
  readonly latestRows?: Readonly<Record<string, number>>
}

/**
 * The audit trail of a session: transitions, in order, in batches; now and then a batch comes with a
 * checkpoint of the tree it leads to, written together with it. A restart restores the latest
 * checkpoint and re-drives the rows written after it.
 */
export class AuditLog extends Context.Service<AuditLog, {
  readonly append: (rows: ReadonlyArray<TransitionRow>, checkpoint: Checkpoint | null) => Effect.Effect<void, AuditWriteFailed>
  readonly latest: Effect.Effect<Checkpoint | null, AuditWriteFailed>
  /** The rows numbered after `seq`, in order. */
  readonly after: (seq: number) => Effect.Effect<ReadonlyArray<TransitionRow>, AuditWriteFailed>
  /** The whole trail so far, in order. */
  readonly trail: Effect.Effect<ReadonlyArray<TransitionRow>, AuditWriteFailed>
}>()("auto-hedge/services/AuditLog") {}

export class JournalWriteFailed extends Schema.TaggedError<JournalWriteFailed>()("JournalWriteFailed", {
  message: Schema.String
}) {}

export type OrderIntentStatus = "PENDING" | "ACCEPTED" | "REJECTED" | "UNKNOWN" | "FILLED" | "CANCELLED"

/** An order the engine meant to send, written before it is sent. */
export interface OrderIntent {
  readonly clientOrderId: string
  readonly hedgeId: string
  readonly side: "BUY" | "SELL"
  readonly symbol: string
  readonly strike: number
  readonly optionType: "CE" | "PE"
  readonly quantity: number
  readonly limitPrice: number
  /** When the intent was written, just before the send: epoch ms of market time. */
  readonly sentAt: number
  readonly status: OrderIntentStatus
  readonly brokerOrderId: string | null
  readonly message: string | null
  /** Units filled and their average price per unit, as the broker last answered (0 and null before a fill). */
  readonly filledQuantity: number
  readonly averagePrice: number | null
}

/** What an answer from the broker changes in an intent. */
export interface OrderIntentChange {
  readonly status: OrderIntentStatus
  readonly brokerOrderId?: string | null
  readonly message?: string | null
  readonly filledQuantity?: number
  readonly averagePrice?: number | null
}

/**
 * The order journal: every intent is written before the order is sent, then its outcome. An intent
 * found already written means this order may have been sent before (a restart): the runtime then asks
 * the broker, and never sends it again.
 */
export class OrderJournal extends Context.Service<OrderJournal, {
  readonly find: (clientOrderId: string) => Effect.Effect<OrderIntent | null, JournalWriteFailed>
  /** Every intent of the session, in the order written. */
  readonly all: Effect.Effect<ReadonlyArray<OrderIntent>, JournalWriteFailed>
  readonly record: (intent: OrderIntent) => Effect.Effect<void, JournalWriteFailed>
  readonly update: (clientOrderId: string, change: OrderIntentChange) => Effect.Effect<void, JournalWriteFailed>
}>()("auto-hedge/services/OrderJournal") {}

export type EngineServices = MarketClock | MarketData | Broker | MarginMonitor | StrategyFeed | Notifier | AuditLog | OrderJournal
