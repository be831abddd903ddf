// Exact minimum-cost hedge selection. The margin model states its margin as a linear form around the
// projected portfolio (margin.ts, LinearMargin: a sum over groups of the worst of a few scenarios, each
// linear in the lots bought), so the cheapest mix of whole lots that brings margin down by the
// reduction needed is a small MILP, solved to proven optimality by HiGHS (milp.ts):
//
//   minimise   Σ_c cost_c·x_c                       x_c ∈ {0, 1, 2, …} lots of candidate c
//   subject to z_g ≥ floor_g,  z_g ≥ base_gs + Σ_c a_gsc·x_c     (z_g is group g's worst case)
//              fixed + Σ_g z_g ≤ margin before − reduction needed − FORM_TOLERANCE
//              Σ_c cost_c·x_c ≤ spend left
//              Σ_{c of a side} x_c ≤ the side's short lots + one hedge unit
//
// The form only chooses; the model is the truth: every pick's benefit, the total, and the check that
// the target is met are computed by model.margin on the resulting portfolio. Models without a linear
// form (a broker's basket margin) get the greedy method, and the result says so (method "greedy").
import { Effect } from "effect"
import { evaluateLinear, MarginModelError, netPositions, type LinearMargin, type MarginModel } from "./margin.ts"
import type { OptionType, Position } from "./market.ts"
import { MilpFailed, solveLpRelaxation, solveMilp, type Milp, type MilpOptions, type MilpRow, type MilpTerm, type MilpVariable } from "./milp.ts"
import {
  contractKey,
  hedgeCandidates,
  positionOf,
  selectHedges,
  shortContracts,
  type HedgeCandidate,
  type HedgePick,
  type HedgeSelection,
  type SelectionRequest
} from "./selection.ts"

/**
 * Rupees. The margin target is tightened by this much in the MILP, and the model's margin may differ
 * from its linear form by at most this much (the constants model rounds to the paisa): so a mix the
 * MILP accepts meets the target by the model's own count.
 */
export const FORM_TOLERANCE = 0.01

/**
 * Rupees. When the target is out of reach, the most reachable reduction is found to within half of
 * this (a continuous objective: proving the last paisa costs the solver far more than it is worth),
 * and a mix freeing within this much of it counts as freeing as much.
 */
const REACH_SLACK = 0.5

/**
 * Branch-and-bound nodes allowed for the least cost at the most reachable reduction. That search can
 * be long (the reduction is the hardest one the spend buys); past the limit the max-reduction mix is
 * kept as it is. A node count, not a time, so the outcome is the same on every run.
 */
const LEAST_COST_NODES = 200

/** One candidate the form can price: its column in the MILP. */
interface Column {
  readonly candidate: HedgeCandidate
  /** Position in the form's contract list. */
  readonly index: number
  /** Rupees per lot at the limit price. */
  readonly lotCost: number
  /** Most hedge lots on the candidate's side (see selectHedgesOptimal). */
  readonly sideCap: number
  /** Per group, per scenario: change of the scenario's value per lot bought. */
  readonly perLot: ReadonlyArray<ReadonlyArray<number>>
}

/** The form reduced to what the columns can move. */
interface Reduced {
  /** The fixed part plus the worst case of every group no column moves. */
  readonly constant: number
  readonly groups: ReadonlyArray<{
    readonly group: number
    /** Lower bound of z_g: the floor and the scenarios no column moves. */
    readonly lower: number
    /** Scenarios some column moves and no other scenario implies. */
    readonly scenarios: ReadonlyArray<{ readonly scenario: number; readonly base: number }>
  }>
}

const candidateOrder = (a: HedgeCandidate, b: HedgeCandidate): number =>
  a.optionType === b.optionType ? a.strike - b.strike : a.optionType < b.optionType ? -1 : 1

/** Lots the portfolio is short on one side, after netting. */
const shortLotsOf = (positions: ReadonlyArray<Position>, optionType: OptionType, lotSize: number): number =>
  netPositions(positions)
    .filter((p) => p.optionType === optionType && p.quantity < 0)
    .reduce((s, p) => s - p.quantity / lotSize, 0)

