// `autohedge simulate --compare`: the policy league table. Every policy trades the same days against
// the same simulated broker, judged by one rupee objective J = protection cost + breach cost
// (src/domain/objective.ts); the hindsight oracles say what the least spend and the least J could have
// been, and an oracle that knows the schedule but trades at its decision instants' prices what knowing
// the schedule is worth. Days run on worker threads (day-pool.ts); each directory given is a set.
import { Effect } from "effect"
import { MARGIN_ESTIMATES, type HedgeConfig } from "../src/domain/config.ts"
import { objectivesOfDays, sumObjectives, type ObjectiveParts } from "../src/domain/objective.ts"
import type { DayReport } from "../src/runtime/day-report.ts"
import { engineWith, engineWithDeltaBand, policyPlan, type PolicyPlan } from "../src/runtime/policies.ts"
import type { LeagueDayResult } from "./day-jobs.ts"
import type { PoolOptions } from "./day-pool.ts"
import { oracleTotals, protectionCostOf, type ObjectiveOracleReport, type OracleReport } from "./oracle.ts"
import { totalsOf, type Totals } from "./report.ts"
import { resultsOfDays, SimulationFailed, type TruthName } from "./simulate.ts"

/**
 * How tight a day's budget is for its schedule, measured on the day itself: `comfortable` when no
 * entry would breach unhedged, `tight` when some would but the best plan within the spend cap and the
 * candidates keeps every entry under 100 % (the protection-cost oracle), `short` when even that plan
 * breaches (too small for the schedule even hedged as well as hindsight allows).
 */
export const BUDGET_LEVELS = ["comfortable", "tight", "short"] as const
export type BudgetLevel = (typeof BUDGET_LEVELS)[number]

export const budgetLevelOf = (oracle: OracleReport): BudgetLevel =>
  oracle.breaches.length > 0 ? "short" : oracle.entries.every((e) => e.unhedgedPct <= 100) ? "comfortable" : "tight"

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
  /** breaches × breachCostPerEntry. */
  readonly breachValue: number
  /** shortfallPenalty + breachValue. */
  readonly breachCost: number
  /** J = protectionCost + breachCost, rupees. */
  readonly objective: number
  /** Hedges without which no entry's breach or shortfall would have been worse (simulations/needless.ts). */
  readonly needlessHedges: number
  /** Their protection cost, rupees, and that ÷ the protection cost (null when nothing was spent). */
  readonly needlessCost: number
  readonly needlessShare: number | null
  /** J ÷ the hindsight J bound, and ÷ the schedule-known oracle's J (null when that is 0). */
  readonly vsHindsightBound: number | null
  readonly vsScheduleKnown: number | null
}

export interface LeagueEntry {
  readonly name: string
  readonly total: LeagueTotals
  /** J and its parts per budget level (levels with no day are left out). */
  readonly byBudgetLevel: Partial<Record<BudgetLevel, ObjectiveParts & { readonly days: number }>>
  readonly days: ReadonlyArray<DayReport>
  /** Per day: J and its parts, and the needless hedges. */
  readonly perDay: ReadonlyArray<ObjectiveParts & { readonly needlessHedges: number; readonly needlessCost: number }>
}

/** A J oracle's days and totals (the hindsight bound, or the schedule-known plan at decision prices). */
export interface LeagueBound {
  readonly name: string
  /** The plan's J and parts; `lowerBound`: the sum of the days' lower bounds (J less the solver's gap). */
  readonly total: ObjectiveParts & { readonly hedges: number; readonly lowerBound: number }
  readonly byBudgetLevel: Partial<Record<BudgetLevel, ObjectiveParts & { readonly days: number }>>
  readonly days: ReadonlyArray<ObjectiveOracleReport>
}

export interface LeagueSet {
  /** The directory the days came from (or the files' directory). */
  readonly name: string
  readonly entries: ReadonlyArray<LeagueEntry>
  /** The protection-cost oracle, per day, beside the policies. */
  readonly oracle: ReadonlyArray<OracleReport>
  readonly hindsight: LeagueBound
  readonly decisions: LeagueBound
  readonly levels: ReadonlyArray<BudgetLevel>
}

export interface League {
  readonly config: HedgeConfig
  readonly sets: ReadonlyArray<LeagueSet>
}

/**
 * The contenders: the engine on each margin estimate, the engine with the delta band beside it (a
 * second policy, docs/delta-band.md), the reference policy, static, none.
 */
export const leaguePlans = (config: HedgeConfig): ReadonlyArray<PolicyPlan> => [
  ...[
    engineWith(config.marginEstimate, config),
    ...MARGIN_ESTIMATES.filter((e) => e !== config.marginEstimate).map((e) => engineWith(e, config))
  ].map(withoutDeltaBand),
  engineWithDeltaBand(config),
  ...[policyPlan("reference", config), policyPlan("static", config), policyPlan("none", config)].map(withoutDeltaBand)
]

