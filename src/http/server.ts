// The operator API served over HTTP (effect's HttpApi on Node's http server), plus the inspector page:
// src/inspector/ at `/` and `/assets/`, uPlot from node_modules. Bad input of any kind answers 4xx with
// `{ error, field? }` naming the field and the value; nothing answers with a stack trace.
import { createHash, timingSafeEqual } from "node:crypto"
import { readFile } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { createRequire } from "node:module"
import { extname, join, normalize, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeHttpServer } from "@effect/platform-node"
import { Cause, Duration, Effect, Exit, Layer, Redacted, Result, Schema, Scope, type Types } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiError, HttpApiMiddleware } from "effect/http-api"
import type { CommandRefused, OperatorCommands } from "../commands/operator.ts"
import { operatorPort } from "../commands/operator-port.ts"
import type { ScheduleStore } from "../commands/schedule-store.ts"
import type { SessionPlans } from "../commands/session-plans.ts"
import { MAX_JSON_DEPTH, tooDeepAt } from "../domain/bounded-json.ts"
import { keyPath, schemaProblems } from "../domain/schema-issues.ts"
import { dateOf } from "../domain/time.ts"
import { OperatorApi, OperatorAuth, ReadAuth, RequestErrors } from "./api.ts"
import type { DayView } from "../views/day-view.ts"
import { DayStream } from "./day-stream.ts"
import type { LiveRisk } from "./live-risk.ts"
import { byDate, leagueOf, type DayRecords } from "./records.ts"
import { isoOf } from "../views/day-view.ts"
import { ApiBadRequest, ApiConflict, ApiForbidden, ApiNotFound, ApiUnauthorized, ApiUnavailable } from "./schemas.ts"

export interface OperatorServerOptions {
  readonly host: string
  /** 0: any free port. */
  readonly port: number
  /** The API token (AUTOHEDGE_API_TOKEN); null: the server takes no changes (403). */
  readonly token: string | null
  /** The day's read model: every read of the API is answered from it. */
  readonly view: DayView
  readonly commands: OperatorCommands
  readonly schedule: ScheduleStore
  readonly plans?: SessionPlans | undefined
  /** Past days from the database (the daemon); without them only the live day is known. */
  readonly records?: DayRecords | undefined
  /** The account's risk view (GET /api/risk); without it that answers 503. */
  readonly risk?: LiveRisk | undefined
  /** Market time now (today's date for defaults). */
  readonly now: () => number
  readonly log: (level: "info" | "warn" | "error", message: string) => void
  /** Where the inspector page is (default: src/inspector/ beside this module). */
  readonly inspectorDir?: string | undefined
  /** Host names the `Host` header may carry besides the bound address (AUTOHEDGE_HTTP_ALLOWED_HOSTS). */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** Tighter or looser limits than HTTP_LIMITS (tests). */
  readonly limits?: Partial<HttpLimits> | undefined
}

/** What one client can hold of the server: request size, nesting, connections, time to send headers. */
export interface HttpLimits {
  /** Largest request body (a schedule is a few KiB); larger answers 413. */
  readonly maxBodyBytes: number
  /** Deepest JSON nesting of a body (a schedule needs 6); deeper answers 400 before it is parsed. */
  readonly maxJsonDepth: number
  /** Open connections at once (fifty inspector streams are measured in docs/operator-api.md); more are dropped. */
  readonly maxConnections: number
  /** A connection that has not sent its whole request head (or body) by then is closed. */
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
}

export const HTTP_LIMITS: HttpLimits = {
  maxBodyBytes: 256 * 1024,
  maxJsonDepth: MAX_JSON_DEPTH,
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000
}

/** AUTOHEDGE_HTTP_ALLOWED_HOSTS: comma-separated host names a browser may reach the server by. */
export const allowedHostsFrom = (env: Record<string, string | undefined>): ReadonlyArray<string> =>
  (env.AUTOHEDGE_HTTP_ALLOWED_HOSTS ?? "").split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "")

const WILDCARD = new Set(["0.0.0.0", "::", "[::]"])
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"]