/** Shape checks: the MILP and evaluateLinear index the form blindly. */
const formProblem = (form: LinearMargin, contracts: number): string | undefined => {
  if (!Number.isFinite(form.fixed)) return `fixed part ${form.fixed} is not finite`
  if (form.perUnit.length !== contracts) return `${form.perUnit.length} perUnit entries for ${contracts} contracts`
  for (const [g, group] of form.groups.entries()) {
    if (Number.isNaN(group.floor) || group.floor === Infinity) return `group ${g} has floor ${group.floor}`
    if (group.base.length === 0 && group.floor === -Infinity) return `group ${g} has neither scenarios nor a floor`
    if (!group.base.every(Number.isFinite)) return `group ${g} has a non-finite scenario`
  }
  for (const [c, unit] of form.perUnit.entries()) {
    if (unit === null) continue
    if (unit.length !== form.groups.length) return `contract ${c} has ${unit.length} groups, the form ${form.groups.length}`
    for (const [g, row] of unit.entries()) {
      if (row.length !== form.groups[g]!.base.length || !row.every(Number.isFinite)) return `contract ${c}, group ${g} is malformed`
    }
  }
  return undefined
}

const reduce = (form: LinearMargin, columns: ReadonlyArray<Column>): Reduced => {
  let constant = form.fixed
  const groups: Array<Reduced["groups"][number]> = []
  form.groups.forEach((group, g) => {
    let lower = group.floor
    const moving: Array<number> = []
    group.base.forEach((b, s) => {
      if (columns.some((col) => col.perLot[g]![s] !== 0)) moving.push(s)
      else lower = Math.max(lower, b)
    })
    // Scenario s is implied by scenario t when t starts no lower and every lot raises it no less
    // (lots are never negative); of two identical scenarios the first stays.
    const implies = (t: number, s: number): boolean =>
      group.base[t]! >= group.base[s]! && columns.every((col) => col.perLot[g]![t]! >= col.perLot[g]![s]!)
    const kept = moving.filter((s) => !moving.some((t) => t !== s && implies(t, s) && (!implies(s, t) || t < s)))
    if (kept.length === 0) constant += lower
    else groups.push({ group: g, lower, scenarios: kept.map((s) => ({ scenario: s, base: group.base[s]! })) })
  })
  return { constant, groups }
}

type Goal =
  /** Least cost bringing the form's margin to at most `margin`, within `budget`. */
  | { readonly minimise: "cost"; readonly margin: number; readonly budget: number }
  /** Least form margin within `budget` (Infinity: no cap). */
  | { readonly minimise: "margin"; readonly budget: number }

const x = (i: number) => `x${i}`
const z = (g: number) => `z${g}`

// Columns and groups are laid out in the canonical candidate order, so the same request always
// gives HiGHS the same problem (and HiGHS, single-threaded with a fixed seed, the same answer).
const buildMilp = (columns: ReadonlyArray<Column>, reduced: Reduced, goal: Goal): Milp => {
  const capped = Number.isFinite(goal.budget)
  const variables: Array<MilpVariable> = columns.map((col, i) => ({
    name: x(i),
    lower: 0,
    upper: Math.min(col.sideCap, capped ? Math.max(0, Math.floor(goal.budget / col.lotCost + 1e-9)) : Infinity),
    integer: true
  }))
  const rows: Array<MilpRow> = []
  for (const { group, lower, scenarios } of reduced.groups) {
    variables.push({ name: z(group), lower, upper: Infinity, integer: false })
    for (const { scenario, base } of scenarios) {
      const terms: Array<MilpTerm> = [{ variable: z(group), coefficient: 1 }]
      columns.forEach((col, i) => {
        const a = col.perLot[group]![scenario]!
        if (a !== 0) terms.push({ variable: x(i), coefficient: -a })
      })
      rows.push({ name: `g${group}s${scenario}`, terms, lower: base })
    }
  }
  for (const side of ["CE", "PE"] as const) {
    const onSide = columns.flatMap((col, i) => (col.candidate.optionType === side ? [{ col, i }] : []))
    // One column's bound already is its side's cap.
    if (onSide.length < 2) continue
    rows.push({ name: `side${side}`, terms: onSide.map(({ i }) => ({ variable: x(i), coefficient: 1 })), upper: onSide[0]!.col.sideCap })
  }
  const costTerms = columns.map((col, i) => ({ variable: x(i), coefficient: col.lotCost }))
  const marginTerms = reduced.groups.map(({ group }) => ({ variable: z(group), coefficient: 1 }))
  if (capped) rows.push({ name: "spend", terms: costTerms, upper: goal.budget })
  if (goal.minimise === "margin") return { sense: "minimize", objective: marginTerms, rows, variables }
  rows.push({ name: "target", terms: marginTerms, upper: goal.margin - reduced.constant })
  return { sense: "minimize", objective: costTerms, rows, variables }
}