/** The band runs only in its own contender, so the others stay what they are named whatever the config says. */
const withoutDeltaBand = (plan: PolicyPlan): PolicyPlan => ({ ...plan, deltaBand: false })

const round2 = (x: number) => Math.round(x * 100) / 100
const ratio = (x: number, of: number) => (of > 0 ? round2(x / of) : null)

const byLevel = (levels: ReadonlyArray<BudgetLevel>, parts: ReadonlyArray<ObjectiveParts>) =>
  Object.fromEntries(
    BUDGET_LEVELS.flatMap((level) => {
      const mine = parts.filter((_, i) => levels[i] === level)
      return mine.length === 0 ? [] : [[level, { ...sumObjectives(mine), days: mine.length }]]
    })
  ) as LeagueEntry["byBudgetLevel"]

/** The days of one set, assembled from the per-day results (all of one set, in file order). */
const assembleSet = (name: string, results: ReadonlyArray<LeagueDayResult>, plans: ReadonlyArray<PolicyPlan>, config: HedgeConfig): LeagueSet => {
  const oracle = results.map((r) => r.oracle)
  const levels = oracle.map(budgetLevelOf)
  const boundOf = (label: string, days: ReadonlyArray<ObjectiveOracleReport>): LeagueBound => {
    const parts = days.map((d) => d.objective)
    const total = { ...sumObjectives(parts), hedges: days.reduce((s, d) => s + d.hedgeCount, 0), lowerBound: round2(days.reduce((s, d) => s + d.lowerBound, 0)) }
    return { name: label, total, byBudgetLevel: byLevel(levels, parts), days }
  }
  const hindsight = boundOf("hindsight J bound", results.map((r) => r.hindsight))
  const decisions = boundOf("schedule known, decision prices", results.map((r) => r.decisions))
  const oracleNet = oracleTotals(oracle).netSpend
  const entries = plans.map((plan, p): LeagueEntry => {
    const days = results.map((r) => r.plans[p]!.replayed.report!)
    const needless = results.map((r) => r.plans[p]!.needless!)
    const parts = objectivesOfDays(
      days.map((d) => ({ date: d.date, budget: d.budget, peakMargin: (d.peakUtilization / 100) * d.budget, protectionCost: protectionCostOf(d), breaches: d.breaches.length })),
      config.breachCostPerEntry
    )
    const j = sumObjectives(parts)
    const needlessCost = round2(needless.reduce((s, n) => s + n.needlessCost, 0))
    return {
      name: plan.name,
      days,
      perDay: parts.map((p, i) => ({ ...p, needlessHedges: needless[i]!.needless.length, needlessCost: needless[i]!.needlessCost })),
      byBudgetLevel: byLevel(levels, parts),
      total: {
        ...totalsOf(days),
        protectionCost: j.protectionCost,
        spendVsOracle: ratio(j.protectionCost, oracleNet),
        avoidableBreaches: days.reduce((n, d, i) => n + (oracle[i]!.breaches.length === 0 ? d.breaches.length : 0), 0),
        shortfallPenalty: j.shortfallPenalty,
        breachValue: j.breachValue,
        breachCost: j.breachCost,
        objective: j.objective,
        needlessHedges: needless.reduce((s, n) => s + n.needless.length, 0),
        needlessCost,
        needlessShare: ratio(needlessCost, j.protectionCost),
        vsHindsightBound: ratio(j.objective, hindsight.total.lowerBound),
        vsScheduleKnown: ratio(j.objective, decisions.total.objective)
      }
    }
  })
  return { name, entries, oracle, hindsight, decisions, levels }
}

/** The league over one or more sets of days (each its own account: penalties run over its days). */
export const runLeague = (
  sets: ReadonlyArray<{ readonly name: string; readonly files: ReadonlyArray<string> }>,
  config: HedgeConfig,
  truth: TruthName,
  pool: PoolOptions = {}
): Effect.Effect<League, SimulationFailed> =>
  Effect.gen(function*() {
    const plans = leaguePlans(config)
    const files = sets.flatMap((s) => s.files)
    const results: Array<LeagueDayResult> = []
    for (const [i, { day }] of (yield* resultsOfDays(files, { kind: "league", plans, config, truth }, pool)).entries()) {
      const failed = day.plans.findIndex((p) => p.replayed.failure !== null)
      if (failed >= 0) return yield* new SimulationFailed({ message: `${files[i]} (${plans[failed]!.name}): ${day.plans[failed]!.replayed.failure}` })
      results.push(day)
    }
    let at = 0
    return {
      config,
      sets: sets.map((s) => {
        const mine = results.slice(at, (at += s.files.length))
        return assembleSet(s.name, mine, plans, config)
      })
    }
  })