/** The host name of a `Host` header ("127.0.0.1:8787" -> "127.0.0.1", "[::1]:80" -> "[::1]"), or null. */
const hostNameOf = (header: string): string | null => {
  try {
    const url = new URL(`http://${header}`)
    return url.username === "" && url.pathname === "/" && url.search === "" ? url.hostname.toLowerCase() : null
  } catch {
    return null
  }
}

/**
 * Which `Host` headers the server answers: the bound address, its loopback names when it is loopback,
 * and the allow-list. A page of another origin that rebinds its DNS name to this machine sends its own
 * name, and is refused. Bound to every interface (0.0.0.0), any name is taken unless an allow-list is
 * given: every request there needs the token anyway.
 */
const hostCheck = (bound: string, allowed: ReadonlyArray<string>): ((header: string | undefined) => boolean) => {
  const host = bound.toLowerCase()
  if (WILDCARD.has(host) && allowed.length === 0) return () => true
  const names = new Set([host.includes(":") ? `[${host}]` : host, ...allowed.map((a) => a.toLowerCase()), ...(isLoopback(bound) ? LOOPBACK_NAMES : [])])
  return (header) => {
    const name = header === undefined ? null : hostNameOf(header)
    return name !== null && names.has(name)
  }
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"])

export interface OperatorServer {
  /** The page's address, `http://127.0.0.1:8787/`. */
  readonly url: string
  readonly close: () => Promise<void>
}

export class HttpStartFailed extends Error {}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i
export const isLoopback = (host: string): boolean => LOOPBACK.test(host)

/**
 * `--http HOST:PORT` (or `off`): where the operator API listens. A host that is not loopback is taken
 * only when it is written out: then every read needs the token too.
 */
export const parseHttpBind = (spec: string, flag = "--http"): { readonly host: string; readonly port: number } | null => {
  const s = spec.trim()
  if (s === "off") return null
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s)
  const port = m === null ? Number.NaN : Number(m[3])
  if (m === null || !(port >= 0 && port <= 65_535)) throw new Error(`${flag}: expected HOST:PORT (e.g. 127.0.0.1:8787) or off, got ${JSON.stringify(spec)}`)
  return { host: m[1] ?? m[2]!, port }
}

/** AUTOHEDGE_API_TOKEN, checked: long enough to be worth anything. */
export const apiTokenFrom = (env: Record<string, string | undefined>): string | null => {
  const raw = env.AUTOHEDGE_API_TOKEN
  if (raw === undefined || raw.trim() === "") return null
  const token = raw.trim()
  if (token.length < 16) throw new Error(`AUTOHEDGE_API_TOKEN: must be at least 16 characters, got ${token.length}`)
  return token
}

const digest = (s: string) => createHash("sha256").update(s).digest()
const sameToken = (given: string, token: string) => timingSafeEqual(digest(given), digest(token))

/** An error body; a message about a field names it (`hedgeId: no hedge "x" today`). */
const named = (error: string, field?: string) =>
  field === undefined ? { error } : { error: error.toLowerCase().includes(field.toLowerCase()) ? error : `${field}: ${error}`, field }

