// What is done with one day file, on whichever thread runs it: the day is read here (a worker loads
// only the days it is given) and what comes back is plain data. Jobs are independent per day, so the
// same day gives the same answer on any thread, in any order.
import { Effect } from "effect"
import type { HedgeConfig } from "../src/domain/config.ts"
import type { DayReport } from "../src/runtime/day-report.ts"
import { policyPlan, type PolicyName, type PolicyPlan } from "../src/runtime/policies.ts"
import { needlessHedges, type NeedlessReport } from "./needless.ts"
import { objectiveOracleDay, oracleDay, type ObjectiveOracleReport, type OracleReport } from "./oracle.ts"
import { readRecordedDay, type RecordedDay } from "../src/domain/recorded-day.ts"
import { replayDay } from "./replay.ts"
import { replayOptionsFor, truthModelOf, type TruthName } from "./simulate.ts"

export type DayJob =
  /** Replay the day under each policy. */
  | { readonly kind: "simulate"; readonly policies: ReadonlyArray<PolicyName | PolicyPlan>; readonly config: HedgeConfig; readonly truth: TruthName }
  /** The league's day: every plan (with its needless hedges) and the three oracles. */
  | { readonly kind: "league"; readonly plans: ReadonlyArray<PolicyPlan>; readonly config: HedgeConfig; readonly truth: TruthName }
  /** The engine under each of several configurations, with its needless hedges. */
  | { readonly kind: "sweep"; readonly configs: ReadonlyArray<HedgeConfig>; readonly truth: TruthName }

/** A replay's outcome: its report, or why the engine stopped deciding. */
export type Replayed = { readonly report: DayReport; readonly failure: null } | { readonly report: null; readonly failure: string }

export interface PlanDay {
  readonly replayed: Replayed
  readonly needless: NeedlessReport | null
}

export interface LeagueDayResult {
  readonly oracle: OracleReport
  readonly hindsight: ObjectiveOracleReport
  readonly decisions: ObjectiveOracleReport
  readonly plans: ReadonlyArray<PlanDay>
}

export type DayResult =
  | { readonly kind: "simulate"; readonly runs: ReadonlyArray<Replayed> }
  | { readonly kind: "league"; readonly day: LeagueDayResult }
  | { readonly kind: "sweep"; readonly runs: ReadonlyArray<PlanDay> }

/** A day's answer, or the one-line message of what went wrong with it (a bad file, an oracle failure). */
export type DayOutcome = { readonly ok: true; readonly result: DayResult } | { readonly ok: false; readonly message: string }

const replay = async (day: RecordedDay, file: string, plan: PolicyPlan, config: HedgeConfig, truth: TruthName): Promise<Replayed> => {
  const result = await replayDay(day, { ...replayOptionsFor(plan, config, truthModelOf(truth, config)), file })
  return result.failure === null ? { report: result.report, failure: null } : { report: null, failure: result.failure }
}

const withNeedless = (day: RecordedDay, file: string, plan: PolicyPlan, config: HedgeConfig, truth: TruthName) =>
  Effect.gen(function*() {
    const replayed = yield* Effect.promise(() => replay(day, file, plan, config, truth))
    const needless = replayed.report === null ? null : yield* needlessHedges(day, replayed.report, truthModelOf(truth, config))
    return { replayed, needless }
  })

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

export const runDayJob = (file: string, job: DayJob): Promise<DayOutcome> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const day = yield* readRecordedDay(file)
      switch (job.kind) {
        case "simulate": {
          const runs: Array<Replayed> = []
          for (const given of job.policies) {
            const plan = typeof given === "string" ? policyPlan(given, job.config) : given
            runs.push(yield* Effect.promise(() => replay(day, file, plan, job.config, job.truth)))
          }
          return { kind: "simulate", runs } as const
        }
        case "league": {
          const options = { config: job.config, truth: truthModelOf(job.truth, job.config) }
          const oracle = yield* oracleDay(day, options)
          const hindsight = yield* objectiveOracleDay(day, options, "hindsight")
          const decisions = yield* objectiveOracleDay(day, options, "decisions")
          const plans: Array<PlanDay> = []
          for (const plan of job.plans) plans.push(yield* withNeedless(day, file, plan, job.config, job.truth))
          return { kind: "league", day: { oracle, hindsight, decisions, plans } } as const
        }
        case "sweep": {
          const runs: Array<PlanDay> = []
          for (const config of job.configs) runs.push(yield* withNeedless(day, file, policyPlan("engine", config), config, job.truth))
          return { kind: "sweep", runs } as const
        }
      }
    }).pipe(
      Effect.map((result): DayOutcome => ({ ok: true, result })),
      Effect.catchCause((cause) => Effect.succeed<DayOutcome>({ ok: false, message: messageOf(causeError(cause)) }))
    )
  )

/** The failure or the defect a cause holds (a thrown error inside a replay is a defect). */
const causeError = (cause: import("effect").Cause.Cause<unknown>): unknown => {
  const reason = cause.reasons[0]
  return reason === undefined ? "interrupted" : reason._tag === "Fail" ? reason.error : reason._tag === "Die" ? reason.defect : "interrupted"
}