/**
 * JSON: `policies` keyed by policy name, each with its `days` and totals over every set (J in
 * `total.objective`, its parts beside it); `bounds` the two J oracles; `sets` the same per set, with J
 * by budget level and per day.
 */
export const leagueJson = (league: League): unknown => {
  const names = league.sets[0]?.entries.map((e) => e.name) ?? []
  const allDays = <A>(f: (s: LeagueSet) => ReadonlyArray<A>) => league.sets.flatMap(f)
  const only = league.sets.length === 1 ? league.sets[0] : undefined
  const policyTotal = (name: string) => {
    if (only !== undefined) return only.entries.find((e) => e.name === name)!.total
    // Over several sets: sums (ratios and peaks taken again over the whole).
    const es = league.sets.map((s) => s.entries.find((e) => e.name === name)!)
    const sum = (f: (t: LeagueTotals) => number) => round2(es.reduce((s, e) => s + f(e.total), 0))
    const base = totalsOf(es.flatMap((e) => e.days))
    const bound = (b: (s: LeagueSet) => LeagueBound, f: (t: LeagueBound["total"]) => number) => league.sets.reduce((s, x) => s + f(b(x).total), 0)
    const oracleNet = league.sets.reduce((s, x) => s + oracleTotals(x.oracle).netSpend, 0)
    const objective = sum((t) => t.objective)
    const protectionCost = sum((t) => t.protectionCost)
    return {
      ...base,
      protectionCost,
      spendVsOracle: ratio(protectionCost, oracleNet),
      avoidableBreaches: sum((t) => t.avoidableBreaches),
      shortfallPenalty: sum((t) => t.shortfallPenalty),
      breachValue: sum((t) => t.breachValue),
      breachCost: sum((t) => t.breachCost),
      objective,
      needlessHedges: sum((t) => t.needlessHedges),
      needlessCost: sum((t) => t.needlessCost),
      needlessShare: ratio(sum((t) => t.needlessCost), protectionCost),
      vsHindsightBound: ratio(objective, bound((s) => s.hindsight, (t) => t.lowerBound)),
      vsScheduleKnown: ratio(objective, bound((s) => s.decisions, (t) => t.objective))
    } satisfies LeagueTotals
  }
  const oracleDays = allDays((s) => s.oracle)
  const oracleNet = oracleTotals(oracleDays).netSpend
  return {
    breachCostPerEntry: league.config.breachCostPerEntry,
    policies: {
      ...Object.fromEntries(names.map((name) => [name, { days: allDays((s) => s.entries.find((e) => e.name === name)!.days), total: policyTotal(name) }])),
      oracle: { days: oracleDays, total: { ...oracleTotals(oracleDays), protectionCost: oracleNet, spendVsOracle: oracleNet > 0 ? 1 : null, avoidableBreaches: 0 } }
    },
    bounds: Object.fromEntries(
      (["hindsight", "decisions"] as const).map((k) => [
        k,
        { days: allDays((s) => s[k].days), total: { ...sumObjectives(league.sets.map((s) => s[k].total)), lowerBound: round2(league.sets.reduce((n, s) => n + s[k].total.lowerBound, 0)) } }
      ])
    ),
    sets: Object.fromEntries(
      league.sets.map((s) => [
        s.name,
        {
          days: s.oracle.map((o, i) => ({ date: o.date, index: o.index, budgetLevel: s.levels[i], hindsightBound: s.hindsight.days[i]!.lowerBound, scheduleKnown: s.decisions.days[i]!.objective.objective })),
          policies: Object.fromEntries(s.entries.map((e) => [e.name, { total: e.total, byBudgetLevel: e.byBudgetLevel, perDay: e.perDay }])),
          bounds: { hindsight: { total: s.hindsight.total, byBudgetLevel: s.hindsight.byBudgetLevel }, decisions: { total: s.decisions.total, byBudgetLevel: s.decisions.byBudgetLevel } }
        }
      ])
    )
  }
}

