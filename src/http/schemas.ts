// The shapes the operator API speaks, as schemas: every request is decoded and every response encoded
// through these (and the OpenAPI document at /openapi.json is made from them).
import { Schema } from "effect"
import { ScheduleSchema } from "../domain/schedule.ts"
import { isIsoDate } from "../domain/time.ts"
import { Baskets, BudgetPerBasket } from "../domain/bounds.ts"
import { AnalyticsRow, SessionInfo, Transaction, TransitionRowSchema } from "../views/schemas.ts"

// The read model's shapes are the views' own: the API speaks them as they are.
export { Actors, Day, Status, Utilisation } from "../views/schemas.ts"

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

export const Accepted = Schema.Struct({ accepted: Schema.Literal(true), message: Schema.String })

// ---- status

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

export const TransactionsQuery = { date: Schema.optionalKey(IsoDate) }
export const Transactions = Schema.Struct({
  date: Schema.String,
  /** `live`: the running (or just finished) day; `records`: a past day from the database. */
  source: Schema.Literals(["live", "records"]),
  transactions: Schema.Array(Transaction)
})

export const AnalyticsQuery = { days: Schema.optionalKey(WholeFromString(1, 3650)) }
export const Analytics = Schema.Struct({ days: Schema.Number, rows: Schema.Array(AnalyticsRow) })

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

export const TransitionsQuery = {
  actor: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(100))),
  after: Schema.optionalKey(WholeFromString(0, Number.MAX_SAFE_INTEGER)),
  limit: Schema.optionalKey(WholeFromString(1, 5000))
}
export const Transitions = Schema.Struct({ rows: Schema.Array(TransitionRowSchema) })

export const StreamQuery = {
  /** For EventSource reconnects that cannot set headers: the same as the Last-Event-ID header. */
  lastEventId: Schema.optionalKey(WholeFromString(0, Number.MAX_SAFE_INTEGER))
}
export const StreamHeaders = { "last-event-id": Schema.optionalKey(WholeFromString(0, Number.MAX_SAFE_INTEGER)) }

// ---- manual buy: the picker and the preview (reads: nothing is placed)

export const StrikesQuery = { optionType: Schema.Literals(["CE", "PE"]) }
export const Strikes = Schema.Struct({
  at: Schema.String,
  spot: Schema.Number,
  /** The engine's premium band for hedges: premium and distance out of the money. */
  band: Schema.Struct({ minPremium: Schema.Number, maxPremium: Schema.Number, minOtmDistance: Schema.Number, maxOtmDistance: Schema.Number }),
  unitLots: Schema.Number,
  lotSize: Schema.Number,
  strikes: Schema.Array(Schema.Struct({ strike: Schema.Number, optionType: Schema.String, ltp: Schema.Number, otmDistance: Schema.Number, inBand: Schema.Boolean }))
})

export const BuyPreviewQuery = {
  strike: Schema.FiniteFromString.check(Schema.isGreaterThan(0)),
  optionType: Schema.Literals(["CE", "PE"]),
  lots: WholeFromString(1, 10_000),
  limitPrice: Schema.optionalKey(Schema.FiniteFromString.check(Schema.isGreaterThan(0)))
}
export const BuyPreviewSchema = Schema.Struct({
  index: Schema.String,
  strike: Schema.Number,
  optionType: Schema.String,
  lots: Schema.Number,
  quantity: Schema.Number,
  ltp: Schema.Number,
  /** The limit the order would go with: the trader's, or the last price plus the engine's buffer. */
  limitPrice: Schema.Number,
  limitGiven: Schema.Boolean,
  cost: Schema.Number,
  spend: Schema.Struct({ cap: Schema.Number, left: Schema.Number, leftAfter: Schema.Number }),
  margin: Schema.Struct({
    at: Schema.String,
    spot: Schema.Number,
    budget: Schema.Number,
    marginNow: Schema.Number,
    marginAfter: Schema.Number,
    /** marginNow − marginAfter: what the hedge frees now. */
    marginSaved: Schema.Number,
    pctNow: Schema.Number,
    pctAfter: Schema.Number,
    nextEntry: Schema.NullOr(Schema.Struct({
      id: Schema.String,
      portfolio: Schema.String,
      at: Schema.String,
      projectedMargin: Schema.Number,
      projectedPct: Schema.Number,
      projectedMarginAfter: Schema.Number,
      projectedPctAfter: Schema.Number,
      marginSaved: Schema.Number
    }))
  })
})

// ---- history: past days from the records

export const HistoryQuery = { days: Schema.optionalKey(WholeFromString(1, 3650)) }
export const History = Schema.Struct({
  /** `records`: the database's days; `live`: only the day this server replays (no database). */
  source: Schema.Literals(["live", "records"]),
  days: Schema.Array(Schema.Struct({ date: Schema.String, dayOfWeek: Schema.String, index: Schema.String, rows: Schema.Array(AnalyticsRow) }))
})
export const HistoryDayQuery = { date: IsoDate }
export const HistoryDay = Schema.Struct({
  date: Schema.String,
  source: Schema.Literals(["live", "records"]),
  /** Every session of the date: each mode and policy. */
  rows: Schema.Array(AnalyticsRow),
  /** For a simulated (recorded) day run under several policies: how each did, best net spend first among those with the fewest breaches; empty otherwise. */
  league: Schema.Array(AnalyticsRow),
  /** The engine's hedge buys and sells that day: of this server's mode, else of the day's simulation. */
  transactions: Schema.Array(Transaction),
  /** The mode of the session the transactions are of (null: no engine session of the date has any). */
  transactionsOf: Schema.NullOr(Schema.String)
})
