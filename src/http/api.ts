// The operator API as a contract (effect's HttpApi): every endpoint with the schema of its request and
// of each of its answers; the server (server.ts) implements it and /openapi.json is generated from it.
// Reads are open on a loopback server (elsewhere they need the token too); every change needs the
// bearer token (AUTOHEDGE_API_TOKEN).
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "effect/http-api"
import {
  Accepted,
  Actors,
  Analytics,
  Day,
  AnalyticsQuery,
  BuyPreviewQuery,
  BuyPreviewSchema,
  History,
  HistoryDay,
  HistoryDayQuery,
  HistoryQuery,
  Strikes,
  StrikesQuery,
  ApiBadRequest,
  ApiConflict,
  ApiForbidden,
  ApiNotFound,
  ApiUnauthorized,
  ApiUnavailable,
  ManualBuyPayload,
  ManualExitPayload,
  ScheduleSchema,
  SessionPayload,
  Sessions,
  Status,
  StreamHeaders,
  StreamQuery,
  TogglePayload,
  Transactions,
  TransactionsQuery,
  Transitions,
  TransitionsQuery,
  Utilisation
} from "./schemas.ts"
import { RiskViewSchema } from "../domain/risk.ts"

/** `?confidence=0.99`: the VaR's confidence, above 0.5 and below 1. */
const RiskQuery = { confidence: Schema.optionalKey(Schema.FiniteFromString.check(Schema.isGreaterThan(0.5), Schema.isLessThan(1))) }

/** Changes: the bearer token, always. */
export class OperatorAuth extends HttpApiMiddleware.Service<OperatorAuth>()("autohedge/OperatorAuth", {
  security: { bearer: HttpApiSecurity.bearer },
  error: [ApiUnauthorized, ApiForbidden]
}) {}

/** Reads: open on loopback; elsewhere the bearer token, or `?token=` where no header can be set (EventSource). */
export class ReadAuth extends HttpApiMiddleware.Service<ReadAuth>()("autohedge/ReadAuth", {
  security: { bearer: HttpApiSecurity.bearer, query: HttpApiSecurity.apiKey({ key: "token", in: "query" }) },
  error: ApiUnauthorized
}) {}

/** A request that does not decode answers 400 with the field and the value, in the API's error shape. */
export class RequestErrors extends HttpApiMiddleware.Service<RequestErrors>()("autohedge/RequestErrors", {
  error: ApiBadRequest
}) {}

export class HedgeReads extends HttpApiGroup.make("hedge")
  .add(
    HttpApiEndpoint.get("status", "/api/hedge/status", { success: Status }).annotate(OpenApi.Description, "The day at a glance: session, utilisation now and projected, next entry, active hedges, spend, cooldown"),
    HttpApiEndpoint.get("day", "/api/hedge/day", { success: Day }).annotate(
      OpenApi.Description,
      "The day at a glance: the status, the entries with their states in words, the hedges held and closed (with their P&L), the alerts and operator commands as one feed, and the day's summary"
    ),
    HttpApiEndpoint.get("transactions", "/api/hedge/transactions", { query: TransactionsQuery, success: Transactions, error: ApiNotFound }).annotate(
      OpenApi.Description,
      "Hedge buys and sells of a date (default: the running day)"
    ),
    HttpApiEndpoint.get("schedule", "/api/hedge/schedule", { success: ScheduleSchema }).annotate(OpenApi.Description, "The weekly schedule the days are planned from"),
    HttpApiEndpoint.get("analytics", "/api/hedge/analytics", { query: AnalyticsQuery, success: Analytics, error: ApiUnavailable }).annotate(
      OpenApi.Description,
      "Cost, recovered and peak utilisation per day, over the last `days` session dates (default 30)"
    ),
    HttpApiEndpoint.get("history", "/api/hedge/history", { query: HistoryQuery, success: History, error: ApiUnavailable }).annotate(
      OpenApi.Description,
      "Past days, newest first, over the last `days` session dates (default 30): each date's sessions (mode and policy) with hedges, spend, peak utilisation and breaches"
    ),
    HttpApiEndpoint.get("historyDay", "/api/hedge/history/day", { query: HistoryDayQuery, success: HistoryDay, error: [ApiNotFound, ApiUnavailable] }).annotate(
      OpenApi.Description,
      "One past day: its sessions, the policy league when the day was simulated under several policies, and the engine's hedge transactions"
    ),
    HttpApiEndpoint.get("buyStrikes", "/api/hedge/manual/strikes", { query: StrikesQuery, success: Strikes, error: [ApiConflict, ApiUnavailable] }).annotate(
      OpenApi.Description,
      "The chain's out-of-the-money strikes of one side near the engine's premium band, with their last prices: what a manual buy is picked from"
    ),
    HttpApiEndpoint.get("buyPreview", "/api/hedge/manual/preview", { query: BuyPreviewQuery, success: BuyPreviewSchema, error: [ApiBadRequest, ApiConflict, ApiUnavailable] }).annotate(
      OpenApi.Description,
      "What a manual buy would do, placing nothing: its limit and cost, the spend cap left before and after, and utilisation now and at the next entry without and with it (the engine's projection). Refused for the same reasons as the buy."
    ),
    HttpApiEndpoint.get("session", "/api/hedge/session", { success: Sessions }).annotate(OpenApi.Description, "The running session, and coming days set up by the operator"),
    HttpApiEndpoint.get("risk", "/api/risk", { query: RiskQuery, success: RiskViewSchema, error: ApiUnavailable }).annotate(
      OpenApi.Description,
      "The account's risk now (docs/risk.md): greeks per leg and in total (rupees), the spot × IV stress grid with P&L and SPAN margin, one-day VaR at `confidence` (default 0.99; parametric; historical needs the CLI's recorded days)"
    )
  )
  .middleware(ReadAuth) {}

