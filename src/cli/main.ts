// The `autohedge` command line: the trading commands and the runner that puts a program's commands
// together (autohedge.ts adds the simulator's). Every failure ends in one line naming what was wrong
// and a non-zero exit code; nothing prints a stack trace at a user.
//
// This module defines flags only: each command's work is imported when that command runs, so
// `autohedge --help` and `schedule show` load no more than they use.
// Modules by their own paths, not the packages' indexes: those load every module of the package.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import { CliError, Command, Flag } from "effect/cli"

export const DEFAULT_SCHEDULE = "config/schedule.json"
export const DEFAULT_HTTP = "127.0.0.1:8787"

/** A command's work from its module, imported only when the command runs. */
export const lazily = <M, A, E, R>(load: () => Promise<M>, run: (module: M) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.promise(load), run)

/** A flag's description and default, both shown by `--help` (effect/cli prints no defaults itself). */
export const withDefault = <const B>(description: string, value: B, shown: string = String(value)) =>
  <A>(flag: Flag.Flag<A>): Flag.Flag<A | B> => flag.pipe(Flag.withDescription(`${description} (default ${shown})`), Flag.withDefault(value))

export const configFlag = Flag.String("config").pipe(
  Flag.withDescription("JSON config file (default: $AUTOHEDGE_CONFIG); environment variables override it"),
  Flag.optional
)

const commands = () => import("./commands.ts")

const scheduleShow = Command.make(
  "show",
  {
    file: Flag.String("file").pipe(withDefault("the weekly schedule file (JSON)", DEFAULT_SCHEDULE)),
    from: Flag.String("from").pipe(Flag.withDescription("list the coming sessions from this date (YYYY-MM-DD; default today)"), Flag.optional)
  },
  (flags) => lazily(() => import("./calendar.ts"), (m) => m.showSchedule(flags))
).pipe(Command.withDescription("Print the weekly strategy schedule and the coming sessions by the market calendar"))

const scheduleCommand = Command.make("schedule").pipe(
  Command.withDescription("The weekly strategy schedule"),
  Command.withSubcommands([scheduleShow])
)

const dbMigrate = Command.make("migrate", {}, () => lazily(commands, (m) => m.migrateDatabase)).pipe(
  Command.withDescription("Create or update the auto_hedge schema (DATABASE_URL, else PGlite in AUTOHEDGE_DATA_DIR)")
)

const dbCommand = Command.make("db").pipe(Command.withDescription("The database"), Command.withSubcommands([dbMigrate]))