const refusal = (e: CommandRefused) => {
  const body = named(e.message, e.field)
  switch (e.reason) {
    case "invalid":
      return new ApiBadRequest(body)
    case "notFound":
      return new ApiNotFound(body)
    case "conflict":
      return new ApiConflict(body)
    case "unavailable":
      return new ApiUnavailable(body)
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100

/** A read of the database's records; one that fails answers 503 with why. */
const readRecords = <A>(read: () => Promise<A>) =>
  Effect.tryPromise({ try: read, catch: (e) => new ApiUnavailable({ error: `the records cannot be read: ${e instanceof Error ? e.message : String(e)}` }) })

/** The engine's recorded trades of a date: of the server's own mode, else of the date's simulation. */
const recordedTrades = (records: DayRecords | undefined, date: string, rows: ReadonlyArray<{ readonly mode: string; readonly policy: string }>) =>
  Effect.gen(function*() {
    for (const mode of records === undefined ? [] : [records.mode, "simulation"]) {
      if (!rows.some((r) => r.mode === mode && r.policy === "engine")) continue
      const list = yield* readRecords(() => records!.transactions(date, mode))
      if (list !== null) return { of: mode as string | null, list }
    }
    return { of: null, list: [] }
  })

const accepted = (r: { readonly message: string }) => ({ accepted: true as const, message: r.message })

const abbreviate = (s: string, max = 80) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)

const WHERE: Record<HttpApiError.HttpApiSchemaError["kind"], string> = {
  Payload: "body",
  Query: "query",
  Headers: "header",
  Params: "path",
  Body: "response",
  ResponseHeaders: "response headers"
}

/**
 * A request part that did not decode, as `{ error, field }`: the field, the problem, the value sent.
 * `schema` is the part's own schema: a body is decoded against a union of the endpoint's payloads,
 * whose issue for a wrong literal (`version: 2`) is the whole body; decoding again against the one
 * schema finds the key.
 */
export const describeRequestError = (e: HttpApiError.HttpApiSchemaError, schema?: Schema.Top): { readonly error: string; readonly field?: string } => {
  const root = (e.cause.issue as { readonly input?: unknown }).input
  const where = WHERE[e.kind]
  if (e.kind === "Payload" && root === undefined && e.cause.issue._tag !== "InvalidValue") return { error: "body: empty; send a JSON object", field: "body" }
  const again = schema === undefined || root === undefined ? undefined : Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)(root, { onExcessProperty: "error" })
  const issue = again !== undefined && Result.isFailure(again) ? again.failure.issue : e.cause.issue
  const first = schemaProblems(issue, root)[0]
  if (first === undefined) return { error: `${where}: ${e.cause.message}` }
  const field = keyPath(first.path)
  // The formatter's "got" shows the value after decoding (NaN for "abc"): show what was sent.
  const problem = first.problem.replace(/, got [\s\S]*$/, "")
  const sent = first.value === undefined || problem === "unknown key" ? "" : `, got ${abbreviate(JSON.stringify(first.value) ?? String(first.value))}`
  if (field === "") return { error: `${where}: ${problem}${sent}`, ...(e.kind === "Payload" ? { field: "body" } : {}) }
  return { error: `${e.kind === "Headers" ? `${field} header` : field}: ${problem}${sent}`, field }
}

const STATUS_TEXT: Record<number, string> = { 400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 405: "method not allowed", 406: "not acceptable", 413: "body too large", 415: "unsupported content type" }

