// `autohedge simulate`: every day file through every policy asked for. All files are read and
// validated before any day is run, so a bad file never leaves a half-made report behind.
import { Effect, Schema } from "effect"
import type { HedgeConfig } from "../src/domain/config.ts"
import type { MarginModel } from "../src/domain/margin.ts"
import { marginModelOf, policyPlan, type PolicyName, type PolicyPlan } from "../src/runtime/policies.ts"
import { dirname, normalize } from "node:path"
import { listDayFiles, readRecordedDay, type DayFileError, type OpeningPosition, type RecordedDay } from "../src/domain/recorded-day.ts"
import { carryInto } from "./carry.ts"
import { mapDays, type PoolOptions } from "./day-pool.ts"
import type { DayJob, DayOutcome, DayResult } from "./day-jobs.ts"
import { replayDay, type ReplayOptions } from "./replay.ts"
import type { DayReport } from "../src/runtime/day-report.ts"
import { auditDigest } from "../src/runtime/audit-recorder.ts"
import { loadTransitions, openSession, postgresAuditLog, postgresOrderJournal, postgresPaperBrokerStore, writeDayRecords } from "../adapters/postgres/engine-store.ts"
import { tradingSessionOf } from "../src/domain/session.ts"
import { SqlClient } from "effect/sql/SqlClient"
import type * as PgClient from "@effect/sql-pg/PgClient"
import { totalsOf, type PolicyRun } from "./report.ts"
import { wallTimers } from "../src/runtime/deadlines.ts"
import type { PaperWorldState } from "../adapters/paper/world.ts"

/** The policies a plain `simulate` compares. */
export const POLICIES: ReadonlyArray<PolicyName> = ["engine", "static", "none"]

/** What the simulated broker reports as margin in use. */
export type TruthName = "span" | "constants"
export const TRUTHS = ["span", "constants"] as const satisfies ReadonlyArray<TruthName>

export const truthModelOf = (truth: TruthName, config: HedgeConfig): MarginModel =>
  marginModelOf(truth, config, () => {
    throw new Error("the truth is never the broker's own estimate")
  })

export class SimulationFailed extends Schema.TaggedError<SimulationFailed>()("SimulationFailed", {
  message: Schema.String
}) {}

export const readDays = (paths: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<{ file: string; day: RecordedDay }>, DayFileError> =>
  Effect.gen(function*() {
    const files = yield* listDayFiles(paths)
    const days = []
    for (const file of files) days.push({ file, day: yield* readRecordedDay(file) })
    return days
  })

/**
 * The day files of the paths given, as sets: a directory is a set of its own, loose files are grouped
 * by their directory. Nothing is read yet (each day is read where it is run).
 */
export const daySets = (paths: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<{ readonly name: string; readonly files: ReadonlyArray<string> }>, DayFileError> =>
  Effect.gen(function*() {
    const sets = new Map<string, Array<string>>()
    for (const path of paths) {
      const files = yield* listDayFiles([path])
      const name = files.length === 1 && files[0] === path ? dirname(normalize(path)) : normalize(path).replace(/\/+$/, "")
      sets.set(name, [...(sets.get(name) ?? []), ...files])
    }
    return [...sets].map(([name, files]) => ({ name, files }))
  })

/**
 * `simulate` in memory over worker threads (day-pool.ts): the same runs as `simulate`, each day read by
 * the thread that runs it. On a failure, the one the single-threaded run would have met first.
 */
export const simulateDays = (
  files: ReadonlyArray<string>,
  policies: ReadonlyArray<PolicyName>,
  config: HedgeConfig,
  truth: TruthName,
  pool: PoolOptions = {}
): Effect.Effect<ReadonlyArray<PolicyRun>, SimulationFailed> =>
  Effect.gen(function*() {
    // A bad file stops the run before any day (as readDays does); then policy by policy, day by day.
    const runs = (yield* resultsOfDays(files, { kind: "simulate", policies, config, truth }, pool)).map((r) => r.runs)
    return yield* Effect.forEach(policies, (policy, p) =>
      Effect.gen(function*() {
        const name = policyPlan(policy, config).name
        const reports = []
        for (const [d, file] of files.entries()) {
          const r = runs[d]![p]!
          if (r.report === null) return yield* new SimulationFailed({ message: `${file} (${name}): ${r.failure}` })
          reports.push(r.report)
        }
        return { policy: name, days: reports, total: totalsOf(reports) }
      })
    )
  })

/** Why a day has no result: its own failure, or (never started) none to report. */
const failureOf = (outcome: DayOutcome | undefined, file: string): string =>
  outcome === undefined ? `${file}: not run` : outcome.ok ? `${file}: no failure` : outcome.message

/**
 * The job's result for every day, run on worker threads (day-pool.ts), in the files' order; the first
 * day, in that order, without a result of the job's kind fails the whole run, naming its file.
 */
export const resultsOfDays = <J extends DayJob>(
  files: ReadonlyArray<string>,
  job: J,
  pool: PoolOptions
): Effect.Effect<Array<Extract<DayResult, { readonly kind: J["kind"] }>>, SimulationFailed> =>
  Effect.gen(function*() {
    const outcomes = yield* Effect.promise(() => mapDays(files, job, pool))
    const results: Array<Extract<DayResult, { readonly kind: J["kind"] }>> = []
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome?.ok !== true) return yield* new SimulationFailed({ message: failureOf(outcome, files[i]!) })
      if (outcome.result.kind !== job.kind) return yield* new SimulationFailed({ message: `${files[i]}: not a ${job.kind} result` })
      results.push(outcome.result as Extract<DayResult, { readonly kind: J["kind"] }>)
    }
    return results
  })

