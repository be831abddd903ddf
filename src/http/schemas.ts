// The shapes the operator API speaks, as schemas: every request is decoded and every response encoded
// through these (and the OpenAPI document at /openapi.json is made from them).
import { Schema } from "effect"
import { ScheduleSchema } from "../domain/schedule.ts"
import { isIsoDate } from "../domain/time.ts"
import { Baskets, BudgetPerBasket } from "../domain/bounds.ts"

// ---- errors: every error body is { error, field? }

const ErrorFields = {
  /** What is wrong, naming the field and the value when there is one. */
  error: Schema.String,
  /** The request field the error is about (`enabled`, `days.Monday.entries[0].entryTime`, `last-event-id`). */
  field: Schema.optionalKey(Schema.String)
}

export class ApiBadRequest extends Schema.Error<ApiBadRequest>("BadRequest")(ErrorFields, { httpApiStatus: 400, description: "The request is malformed: `error` names the field and the value" }) {}
export class ApiUnauthorized extends Schema.Error<ApiUnauthorized>("Unauthorized")(ErrorFields, { httpApiStatus: 401, description: "No bearer token, or not the right one" }) {}
export class ApiForbidden extends Schema.Error<ApiForbidden>("Forbidden")(ErrorFields, { httpApiStatus: 403, description: "The server has no API token configured: it takes no changes" }) {}
export class ApiNotFound extends Schema.Error<ApiNotFound>("NotFound")(ErrorFields, { httpApiStatus: 404, description: "What the request names does not exist" }) {}
export class ApiConflict extends Schema.Error<ApiConflict>("Conflict")(ErrorFields, { httpApiStatus: 409, description: "The day as it is now does not allow it" }) {}
export class ApiUnavailable extends Schema.Error<ApiUnavailable>("Unavailable")(ErrorFields, { httpApiStatus: 503, description: "A store the answer needs cannot be reached" }) {}

export type ApiError = ApiBadRequest | ApiUnauthorized | ApiForbidden | ApiNotFound | ApiConflict | ApiUnavailable

// ---- building blocks

export const IsoDate = Schema.String.check(Schema.makeFilter((s: string) => isIsoDate(s), { expected: 'a date "YYYY-MM-DD"' }))
/** A whole number in a query string or a header. */
const WholeFromString = (minimum: number, maximum: number) =>
  Schema.FiniteFromString.check(Schema.isInt(), Schema.isBetween({ minimum, maximum }))
const Pct = Schema.Number
const Scalar = Schema.Union([Schema.String, Schema.Number, Schema.Boolean, Schema.Null])

export const Accepted = Schema.Struct({ accepted: Schema.Literal(true), message: Schema.String })

// ---- status

export const HedgeView = Schema.Struct({
  hedgeId: Schema.String,
  symbol: Schema.String,
  strike: Schema.Number,
  optionType: Schema.Literals(["CE", "PE"]),
  lots: Schema.Number,
  quantity: Schema.Number,
  /** The hedge actor's state (`open`, `ordering.awaitingFill.working`, `exiting.placing`). */
  state: Schema.String,
  buyPrice: Schema.NullOr(Schema.Number),
  ltp: Schema.NullOr(Schema.Number),
  /** Rupees paid, or reserved while the buy works. */
  cost: Schema.Number,
  /** What the units held are worth at the last price. */
  value: Schema.NullOr(Schema.Number)
})

export const SessionRef = Schema.Struct({
  id: Schema.String,
  date: Schema.String,
  index: Schema.String,
  expiry: Schema.String,
  mode: Schema.String,
  policy: Schema.String
})

export const Status = Schema.Struct({
  /** Market time now, ISO 8601 in IST. */
  now: Schema.String,
  session: Schema.NullOr(SessionRef),
  enabled: Schema.Boolean,
  state: Schema.String,
  utilisation: Schema.Struct({
    budget: Schema.Number,
    marginInUse: Schema.Number,
    currentPct: Pct,
    projectedPct: Schema.NullOr(Pct),
    triggerPct: Pct,
    targetPct: Pct,
    exitTriggerPct: Pct
  }),
  nextEntry: Schema.NullOr(Schema.Struct({ portfolio: Schema.String, at: Schema.String, secondsUntil: Schema.Number })),
  activeHedges: Schema.Array(HedgeView),
  spend: Schema.Struct({ today: Schema.Number, cap: Schema.Number, left: Schema.Number }),
  cooldownRemainingSeconds: Schema.Number,
  /** Whether the engine can be trusted now: halted (why), and the daemon watchdog's problems. */
  health: Schema.Struct({
    ok: Schema.Boolean,
    halted: Schema.NullOr(Schema.String),
    problems: Schema.Array(Schema.Struct({ kind: Schema.Literals(["lag", "write", "quote", "broker"]), seconds: Schema.Number, limitSeconds: Schema.Number, message: Schema.String })),
    lagSeconds: Schema.Number,
    lastWriteAt: Schema.NullOr(Schema.String),
    lastQuoteAt: Schema.NullOr(Schema.String),
    lastBrokerAt: Schema.NullOr(Schema.String)
  })
})
export type Status = typeof Status.Type

// ---- mutations

export const TogglePayload = Schema.Struct({
  enabled: Schema.Boolean,
  reason: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(200)))
})

export const ManualExitPayload = Schema.Struct({
  hedgeId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64))
})

