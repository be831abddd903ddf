// The work behind the trading commands of `autohedge` (src/cli/main.ts defines their flags). This
// module is imported only when one of them runs, so `autohedge --help` never loads it.
import { mkdir } from "node:fs/promises"
import { Console, Effect, Option } from "effect"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type { SqlClient } from "effect/sql/SqlClient"
import { loadScheduleFile } from "../domain/schedule.ts"
import { analytics, findSession, loadTransitions } from "../../adapters/postgres/engine-store.ts"
import type { PolicyName } from "../runtime/policies.ts"
import { formatVerification, verifyDay } from "../runtime/verify.ts"
import { isIsoDate } from "../domain/time.ts"
import { databaseLayer, databaseOptionsFromEnv, describeDatabase } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { loadCalendarFile } from "../services/calendar.ts"
import { ScaledClock } from "../daemon/clock.ts"
import { recordDay, runDaemon } from "../daemon/daemon.ts"
import { makeLog } from "../daemon/log.ts"
import { loadDaemonSettings } from "../daemon/settings.ts"
import { loadInstruments } from "../domain/instruments.ts"
import { daemonApiOptions } from "../http/cli.ts"
import { withOperatorApi } from "../http/daemon-http.ts"
import { formatAnalytics } from "./tables.ts"
import { exitWithin } from "./exit-within.ts"
import { stderrProgress } from "./progress.ts"

/** The effect with the database opened and migrated: DATABASE_URL, else the embedded PGlite. */
export const inDatabase = <A, E>(effect: Effect.Effect<A, E, SqlClient | PgClient.PgClient>) =>
  Effect.scoped(Effect.andThen(migrate, effect)).pipe(Effect.provide(databaseLayer(databaseOptionsFromEnv(process.env))))

export const migrateDatabase = Effect.gen(function*() {
  const options = databaseOptionsFromEnv(process.env)
  const applied = yield* Effect.scoped(migrate).pipe(Effect.provide(databaseLayer(options)))
  yield* Console.log(
    applied.length === 0 ? `${describeDatabase(options)}: up to date` : `${describeDatabase(options)}: applied ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`
  )
})

export const showAnalytics = (o: { readonly days: number; readonly json: boolean }) =>
  Effect.gen(function*() {
    const rows = yield* inDatabase(analytics(o.days))
    yield* Console.log(o.json ? JSON.stringify({ analytics: rows }, null, 2) : formatAnalytics(rows))
  })

export const replayFromDatabase = (o: { readonly date: string; readonly policy: PolicyName; readonly mode: string }) =>
  Effect.gen(function*() {
    if (!isIsoDate(o.date)) return yield* Effect.fail(new Error(`--date: expected YYYY-MM-DD, got ${JSON.stringify(o.date)}`))
    const rows = yield* inDatabase(
      Effect.gen(function*() {
        const sessionId = yield* findSession(o.date, o.mode, o.policy)
        if (sessionId === null) return yield* Effect.fail(new Error(`no ${o.mode} session of ${o.date} for policy ${o.policy} in the database`))
        return yield* loadTransitions(sessionId)
      })
    )
    const verification = yield* Effect.promise(() => verifyDay(rows))
    yield* Console.log(formatVerification(verification))
    if (!verification.ok) process.exitCode = 1
  })

interface DaemonFlags {
  readonly mode: string
  readonly paperBroker?: string
  readonly config: Option.Option<string>
  readonly speed: number
  readonly start: Option.Option<string>
}

/** What the daemon and the recorder share: settings checked at once, the schedule, calendar, clock, log. */
const daemonContext = (flags: DaemonFlags) =>
  Effect.gen(function*() {
    const settings = yield* loadDaemonSettings(process.env, { mode: flags.mode, paperBroker: flags.paperBroker, configPath: Option.getOrUndefined(flags.config) })
    if (flags.speed !== 1 && settings.mode === "live") return yield* Effect.fail(new Error("--speed: live mode runs on the wall clock only"))
    if (!(flags.speed > 0)) return yield* Effect.fail(new Error(`--speed: must be > 0, got ${flags.speed}`))
    const start = Option.getOrUndefined(flags.start)
    const startAt = start === undefined ? Date.now() : Date.parse(`${start}+05:30`)
    if (Number.isNaN(startAt)) return yield* Effect.fail(new Error(`--start: expected YYYY-MM-DDTHH:MM:SS (IST), got ${JSON.stringify(start)}`))
    if (start !== undefined && settings.mode === "live") return yield* Effect.fail(new Error("--start: live mode runs on the wall clock only"))
    const schedule = yield* loadScheduleFile(settings.scheduleFile)
    const calendar = yield* loadCalendarFile(settings.holidaysFile)
    const instruments = loadInstruments()
    const clock = new ScaledClock(startAt, flags.speed)
    const log = makeLog(settings.logFormat, (line) => process.stdout.write(`${line}\n`), "-", () => clock.now(), settings.logLevel)
    // SIGINT / SIGTERM: stop deciding, finish the bookkeeping, write the audit, exit 0.
    const stop = new AbortController()
    const onSignal = (signal: string) => () => {
      if (!stop.signal.aborted) log.write("info", "daemon", `${signal}: stopping after the work in flight`)
      stop.abort()
      exitWithin(settings.config.deadlines.shutdownSeconds, `${signal}`, (line) => log.write("error", "daemon", line))
    }
    process.once("SIGINT", onSignal("SIGINT"))
    process.once("SIGTERM", onSignal("SIGTERM"))
    return { settings, schedule, calendar, instruments, clock, log, signal: stop.signal }
  })

export const runTradingDays = (
  flags: DaemonFlags & { readonly record: Option.Option<string>; readonly recordEvery: number; readonly days: Option.Option<number>; readonly http: string },
  /** Told, still inside the uninterruptible part, that the daemon stopped as asked (a signal then exits 0). */
  onStopped: () => void
) =>
  Effect.gen(function*() {
    const context = yield* daemonContext(flags)
    const record = Option.getOrUndefined(flags.record)
    if (record !== undefined) yield* Effect.promise(() => mkdir(record, { recursive: true }))
    const days = Option.getOrUndefined(flags.days)
    const api = yield* daemonApiOptions(flags.http, context)
    // A signal interrupts the program (NodeRuntime); the daemon must instead finish its work in flight
    // with the database open, so it is not interruptible: the signal reaches it through its own handler.
    yield* Effect.uninterruptible(
      inDatabase(withOperatorApi(api, (operator) => runDaemon({ ...context, ...(record === undefined ? {} : { record: { dir: record, everySeconds: flags.recordEvery } }), ...(days === undefined ? {} : { days }), ...(operator === undefined ? {} : { operator }) })).pipe(
        // Closing the database after a failure must not hang on a connection that stopped answering.
        Effect.ensuring(Effect.sync(() => exitWithin(context.settings.config.deadlines.shutdownSeconds, "the daemon's end", (line) => context.log.write("error", "daemon", line))))
      )).pipe(Effect.tap(() => Effect.sync(onStopped)))
    )
  })

export const recordNextDay = (flags: Omit<DaemonFlags, "mode"> & { readonly out: string; readonly every: number }) =>
  Effect.gen(function*() {
    const context = yield* daemonContext({ ...flags, mode: "recommend" })
    const progress = stderrProgress("ticks")
    yield* recordDay(context, flags.out, flags.every, progress.update).pipe(Effect.ensuring(Effect.sync(progress.end)))
  })