const tolerance = (v: number) => FORM_TOLERANCE + 1e-9 * Math.abs(v)

/**
 * Minimum-cost hedges: the cheapest mix of whole lots of in-band candidates (the greedy method's
 * candidates) whose margin after is at most margin before − reductionNeeded, within spendLeft.
 *
 * - Hedge lots per side are capped at the side's short lots plus one hedge unit. More wings than the
 *   shorts they protect make a long position of their own, not a hedge, though a scenario model can
 *   reward them (SPAN's extreme moves pay cheap far wings well: on the bench greedy, which has no such
 *   cap, bought ten times more far puts than the portfolio had short). The unit on top keeps every
 *   mix greedy can buy in whole units under the constants model inside the search (its last unit
 *   may cover shorts only in part), so there the optimum never costs more than greedy's.
 * - Out of reach within spendLeft: the largest reachable reduction (to within REACH_SLACK), at the
 *   least cost reaching it (proven within LEAST_COST_NODES, else the max-reduction mix as found);
 *   limitedBy "spendCap" when a larger spend would free more, "noCandidate" when not.
 * - Among mixes of equal cost the MILP's pick is deterministic; on top of it, lots move to a farther
 *   strike of the same side and price whenever the form's margin does not rise (greedy's tie rule).
 * - Candidates the form cannot price (perUnit null), or that lower no scenario, are left out.
 * - A model without a linear form: greedy, and the result says method "greedy".
 */