const rupees = (x: number) => `₹${Math.round(x).toLocaleString("en-IN")}`
const times = (x: number | null) => (x === null ? "–" : `${x.toFixed(2)}×`)
const line = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`
const table = (h: ReadonlyArray<string>, r: ReadonlyArray<ReadonlyArray<string>>) => [line(h), line(h.map((_, i) => (i === 0 ? "---" : "---:"))), ...r.map(line)]

const setMarkdown = (s: LeagueSet): Array<string> => {
  const counts = BUDGET_LEVELS.map((l) => `${s.levels.filter((x) => x === l).length} ${l}`).join(", ")
  const header = ["policy", "J", "protection cost", "breach cost", "breaches", "on oracle-clean days", "est. penalty", "needless hedges", "needless cost", "J ÷ hindsight bound", "J ÷ schedule known", "net spend", "÷ oracle", "missed entries", "peak util", "hedges"]
  const rows = s.entries.map((e) => [
    e.name,
    rupees(e.total.objective),
    rupees(e.total.protectionCost),
    rupees(e.total.breachCost),
    String(e.total.breaches),
    String(e.total.avoidableBreaches),
    rupees(e.total.shortfallPenalty),
    String(e.total.needlessHedges),
    `${rupees(e.total.needlessCost)}${e.total.needlessShare === null ? "" : ` (${Math.round(e.total.needlessShare * 100)} %)`}`,
    times(e.total.vsHindsightBound),
    times(e.total.vsScheduleKnown),
    rupees(e.total.netSpend),
    times(e.total.spendVsOracle),
    String(e.total.missedEntries),
    `${e.total.peakUtilization.toFixed(1)}%`,
    String(e.total.hedges)
  ])
  const o = oracleTotals(s.oracle)
  const blank = (n: number) => Array.from({ length: n }, () => "–")
  const boundRow = (b: LeagueBound) => [b.name, rupees(b === s.hindsight ? b.total.lowerBound : b.total.objective), rupees(b.total.protectionCost), rupees(b.total.breachCost), String(b.total.breaches), "–", rupees(b.total.shortfallPenalty), ...blank(8), String(b.total.hedges)]
  rows.push(
    boundRow(s.hindsight),
    boundRow(s.decisions),
    ["oracle (protection cost)", "–", rupees(o.netSpend), "–", String(o.breaches), "0", ...blank(5), rupees(o.netSpend), "1.00×", "0", `${o.peakUtilization.toFixed(1)}%`, String(o.hedges)]
  )
  const levels = BUDGET_LEVELS.filter((l) => s.levels.includes(l))
  const levelCell = (x: (ObjectiveParts & { days: number }) | undefined) => (x === undefined ? "–" : `${rupees(x.objective)} (${x.breaches})`)
  const byLevel = [...s.entries, s.hindsight, s.decisions].map((e) => [e.name, ...levels.map((l) => levelCell(e.byBudgetLevel[l]))])
  const perDay = s.oracle.map((day, i) => [
    `${day.date} ${day.index}`,
    s.levels[i]!,
    ...s.entries.map((e) => `${e.days[i]!.breaches.length} / ${rupees(protectionCostOf(e.days[i]!))}`),
    `${s.hindsight.days[i]!.objective.breaches} / ${rupees(s.hindsight.days[i]!.objective.objective)}`,
    `${day.breaches.length} / ${rupees(day.netSpend)}`
  ])
  return [
    `### ${s.name}: ${s.oracle.length} days (${counts})`,
    "",
    ...table(header, rows),
    "",
    "J by budget level (breaches):",
    "",
    ...table(["policy", ...levels.map((l) => `${l} (${s.levels.filter((x) => x === l).length} day${s.levels.filter((x) => x === l).length === 1 ? "" : "s"})`)], byLevel),
    "",
    "Per day: breaches / protection cost (hindsight bound: breaches / J)",
    "",
    ...table(["day", "budget", ...s.entries.map((e) => e.name), "hindsight J bound", "oracle"], perDay)
  ]
}

/** The league table as Markdown, one section per set. */
export const leagueMarkdown = (league: League): string =>
  [
    ...league.sets.flatMap((s) => [...setMarkdown(s), ""]),
    `J = protection cost + breach cost; breach cost = est. penalty + ${rupees(league.config.breachCostPerEntry)} (breachCostPerEntry) per breached entry.`,
    "Protection cost: what each hedge cost beyond what selling it brought back (a hedge sold at a profit counts 0). Needless hedges: without them no entry's breach or shortfall would have been worse.",
    "Est. penalty: the clearing corporations' shortfall slabs on each day's peak margin above the budget.",
    "Hindsight J bound: the least J any policy could reach knowing the whole day (prices too), a lower bound, not a target; schedule known: the least J knowing the entries and exits but trading at each entry's look-ahead prices. Both count the penalty at its lowest slab on the entry instants' peak; lots may be fractional in both; the bound's J is its answer's less the solver's gap (₹1 a day where it solved).",
    "Budget: comfortable = no entry breaches unhedged; tight = some would, the protection-cost oracle keeps all under 100 %; short = even that oracle breaches."
  ].join("\n")