export const ManualBuyPayload = Schema.Struct({
  strike: Schema.Finite.check(Schema.isGreaterThan(0)),
  optionType: Schema.Literals(["CE", "PE"]),
  lots: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })),
  limitPrice: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)))
})

export const SessionPayload = Schema.Struct({
  date: IsoDate,
  baskets: Schema.optionalKey(Baskets),
  budgetPerBasket: Schema.optionalKey(BudgetPerBasket),
  autoHedgeEnabled: Schema.optionalKey(Schema.Boolean)
})

export { ScheduleSchema }

// ---- reads

export const Transaction = Schema.Struct({
  at: Schema.String,
  action: Schema.Literals(["BUY", "SELL"]),
  /** The hedge actor (null in the records of past days, which keep no actor ids). */
  hedgeId: Schema.NullOr(Schema.String),
  symbol: Schema.String,
  strike: Schema.Number,
  optionType: Schema.String,
  lots: Schema.Number,
  quantity: Schema.Number,
  price: Schema.NullOr(Schema.Number),
  total: Schema.Number,
  trigger: Schema.String,
  utilisationBefore: Schema.NullOr(Schema.Number)
})
export type Transaction = typeof Transaction.Type

export const TransactionsQuery = { date: Schema.optionalKey(IsoDate) }
export const Transactions = Schema.Struct({
  date: Schema.String,
  /** `live`: the running (or just finished) day; `records`: a past day from the database. */
  source: Schema.Literals(["live", "records"]),
  transactions: Schema.Array(Transaction)
})

export const AnalyticsRow = Schema.Struct({
  sessionDate: Schema.String,
  dayOfWeek: Schema.String,
  index: Schema.String,
  mode: Schema.String,
  policy: Schema.String,
  baskets: Schema.Number,
  hedgeCount: Schema.Number,
  totalCost: Schema.Number,
  totalRecovered: Schema.Number,
  netCost: Schema.Number,
  peakUtilization: Schema.NullOr(Schema.Number),
  breaches: Schema.NullOr(Schema.Number)
})
export const AnalyticsQuery = { days: Schema.optionalKey(WholeFromString(1, 3650)) }
export const Analytics = Schema.Struct({ days: Schema.Number, rows: Schema.Array(AnalyticsRow) })

export const SessionInfo = Schema.Struct({
  id: Schema.String,
  date: Schema.String,
  index: Schema.String,
  expiry: Schema.String,
  expiryType: Schema.String,
  mode: Schema.String,
  policy: Schema.String,
  baskets: Schema.Number,
  budgetPerBasket: Schema.Number,
  totalBudget: Schema.Number,
  /** Auto-hedge now (toggles included). */
  autoHedgeEnabled: Schema.Boolean,
  state: Schema.String
})
export const SessionPlanView = Schema.Struct({
  date: Schema.String,
  baskets: Schema.NullOr(Schema.Number),
  budgetPerBasket: Schema.NullOr(Schema.Number),
  autoHedgeEnabled: Schema.NullOr(Schema.Boolean)
})
export const Sessions = Schema.Struct({
  current: Schema.NullOr(SessionInfo),
  /** Coming days set up by the operator (POST /api/hedge/session). */
  planned: Schema.Array(SessionPlanView)
})

// ---- inspector

export const TransitionRowSchema = Schema.Struct({
  seq: Schema.Int,
  actorId: Schema.String,
  kind: Schema.Literals(["session", "entry", "hedge"]),
  from: Schema.String,
  to: Schema.String,
  event: Schema.String,
  payload: Schema.Unknown,
  /** Market time, epoch ms. */
  at: Schema.Number,
  causation: Schema.NullOr(Schema.Int)
})

export const ActorView = Schema.Struct({
  id: Schema.String,
  kind: Schema.Literals(["session", "entry", "hedge"]),
  parent: Schema.NullOr(Schema.String),
  state: Schema.String,
  /** When it entered this state, ISO 8601 in IST. */
  since: Schema.String,
  summary: Schema.Record(Schema.String, Scalar)
})
export type ActorView = typeof ActorView.Type
export const Actors = Schema.Struct({ at: Schema.String, actors: Schema.Array(ActorView) })

export const TransitionsQuery = {
  actor: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(100))),
  after: Schema.optionalKey(WholeFromString(0, Number.MAX_SAFE_INTEGER)),
  limit: Schema.optionalKey(WholeFromString(1, 5000))
}
export const Transitions = Schema.Struct({ rows: Schema.Array(TransitionRowSchema) })

export const UtilisationPoint = Schema.Struct({ at: Schema.Number, pct: Schema.Number })
export const Marker = Schema.Struct({ at: Schema.Number, kind: Schema.Literals(["buy", "sell"]), hedgeId: Schema.String, label: Schema.String })
export type Marker = typeof Marker.Type
export const Utilisation = Schema.Struct({
  budget: Schema.Number,
  triggerPct: Pct,
  targetPct: Pct,
  exitTriggerPct: Pct,
  points: Schema.Array(UtilisationPoint),
  markers: Schema.Array(Marker)
})

export const StreamQuery = {
  /** For EventSource reconnects that cannot set headers: the same as the Last-Event-ID header. */
  lastEventId: Schema.optionalKey(WholeFromString(0, Number.MAX_SAFE_INTEGER))
}
export const StreamHeaders = { "last-event-id": Schema.optionalKey(WholeFromString(0, Number.MAX_SAFE_INTEGER)) }