const jsonError = (status: number, error: string, field?: string, headers?: Record<string, string>) =>
  HttpServerResponse.jsonUnsafe(field === undefined ? { error } : { error, field }, { status, ...(headers === undefined ? {} : { headers }) })

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json"
}

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>auto-hedge</title></head>
<body><h1>auto-hedge operator API</h1><p>The inspector page is not installed here. The API is described at <a href="openapi.json">openapi.json</a>.</p></body></html>`

export const startOperatorServer = async (o: OperatorServerOptions): Promise<OperatorServer> => {
  const readsOpen = isLoopback(o.host)
  // Off loopback nothing is open: without a token nobody could use it.
  if (!readsOpen && o.token === null) throw new HttpStartFailed(`${o.host}:${o.port}: a non-loopback address needs AUTOHEDGE_API_TOKEN (every request there needs the token)`)
  const inspectorDir = o.inspectorDir ?? fileURLToPath(new URL("../inspector/", import.meta.url))
  const require = createRequire(import.meta.url)
  const vendored: Record<string, string> = {
    "uplot.js": require.resolve("uplot/dist/uPlot.iife.min.js"),
    "uplot.css": require.resolve("uplot/dist/uPlot.min.css")
  }
  const today = () => dateOf(o.now())
  const events = new DayStream(o.view)
  // The API is one front end of the command layer: what it changes and reads goes through the port.
  const port = operatorPort("api", { commands: o.commands, view: o.view, schedule: o.schedule })

  // ---- the API's handlers

  const HedgeReadsLive = HttpApiBuilder.group(OperatorApi, "hedge", (h) =>
    h.handleAll({
      status: () => Effect.promise(() => port.status()),
      day: () => Effect.promise(() => port.day()),
      transactions: ({ query }) =>
        Effect.gen(function*() {
          const date = query.date ?? o.view.sessionInfo()?.date ?? today()
          const live = o.view.transactions(date)
          if (live !== null) return { date, source: "live" as const, transactions: live }
          const records = o.records
          const past = records === undefined ? null : yield* Effect.tryPromise({
            try: () => records.transactions(date),
            catch: (e) => new ApiUnavailable({ error: `the records cannot be read: ${e instanceof Error ? e.message : String(e)}` })
          })
          if (past === null) {
            return yield* new ApiNotFound(named(`no session on ${date}${records === undefined ? " (this server knows only the day it replays)" : " in the records"}`, "date"))
          }
          return { date, source: "records" as const, transactions: past }
        }),
      schedule: () => Effect.sync(() => port.schedule()),
      analytics: ({ query }) =>
        Effect.gen(function*() {
          const days = query.days ?? 30
          const records = o.records
          if (records === undefined) {
            const row = o.view.analyticsRow()
            return { days, rows: row === null ? [] : [row] }
          }
          const rows = yield* Effect.tryPromise({
            try: () => records.analytics(days),
            catch: (e) => new ApiUnavailable({ error: `the records cannot be read: ${e instanceof Error ? e.message : String(e)}` })
          })
          return { days, rows }
        }),
      history: ({ query }) =>
        Effect.gen(function*() {
          const records = o.records
          if (records === undefined) {
            const row = o.view.analyticsRow()
            return { source: "live" as const, days: byDate(row === null ? [] : [row]) }
          }
          const rows = yield* readRecords(() => records.analytics(query.days ?? 30))
          return { source: "records" as const, days: byDate(rows) }
        }),
      historyDay: ({ query }) =>
        Effect.gen(function*() {
          const { date } = query
          const records = o.records
          const liveRow = o.view.analyticsRow()
          const rows = records === undefined ? (liveRow?.sessionDate === date ? [liveRow] : []) : yield* readRecords(() => records.analyticsOn(date))
          if (rows.length === 0) {
            return yield* new ApiNotFound(named(`no session on ${date}${records === undefined ? " (this server knows only the day it replays)" : " in the records"}`, "date"))
          }
          // The engine's trades: the running day's live, else recorded (this server's mode, else the date's simulation).
          const liveTrades = o.view.transactions(date)
          const trades = liveTrades !== null ? { of: liveRow?.mode ?? null, list: liveTrades } : yield* recordedTrades(records, date, rows)
          return {
            date,
            source: records === undefined ? ("live" as const) : ("records" as const),
            rows,
            league: leagueOf(rows),
            transactions: trades.list,
            transactionsOf: trades.of
          }
        }),
      buyStrikes: ({ query }) => port.buyStrikes(query.optionType).pipe(Effect.map((c) => ({ ...c, at: isoOf(c.at) })), Effect.mapError(refusal)),
      buyPreview: ({ query }) =>
        port.previewBuy(query).pipe(
          Effect.map((p) => {
            const m = p.margin
            const next = m.nextEntry
            return {
              ...p,
              margin: {
                ...m,
                at: isoOf(m.at),
                marginSaved: round2(m.marginNow - m.marginAfter),
                nextEntry: next === null ? null : { ...next, at: isoOf(next.at), marginSaved: round2(next.projectedMargin - next.projectedMarginAfter) }
              }
            }
          }),
          Effect.mapError(refusal)
        ),
      session: () =>
        Effect.sync(() => ({
          current: o.view.sessionInfo(),
          planned: (o.plans?.from(today()) ?? []).map((p) => ({
            date: p.date,
            baskets: p.baskets ?? null,
            budgetPerBasket: p.budgetPerBasket ?? null,
            autoHedgeEnabled: p.autoHedgeEnabled ?? null
          }))
        })),
      risk: ({ query }) =>
        o.risk === undefined
          ? Effect.fail(new ApiUnavailable({ error: "this server has no risk view" }))
          : o.risk.view(query.confidence).pipe(Effect.mapError((e) => new ApiUnavailable({ error: `the risk view: ${e.message}` })))
    })
  )

  const OperatorChangesLive = HttpApiBuilder.group(OperatorApi, "operator", (h) =>
    h.handleAll({
      toggle: ({ payload }) => port.setAutoHedge(payload.enabled, payload.reason).pipe(Effect.map(accepted), Effect.mapError(refusal)),
      manualBuy: ({ payload }) => port.buyHedge(payload).pipe(Effect.map(accepted), Effect.mapError(refusal)),
      manualExit: ({ payload }) => port.exitHedge(payload.hedgeId).pipe(Effect.map(accepted), Effect.mapError(refusal)),
      hedgeNow: () => port.hedgeNow().pipe(Effect.map(accepted), Effect.mapError(refusal)),
      putSchedule: ({ payload }) => port.putSchedule(payload).pipe(Effect.map(accepted), Effect.mapError(refusal)),
      openSession: ({ payload }) => port.openSession(payload).pipe(Effect.map(accepted), Effect.mapError(refusal))
    })
  )

  const InspectorReadsLive = HttpApiBuilder.group(OperatorApi, "inspector", (h) =>
    h.handleAll({
      actors: () => Effect.sync(() => o.view.actorsView()),
      transitions: ({ query }) => Effect.sync(() => ({ rows: o.view.transitions(query) })),
      utilisation: () => Effect.sync(() => o.view.utilisation()),
      stream: ({ query, headers }) =>
        Effect.sync(() =>
          HttpServerResponse.stream(events.stream(headers["last-event-id"] ?? query.lastEventId ?? null), {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          })
        )
    })
  )

  // ---- who may ask

  const tokenMissing = new ApiUnauthorized({ error: "missing bearer token: send Authorization: Bearer <AUTOHEDGE_API_TOKEN>", field: "authorization" })
  const tokenWrong = new ApiUnauthorized({ error: "wrong bearer token in Authorization", field: "authorization" })
  const check = (given: string) => {
    if (o.token === null) return Effect.fail(new ApiForbidden({ error: "this server has no API token (AUTOHEDGE_API_TOKEN is unset): it takes no changes" }))
    if (given === "") return Effect.fail(tokenMissing)
    return sameToken(given, o.token) ? Effect.void : Effect.fail(tokenWrong)
  }
  const OperatorAuthLive = Layer.succeed(OperatorAuth)({
    bearer: (effect, { credential }) => Effect.andThen(check(Redacted.value(credential)), effect)
  })
  const readCheck = (given: string) =>
    readsOpen
      ? Effect.void
      : Effect.mapError(check(given), () => new ApiUnauthorized({ error: "reads on this server need the token: Authorization: Bearer <AUTOHEDGE_API_TOKEN>, or ?token= for a stream", field: "authorization" }))
  const ReadAuthLive = Layer.succeed(ReadAuth)({
    bearer: (effect, { credential }) => Effect.andThen(readCheck(Redacted.value(credential)), effect),
    // Only a stream takes `?token=` (EventSource cannot send headers): a token in an address ends up in
    // logs and histories, so no other read accepts one.
    query: (effect, { credential, endpoint }) => Effect.andThen(readCheck(endpoint.identifier === "stream" ? Redacted.value(credential) : ""), effect)
  })
  const RequestErrorsLive = HttpApiMiddleware.layerSchemaErrorTransform(RequestErrors, (e, { endpoint }) =>
    // A response that does not encode is the server's own fault: it stays a 500.
    e.kind === "Body" || e.kind === "ResponseHeaders"
      ? Effect.fail(e)
      : Effect.fail(new ApiBadRequest(describeRequestError(e, e.kind === "Payload" ? [...endpoint.payload.values()][0]?.schemas[0] : undefined)))
  )

  const ApiLive = HttpApiBuilder.layer(OperatorApi, { openapiPath: "/openapi.json" }).pipe(
    Layer.provide([HedgeReadsLive, OperatorChangesLive, InspectorReadsLive]),
    Layer.provide([OperatorAuthLive, ReadAuthLive, RequestErrorsLive])
  )

  // ---- the page

  const file = (path: string) =>
    Effect.tryPromise({ try: () => readFile(path), catch: () => null }).pipe(
      Effect.map((bytes) => HttpServerResponse.uint8Array(bytes, { contentType: CONTENT_TYPES[extname(path)] ?? "application/octet-stream", headers: { "cache-control": "no-cache" } }))
    )
  const PageLive = Layer.mergeAll(
    HttpRouter.add("GET", "/", file(join(inspectorDir, "index.html")).pipe(Effect.catch(() => Effect.succeed(HttpServerResponse.html(PLACEHOLDER))))),
    HttpRouter.add(
      "GET",
      "/assets/*",
      Effect.gen(function*() {
        const { params } = yield* HttpRouter.RouteContext
        const name = decodeURIComponent(params["*"] ?? "")
        const path = vendored[name] ?? normalize(join(inspectorDir, name))
        // Nothing outside the inspector's folder, whatever the path says.
        if (vendored[name] === undefined && (name === "" || !path.startsWith(normalize(inspectorDir + sep)))) return jsonError(404, `no asset ${JSON.stringify(name)}`)
        return yield* file(path).pipe(Effect.catch(() => Effect.succeed(jsonError(404, `no asset ${JSON.stringify(name)}`))))
      }).pipe(Effect.catchDefect(() => Effect.succeed(jsonError(400, "malformed asset path"))))
    )
  )

  // ---- whatever escapes the API's own errors still answers { error, field? }

  const known = knownRoutes()
  const errorsAsJson = (effect: Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled>): Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      effect.pipe(
        Effect.map((response) => (response.status >= 400 && !isJson(response) ? plainToJson(response, request) : response)),
        Effect.catchCause((cause) => {
          if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
          return Effect.map(HttpServerError.causeResponse(cause), ([response]) => {
            const answer = describeCause(cause, response.status, request, known)
            if (answer.status >= 500) o.log("error", `${request.method} ${request.url}: ${Cause.pretty(cause).split("\n")[0]}`)
            return jsonError(answer.status, answer.error, answer.field, answer.headers)
          })
        })
      )
    ) as Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled>
  const ErrorsAsJson = HttpRouter.middleware(errorsAsJson, { global: true })

  // ---- what any request must be before anything reads it: for this host, small and shallow

  const limits: HttpLimits = { ...HTTP_LIMITS, ...o.limits }
  const hostAllowed = hostCheck(o.host, o.allowedHosts ?? [])
  // Answered before the body is read: the connection is closed after, so no client reuses it mid-body.
  const unread = { connection: "close" }
  const tooLarge = jsonError(413, `body: larger than ${limits.maxBodyBytes} bytes`, "body", unread)
  const guard = (effect: Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled>): Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const host = request.headers.host
      if (!hostAllowed(host)) {
        const allowed = o.allowedHosts === undefined || o.allowedHosts.length === 0 ? "" : " or AUTOHEDGE_HTTP_ALLOWED_HOSTS"
        return Effect.succeed(jsonError(403, `host: ${JSON.stringify(host ?? "")} is not this server's address (${o.host}${allowed}); reach it by that name`, "host", unread))
      }
      if (!BODY_METHODS.has(request.method)) return effect
      const length = Number(request.headers["content-length"] ?? 0)
      if (length > limits.maxBodyBytes) return Effect.succeed(tooLarge)
      // The body read here is kept by the request: the API's decoder reads the same text.
      return request.text.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, BigInt(limits.maxBodyBytes) as never),
        Effect.matchEffect({
          onFailure: () => Effect.succeed(tooLarge),
          onSuccess: (text) => {
            const at = tooDeepAt(text, limits.maxJsonDepth)
            return at < 0 ? effect : Effect.succeed(jsonError(400, `body: JSON nested deeper than ${limits.maxJsonDepth} levels (at character ${at})`, "body"))
          }
        })
      )
    }) as Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled>
  const Guard = HttpRouter.middleware(guard, { global: true })

  // Timeouts are checked every second (Node's default is every 30 s) so a half-open connection goes soon.
  const server: Server = createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 })
  server.maxConnections = limits.maxConnections
  // Node times out a request head only once one has begun: a connection that sends nothing would stay.
  // Until its first request arrives, a connection has the head's time limit; a stream, once asked, none.
  server.on("connection", (socket) => socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy()))
  server.on("request", (request: { readonly socket: { setTimeout: (ms: number) => void } }) => request.socket.setTimeout(0))
  const ServerLive = HttpRouter.serve(Layer.mergeAll(ApiLive, PageLive, Guard, ErrorsAsJson), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(NodeHttpServer.layer(() => server, { host: o.host, port: o.port, gracefulShutdownTimeout: Duration.seconds(1) }))
  )
  const scope = Scope.makeUnsafe()
  const started = await Effect.runPromiseExit(Layer.buildWithScope(ServerLive, scope))
  if (Exit.isFailure(started)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const cause = Cause.squash(started.cause) as { cause?: { code?: string; message?: string }; message?: string }
    const reason = cause.cause?.code === "EADDRINUSE" ? "the address is in use" : cause.cause?.code === "EADDRNOTAVAIL" ? "no such address on this machine" : (cause.cause?.message ?? cause.message ?? "cannot listen")
    throw new HttpStartFailed(`${o.host}:${o.port}: ${reason}`)
  }
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  let closing: Promise<void> | null = null
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      (closing ??= (async () => {
        // Streams end first, so the server's graceful close does not wait on them.
        events.close()
        const force = setTimeout(() => server.closeAllConnections(), 250)
        await Effect.runPromise(Scope.close(scope, Exit.void))
        clearTimeout(force)
        server.closeAllConnections()
      })())
  }
}

