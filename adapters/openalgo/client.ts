// OpenAlgo's REST API as typed effects: every call is one POST with the key in the JSON body, every
// reply is decoded with Schema, and every failure becomes one OpenAlgoError whose message names the
// endpoint, the HTTP status and OpenAlgo's own message (never the key). Every route has its own rate
// window, as OpenAlgo counts them (per route and per IP); reads are retried with bounded backoff, or
// after the `retry_after` a 429 names; order sends are never retried.
//
// HTTP runs on effect's FetchHttpClient (Node's built-in fetch): it ships with `effect` itself, so the
// adapter needs nothing from @effect/platform-node, and it aborts the request when a timeout
// interrupts it, so a timed-out call does not linger on the socket.
import { Clock, Effect, Predicate, Redacted, Result, Schedule, Schema, SchemaTransformation, Semaphore } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import type { IndexName } from "../../src/domain/market.ts"
import { keyPath, schemaProblems } from "../../src/domain/schema-issues.ts"
import { optionsExchange } from "./symbols.ts"

// ---- Config

export interface OpenAlgoConfig {
  /** OpenAlgo's API root, e.g. "http://127.0.0.1:5000/api/v1". */
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  /** The `strategy` label sent with every order. Default "auto-hedge". */
  readonly strategy?: string
  readonly index: IndexName
  /** The session's expiry, "YYYY-MM-DD". */
  readonly expiry: string
  /** Where the index's options trade. Default NFO for NIFTY, BFO for SENSEX. */
  readonly exchange?: "NFO" | "BFO"
  /** Per request, milliseconds. Default 5000 for reads, 8000 for order sends. */
  readonly timeouts?: { readonly readMs?: number; readonly sendMs?: number }
  /** Strikes each side of ATM in a snapshot's chain. Default 20. */
  readonly strikeCount?: number
  /** Retries of a read after a 429, a 5xx or no answer; the delay doubles from baseDelayMs. Default 3 from 200 ms. */
  readonly retry?: { readonly times?: number; readonly baseDelayMs?: number }
  /** Requests per second on each route. Default OpenAlgo's own when its env leaves them unset (see RATE_LIMIT_DEFAULTS). */
  readonly rateLimits?: { readonly ordersPerSecond?: number; readonly dataPerSecond?: number; readonly marginPerSecond?: number }
  /**
   * The exchange's published freeze quantity of the index (config/instruments.json): used when OpenAlgo
   * has none (it seeds NSE's list only and answers `freeze_qty: 1` for anything else, e.g. BFO).
   */
  readonly freezeLimit?: number
}

/**
 * OpenAlgo's limits when its .env leaves them unset (the `os.getenv` fallbacks in restx_api/*.py):
 * ORDER_RATE_LIMIT "10 per second" on order routes, API_RATE_LIMIT "10 per second" on the others,
 * except /margin, whose fallback is "50 per second". Each is counted per route and per client IP in a
 * moving window (limiter.py: Flask-Limiter, strategy "moving-window").
 */
export const RATE_LIMIT_DEFAULTS = { ordersPerSecond: 10, dataPerSecond: 10, marginPerSecond: 50 } as const

export interface OpenAlgoSettings {
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly strategy: string
  readonly index: IndexName
  readonly expiry: string
  readonly exchange: "NFO" | "BFO"
  readonly readTimeoutMs: number
  readonly sendTimeoutMs: number
  readonly strikeCount: number
  readonly retryTimes: number
  readonly retryBaseDelayMs: number
  readonly ordersPerSecond: number
  readonly dataPerSecond: number
  readonly marginPerSecond: number
  readonly freezeLimit: number | null
}

export const openAlgoSettings = (config: OpenAlgoConfig): OpenAlgoSettings => ({
  baseUrl: config.baseUrl.replace(/\/+$/, ""),
  apiKey: config.apiKey,
  strategy: config.strategy ?? "auto-hedge",
  index: config.index,
  expiry: config.expiry,
  exchange: config.exchange ?? optionsExchange(config.index),
  readTimeoutMs: config.timeouts?.readMs ?? 5000,
  sendTimeoutMs: config.timeouts?.sendMs ?? 8000,
  strikeCount: config.strikeCount ?? 20,
  retryTimes: config.retry?.times ?? 3,
  retryBaseDelayMs: config.retry?.baseDelayMs ?? 200,
  ordersPerSecond: config.rateLimits?.ordersPerSecond ?? RATE_LIMIT_DEFAULTS.ordersPerSecond,
  dataPerSecond: config.rateLimits?.dataPerSecond ?? RATE_LIMIT_DEFAULTS.dataPerSecond,
  marginPerSecond: config.rateLimits?.marginPerSecond ?? RATE_LIMIT_DEFAULTS.marginPerSecond,
  freezeLimit: config.freezeLimit ?? null
})

