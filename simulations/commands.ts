// The work behind the simulator's commands (simulations/cli.ts defines their flags), imported only
// when one of them runs.
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Console, Effect, Option } from "effect"
import { holidaysOf } from "../src/domain/calendar.ts"
import { inDatabase } from "../src/cli/commands.ts"
import { exitWithin } from "../src/cli/exit-within.ts"
import { DEFAULT_HTTP } from "../src/cli/main.ts"
import { stderrProgress } from "../src/cli/progress.ts"
import { loadConfigFrom } from "../src/runtime/load-config.ts"
import { POLICY_NAMES, type PolicyName } from "../src/runtime/policies.ts"
import { loadCalendarFile } from "../src/services/calendar.ts"
import type { Faults } from "./cli.ts"
import { generateWeek } from "./generate-week.ts"
import { leagueJson, leagueMarkdown, runLeague } from "./league.ts"
import { toJson, toText } from "./report.ts"
import { serveFromCli } from "./serve.ts"
import { databaseStore, daySets, POLICIES, readDays, simulate, simulateCarrying, simulateDays, truthModelOf, type TruthName } from "./simulate.ts"
import { parseSweeps, runSweep, sweepJson, sweepMarkdown, sweepSettings } from "./sweep.ts"

const parsePolicies = (raw: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<PolicyName>, Error> => {
  const names = raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter((s) => s !== "")
  const bad = names.find((n) => !(POLICY_NAMES as ReadonlyArray<string>).includes(n))
  if (bad !== undefined) return Effect.fail(new Error(`--policy: unknown policy "${bad}" (one of ${POLICY_NAMES.join(", ")})`))
  return Effect.succeed(names.length === 0 ? POLICIES : ([...new Set(names)] as ReadonlyArray<PolicyName>))
}

export interface SimulateFlags {
  readonly paths: ReadonlyArray<string>
  readonly policy: ReadonlyArray<string>
  readonly compare: boolean
  readonly truth: TruthName
  readonly json: boolean
  readonly alerts: boolean
  readonly db: boolean
  readonly resume: boolean
  readonly carry: boolean
  readonly config: Option.Option<string>
  readonly sweep: ReadonlyArray<string>
  readonly threads: Option.Option<number>
  readonly serve: boolean
  readonly speed: Option.Option<string>
  readonly http: Option.Option<string>
}

export const simulateCommand = ({ paths, policy, compare, truth, json, alerts, db, resume, carry, config, sweep, threads, serve, speed, http }: SimulateFlags, faults: Faults) => {
  // The line is cleared before the results are printed, and on a failure before its message.
  const progress = stderrProgress("days", json)
  return Effect.gen(function*() {
    const policies = yield* parsePolicies(policy)
    const hedgeConfig = yield* loadConfigFrom(process.env, Option.getOrUndefined(config))
    if (carry && (serve || compare || db || sweep.length > 0)) return yield* Effect.fail(new Error("--carry: replays the days in order in memory; leave out --serve, --compare, --sweep and --db"))
    if (serve) {
      if (compare || db || json || policy.length > 0) return yield* Effect.fail(new Error("--serve: replays one day with the engine; leave out --compare, --db, --json and --policy"))
      return yield* serveFromCli({ paths, speed: Option.getOrElse(speed, () => "600"), http: Option.getOrElse(http, () => DEFAULT_HTTP), config: hedgeConfig })
    }
    if (Option.isSome(speed) || Option.isSome(http)) return yield* Effect.fail(new Error(`${Option.isSome(speed) ? "--speed" : "--http"}: only with --serve`))
    if (Option.isSome(threads) && !(threads.value >= 1)) return yield* Effect.fail(new Error(`--threads: must be at least 1, got ${threads.value}`))
    const pool = { ...(Option.isSome(threads) ? { threads: threads.value } : {}), onDayDone: progress.update }
    const sets = yield* daySets(paths)
    const files = sets.flatMap((s) => s.files)
    if (sweep.length > 0) {
      if (compare || db || policy.length > 0) return yield* Effect.fail(new Error("--sweep: runs the engine in memory; leave out --compare, --policy and --db"))
      const settings = yield* sweepSettings(hedgeConfig, yield* parseSweeps(sweep))
      const rows = yield* runSweep(files, settings, hedgeConfig.breachCostPerEntry, truth, pool)
      progress.end()
      return yield* Console.log(json ? JSON.stringify(sweepJson(rows), null, 2) : sweepMarkdown(rows, files.length, hedgeConfig.breachCostPerEntry))
    }
    if (compare) {
      if (db || policy.length > 0) return yield* Effect.fail(new Error("--compare: runs every policy in memory; leave out --policy and --db"))
      const league = yield* runLeague(sets, hedgeConfig, truth, pool)
      progress.end()
      return yield* Console.log(json ? JSON.stringify(leagueJson(league), null, 2) : leagueMarkdown(league))
    }
    if (carry) {
      const runs = yield* simulateCarrying(yield* readDays(files), policies, hedgeConfig, truthModelOf(truth, hedgeConfig), progress.update)
      progress.end()
      return yield* Console.log(json ? JSON.stringify(toJson(runs), null, 2) : toText(runs, { alerts }))
    }
    if (resume && !db) return yield* Effect.fail(new Error("--resume: needs --db (a run is resumed from the database)"))
    const kill = faults.killAfterCalls
    const truthModel = truthModelOf(truth, hedgeConfig)
    // A signal interrupts the run; whatever it waits on, the process is gone within the deadline.
    if (db) for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => exitWithin(hedgeConfig.deadlines.shutdownSeconds, signal, (line) => process.stderr.write(`autohedge: ${line}\n`)))
    // The database and fault injection run in this process, one day after another; otherwise, in parallel.
    const runs = db
      // Commits are synchronous, as the daemon's: a killed run loses nothing it wrote (docs/persistence.md).
      ? yield* inDatabase(simulate(yield* readDays(files), policies, hedgeConfig, databaseStore(resume), kill, truthModel, progress.update))
      : kill !== undefined
      ? yield* simulate(yield* readDays(files), policies, hedgeConfig, undefined, kill, truthModel, progress.update)
      : yield* simulateDays(files, policies, hedgeConfig, truth, pool)
    progress.end()
    yield* Console.log(json ? JSON.stringify(toJson(runs), null, 2) : toText(runs, { alerts }))
  }).pipe(Effect.ensuring(Effect.sync(progress.end)))
}