/** Where a simulated day keeps its records: a database session, or (undefined) this process only. */
type StoreFor<R> = (day: RecordedDay, policy: PolicyName) => Effect.Effect<
  | {
    readonly store: NonNullable<ReplayOptions["store"]>
    readonly done: (report: DayReport) => Effect.Effect<void, unknown>
    /** The digest of the day's records when they are a finished day (resumed: nothing left to run). */
    readonly finished?: string
  }
  | undefined,
  unknown,
  R
>

const inMemory: StoreFor<never> = () => Effect.succeed(undefined)

/** How a policy replays a day in the simulator. */
export const replayOptionsFor = (plan: PolicyPlan, config: HedgeConfig, truth: MarginModel): ReplayOptions => ({
  config,
  policy: plan.policy,
  selection: plan.selection,
  foresight: plan.foresight,
  weighsCost: plan.weighsCost,
  ...(plan.deltaBand === undefined ? {} : { deltaBand: plan.deltaBand }),
  ...(plan.polling === undefined ? {} : { polling: plan.polling }),
  reportAs: plan.stored,
  truth,
  // In the simulator the broker's basket margin is the simulated broker's own truth.
  estimate: marginModelOf(plan.estimate, config, () => truth)
})

export const simulate = <R = never>(
  days: ReadonlyArray<{ file: string; day: RecordedDay }>,
  policies: ReadonlyArray<PolicyName | PolicyPlan>,
  config: HedgeConfig,
  storeFor: StoreFor<R> = inMemory as StoreFor<R>,
  /** Fault injection for restart tests: this process SIGKILLs itself at that service call. */
  killAfterCalls?: number,
  /** The simulated broker's margin (default: the SPAN-style model with the config's parameters). */
  truth: MarginModel = truthModelOf("span", config),
  /** After each day of each policy: those replayed so far and all of them (a terminal's progress line). */
  onDayDone?: (done: number, total: number) => void
): Effect.Effect<ReadonlyArray<PolicyRun>, SimulationFailed, R> =>
  Effect.gen(function*() {
    const runs: Array<PolicyRun> = []
    const total = days.length * policies.length
    let done = 0
    for (const given of policies) {
      const plan = typeof given === "string" ? policyPlan(given, config) : given
      const options = replayOptionsFor(plan, config, truth)
      const reports = []
      for (const { file, day } of days) {
        const kept = yield* storeFor(day, plan.stored)
        if (kept?.finished !== undefined) {
          reports.push(yield* onRecord(file, plan.name, kept.finished, () => replayDay(day, { ...options, file })))
          onDayDone?.(++done, total)
          continue
        }
        const result = yield* Effect.promise(() =>
          replayDay(day, {
            ...options,
            file,
            // A database that stops answering fails the day at the deadline (wall time), never hangs it.
            ...(kept === undefined ? {} : { store: kept.store, databaseDeadline: { seconds: config.deadlines.databaseSeconds, timers: wallTimers } }),
            ...(killAfterCalls === undefined ? {} : { killAfterCalls, hardKill: true })
          })
        )
        // A day whose engine stopped deciding has no result worth reporting.
        if (result.failure !== null) return yield* new SimulationFailed({ message: `${file} (${plan.name}): ${result.failure}` })
        if (kept !== undefined) yield* kept.done(result.report)
        reports.push(result.report)
        onDayDone?.(++done, total)
      }
      runs.push({ policy: plan.name, days: reports, total: totalsOf(reports) })
    }
    return runs
  }).pipe(
    Effect.catchDefect((e) => Effect.fail(new SimulationFailed({ message: e instanceof Error ? e.message : String(e) }))),
    Effect.mapError((e) => (e instanceof SimulationFailed ? e : new SimulationFailed({ message: messageOf(e) })))
  )

