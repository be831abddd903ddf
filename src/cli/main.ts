// The `autohedge` command line. Every failure ends in one line naming what was wrong and a non-zero
// exit code; nothing prints a stack trace at a user.
import { writeFile, mkdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Option, Runtime } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import { formatSchedule, loadScheduleFile } from "../domain/schedule.ts"
import { loadConfigFrom } from "../runtime/load-config.ts"
import { generateWeek } from "../../simulations/generate-week.ts"
import { toJson, toText } from "../../simulations/report.ts"
import { POLICIES, TRUTHS, databaseStore, daySets, readDays, simulate, simulateDays, truthModelOf } from "../../simulations/simulate.ts"
import { parseSweeps, runSweep, sweepJson, sweepMarkdown, sweepSettings } from "../../simulations/sweep.ts"
import { leagueJson, leagueMarkdown, runLeague } from "../../simulations/league.ts"
import { POLICY_NAMES, type PolicyName } from "../runtime/policies.ts"
import { formatAnalytics } from "../../simulations/report.ts"
import { analytics, findSession, loadTransitions } from "../../adapters/postgres/engine-store.ts"
import { formatVerification, verifyDay } from "../runtime/verify.ts"
import { isIsoDate } from "../domain/time.ts"
import { databaseLayer, databaseOptionsFromEnv, describeDatabase } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type { SqlClient } from "effect/sql/SqlClient"
import { loadCalendarFile } from "../services/calendar.ts"
import { holidaysOf } from "../domain/calendar.ts"
import { ScaledClock } from "../daemon/clock.ts"
import { recordDay, runDaemon } from "../daemon/daemon.ts"
import { makeLog } from "../daemon/log.ts"
import { loadDaemonSettings } from "../daemon/settings.ts"
import { loadInstruments } from "../domain/instruments.ts"
import { marginCommand } from "../calibration/cli.ts"
import { DEFAULT_HTTP, daemonApiOptions, serveFromCli } from "../http/cli.ts"
import { withOperatorApi } from "../http/daemon-http.ts"
import { calendarCommand, comingSessions } from "./calendar.ts"
import { riskCommand } from "./risk.ts"

const DEFAULT_SCHEDULE = "config/schedule.json"

/**
 * Fault injection for the restart tests: AUTOHEDGE_FAULT_KILL_AFTER_CALLS=k makes the process kill
 * itself (SIGKILL, no clean-up) at its k-th service call.
 */
const faultKillAfterCalls = (env: Record<string, string | undefined>): number | undefined => {
  const raw = env.AUTOHEDGE_FAULT_KILL_AFTER_CALLS
  if (raw === undefined || raw === "") return undefined
  if (!/^\d+$/.test(raw)) throw new Error(`AUTOHEDGE_FAULT_KILL_AFTER_CALLS = ${JSON.stringify(raw)}: expected a whole number`)
  return Number(raw)
}

const configFlag = Flag.String("config").pipe(
  Flag.withDescription("JSON config file (default: $AUTOHEDGE_CONFIG); environment variables override it"),
  Flag.optional
)

