// `autohedge simulate`: every day file through every policy asked for. All files are read and
// validated before any day is run, so a bad file never leaves a half-made report behind.
import { Effect, Schema } from "effect"
import type { Policy } from "../machines/protocol.ts"
import type { HedgeConfig } from "../src/domain/config.ts"
import { constantsMarginModel } from "../src/domain/margin.ts"
import { listDayFiles, readRecordedDay, type DayFileError, type RecordedDay } from "./recorded-day.ts"
import { replayDay } from "./replay.ts"
import { totalsOf, type PolicyRun } from "./report.ts"

export const POLICIES: ReadonlyArray<Policy> = ["engine", "static", "none"]

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

export const simulate = (
  days: ReadonlyArray<{ file: string; day: RecordedDay }>,
  policies: ReadonlyArray<Policy>,
  config: HedgeConfig
): Effect.Effect<ReadonlyArray<PolicyRun>, SimulationFailed> =>
  Effect.tryPromise({
    try: async () => {
      const model = constantsMarginModel(config.marginConstants)
      const runs: Array<PolicyRun> = []
      for (const policy of policies) {
        const reports = []
        for (const { file, day } of days) {
          const result = await replayDay(day, { config, policy, truth: model, estimate: model, file })
          // A day whose engine stopped deciding has no result worth reporting.
          if (result.failure !== null) throw new Error(`${file} (${policy}): ${result.failure}`)
          reports.push(result.report)
        }
        runs.push({ policy, days: reports, total: totalsOf(reports) })
      }
      return runs
    },
    catch: (e) => new SimulationFailed({ message: e instanceof Error ? e.message : String(e) })
  })