/**
 * `simulate --carry`: the days in order, in this process, each policy's day N+1 opening with what its
 * day N held after the close (simulations/carry.ts says the rule).
 */
export const simulateCarrying = (
  days: ReadonlyArray<{ file: string; day: RecordedDay }>,
  policies: ReadonlyArray<PolicyName | PolicyPlan>,
  config: HedgeConfig,
  truth: MarginModel = truthModelOf("span", config),
  onDayDone?: (done: number, total: number) => void
): Effect.Effect<ReadonlyArray<PolicyRun>, SimulationFailed> =>
  Effect.gen(function*() {
    const runs: Array<PolicyRun> = []
    let done = 0
    for (const given of policies) {
      const plan = typeof given === "string" ? policyPlan(given, config) : given
      const options = replayOptionsFor(plan, config, truth)
      const previous = new Map<string, { readonly date: string; readonly closing: ReadonlyArray<OpeningPosition> }>()
      const reports = []
      for (const { file, day } of days) {
        const before = previous.get(day.header.index)
        const opened = before === undefined || before.date >= day.header.date ? day : carryInto(day, before.date, before.closing)
        const result = yield* Effect.promise(() => replayDay(opened, { ...options, file }))
        if (result.failure !== null) return yield* new SimulationFailed({ message: `${file} (${plan.name}): ${result.failure}` })
        previous.set(day.header.index, { date: day.header.date, closing: result.closing })
        reports.push(result.report)
        onDayDone?.(++done, days.length * policies.length)
      }
      runs.push({ policy: plan.name, days: reports, total: totalsOf(reports) })
    }
    return runs
  })

/**
 * A finished day's report, rebuilt by replaying it in memory (deterministic: the same decisions), and
 * checked against its records' digest: another configuration would report another day.
 */
const onRecord = (file: string, policy: string, recorded: string, replay: () => Promise<{ readonly report: DayReport }>) =>
  Effect.gen(function*() {
    const { report } = yield* Effect.promise(replay)
    if (report.auditDigest !== recorded) {
      return yield* new SimulationFailed({
        message: `${file} (${policy}): finished in the database with audit digest ${recorded}, but this configuration replays it to ${report.auditDigest}: run it again without --resume`
      })
    }
    return { ...report, finished: true as const }
  })

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

/**
 * Keep every simulated day in the database: a session per day and policy with its records, its paper
 * broker and its summary. Fresh, or (`resume`) carrying on from what a killed run left there.
 */
export const databaseStore = (resume = false): StoreFor<SqlClient | PgClient.PgClient> => (day, policy) =>
  Effect.gen(function*() {
    const trading = tradingSessionOf({ ...day.header, autoHedgeEnabled: true, mode: "simulation" })
    const sessionId = yield* openSession(trading, policy, !resume)
    const store = {
      audit: yield* postgresAuditLog(sessionId),
      journal: yield* postgresOrderJournal(sessionId),
      world: yield* postgresPaperBrokerStore<PaperWorldState>(sessionId),
      resume
    }
    const sql = yield* SqlClient
    // A finished day (its session closed on record) is not run again.
    const trail = resume ? yield* loadTransitions(sessionId) : []
    const closed = trail.some((r) => r.actorId === "session" && r.to === "closed")
    return {
      ...(closed ? { finished: auditDigest(trail) } : {}),
      store,
      done: (report: DayReport) =>
        Effect.provideService(writeDayRecords(sessionId, report, day.header.index === "NIFTY" ? "NFO" : "BFO"), SqlClient, sql)
    }
  })
