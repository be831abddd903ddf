// `autohedge simulate --sweep key=v1,v2,… [--sweep …]`: the engine over a folder of days under every
// combination of the settings given (the cartesian product), with J, breaches and needless spend per
// setting, so a trader can tune trigger, target, bands and breach cost on their own recordings.
import { Effect } from "effect"
import { configKeyPaths, defaultConfig, loadConfig, type ConfigError, type HedgeConfig } from "../src/domain/config.ts"
import { objectivesOfDays, sumObjectives, type ObjectiveParts } from "../src/domain/objective.ts"
import type { PoolOptions } from "./day-pool.ts"
import { protectionCostOf } from "./oracle.ts"
import { resultsOfDays, SimulationFailed, type TruthName } from "./simulate.ts"

/** One `--sweep key=v1,v2` flag. */
export interface SweepAxis {
  readonly key: string
  readonly values: ReadonlyArray<string>
}

/** A `--sweep` flag's text as a key and its values; a key that is no setting is an error naming it. */
export const parseSweep = (text: string): SweepAxis | string => {
  const eq = text.indexOf("=")
  const key = eq < 0 ? text : text.slice(0, eq).trim()
  const values = eq < 0 ? [] : text.slice(eq + 1).split(",").map((v) => v.trim())
  if (eq < 0 || key === "" || values.some((v) => v === "")) return `--sweep: expected key=value1,value2,…, got ${JSON.stringify(text)}`
  if (!configKeyPaths(defaultConfig).includes(key)) return `--sweep: ${JSON.stringify(key)} is not a setting (see docs/configuration.md)`
  return { key, values }
}

/** Every `--sweep` flag, or the first that is wrong. */
export const parseSweeps = (texts: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<SweepAxis>, Error> =>
  Effect.forEach(texts, (text) => {
    const axis = parseSweep(text)
    return typeof axis === "string" ? Effect.fail(new Error(axis)) : Effect.succeed(axis)
  })

/** A value as a config file would hold it: a number, true / false, or else the text itself. */
const valueOf = (text: string): unknown => {
  if (text === "true" || text === "false") return text === "true"
  const n = Number(text)
  return text !== "" && Number.isFinite(n) ? n : text
}

const withSetting = (base: unknown, path: ReadonlyArray<string>, value: unknown): unknown => {
  if (path.length === 0) return value
  const record = (typeof base === "object" && base !== null ? base : {}) as Record<string, unknown>
  return { ...record, [path[0]!]: withSetting(record[path[0]!], path.slice(1), value) }
}

export interface SweepSetting {
  /** "entryTriggerPct=93 breachCostPerEntry=10000" */
  readonly label: string
  readonly values: Readonly<Record<string, string>>
  readonly config: HedgeConfig
}

/** Every combination of the axes' values over the base configuration, each checked as a config file is. */
export const sweepSettings = (base: HedgeConfig, axes: ReadonlyArray<SweepAxis>): Effect.Effect<ReadonlyArray<SweepSetting>, ConfigError> =>
  Effect.forEach(
    axes.reduce<ReadonlyArray<ReadonlyArray<[string, string]>>>((combos, axis) => combos.flatMap((c) => axis.values.map((v) => [...c, [axis.key, v] as [string, string]])), [[]]),
    (combo) => {
      const label = combo.map(([k, v]) => `${k}=${v}`).join(" ")
      const patched = combo.reduce<unknown>((c, [k, v]) => withSetting(c, k.split("."), valueOf(v)), base)
      return Effect.map(loadConfig({ env: {}, fileText: JSON.stringify(patched), fileName: `--sweep ${label}` }), (config) => ({ label, values: Object.fromEntries(combo), config }))
    }
  )

export interface SweepRow {
  readonly setting: SweepSetting
  readonly total: ObjectiveParts & { readonly hedges: number; readonly needlessHedges: number; readonly needlessCost: number; readonly peakUtilization: number }
}

const round2 = (x: number) => Math.round(x * 100) / 100

/**
 * The engine over the days under every setting; days run on worker threads. Every setting is judged by
 * the same J (`breachCostPerEntry` of the base configuration), whatever value it decides with.
 */
export const runSweep = (
  files: ReadonlyArray<string>,
  settings: ReadonlyArray<SweepSetting>,
  breachCostPerEntry: number,
  truth: TruthName,
  pool: PoolOptions = {}
): Effect.Effect<ReadonlyArray<SweepRow>, SimulationFailed> =>
  Effect.gen(function*() {
    const days = (yield* resultsOfDays(files, { kind: "sweep", configs: settings.map((s) => s.config), truth }, pool)).map((r) => r.runs)
    const rows: Array<SweepRow> = []
    for (const [s, setting] of settings.entries()) {
      const runs = []
      for (const [d, file] of files.entries()) {
        const run = days[d]![s]!
        if (run.replayed.report === null) return yield* new SimulationFailed({ message: `${file} (engine, ${setting.label}): ${run.replayed.failure}` })
        runs.push({ report: run.replayed.report, needless: run.needless! })
      }
      const parts = objectivesOfDays(
        runs.map(({ report: r }) => ({ date: r.date, budget: r.budget, peakMargin: (r.peakUtilization / 100) * r.budget, protectionCost: protectionCostOf(r), breaches: r.breaches.length })),
        breachCostPerEntry
      )
      rows.push({
        setting,
        total: {
          ...sumObjectives(parts),
          hedges: runs.reduce((n, r) => n + r.needless.hedges, 0),
          needlessHedges: runs.reduce((n, r) => n + r.needless.needless.length, 0),
          needlessCost: round2(runs.reduce((n, r) => n + r.needless.needlessCost, 0)),
          peakUtilization: runs.reduce((m, r) => Math.max(m, r.report.peakUtilization), 0)
        }
      })
    }
    return rows
  })

const rupees = (x: number) => `₹${Math.round(x).toLocaleString("en-IN")}`

/** One row per setting, best J first (ties in the order given). */
export const sweepMarkdown = (rows: ReadonlyArray<SweepRow>, days: number, breachCostPerEntry: number): string => {
  const line = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`
  const header = ["setting", "J", "protection cost", "breach cost", "breaches", "est. penalty", "needless hedges", "needless cost", "hedges", "peak util"]
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.total.objective - b.r.total.objective || a.i - b.i).map(({ r }) => r)
  return [
    line(header),
    line(header.map((_, i) => (i === 0 ? "---" : "---:"))),
    ...sorted.map(({ setting, total: t }) =>
      line([setting.label, rupees(t.objective), rupees(t.protectionCost), rupees(t.breachCost), String(t.breaches), rupees(t.shortfallPenalty), String(t.needlessHedges), rupees(t.needlessCost), String(t.hedges), `${t.peakUtilization.toFixed(1)}%`])
    ),
    "",
    `The engine over ${days} days per setting, best J first. J = protection cost + breach cost (est. penalty + ${rupees(breachCostPerEntry)} per breached entry: the base configuration's breachCostPerEntry, for every setting).`
  ].join("\n")
}

export const sweepJson = (rows: ReadonlyArray<SweepRow>): unknown => ({
  settings: rows.map((r) => ({ setting: r.setting.values, total: r.total }))
})