const isJson = (response: HttpServerResponse.HttpServerResponse) => {
  const body = response.body as { readonly contentType?: string; readonly _tag: string }
  return (body.contentType ?? response.headers["content-type"] ?? "").includes("json")
}

/** Every API path with its methods: a path asked with another method answers 405, not 404. */
const knownRoutes = (): ReadonlyMap<string, ReadonlyArray<string>> => {
  const routes = new Map<string, Array<string>>()
  for (const group of Object.values(OperatorApi.groups)) {
    for (const endpoint of Object.values(group.endpoints)) routes.set(endpoint.path, [...(routes.get(endpoint.path) ?? []), endpoint.method])
  }
  routes.set("/openapi.json", ["GET"])
  return routes
}

const pathOf = (url: string) => url.split("?")[0] ?? url

/** A response some layer made without a body we own (415 from the body decoder, an empty 413). */
const plainToJson = (response: HttpServerResponse.HttpServerResponse, request: HttpServerRequest.HttpServerRequest) => {
  if (response.status === 415) {
    const sent = request.headers["content-type"] ?? ""
    return jsonError(415, `unsupported content type ${JSON.stringify(sent)}: send the body as JSON (Content-Type: application/json)`, "content-type")
  }
  return jsonError(response.status, `${request.method} ${pathOf(request.url)}: ${STATUS_TEXT[response.status] ?? `HTTP ${response.status}`}`)
}