// ---- Errors

/**
 * A call that did not give a usable reply. `answered`: OpenAlgo replied with an error (status and its
 * message); `timeout` / `transport`: no reply (a send may have reached the broker); `badReply`: a
 * reply that does not read as documented.
 */
export class OpenAlgoError extends Schema.TaggedError<OpenAlgoError>()("OpenAlgoError", {
  endpoint: Schema.String,
  kind: Schema.Literals(["answered", "timeout", "transport", "badReply"]),
  status: Schema.NullOr(Schema.Number),
  message: Schema.String,
  /** A 429's `retry_after` (OpenAlgo's app-level handler), milliseconds. */
  retryAfterMs: Schema.optionalKey(Schema.Number)
}) {}

/** Worth asking again (for a read): rate limited, a server error other than 501 (the broker lacks the call), or no answer. */
export const isTransient = (e: OpenAlgoError): boolean =>
  e.kind === "timeout" || e.kind === "transport" || (e.kind === "answered" && (e.status === 429 || ((e.status ?? 0) >= 500 && e.status !== 501)))

// OpenAlgo's error body: `message` is a string (possibly a Python repr of a dict) or a {field: [errors]}
// object; the options endpoints add `errors`; an unknown path adds `path`. A 429 may carry only `message`.
const ErrorBody = Schema.Struct({
  message: Schema.optionalKey(Schema.Union([Schema.String, Schema.Record(Schema.String, Schema.Unknown)])),
  errors: Schema.optionalKey(Schema.Unknown),
  path: Schema.optionalKey(Schema.String)
})