export const selectHedgesOptimal = (
  model: MarginModel,
  req: SelectionRequest
): Effect.Effect<HedgeSelection, MarginModelError | MilpFailed> =>
  Effect.gen(function*() {
    const linear = model.linear
    if (linear === undefined) return { ...(yield* selectHedges(model, req)), method: "greedy" as const }
    if (!(req.reductionNeeded > 0)) return { picks: [], cost: 0, benefit: 0, shortfall: 0, limitedBy: "none", method: "optimal" }

    const { lotSize, expiry } = req.market
    const fail = (message: string) => new MarginModelError({ model: model.name, message })
    const seen = new Set<string>()
    const candidates = [...hedgeCandidates(req.chain, req.market.spot, req.band, ["CE", "PE"], shortContracts(req.positions))]
      .sort(candidateOrder)
      .filter((c) => {
        // A chain listing a strike twice must not make two columns of one contract.
        const key = contractKey(c.strike, c.optionType)
        if (seen.has(key)) return false
        seen.add(key)
        return true
      })
    const query = { ...req.market, positions: req.positions }
    const before = yield* model.margin(query)
    const form = yield* linear(query, candidates.map((c) => ({ strike: c.strike, optionType: c.optionType, expiry })))
    const problem = formProblem(form, candidates.length)
    if (problem !== undefined) return yield* fail(`malformed linear form: ${problem}`)
    const formAt = (lots: ReadonlyArray<number>, columns: ReadonlyArray<Column>): number => {
      const n = candidates.map(() => 0)
      columns.forEach((col, i) => (n[col.index] = lots[i]! * lotSize))
      return evaluateLinear(form, n)
    }
    if (Math.abs(formAt([], []) - before) > tolerance(before)) {
      return yield* fail(`linear form gives ${formAt([], [])} for the portfolio, the model ${before}`)
    }

    const sideCap = (side: OptionType) => Math.ceil(shortLotsOf(req.positions, side, lotSize) - 1e-9) + req.unitLots
    const caps = { CE: sideCap("CE"), PE: sideCap("PE") }
    const columns: Array<Column> = candidates.flatMap((candidate, index): Array<Column> => {
      const unit = form.perUnit[index]
      const lotCost = candidate.limitPrice * lotSize
      if (unit === null || unit === undefined || !(lotCost > 0)) return []
      const perLot = unit.map((row) => row.map((a) => a * lotSize))
      // A contract that lowers no scenario can only add cost.
      if (!perLot.some((row) => row.some((a) => a < 0))) return []
      return [{ candidate, index, lotCost, sideCap: caps[candidate.optionType], perLot }]
    })
    const reduced = reduce(form, columns)
    const target = before - req.reductionNeeded
    const budget = Math.max(0, req.spendLeft)

    let lots: Array<number> = columns.map(() => 0)
    let limitedBy: HedgeSelection["limitedBy"] = "noCandidate"
    const lotsOf = (values: ReadonlyMap<string, number>) => columns.map((_, i) => values.get(x(i)) ?? 0)
    const solve = (goal: Goal, options?: MilpOptions) => solveMilp(buildMilp(columns, reduced, goal), options)
    if (columns.length > 0) {
      const cheapest = yield* solve({ minimise: "cost", margin: target - FORM_TOLERANCE, budget })
      if (cheapest.status === "optimal") {
        lots = lotsOf(cheapest.values)
        limitedBy = "none"
      } else {
        // Out of reach. First the most reachable at any spend (within the side caps) and whether the
        // spend left buys it: then the spend cap does not limit, and the least cost reaching it is the
        // answer. The LP bound is tried first: where it is reachable (everything coverable, the common
        // case) it is the most reachable, without solving that MILP.
        const margin = (budget: number) => solve({ minimise: "margin", budget }, { absoluteGap: REACH_SLACK / 2 })
        const leastCostTo = (sigma: number) =>
          solve({ minimise: "cost", margin: reduced.constant + sigma + REACH_SLACK / 2, budget }, { nodeLimit: LEAST_COST_NODES }).pipe(
            Effect.catchIf((e) => e.reason === "limit", () => Effect.succeed(undefined))
          )
        const bound = yield* solveLpRelaxation(buildMilp(columns, reduced, { minimise: "margin", budget: Infinity }))
        // Buying nothing is feasible here, so no optimum is the solver's fault.
        const noOptimum = new MilpFailed({ reason: "solver", message: "no optimum for the reachable margin" })
        if (bound.status !== "optimal") return yield* noOptimum
        let affordable = yield* leastCostTo(bound.objective)
        let anySpend = bound.objective
        if (affordable?.status !== "optimal") {
          const best = yield* margin(Infinity)
          if (best.status !== "optimal") return yield* noOptimum
          anySpend = best.objective
          // A best above the bound may still be affordable.
          if (anySpend > bound.objective + REACH_SLACK / 2) affordable = yield* leastCostTo(anySpend)
        }
        if (affordable?.status === "optimal") {
          lots = lotsOf(affordable.values)
          limitedBy = "noCandidate"
        } else {
          // Not affordable (or not settled within the node limit): the most reachable within the cap,
          // then the least cost reaching it.
          const capped = yield* margin(budget)
          if (capped.status !== "optimal") return yield* noOptimum
          const least = yield* leastCostTo(capped.objective)
          lots = lotsOf(least?.status === "optimal" ? least.values : capped.values)
          limitedBy = anySpend < capped.objective - REACH_SLACK ? "spendCap" : "noCandidate"
        }
      }
      lots = preferFarther(form, columns, lots)
    }

    // The model, not the form, prices the result: each pick given the picks before it.
    let portfolio: Array<Position> = [...req.positions]
    let current = before
    const picks: Array<HedgePick> = []
    for (const [i, col] of columns.entries()) {
      const n = lots[i]!
      if (n === 0) continue
      const quantity = n * lotSize
      portfolio = [...portfolio, positionOf(col.candidate, quantity, expiry)]
      const next = yield* model.margin({ ...req.market, positions: portfolio })
      picks.push({ ...col.candidate, lots: n, quantity, cost: col.lotCost * n, benefit: current - next })
      current = next
    }
    const cost = picks.reduce((s, p) => s + p.cost, 0)
    if (picks.length > 0 && cost > req.spendLeft + 1e-6) {
      return yield* new MilpFailed({ reason: "solver", message: `the solver's mix costs ${cost}, over the ${req.spendLeft} left` })
    }
    const expected = formAt(lots, columns)
    if (Math.abs(current - expected) > tolerance(current)) {
      return yield* fail(`linear form gives ${expected} after the picks, the model ${current}`)
    }
    if (limitedBy === "none" && current > target + 1e-9 * Math.abs(target)) {
      return yield* fail(`the picks leave margin ${current}, above the target ${target}`)
    }
    const benefit = before - current
    // The out-of-reach search can still meet the target by the model's count when the target sits
    // within FORM_TOLERANCE of the most reachable: then nothing limited the selection.
    const met = benefit >= req.reductionNeeded
    return {
      picks,
      cost,
      benefit,
      shortfall: met ? 0 : req.reductionNeeded - benefit,
      limitedBy: met ? "none" : limitedBy,
      method: "optimal" as const
    }
  })

