// The simulator's commands of `autohedge`: simulate (with --compare, --sweep and --serve) and
// generate-days. Flags only; the work is imported when a command runs (as in src/cli/main.ts).
import { Command, Flag, Argument } from "effect/cli"
import { configFlag, DEFAULT_HTTP, DEFAULT_SCHEDULE, lazily, withDefault } from "../src/cli/main.ts"

/** Fault injection, for the restart tests' own entry only (test/cli/autohedge-with-faults.ts). */
export interface Faults {
  /** `simulate` SIGKILLs its process at this service call (no clean-up), as a crash would. */
  readonly killAfterCalls?: number
}

const commands = () => import("./commands.ts")

/** Minutes between the intraday spot returns of the historical VaR. */
export const DEFAULT_STEP_MINUTES = 15

const simulateCommand = (faults: Faults) =>
  Command.make(
    "simulate",
    {
      paths: Argument.String("files-or-dirs").pipe(Argument.withDescription("recorded-day files (.jsonl, .jsonl.gz) or directories of them"), Argument.variadic({ min: 1 })),
      policy: Flag.String("policy").pipe(Flag.withDescription("engine, reference, static, none (repeat or comma-separate; default engine, static, none)"), Flag.atLeast(0)),
      compare: Flag.Boolean("compare").pipe(
        Flag.withDescription("the policy league table: the engine on each margin estimate, the engine with the delta band (docs/delta-band.md), the reference policy (the original design's rules), static, none and the hindsight oracle (Markdown, or --json)"),
        Flag.withDefault(false)
      ),
      truth: Flag.Literals("truth", ["span", "constants"]).pipe(withDefault("the simulated broker's margin model", "span")),
      json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON instead of the table"), Flag.withDefault(false)),
      alerts: Flag.Boolean("alerts").pipe(Flag.withDescription("also print every alert, as the trader reads it"), Flag.withDefault(false)),
      db: Flag.Boolean("db").pipe(
        Flag.withDescription("keep every day in the database: DATABASE_URL, else the embedded PGlite in AUTOHEDGE_DATA_DIR (default ./data)"),
        Flag.withDefault(false)
      ),
      carry: Flag.Boolean("carry").pipe(
        Flag.withDescription("consecutive days of an index carry positions: day N+1 opens with the shorts and the engine's wings day N held after the close (in order, in this process; docs/recorded-day-format.md)"),
        Flag.withDefault(false)
      ),
      resume: Flag.Boolean("resume").pipe(
        Flag.withDescription("with --db: carry on from where a killed run of the same days stopped"),
        Flag.withDefault(false)
      ),
      config: configFlag,
      sweep: Flag.String("sweep").pipe(
        Flag.withDescription("key=v1,v2,…: the engine under every combination of the values given (repeat for more keys): J, breaches and needless spend per setting (default: no sweep)"),
        Flag.atLeast(0)
      ),
      threads: Flag.Int("threads").pipe(Flag.withDescription("worker threads the days run on (default: one per core)"), Flag.optional),
      serve: Flag.Boolean("serve").pipe(Flag.withDescription("replay one day into the inspector page and the operator API (paced at --speed), serving until Ctrl-C"), Flag.withDefault(false)),
      speed: Flag.String("speed").pipe(Flag.withDescription("with --serve: market time per wall time (600: a day in about 40 s), or max (default 600)"), Flag.optional),
      http: Flag.String("http").pipe(Flag.withDescription(`with --serve: where to serve, HOST:PORT (default ${DEFAULT_HTTP})`), Flag.optional)
    },
    (flags) => lazily(commands, (m) => m.simulateCommand(flags, faults))
  ).pipe(Command.withDescription("Replay recorded days through the engine and compare policies"))

const generateCommand = Command.make(
  "generate-days",
  {
    from: Flag.String("from").pipe(Flag.withDescription("the Monday the week starts on (YYYY-MM-DD)")),
    out: Flag.String("out").pipe(Flag.withDescription("directory to write the day files to")),
    seed: Flag.Int("seed").pipe(withDefault("the random seed: the same seed gives the same days", 1)),
    weeks: Flag.Int("weeks").pipe(withDefault("consecutive weeks to generate", 1)),
    tickSeconds: Flag.Int("tick-seconds").pipe(withDefault("seconds between market ticks", 60)),
    baskets: Flag.Int("baskets").pipe(withDefault("strategy baskets entered per day", 15)),
    budgetPerBasket: Flag.Int("budget-per-basket").pipe(withDefault("margin budget per basket, rupees", 1_000_000)),
    schedule: Flag.String("schedule").pipe(withDefault("the weekly schedule file the days follow (JSON)", DEFAULT_SCHEDULE)),
    carry: Flag.Int("carry").pipe(
      Flag.withDescription("days that carry positions in: on each day before its expiry the last N entries are held past the close, and the next day of the index opens holding them (recorded-day version 2) and exits them in the morning (default: none carried)"),
      Flag.optional
    )
  },
  (flags) => lazily(commands, (m) => m.generateDays(flags))
).pipe(Command.withDescription("Generate synthetic recorded days (one week per --weeks) from the schedule"))

const riskCommand = Command.make(
  "risk",
  {
      day: Flag.String("day").pipe(Flag.withDescription("a recorded-day file: the risk at --at on that day (default none: give --day or --live)"), Flag.optional),
      at: Flag.String("at").pipe(Flag.withDescription("with --day: the instant, HH:MM IST (no default: --day needs it)"), Flag.optional),
      positions: Flag.String("positions").pipe(
        Flag.withDescription("with --day: positions from this JSON file, [{strike, optionType, side, lots, expiry?}] (default: the engine's replay of the day up to --at)"),
        Flag.optional
      ),
      history: Flag.String("history").pipe(
        Flag.withDescription("recorded days (files or directories) for the historical VaR; with --day the default is its directory"),
        Flag.atLeast(0)
      ),
      live: Flag.Boolean("live").pipe(Flag.withDescription("the live account: the running daemon's view (GET /api/risk at --http)"), Flag.withDefault(false)),
      http: Flag.String("http").pipe(withDefault("with --live: the daemon's operator API, HOST:PORT", DEFAULT_HTTP)),
      confidence: Flag.Finite("confidence").pipe(withDefault("VaR confidence", 0.99)),
      stepMinutes: Flag.Int("step-minutes").pipe(withDefault("minutes between the intraday returns of the historical VaR", DEFAULT_STEP_MINUTES)),
      config: Flag.String("config").pipe(Flag.withDescription("JSON config file (default: $AUTOHEDGE_CONFIG): the SPAN parameters and the engine replayed"), Flag.optional),
      json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON"), Flag.withDefault(false))
    },
  (flags) => lazily(() => import("./risk.ts"), (m) => m.runRisk(flags))
).pipe(Command.withDescription("The portfolio's greeks, spot × IV stress (P&L and SPAN margin) and one-day VaR, at a recorded instant or live"))

/** The simulator's commands, in the order `--help` lists them. */
export const simulatorCommands = (faults: Faults = {}) => [simulateCommand(faults), generateCommand, riskCommand] as const