export class OperatorChanges extends HttpApiGroup.make("operator")
  .add(
    HttpApiEndpoint.post("toggle", "/api/hedge/toggle", { payload: TogglePayload, success: Accepted, error: ApiConflict }).annotate(
      OpenApi.Description,
      "Switch auto-hedge on or off for the rest of the day (from the next market instant)"
    ),
    HttpApiEndpoint.post("manualBuy", "/api/hedge/manual/buy", { payload: ManualBuyPayload, success: Accepted, error: [ApiConflict, ApiBadRequest] }).annotate(
      OpenApi.Description,
      "Buy a hedge by hand (held to the day's spend cap); the engine's exit review leaves it to you"
    ),
    HttpApiEndpoint.post("manualExit", "/api/hedge/manual/exit", { payload: ManualExitPayload, success: Accepted, error: [ApiNotFound, ApiConflict] }).annotate(
      OpenApi.Description,
      "Sell an open hedge at the next market instant"
    ),
    HttpApiEndpoint.post("hedgeNow", "/api/hedge/now", { success: Accepted, error: ApiConflict }).annotate(
      OpenApi.Description,
      "Hedge now: the next entry still to come decides at the next market instant (projects; selects and buys if it needs hedges), whatever its look-ahead time"
    ),
    HttpApiEndpoint.put("putSchedule", "/api/hedge/schedule", { payload: ScheduleSchema, success: Accepted, error: [ApiBadRequest, ApiUnavailable] }).annotate(
      OpenApi.Description,
      "Replace the weekly schedule (written atomically; applies from the next day set up)"
    ),
    HttpApiEndpoint.post("openSession", "/api/hedge/session", { payload: SessionPayload, success: Accepted, error: [ApiBadRequest, ApiConflict] }).annotate(
      OpenApi.Description,
      "Set up a coming day's session: baskets, budget per basket, auto-hedge at the start"
    )
  )
  .middleware(OperatorAuth) {}

export class InspectorReads extends HttpApiGroup.make("inspector")
  .add(
    HttpApiEndpoint.get("actors", "/api/inspector/actors", { success: Actors }).annotate(OpenApi.Description, "Every actor of the day (finished ones too): state, since when, and what it holds"),
    HttpApiEndpoint.get("transitions", "/api/inspector/transitions", { query: TransitionsQuery, success: Transitions }).annotate(
      OpenApi.Description,
      "The day's transition rows in seq order: after `after`, of one `actor`, at most `limit` (default 500)"
    ),
    HttpApiEndpoint.get("utilisation", "/api/inspector/utilisation", { success: Utilisation }).annotate(OpenApi.Description, "Utilisation at the end of every instant, the thresholds, and the hedge trades"),
    HttpApiEndpoint.get("stream", "/api/inspector/stream", {
      query: StreamQuery,
      headers: StreamHeaders,
      success: HttpApiSchema.StreamUint8Array({ contentType: "text/event-stream" })
    }).annotate(
      OpenApi.Description,
      "Server-Sent Events: `event: transition` (`id:` the row's seq, `data:` the row) for every transition as it is recorded, and `event: utilisation` (`data: {at, pct, spot}`) at every instant. Resumes after the Last-Event-ID header (or `?lastEventId=`); without one it starts at the current end of the day's log (`lastEventId=0`: the whole day)."
    )
  )
  .middleware(ReadAuth) {}

export class OperatorApi extends HttpApi.make("auto-hedge")
  .add(HedgeReads, OperatorChanges, InspectorReads)
  .middleware(RequestErrors)
  // An unknown key in a body is refused (a typo is named, not ignored); reported values name what was sent.
  .annotate(HttpApi.PayloadParseOptions, { onExcessProperty: "error", reportInput: true })
  .annotate(HttpApi.QueryParseOptions, { reportInput: true })
  .annotate(HttpApi.HeadersParseOptions, { reportInput: true })
  .annotateMerge(OpenApi.annotations({ title: "auto-hedge operator API", version: "1", description: "Operate and inspect the auto-hedge engine's trading day. Errors are `{ error, field? }`." })) {}
