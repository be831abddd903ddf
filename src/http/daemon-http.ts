// The operator API beside the daemon (`autohedge daemon --http 127.0.0.1:8787`): the day view the
// daemon's days are attached to, the operator's commands the days take at their instants, the schedule
// and coming sessions the daemon plans from, and the server, up for as long as the daemon runs.
import { Effect, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { BuyPreviewer } from "../commands/buy-preview.ts"
import { OperatorCommands } from "../commands/operator.ts"
import { ScheduleStore } from "../commands/schedule-store.ts"
import { SessionPlans } from "../commands/session-plans.ts"
import { alertsOf, type DaemonOperator } from "../daemon/daemon.ts"
import type { DaemonClock } from "../daemon/clock.ts"
import type { DaemonLog } from "../daemon/log.ts"
import type { HedgeConfig } from "../domain/config.ts"
import type { Schedule } from "../domain/schedule.ts"
import { dateOf } from "../domain/time.ts"
import { DayView, type DayAttachment } from "../views/day-view.ts"
import { LiveRisk } from "./live-risk.ts"
import { databaseRecords } from "./records.ts"
import { isLoopback, startOperatorServer } from "./server.ts"
import { operatorPort } from "../commands/operator-port.ts"
import { telegramForDaemon } from "../../adapters/telegram/telegram.ts"
import { TELEGRAM_ENV, type TelegramConfigError } from "../../adapters/telegram/config.ts"

export class OperatorApiFailed extends Error {}

export interface OperatorApiOptions {
  /** Where to listen; null: no operator API (`--http off`). */
  readonly bind: { readonly host: string; readonly port: number } | null
  /** AUTOHEDGE_API_TOKEN; null: the API takes no changes. */
  readonly token: string | null
  /** AUTOHEDGE_HTTP_ALLOWED_HOSTS: names the server may be reached by besides its address. */
  readonly allowedHosts?: ReadonlyArray<string>
  readonly mode: string
  readonly config: HedgeConfig
  readonly scheduleFile: string
  readonly schedule: Schedule
  readonly clock: DaemonClock
  readonly log: DaemonLog
  /** Where TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID are read (default: the process's environment). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Told the server's address once it listens (tests). */
  readonly onListening?: (url: string) => void
}

/**
 * Run `daemon` with the operator API up beside it (none with `--http off`), closed when it ends. The
 * day view and the command layer the API serves are Telegram's too: with `--http off` and Telegram
 * configured they run without the server.
 */
export const withOperatorApi = <A, E, R>(o: OperatorApiOptions, daemon: (operator: DaemonOperator | undefined) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const bind = o.bind
    const env = o.env ?? process.env
    const telegram = (env[TELEGRAM_ENV.token] ?? "").trim() !== "" || (env[TELEGRAM_ENV.chatId] ?? "").trim() !== ""
    if (bind === null && !telegram) return yield* daemon(undefined)
    const schedule = new ScheduleStore(o.scheduleFile, o.schedule)
    const plans = new SessionPlans()
    const view = new DayView({ now: () => o.clock.now(), thresholds: { triggerPct: o.config.entryTriggerPct, targetPct: o.config.entryTargetPct, exitTriggerPct: o.config.exitTriggerPct } })
    const previewer = new BuyPreviewer()
    const commands = new OperatorCommands({
      day: () => view.running(),
      margins: previewer,
      log: (level, message, fields) => o.log.write(level, "operator", message, fields),
      schedule,
      plans,
      today: () => dateOf(o.clock.now()),
      feed: view
    })
    const risk = new LiveRisk(o.config.span)
    if (bind === null) o.log.write("info", "http", "operator API off (--http off): Telegram takes the operator's commands")
    else {
      const records = databaseRecords(o.mode, yield* Effect.context<SqlClient>())
      const server = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () =>
            startOperatorServer({
              host: bind.host,
              port: bind.port,
              token: o.token,
              allowedHosts: o.allowedHosts,
              view,
              commands,
              schedule,
              plans,
              records,
              risk,
              now: () => o.clock.now(),
              log: (level, message) => o.log.write(level, "http", message)
            }),
          catch: (e) => new OperatorApiFailed(`--http ${e instanceof Error ? e.message : String(e)}`)
        }),
        (s) => Effect.promise(() => s.close())
      )
      const reads = isLoopback(bind.host) ? "reads open on loopback" : "every request needs the token (not a loopback address)"
      o.log.write("info", "http", `operator API and inspector at ${server.url} (${reads})`)
      if (o.token === null) o.log.write("warn", "http", "AUTOHEDGE_API_TOKEN is not set: the operator API takes no changes (toggle, manual exit, schedule answer 403)")
      o.onListening?.(server.url)
    }
    const alerts = yield* telegramForDaemon({
      env,
      risk: () => risk.view(),
      log: (level, message, fields) => o.log.write(level, "telegram", message, fields),
      operator: operatorPort("telegram", { commands, view, schedule }),
      view,
      mode: o.mode === "live" || o.mode === "recommend" ? o.mode : "paper",
      now: () => o.clock.now()
    })
    // The risk view reads each day the hub watches, with the broker the daemon gives it.
    const watched = { attach: (day: DayAttachment) => (view.attach(day), risk.attach(day), previewer.attach(day)), afterInstant: (at: number) => view.afterInstant(at) }
    const operator: DaemonOperator = { live: watched, commands, schedule, plans, ...(alerts === undefined ? {} : { alerts }) }
    // The alerts the day view raises itself (an entry breached) go where the engine's go: the log, and Telegram.
    const notifier = alertsOf({ operator }, o.log)
    yield* Effect.acquireRelease(
      Effect.sync(() => view.onAlert((alert, at) => void Effect.runPromise(Effect.ignore(notifier.notify(alert, at))))),
      (unheard) => Effect.sync(unheard)
    )
    return yield* daemon(operator)
  }).pipe(Effect.scoped) as Effect.Effect<A, E | OperatorApiFailed | TelegramConfigError, Exclude<R, Scope.Scope> | SqlClient>