const clip = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max)}…` : text)

/** {"quantity": ["Missing data"], "legs": {"0": {"offset": ["bad"]}}} -> "quantity: Missing data; legs.0.offset: bad" */
const describeFields = (value: unknown, path = ""): string => {
  if (typeof value === "string") return path === "" ? value : `${path}: ${value}`
  if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null)) {
    return `${path === "" ? "" : `${path}: `}${value.map(String).join(", ")}`
  }
  if (Predicate.isObject(value)) {
    return Object.entries(value).map(([k, v]) => describeFields(v, path === "" ? k : `${path}.${k}`)).join("; ")
  }
  return `${path === "" ? "" : `${path}: `}${JSON.stringify(value)}`
}

/** OpenAlgo's message out of an error reply of any documented shape (or the raw text when it has none). */
export const errorDetail = (text: string): string => {
  const decoded = Schema.decodeUnknownResult(ErrorBody)(parseJson(text))
  if (Result.isFailure(decoded) || (decoded.success.message === undefined && decoded.success.errors === undefined)) {
    const raw = text.trim()
    return raw === "" ? "(empty body)" : clip(raw)
  }
  const { message, errors, path } = decoded.success
  const parts = [message, errors].filter((p) => p !== undefined).map((p) => describeFields(p))
  if (path !== undefined) parts.push(`path ${path}`)
  return clip(parts.join(": "), 400)
}

/** The seconds a 429 body's `retry_after` asks to wait, as milliseconds; undefined when it names none. */
export const retryAfterMsOf = (text: string): number | undefined => {
  const body = parseJson(text)
  const value = Predicate.isObject(body) ? (body as { retry_after?: unknown }).retry_after : undefined
  const seconds = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** "data.orderid = 123: expected string, got 123; data.utiliseddebits: missing" */
const describeDecodeFailure = (issue: Schema.SchemaError["issue"], root: unknown): string =>
  schemaProblems(issue, root)
    .map((p) => {
      const field = p.path.length === 0 ? "reply" : keyPath(p.path)
      return p.value === undefined ? `${field}: missing` : `${field} = ${clip(JSON.stringify(p.value), 80)}: ${p.problem}`
    })
    .join("; ")

// ---- Replies

/** A number, or a string holding one: OpenAlgo's numbers come both ways (broker, live vs sandbox). */
export const Numeric = Schema.Union([
  Schema.Finite,
  Schema.String.check(Schema.isTrimmed(), Schema.isMinLength(1)).pipe(Schema.decodeTo(Schema.Finite, SchemaTransformation.numberFromString))
])

/** Decode a reply; a mismatch names each field, the value found and what was expected. */
export const decodeReply = <A>(endpoint: string, status: number, schema: Schema.Decoder<A>, json: unknown): Result.Result<A, string> =>
  Result.mapError(Schema.decodeUnknownResult(schema)(json, { errors: "all" }), (e) => `${endpoint}: HTTP ${status}: unexpected reply: ${describeDecodeFailure(e.issue, json)}`)

// ---- Rate limiting

export interface RateLimiter {
  /** Run a request within the limit, waiting for a free slot first. */
  readonly limit: <A, E, R>(request: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Hold every request back until `ms` from now (a 429 that names its `retry_after`). */
  readonly pauseFor: (ms: number) => Effect.Effect<void>
}

/**
 * At most `limit` requests in any `windowMs` as the server counts them: `limit` permits, each handed
 * back one window after its request has finished. The server counts a request between our send and
 * its reply, so the next request on that permit reaches it at least a window later, whatever the
 * network or the server's own queueing delays. OpenAlgo counts with a moving window (Flask-Limiter);
 * a token bucket (effect/persistence RateLimiter, refilled at window/limit) lets limit+1 requests into
 * one moving window after a burst, and counting from our send times lets delayed arrivals bunch up.
 * A request waits exactly until a permit comes back (or a pause ends); nothing sleeps on a fixed schedule.
 */
export const makeRateLimiter = (limit: number, windowMs: number): Effect.Effect<RateLimiter> => Effect.sync(() => makeRateLimiterUnsafe(limit, windowMs))

const makeRateLimiterUnsafe = (limit: number, windowMs: number): RateLimiter => {
  const permits = Semaphore.makeUnsafe(limit)
  let pausedUntil = 0
  const giveBackLater = Effect.asVoid(Effect.forkDetach(Effect.delay(permits.release(1), windowMs)))
  const waitOutPause = Effect.flatMap(Clock.currentTimeMillis, (now) => (pausedUntil > now ? Effect.sleep(pausedUntil - now) : Effect.void))
  return {
    limit: (request) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(Effect.andThen(waitOutPause, permits.take(1))), () => Effect.ensuring(restore(request), giveBackLater))
      ),
    pauseFor: (ms) => Effect.map(Clock.currentTimeMillis, (now) => void (pausedUntil = Math.max(pausedUntil, now + ms)))
  }
}

// OpenAlgo's limits are "N per 1 second"; a few ms more keeps an exact-second gap off the boundary.
const WINDOW_MS = 1010

// ---- The client

export type SendEndpoint = "/placeorder" | "/cancelorder"
export type ReadEndpoint =
  | "/orderstatus"
  | "/orderbook"
  | "/tradebook"
  | "/positionbook"
  | "/funds"
  | "/optionchain"
  | "/quotes"
  | "/symbol"
  | "/expiry"
  | "/margin"
  | "/analyzer"
  | "/market/holidays"

const ORDER_ROUTES: ReadonlyArray<string> = ["/placeorder", "/cancelorder", "/modifyorder"]

/** The requests per second OpenAlgo allows on a route (each route is counted on its own). */
export const routeLimit = (endpoint: string, settings: Pick<OpenAlgoSettings, "ordersPerSecond" | "dataPerSecond" | "marginPerSecond">): number =>
  ORDER_ROUTES.includes(endpoint) ? settings.ordersPerSecond : endpoint === "/margin" ? settings.marginPerSecond : settings.dataPerSecond

// OpenAlgo counts each route on its own, per client IP: every client of this process that talks to
// one server (the day's, the expiry lister's, a calibration's) shares that route's window.
const routeLimiters = new Map<string, RateLimiter>()
const routeLimiter = (baseUrl: string, endpoint: string, perSecond: number): RateLimiter => {
  const key = `${baseUrl}${endpoint} ${perSecond}`
  let limiter = routeLimiters.get(key)
  if (limiter === undefined) routeLimiters.set(key, (limiter = makeRateLimiterUnsafe(perSecond, WINDOW_MS)))
  return limiter
}

export interface OpenAlgoClient {
  readonly settings: OpenAlgoSettings
  /** A read: rate limited on its route, timed out, retried after 429 / 5xx / no answer with bounded backoff (or after a 429's retry_after). */
  readonly read: <A>(endpoint: ReadEndpoint, body: Record<string, unknown>, reply: Schema.Decoder<A>) => Effect.Effect<A, OpenAlgoError>
  /** An order send: rate limited on its route, timed out, never retried (a lost answer is not a lost order). */
  readonly send: <A>(endpoint: SendEndpoint, body: Record<string, unknown>, reply: Schema.Decoder<A>) => Effect.Effect<A, OpenAlgoError>
}

export const makeOpenAlgoClient = (config: OpenAlgoConfig): Effect.Effect<OpenAlgoClient, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const settings = openAlgoSettings(config)
    const http = yield* HttpClient.HttpClient
    const limiterOf = (endpoint: string): RateLimiter => routeLimiter(settings.baseUrl, endpoint, routeLimit(endpoint, settings))
    const key = Redacted.value(settings.apiKey)

    // Whatever a reply or a failure echoes, the key is cut out before anything is made of it.
    const redact = (text: string) => (key === "" ? text : text.split(key).join("<redacted>"))
    const failure = (endpoint: string, kind: OpenAlgoError["kind"], status: number | null, message: string, retryAfterMs?: number) =>
      new OpenAlgoError({ endpoint, kind, status, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })

    const call = <A>(endpoint: string, body: Record<string, unknown>, reply: Schema.Decoder<A>, timeoutMs: number) =>
      Effect.gen(function*() {
        const limiter = limiterOf(endpoint)
        const request = HttpClientRequest.post(`${settings.baseUrl}${endpoint}`).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyJsonUnsafe({ apikey: key, ...body })
        )
        const { status, text } = yield* http.execute(request).pipe(
          Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text: redact(text) }))),
          // The HttpClientError holds the request, body and key included: only its reason goes on.
          Effect.mapError((e) => failure(endpoint, "transport", null, `${endpoint}: no answer: ${e.reason._tag}: ${redact(describeCause(e.reason.cause))}`)),
          Effect.timeoutOrElse({
            duration: timeoutMs,
            orElse: () => Effect.fail(failure(endpoint, "timeout", null, `${endpoint}: no answer within ${timeoutMs} ms`))
          }),
          limiter.limit
        )
        const json = parseJson(text)
        const ok = status >= 200 && status < 300 && Predicate.isObject(json) && (json as { status?: unknown }).status !== "error"
        if (!ok) {
          if (status >= 200 && status < 300 && json === undefined) {
            return yield* failure(endpoint, "badReply", status, `${endpoint}: HTTP ${status}: reply is not JSON: ${clip(text.trim())}`)
          }
          if (status === 429) {
            // The route's window is full: nothing more goes to it until the server's retry_after has passed.
            const retryAfterMs = retryAfterMsOf(text)
            if (retryAfterMs !== undefined) yield* limiter.pauseFor(retryAfterMs)
            return yield* failure(endpoint, "answered", status, `${endpoint}: HTTP 429: rate limited: ${errorDetail(text)}`, retryAfterMs)
          }
          return yield* failure(endpoint, "answered", status, `${endpoint}: HTTP ${status}: ${errorDetail(text)}`)
        }
        const decoded = decodeReply(endpoint, status, reply, json)
        if (Result.isFailure(decoded)) return yield* failure(endpoint, "badReply", status, decoded.failure)
        return decoded.success
      })

    const read: OpenAlgoClient["read"] = (endpoint, body, reply) =>
      // A 429 with retry_after has paused the route's limiter: the retry waits there, not on the backoff.
      call(endpoint, body, reply, settings.readTimeoutMs).pipe(
        Effect.retry({ schedule: Schedule.exponential(settings.retryBaseDelayMs), times: settings.retryTimes, while: isTransient })
      )
    const send: OpenAlgoClient["send"] = (endpoint, body, reply) => call(endpoint, body, reply, settings.sendTimeoutMs)
    return { settings, read, send }
  })

/** The innermost readable reason of a transport failure ("ECONNREFUSED", "fetch failed", …). */
const describeCause = (cause: unknown): string => {
  let c: unknown = cause
  for (let depth = 0; depth < 4 && Predicate.isObject(c); depth++) {
    const inner = (c as { cause?: unknown }).cause
    if (!Predicate.isObject(inner)) break
    c = inner
  }
  if (!Predicate.isObject(c)) return "unknown cause"
  const { code, message } = c as { code?: unknown; message?: unknown }
  return [code, message].filter((x) => typeof x === "string" && x !== "").join(" ") || "unknown cause"
}

/** The client over Node's fetch. */
export const openAlgoClient = (config: OpenAlgoConfig): Effect.Effect<OpenAlgoClient> =>
  makeOpenAlgoClient(config).pipe(Effect.provide(FetchHttpClient.layer))
