// `autohedge simulate --compare`: the policy league table. Every policy trades the same days against
// the same simulated broker; the hindsight oracle says what the least spend could have been.
import { Effect } from "effect"
import { MARGIN_ESTIMATES, type HedgeConfig } from "../src/domain/config.ts"
import type { MarginModel } from "../src/domain/margin.ts"
import { shortfallPenalties } from "../src/domain/penalty.ts"
import { engineWith, policyPlan, type PolicyPlan } from "../src/runtime/policies.ts"
import type { RecordedDay } from "./recorded-day.ts"
import { oracleDay, oracleTotals, protectionCostOf, type OracleReport } from "./oracle.ts"
import type { PolicyRun, Totals } from "./report.ts"
import { simulate, SimulationFailed } from "./simulate.ts"

export interface LeagueTotals extends Totals {
  /**
   * What the hedges cost beyond what selling them brought back, hedge by hedge (a hedge sold at a
   * profit counts 0, not a gain): the number the oracle is a lower bound of.
   */
  readonly protectionCost: number
  /** Protection cost ÷ the oracle's (null when the oracle spends nothing). */
  readonly spendVsOracle: number | null
  /** Breaches on days the oracle had none (the engine's target is 0). */
  readonly avoidableBreaches: number
  /** The shortfall penalty the days' peak margins would have drawn, rupees. */
  readonly shortfallPenalty: number
}

export interface LeagueEntry {
  readonly name: string
  readonly total: LeagueTotals
  readonly days: ReadonlyArray<unknown>
}

export interface League {
  readonly entries: ReadonlyArray<LeagueEntry>
  /** Per day: each policy's net spend, breaches and peak, beside the oracle's. */
  readonly oracle: ReadonlyArray<OracleReport>
}

/** The contenders: the engine on each margin estimate, the origin's reference behaviour, static, none. */
export const leaguePlans = (config: HedgeConfig): ReadonlyArray<PolicyPlan> => [
  engineWith(config.marginEstimate, config),
  ...MARGIN_ESTIMATES.filter((e) => e !== config.marginEstimate).map((e) => engineWith(e, config)),
  policyPlan("reference", config),
  policyPlan("static", config),
  policyPlan("none", config)
]

const round2 = (x: number) => Math.round(x * 100) / 100

const penaltyOf = (days: ReadonlyArray<{ readonly date: string; readonly budget: number; readonly peakUtilization: number }>): number =>
  round2(shortfallPenalties(days.map((d) => ({ date: d.date, available: d.budget, peakMargin: (d.peakUtilization / 100) * d.budget }))).reduce((s, p) => s + p.penalty, 0))

export const runLeague = (
  days: ReadonlyArray<{ file: string; day: RecordedDay }>,
  config: HedgeConfig,
  truth: MarginModel
): Effect.Effect<League, SimulationFailed> =>
  Effect.gen(function*() {
    const oracle: Array<OracleReport> = []
    for (const { file, day } of days) {
      oracle.push(yield* oracleDay(day, { config, truth }).pipe(Effect.mapError((e) => new SimulationFailed({ message: `${file} (oracle): ${e.message}` }))))
    }
    const oracleNet = oracleTotals(oracle).netSpend
    const versus = (cost: number) => (oracleNet > 0 ? round2(cost / oracleNet) : null)
    const avoidable = (perDay: ReadonlyArray<{ readonly breaches: ReadonlyArray<unknown> }>) =>
      perDay.reduce((n, d, i) => n + (oracle[i]!.breaches.length === 0 ? d.breaches.length : 0), 0)
    const runs: ReadonlyArray<PolicyRun> = yield* simulate(days, leaguePlans(config), config, undefined, undefined, truth)
    const entries: Array<LeagueEntry> = runs.map((r) => {
      const protectionCost = round2(r.days.reduce((s, d) => s + protectionCostOf(d), 0))
      return {
        name: r.policy,
        days: r.days,
        total: { ...r.total, protectionCost, spendVsOracle: versus(protectionCost), avoidableBreaches: avoidable(r.days), shortfallPenalty: penaltyOf(r.days) }
      }
    })
    entries.push({
      name: "oracle",
      days: oracle,
      total: { ...oracleTotals(oracle), protectionCost: oracleNet, spendVsOracle: oracleNet > 0 ? 1 : null, avoidableBreaches: 0, shortfallPenalty: penaltyOf(oracle) }
    })
    return { entries, oracle }
  })

/** JSON: `policies` keyed by policy name, each with its `days` and the plain simulate totals (plus the league's). */
export const leagueJson = (league: League): unknown => ({
  policies: Object.fromEntries(league.entries.map((e) => [e.name, { days: e.days, total: e.total }]))
})

const rupees = (x: number) => `₹${Math.round(x).toLocaleString("en-IN")}`

/** The league table as Markdown. */
export const leagueMarkdown = (league: League): string => {
  const header = ["policy", "net spend", "protection cost", "÷ oracle", "breaches", "on oracle-clean days", "missed entries", "peak util", "est. penalty", "protection + penalty", "hedges"]
  const rows = league.entries.map((e) => [
    e.name,
    rupees(e.total.netSpend),
    rupees(e.total.protectionCost),
    e.total.spendVsOracle === null ? "–" : `${e.total.spendVsOracle.toFixed(2)}×`,
    String(e.total.breaches),
    String(e.total.avoidableBreaches),
    String(e.total.missedEntries),
    `${e.total.peakUtilization.toFixed(1)}%`,
    rupees(e.total.shortfallPenalty),
    rupees(e.total.protectionCost + e.total.shortfallPenalty),
    String(e.total.hedges)
  ])
  const line = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`
  const table = (h: ReadonlyArray<string>, r: ReadonlyArray<ReadonlyArray<string>>) => [line(h), line(h.map((_, i) => (i === 0 ? "---" : "---:"))), ...r.map(line)]
  // Per day: breaches (and protection cost) of each policy beside the oracle's.
  const perDay = league.oracle.map((o, i) => [
    `${o.date} ${o.index}`,
    ...league.entries.map((e) => {
      const d = e.days[i] as { readonly breaches: ReadonlyArray<unknown>; readonly hedges: ReadonlyArray<{ readonly paid: number; readonly received: number }> }
      return `${d.breaches.length} / ${rupees(e.name === "oracle" ? o.netSpend : protectionCostOf(d))}`
    })
  ])
  return [
    ...table(header, rows),
    "",
    "Per day: breaches / protection cost",
    "",
    ...table(["day", ...league.entries.map((e) => e.name)], perDay),
    "",
    "Protection cost: what each hedge cost beyond what selling it brought back (a hedge sold at a profit counts 0); the oracle is a lower bound of it. Net spend counts those profits too.",
    "Est. penalty: the clearing corporations' shortfall slabs on each day's peak margin above the budget (the oracle's is not a bound: it leaves an entry it cannot bring under 100 % as it is)."
  ].join("\n")
}