/**
 * Tie rule among equal-cost mixes: move all of a column's lots to a farther strike of the same side at
 * the same limit price (so the same cost) when the form's margin does not rise. Each move pushes lots
 * strictly farther out, so this ends. Scenario values are updated per move, not re-evaluated.
 */
const preferFarther = (form: LinearMargin, columns: ReadonlyArray<Column>, start: ReadonlyArray<number>): Array<number> => {
  const lots = [...start]
  const values = form.groups.map((g, gi) =>
    g.base.map((b, s) => columns.reduce((v, col, i) => v + lots[i]! * col.perLot[gi]![s]!, b))
  )
  // Σ_g worst case with n lots moved from one column to another (n = 0: as it stands).
  const worstCases = (from?: Column, to?: Column, n = 0): number =>
    form.groups.reduce((sum, g, gi) => {
      let worst = g.floor
      values[gi]!.forEach((v, s) => {
        const moved = from === undefined || to === undefined ? v : v + n * (to.perLot[gi]![s]! - from.perLot[gi]![s]!)
        if (moved > worst) worst = moved
      })
      return sum + worst
    }, 0)
  const limit = worstCases() + 1e-6
  for (let moved = true; moved;) {
    moved = false
    for (const [i, from] of columns.entries()) {
      const n = lots[i]!
      if (n === 0) continue
      const targets = columns
        .map((to, j) => ({ to, j }))
        .filter(({ to }) =>
          to.candidate.optionType === from.candidate.optionType &&
          to.candidate.limitPrice === from.candidate.limitPrice &&
          to.candidate.otmDistance > from.candidate.otmDistance
        )
        .sort((a, b) => b.to.candidate.otmDistance - a.to.candidate.otmDistance)
      const accepted = targets.find(({ to }) => worstCases(from, to, n) <= limit)
      if (accepted === undefined) continue
      const { to, j } = accepted
      values.forEach((row, gi) => row.forEach((v, s) => (row[s] = v + n * (to.perLot[gi]![s]! - from.perLot[gi]![s]!))))
      lots[j] = lots[j]! + n
      lots[i] = 0
      moved = true
    }
  }
  return lots
}