const parsePolicies = (raw: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<PolicyName>, Error> => {
  const names = raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter((s) => s !== "")
  const bad = names.find((n) => !(POLICY_NAMES as ReadonlyArray<string>).includes(n))
  if (bad !== undefined) return Effect.fail(new Error(`--policy: unknown policy "${bad}" (one of ${POLICY_NAMES.join(", ")})`))
  return Effect.succeed(names.length === 0 ? POLICIES : ([...new Set(names)] as ReadonlyArray<PolicyName>))
}

const simulateCommand = Command.make(
  "simulate",
  {
    paths: Argument.String("files-or-dirs").pipe(Argument.withDescription("recorded-day files (.jsonl, .jsonl.gz) or directories of them"), Argument.variadic({ min: 1 })),
    policy: Flag.String("policy").pipe(Flag.withDescription("engine, reference, static, none (repeat or comma-separate; default engine, static, none)"), Flag.atLeast(0)),
    compare: Flag.Boolean("compare").pipe(
      Flag.withDescription("the policy league table: the engine on each margin estimate, the origin's reference behaviour, static, none and the hindsight oracle (Markdown, or --json)"),
      Flag.withDefault(false)
    ),
    truth: Flag.Literals("truth", TRUTHS).pipe(Flag.withDescription("the simulated broker's margin model (default span)"), Flag.withDefault("span" as const)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON instead of the table"), Flag.withDefault(false)),
    alerts: Flag.Boolean("alerts").pipe(Flag.withDescription("also print every alert, as the trader reads it"), Flag.withDefault(false)),
    db: Flag.Boolean("db").pipe(
      Flag.withDescription("keep every day in the database: DATABASE_URL, else the embedded PGlite in AUTOHEDGE_DATA_DIR (default ./data)"),
      Flag.withDefault(false)
    ),
    resume: Flag.Boolean("resume").pipe(
      Flag.withDescription("with --db: carry on from where a killed run of the same days stopped"),
      Flag.withDefault(false)
    ),
    config: configFlag,
    sweep: Flag.String("sweep").pipe(
      Flag.withDescription("key=v1,v2,…: the engine under every combination of the values given (repeat for more keys): J, breaches and needless spend per setting"),
      Flag.atLeast(0)
    ),
    threads: Flag.Int("threads").pipe(Flag.withDescription("worker threads the days run on (default: one per core)"), Flag.optional),
    serve: Flag.Boolean("serve").pipe(Flag.withDescription("replay one day into the inspector page and the operator API (paced at --speed), serving until Ctrl-C"), Flag.withDefault(false)),
    speed: Flag.String("speed").pipe(Flag.withDescription("with --serve: market time per wall time (600: a day in about 40 s), or max"), Flag.optional),
    http: Flag.String("http").pipe(Flag.withDescription(`with --serve: where to serve, HOST:PORT (default ${DEFAULT_HTTP})`), Flag.optional)
  },
  Effect.fn(function*({ paths, policy, compare, truth, json, alerts, db, resume, config, sweep, threads, serve, speed, http }) {
    const policies = yield* parsePolicies(policy)
    const hedgeConfig = yield* loadConfigFrom(process.env, Option.getOrUndefined(config))
    if (serve) {
      if (compare || db || json || policy.length > 0) return yield* Effect.fail(new Error("--serve: replays one day with the engine; leave out --compare, --db, --json and --policy"))
      return yield* serveFromCli({ paths, speed: Option.getOrElse(speed, () => "600"), http: Option.getOrElse(http, () => DEFAULT_HTTP), config: hedgeConfig })
    }
    if (Option.isSome(speed) || Option.isSome(http)) return yield* Effect.fail(new Error(`${Option.isSome(speed) ? "--speed" : "--http"}: only with --serve`))
    const pool = Option.isSome(threads) ? { threads: threads.value } : {}
    if (Option.isSome(threads) && !(threads.value >= 1)) return yield* Effect.fail(new Error(`--threads: must be at least 1, got ${threads.value}`))
    const sets = yield* daySets(paths)
    const files = sets.flatMap((s) => s.files)
    if (sweep.length > 0) {
      if (compare || db || policy.length > 0) return yield* Effect.fail(new Error("--sweep: runs the engine in memory; leave out --compare, --policy and --db"))
      const settings = yield* sweepSettings(hedgeConfig, yield* parseSweeps(sweep))
      const rows = yield* runSweep(files, settings, hedgeConfig.breachCostPerEntry, truth, pool)
      return yield* Console.log(json ? JSON.stringify(sweepJson(rows), null, 2) : sweepMarkdown(rows, files.length, hedgeConfig.breachCostPerEntry))
    }
    if (compare) {
      if (db || policy.length > 0) return yield* Effect.fail(new Error("--compare: runs every policy in memory; leave out --policy and --db"))
      const league = yield* runLeague(sets, hedgeConfig, truth, pool)
      return yield* Console.log(json ? JSON.stringify(leagueJson(league), null, 2) : leagueMarkdown(league))
    }
    if (resume && !db) return yield* Effect.fail(new Error("--resume: needs --db (a run is resumed from the database)"))
    const kill = faultKillAfterCalls(process.env)
    const truthModel = truthModelOf(truth, hedgeConfig)
    // A signal interrupts the run; whatever it waits on, the process is gone within the deadline.
    if (db) for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => exitWithin(hedgeConfig.deadlines.shutdownSeconds, signal, (line) => process.stderr.write(`autohedge: ${line}\n`)))
    // The database and fault injection run in this process, one day after another; otherwise, in parallel.
    const runs = db
      // Commits are synchronous, as the daemon's: a killed run loses nothing it wrote (docs/persistence.md).
      ? yield* inDatabase(simulate(yield* readDays(files), policies, hedgeConfig, databaseStore(resume), kill, truthModel))
      : kill !== undefined
      ? yield* simulate(yield* readDays(files), policies, hedgeConfig, undefined, kill, truthModel)
      : yield* simulateDays(files, policies, hedgeConfig, truth, pool)
    yield* Console.log(json ? JSON.stringify(toJson(runs), null, 2) : toText(runs, { alerts }))
  })
).pipe(Command.withDescription("Replay recorded days through the engine and compare policies"))

const generateCommand = Command.make(
  "generate-days",
  {
    from: Flag.String("from").pipe(Flag.withDescription("the Monday the week starts on (YYYY-MM-DD)")),
    out: Flag.String("out").pipe(Flag.withDescription("directory to write the day files to")),
    seed: Flag.Int("seed").pipe(Flag.withDefault(1)),
    weeks: Flag.Int("weeks").pipe(Flag.withDescription("consecutive weeks to generate"), Flag.withDefault(1)),
    tickSeconds: Flag.Int("tick-seconds").pipe(Flag.withDefault(60)),
    baskets: Flag.Int("baskets").pipe(Flag.withDefault(15)),
    budgetPerBasket: Flag.Int("budget-per-basket").pipe(Flag.withDefault(1_000_000)),
    schedule: Flag.String("schedule").pipe(Flag.withDefault(DEFAULT_SCHEDULE))
  },
  Effect.fn(function*(o) {
    const scheduleText = yield* Effect.tryPromise({
      try: () => readFile(o.schedule, "utf8"),
      catch: () => new Error(`--schedule: cannot read ${o.schedule}`)
    })
    // Holidays of the bundled calendar are skipped and move expiries, as the exchanges do.
    const calendar = yield* loadCalendarFile(process.env.AUTOHEDGE_HOLIDAYS_FILE?.trim() || "config/holidays.json")
    const holidays = { NSE: holidaysOf(calendar, "NSE"), BSE: holidaysOf(calendar, "BSE") }
    const files = yield* Effect.try({
      try: () =>
        Array.from({ length: o.weeks }, (_, w) => {
          const start = new Date(`${o.from}T00:00:00Z`)
          start.setUTCDate(start.getUTCDate() + 7 * w)
          return generateWeek({
            start: start.toISOString().slice(0, 10),
            schedule: scheduleText,
            seed: o.seed,
            tickSeconds: o.tickSeconds,
            baskets: o.baskets,
            budgetPerBasket: o.budgetPerBasket,
            holidays
          })
        }).flat(),
      catch: (e) => new Error(e instanceof Error ? e.message : String(e))
    })
    yield* Effect.tryPromise({
      try: async () => {
        await mkdir(o.out, { recursive: true })
        for (const f of files) await writeFile(join(o.out, f.file), f.text)
      },
      catch: (e) => new Error(`--out: cannot write to ${o.out} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
    })
    for (const f of files) yield* Console.log(`${join(o.out, f.file)}  ${f.index} expiry ${f.expiry}  regime ${f.regime}`)
  })
).pipe(Command.withDescription("Generate synthetic recorded days (one week per --weeks) from the schedule"))

const scheduleShow = Command.make(
  "show",
  {
    file: Flag.String("file").pipe(Flag.withDefault(DEFAULT_SCHEDULE)),
    from: Flag.String("from").pipe(Flag.withDescription("list the coming sessions from this date (YYYY-MM-DD; default today)"), Flag.optional)
  },
  Effect.fn(function*({ file, from }) {
    const schedule = yield* loadScheduleFile(file)
    yield* Console.log(formatSchedule(schedule))
    yield* Console.log(`\n${yield* comingSessions(schedule, Option.getOrUndefined(from))}`)
  })
).pipe(Command.withDescription("Print the weekly strategy schedule and the coming sessions by the market calendar"))

const scheduleCommand = Command.make("schedule").pipe(
  Command.withDescription("The weekly strategy schedule"),
  Command.withSubcommands([scheduleShow])
)

const inDatabase = <A, E>(effect: Effect.Effect<A, E, SqlClient | PgClient.PgClient>) =>
  Effect.scoped(Effect.andThen(migrate, effect)).pipe(Effect.provide(databaseLayer(databaseOptionsFromEnv(process.env))))

const dbMigrate = Command.make(
  "migrate",
  {},
  Effect.fn(function*() {
    const options = databaseOptionsFromEnv(process.env)
    const applied = yield* Effect.scoped(migrate).pipe(Effect.provide(databaseLayer(options)))
    yield* Console.log(
      applied.length === 0 ? `${describeDatabase(options)}: up to date` : `${describeDatabase(options)}: applied ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`
    )
  })
).pipe(Command.withDescription("Create or update the auto_hedge schema (DATABASE_URL, else PGlite in AUTOHEDGE_DATA_DIR)"))

const dbCommand = Command.make("db").pipe(Command.withDescription("The database"), Command.withSubcommands([dbMigrate]))

const analyticsCommand = Command.make(
  "analytics",
  {
    days: Flag.Int("days").pipe(Flag.withDescription("the last N session dates on record"), Flag.withDefault(30)),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false))
  },
  Effect.fn(function*({ days, json }) {
    const rows = yield* inDatabase(analytics(days))
    yield* Console.log(json ? JSON.stringify({ analytics: rows }, null, 2) : formatAnalytics(rows))
  })
).pipe(Command.withDescription("Hedge cost, recovered and peak utilisation per day, from the database"))

const replayCommand = Command.make(
  "replay",
  {
    date: Flag.String("date").pipe(Flag.withDescription("the trading day to rebuild (YYYY-MM-DD)")),
    policy: Flag.Literals("policy", ["engine", "static", "none"]).pipe(Flag.withDefault("engine")),
    mode: Flag.Literals("mode", ["live", "paper", "recommend", "simulation"]).pipe(Flag.withDefault("simulation"))
  },
  Effect.fn(function*({ date, policy, mode }) {
    if (!isIsoDate(date)) return yield* Effect.fail(new Error(`--date: expected YYYY-MM-DD, got ${JSON.stringify(date)}`))
    const rows = yield* inDatabase(
      Effect.gen(function*() {
        const sessionId = yield* findSession(date, mode, policy)
        if (sessionId === null) return yield* Effect.fail(new Error(`no ${mode} session of ${date} for policy ${policy} in the database`))
        return yield* loadTransitions(sessionId)
      })
    )
    const verification = yield* Effect.promise(() => verifyDay(rows))
    yield* Console.log(formatVerification(verification))
    if (!verification.ok) process.exitCode = 1
  })
).pipe(Command.withDescription("Rebuild a day from its recorded transitions through the same machines and check every one"))

/** What the daemon and the recorder share: settings checked at once, the schedule, calendar, clock, log. */
const daemonContext = (flags: { mode: string; paperBroker?: string; config: Option.Option<string>; speed: number; start: Option.Option<string> }) =>
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

const daemonFlags = {
  config: configFlag,
  speed: Flag.Finite("speed").pipe(Flag.withDescription("paper / recommend against a replaying OpenAlgo: market time runs this many times wall time"), Flag.withDefault(1)),
  start: Flag.String("start").pipe(Flag.withDescription("with --speed: the market time (IST) to start from, YYYY-MM-DDTHH:MM:SS"), Flag.optional)
}

const daemonCommand = Command.make(
  "daemon",
  {
    mode: Flag.Literals("mode", ["live", "paper", "recommend"]).pipe(Flag.withDescription("live: orders to OpenAlgo; paper: OpenAlgo's analyzer or --paper-broker internal; recommend: decide and alert only")),
    paperBroker: Flag.Literals("paper-broker", ["openalgo", "internal"]).pipe(Flag.withDefault("openalgo")),
    record: Flag.String("record").pipe(Flag.withDescription("also record each day into this directory (recorded-day format)"), Flag.optional),
    recordEvery: Flag.Int("record-every").pipe(Flag.withDescription("seconds between recorded market ticks"), Flag.withDefault(60)),
    days: Flag.Int("days").pipe(Flag.withDescription("run this many trading days, then exit (default: until stopped)"), Flag.optional),
    http: Flag.String("http").pipe(
      Flag.withDescription("the operator API and inspector page: HOST:PORT, or off (changes need AUTOHEDGE_API_TOKEN; a non-loopback host needs it for reads too)"),
      Flag.withDefault(DEFAULT_HTTP)
    ),
    ...daemonFlags
  },
  Effect.fn(function*(flags) {
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
      )).pipe(
        Effect.tap(() => Effect.sync(() => (stoppedCleanly = true)))
      )
    )
  })
).pipe(Command.withDescription("Run the trading days: sleep, set up at 09:00 IST, trade 09:15-15:30, summarise at 15:35 (DATABASE_URL, else PGlite in AUTOHEDGE_DATA_DIR)"))

const recordCommand = Command.make(
  "record",
  {
    out: Flag.String("out").pipe(Flag.withDescription("the recorded-day file to write (.jsonl)")),
    every: Flag.Int("every").pipe(Flag.withDescription("seconds between market ticks"), Flag.withDefault(60)),
    ...daemonFlags
  },
  Effect.fn(function*(flags) {
    const context = yield* daemonContext({ ...flags, mode: "recommend" })
    yield* recordDay(context, flags.out, flags.every)
  })
).pipe(Command.withDescription("Record the next trading day from OpenAlgo in the recorded-day format, without trading"))

const autohedge = Command.make("autohedge").pipe(
  Command.withDescription("auto-hedge: margin-aware hedging for scheduled index-option strategies"),
  Command.withSubcommands([simulateCommand, generateCommand, scheduleCommand, dbCommand, analyticsCommand, replayCommand, daemonCommand, recordCommand, marginCommand, calendarCommand, riskCommand])
)

/** One line for the user: the error's own message (already naming file, line, key and value). */
const reportFailure = (error: unknown) =>
  Effect.gen(function*() {
    // The CLI has already printed its own usage errors (and help, which is no failure).
    if (CliError.isCliError(error)) {
      if (!(error._tag === "ShowHelp" && error.errors.length === 0)) process.exitCode = 1
      return
    }
    const message = error instanceof Error || (typeof error === "object" && error !== null && "message" in error) ? String((error as { message: unknown }).message) : String(error)
    yield* Console.error(`autohedge: ${message}`)
    process.exitCode = 1
  })

/**
 * Whatever the process still waits on (a database that stopped answering, a pool that cannot close),
 * it exits `seconds` after `why` at the latest, with status 2 and a line saying so. The timer does not
 * keep the process alive: a clean stop exits earlier, as it would have.
 */
const exitWithin = (seconds: number, why: string, say: (line: string) => void) => {
  setTimeout(() => {
    say(`still not stopped ${seconds} s after ${why} (config deadlines.shutdownSeconds): exiting now; a day resumes from its records at the next start`)
    process.exit(2)
  }, seconds * 1000).unref()
}

/** Set when the daemon has stopped as asked (a signal is then a clean exit, 0, not an interruption). */
let stoppedCleanly = false

Command.run(autohedge, { version: "0.1.0" }).pipe(
  Effect.catch(reportFailure),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, teardown: (exit, onExit) => (stoppedCleanly ? onExit(0) : Runtime.defaultTeardown(exit, onExit)) })
)
