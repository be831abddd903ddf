// The command line's side of the operator API: `daemon --http HOST:PORT|off`,
// `simulate --serve [--speed X] [--http HOST:PORT] <day file>` and `status [--http HOST:PORT] [--json]`.
// Every bad flag is one line naming it.
import { Console, Effect, Schema } from "effect"
import type { DaemonClock } from "../daemon/clock.ts"
import type { DaemonLog } from "../daemon/log.ts"
import type { DaemonSettings } from "../daemon/settings.ts"
import type { HedgeConfig } from "../domain/config.ts"
import type { Schedule } from "../domain/schedule.ts"
import { dayText } from "../views/day-text.ts"
import { Day } from "../views/schemas.ts"
import type { OperatorApiOptions } from "./daemon-http.ts"
import { generatedToken, serveSimulation } from "./serve-simulation.ts"
import { allowedHostsFrom, apiTokenFrom, HttpStartFailed, parseHttpBind } from "./server.ts"

export const DEFAULT_HTTP = "127.0.0.1:8787"

const attempt = <A>(f: () => A): Effect.Effect<A, Error> => Effect.try({ try: f, catch: (e) => (e instanceof Error ? e : new Error(String(e))) })

/** The daemon's operator API from `--http` and AUTOHEDGE_API_TOKEN. */
export const daemonApiOptions = (
  http: string,
  context: { readonly settings: DaemonSettings; readonly schedule: Schedule; readonly clock: DaemonClock; readonly log: DaemonLog }
): Effect.Effect<OperatorApiOptions, Error> =>
  attempt(() => ({
    bind: parseHttpBind(http),
    token: apiTokenFrom(process.env),
    allowedHosts: allowedHostsFrom(process.env),
    mode: context.settings.mode,
    config: context.settings.config,
    scheduleFile: context.settings.scheduleFile,
    schedule: context.schedule,
    clock: context.clock,
    log: context.log
  }))

/** `--speed`: a number above 0, or max. */
export const parseSpeed = (raw: string): number | "max" => {
  const s = raw.trim()
  if (s === "max") return "max"
  const speed = Number(s)
  if (s === "" || !(speed > 0) || !Number.isFinite(speed)) throw new Error(`--speed: expected a number above 0 or max, got ${JSON.stringify(raw)}`)
  return speed
}

/** `simulate --serve`: one day into the inspector and the API, then serving until interrupted (Ctrl-C). */
export const serveFromCli = (o: { readonly paths: ReadonlyArray<string>; readonly speed: string; readonly http: string; readonly config: HedgeConfig }) =>
  Effect.gen(function*() {
    if (o.paths.length !== 1) return yield* Effect.fail(new Error(`--serve: replays one day file, got ${o.paths.length} paths`))
    const speed = yield* attempt(() => parseSpeed(o.speed))
    const bind = yield* attempt(() => parseHttpBind(o.http))
    if (bind === null) return yield* Effect.fail(new Error("--http: --serve needs an address to serve on, not off"))
    const configured = yield* attempt(() => apiTokenFrom(process.env))
    const token = configured ?? generatedToken()
    const log = (level: "info" | "warn" | "error", message: string) => process.stderr.write(`${level === "info" ? "" : `${level}: `}${message}\n`)
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => serveSimulation({ file: o.paths[0]!, speed, host: bind.host, port: bind.port, token, allowedHosts: allowedHostsFrom(process.env), config: o.config, log }),
        catch: (e) => new Error(e instanceof HttpStartFailed ? `--http ${e.message}` : `--serve: ${e instanceof Error ? e.message : String(e)}`)
      }),
      (s) => Effect.promise(() => s.close())
    )
    // With the token in the address the page is ready to act (it takes it and drops it from the address).
    yield* Console.log(`inspector:  ${server.url}${configured === null ? `#token=${token}` : ""}`)
    yield* Console.log(`OpenAPI:    ${server.url}openapi.json`)
    yield* Console.log(configured === null ? `API token:  ${token}  (generated; set AUTOHEDGE_API_TOKEN to choose one)` : "API token:  AUTOHEDGE_API_TOKEN")
    yield* Console.log("schedule:   edits (PUT /api/hedge/schedule) go to a scratch copy of config/schedule.json")
    yield* Console.log(`replaying ${o.paths[0]} at ${speed === "max" ? "full speed" : `${speed}× market time`}; Ctrl-C stops`)
    yield* Effect.promise(() => server.done)
    yield* Console.log("the day is replayed; still serving until Ctrl-C")
    return yield* Effect.never
  }).pipe(Effect.scoped)

/** Why a fetch failed, in the system's words (ECONNREFUSED), not fetch's ("fetch failed"). */
const causeOf = (e: unknown): string => {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? String(e)
}

/**
 * `status`: the running day as the operator API of a daemon (or a served simulation) tells it, as text
 * or as the API's JSON. Reads are open on loopback; elsewhere AUTOHEDGE_API_TOKEN is sent.
 */
export const statusFromCli = (o: { readonly http: string; readonly json: boolean }) =>
  Effect.gen(function*() {
    const bind = yield* attempt(() => parseHttpBind(o.http))
    if (bind === null) return yield* Effect.fail(new Error("--http: status reads a running daemon's operator API: give its HOST:PORT, not off"))
    const token = yield* attempt(() => apiTokenFrom(process.env))
    const url = `http://${bind.host.includes(":") ? `[${bind.host}]` : bind.host}:${bind.port}/api/hedge/day`
    const response = yield* Effect.tryPromise({
      try: () => fetch(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` } }),
      catch: (e) => new Error(`--http: no operator API answers at ${url} (${causeOf(e)}): is the daemon running with --http ${o.http}?`)
    })
    const body: unknown = yield* Effect.tryPromise({ try: () => response.json(), catch: () => new Error(`${url}: answered ${response.status} without JSON: not the operator API?`) })
    if (!response.ok) return yield* Effect.fail(new Error(`${url}: ${response.status} ${(body as { error?: string }).error ?? ""}`))
    const day = yield* Effect.mapError(Schema.decodeUnknownEffect(Day)(body), (e) => new Error(`${url}: not a day this version reads: ${e.message}`))
    yield* Console.log(o.json ? JSON.stringify(body, null, 2) : dayText(day))
  })
