// The command line's side of the operator API: `daemon --http HOST:PORT|off` and
// `status [--http HOST:PORT] [--json]`. Every bad flag is one line naming it.
import { Console, Effect, Schema } from "effect"
import type { DaemonClock } from "../daemon/clock.ts"
import type { DaemonLog } from "../daemon/log.ts"
import type { DaemonSettings } from "../daemon/settings.ts"
import type { Schedule } from "../domain/schedule.ts"
import { dayText } from "../views/day-text.ts"
import { Day } from "../views/schemas.ts"
import type { OperatorApiOptions } from "./daemon-http.ts"
import { allowedHostsFrom, apiTokenFrom, parseHttpBind } from "./server.ts"

export const attempt = <A>(f: () => A): Effect.Effect<A, Error> => Effect.try({ try: f, catch: (e) => (e instanceof Error ? e : new Error(String(e))) })

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