export interface GenerateFlags {
  readonly from: string
  readonly out: string
  readonly seed: number
  readonly weeks: number
  readonly tickSeconds: number
  readonly baskets: number
  readonly budgetPerBasket: number
  readonly schedule: string
  readonly carry: Option.Option<number>
}

export const generateDays = (o: GenerateFlags) =>
  Effect.gen(function*() {
    const scheduleText = yield* Effect.tryPromise({
      try: () => readFile(o.schedule, "utf8"),
      catch: () => new Error(`--schedule: cannot read ${o.schedule}`)
    })
    // Holidays of the bundled calendar are skipped and move expiries, as the exchanges do.
    const calendar = yield* loadCalendarFile(process.env.AUTOHEDGE_HOLIDAYS_FILE?.trim() || "config/holidays.json")
    const holidays = { NSE: holidaysOf(calendar, "NSE"), BSE: holidaysOf(calendar, "BSE") }
    if (Option.isSome(o.carry) && !(o.carry.value >= 0)) return yield* Effect.fail(new Error(`--carry: expected a number of entries, 0 or more, got ${o.carry.value}`))
    const carry = Option.match(o.carry, { onNone: () => ({}), onSome: (hold) => ({ carry: { hold } }) })
    const progress = stderrProgress("weeks")
    const files = yield* Effect.try({
      try: () =>
        Array.from({ length: o.weeks }, (_, w) => {
          const start = new Date(`${o.from}T00:00:00Z`)
          start.setUTCDate(start.getUTCDate() + 7 * w)
          const week = generateWeek({
            start: start.toISOString().slice(0, 10),
            schedule: scheduleText,
            seed: o.seed,
            tickSeconds: o.tickSeconds,
            baskets: o.baskets,
            budgetPerBasket: o.budgetPerBasket,
            holidays,
            ...carry
          })
          progress.update(w + 1, o.weeks)
          return week
        }).flat(),
      catch: (e) => new Error(e instanceof Error ? e.message : String(e))
    }).pipe(Effect.ensuring(Effect.sync(progress.end)))
    yield* Effect.tryPromise({
      try: async () => {
        await mkdir(o.out, { recursive: true })
        for (const f of files) await writeFile(join(o.out, f.file), f.text)
      },
      catch: (e) => new Error(`--out: cannot write to ${o.out} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
    })
    for (const f of files) yield* Console.log(`${join(o.out, f.file)}  ${f.index} expiry ${f.expiry}  regime ${f.regime}${f.carried.length === 0 ? "" : `  carries in ${f.carried.join(", ")}`}`)
  })