const describeCause = (
  cause: Cause.Cause<unknown>,
  status: number,
  request: HttpServerRequest.HttpServerRequest,
  known: ReadonlyMap<string, ReadonlyArray<string>>
): { readonly status: number; readonly error: string; readonly field?: string; readonly headers?: Record<string, string> } => {
  const failure = Cause.squash(cause)
  const path = pathOf(request.url)
  if (HttpServerError.isHttpServerError(failure)) {
    const reason = failure.reason
    if (reason._tag === "RouteNotFound") {
      const methods = known.get(path)
      if (methods !== undefined) return { status: 405, error: `method ${request.method} is not allowed on ${path} (it takes ${methods.join(" or ")})`, field: "method", headers: { allow: methods.join(", ") } }
      return { status: 404, error: `no such endpoint: ${request.method} ${path}` }
    }
    if (reason._tag === "RequestParseError") return { status, error: status === 413 ? "the body is too large" : "the body could not be read" }
  }
  if (HttpApiError.HttpApiSchemaError.is(failure) && status < 500) return { status, ...describeRequestError(failure) }
  if (status < 500) return { status, error: `${request.method} ${path}: ${STATUS_TEXT[status] ?? `HTTP ${status}`}` }
  return { status, error: "internal error while answering this request (the server's log has the details)" }
}
