// The command line's side of the operator API: `daemon --http HOST:PORT|off`. A bad flag is one line
// naming it.
import { Effect } from "effect"
import type { DaemonClock } from "../daemon/clock.ts"
import type { DaemonLog } from "../daemon/log.ts"
import type { DaemonSettings } from "../daemon/settings.ts"
import type { Schedule } from "../domain/schedule.ts"
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