const analyticsCommand = Command.make(
  "analytics",
  {
    days: Flag.Int("days").pipe(withDefault("the last N session dates on record", 30)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON instead of the table"), Flag.withDefault(false))
  },
  (flags) => lazily(commands, (m) => m.showAnalytics(flags))
).pipe(Command.withDescription("Hedge cost, recovered and peak utilisation per day, from the database"))

const replayCommand = Command.make(
  "replay",
  {
    date: Flag.String("date").pipe(Flag.withDescription("the trading day to rebuild (YYYY-MM-DD)")),
    policy: Flag.Literals("policy", ["engine", "static", "none"]).pipe(withDefault("the policy whose session is rebuilt", "engine")),
    mode: Flag.Literals("mode", ["live", "paper", "recommend", "simulation"]).pipe(withDefault("the mode the session ran in", "simulation"))
  },
  (flags) => lazily(commands, (m) => m.replayFromDatabase(flags))
).pipe(Command.withDescription("Rebuild a day from its recorded transitions through the same machines and check every one"))

const daemonFlags = {
  config: configFlag,
  speed: Flag.Finite("speed").pipe(withDefault("paper / recommend against a replaying OpenAlgo: market time runs this many times wall time", 1)),
  start: Flag.String("start").pipe(Flag.withDescription("with --speed: the market time (IST) to start from, YYYY-MM-DDTHH:MM:SS (default now)"), Flag.optional)
}

/** Set when the daemon has stopped as asked (a signal is then a clean exit, 0, not an interruption). */
let stoppedCleanly = false

const daemonCommand = Command.make(
  "daemon",
  {
    mode: Flag.Literals("mode", ["live", "paper", "recommend"]).pipe(Flag.withDescription("live: orders to OpenAlgo; paper: OpenAlgo's analyzer or --paper-broker internal; recommend: decide and alert only")),
    paperBroker: Flag.Literals("paper-broker", ["openalgo", "internal"]).pipe(withDefault("with --mode paper: OpenAlgo's analyzer, or the internal simulated broker", "openalgo")),
    record: Flag.String("record").pipe(Flag.withDescription("also record each day into this directory (recorded-day format; default: no recording)"), Flag.optional),
    recordEvery: Flag.Int("record-every").pipe(withDefault("seconds between recorded market ticks", 60)),
    days: Flag.Int("days").pipe(Flag.withDescription("run this many trading days, then exit (default: until stopped)"), Flag.optional),
    http: Flag.String("http").pipe(
      withDefault("the operator API and inspector page: HOST:PORT, or off (changes need AUTOHEDGE_API_TOKEN; a non-loopback host needs it for reads too)", DEFAULT_HTTP)
    ),
    ...daemonFlags
  },
  (flags) => lazily(commands, (m) => m.runTradingDays(flags, () => (stoppedCleanly = true)))
).pipe(Command.withDescription("Run the trading days: sleep, set up at 09:00 IST, trade 09:15-15:30, summarise at 15:35 (DATABASE_URL, else PGlite in AUTOHEDGE_DATA_DIR)"))

const recordCommand = Command.make(
  "record",
  {
    out: Flag.String("out").pipe(Flag.withDescription("the recorded-day file to write (.jsonl)")),
    every: Flag.Int("every").pipe(withDefault("seconds between market ticks", 60)),
    ...daemonFlags
  },
  (flags) => lazily(commands, (m) => m.recordNextDay(flags))
).pipe(Command.withDescription("Record the next trading day from OpenAlgo in the recorded-day format, without trading"))

const calibrateCommand = Command.make(
  "calibrate",
  {
    day: Flag.String("day").pipe(Flag.withDescription("a recorded day (.jsonl, .jsonl.gz): compare at each of its margin records (default none: give --day or --broker)"), Flag.optional),
    broker: Flag.Literals("broker", ["openalgo", "kite"]).pipe(
      Flag.withDescription("the account's positions now: priced by OpenAlgo's /margin, or by Kite's basket margin (KITE_API_KEY, KITE_ACCESS_TOKEN); default none: give --day or --broker"),
      Flag.optional
    ),
    index: Flag.Literals("index", ["NIFTY", "SENSEX"]).pipe(withDefault("with --broker: the index whose positions are compared", "NIFTY")),
    expiry: Flag.String("expiry").pipe(Flag.withDescription("with --broker: the expiry whose positions are compared (default: the nearest listed)"), Flag.optional),
    at: Flag.String("at").pipe(Flag.withDescription("with --broker: value as of this market time, YYYY-MM-DDTHH:MM:SS IST (against a replaying OpenAlgo; default now)"), Flag.optional),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON instead of the tables"), Flag.withDefault(false)),
    config: configFlag
  },
  (flags) => lazily(() => import("../calibration/cli.ts"), (m) => m.calibrate(flags))
).pipe(Command.withDescription("Compare the SPAN margin model with the broker: on a recorded day's margin records, or on the account's positions now"))

const marginCommand = Command.make("margin").pipe(Command.withDescription("Margin models"), Command.withSubcommands([calibrateCommand]))

const calendarCommand = Command.make(
  "calendar",
  {
    year: Flag.Int("year").pipe(Flag.withDescription("the year to list (default: this year)"), Flag.optional),
    exchange: Flag.Literals("exchange", ["NSE", "BSE"]).pipe(Flag.withDescription("NSE (NIFTY) or BSE (SENSEX); default both"), Flag.optional),
    broker: Flag.Boolean("broker").pipe(Flag.withDescription("ask OpenAlgo's holiday list first and cache it in the database, as the daemon does"), Flag.withDefault(false))
  },
  (flags) => lazily(() => import("./calendar.ts"), (m) => m.showCalendar(flags))
).pipe(Command.withDescription("The market calendar of a year: holidays, special sessions and weekly expiries, each with its source"))

const statusCommand = Command.make(
  "status",
  {
    http: Flag.String("http").pipe(withDefault("the running daemon's operator API, HOST:PORT", DEFAULT_HTTP)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print the API's JSON (GET /api/hedge/day) instead of text"), Flag.withDefault(false))
  },
  (flags) => lazily(() => import("../http/cli.ts"), (m) => m.statusFromCli(flags))
).pipe(Command.withDescription("The running day at a glance: status, entries, hedges held and closed, summary (from the daemon's operator API)"))

/** The commands of the trading side, in the order `--help` lists them. */
export const tradingCommands = [scheduleCommand, dbCommand, analyticsCommand, replayCommand, daemonCommand, statusCommand, recordCommand, marginCommand, calendarCommand] as const

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

/** A subcommand of the program (name and flags its own): whatever it needs, it provides itself. */
type Subcommand = Command.Command<any, any, any, unknown, never>

/** Runs the `autohedge` program made of these commands on the process's arguments. */
export const runAutohedge = (commands: ReadonlyArray<Subcommand>): void => {
  const autohedge = Command.make("autohedge").pipe(
    Command.withDescription("auto-hedge: margin-aware hedging for scheduled index-option strategies"),
    Command.withSubcommands(commands)
  )
  Command.run(autohedge, { version: "0.1.0" }).pipe(
    Effect.catch(reportFailure),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain({ disableErrorReporting: true, teardown: (exit, onExit) => (stoppedCleanly ? onExit(0) : Runtime.defaultTeardown(exit, onExit)) })
  )
}
