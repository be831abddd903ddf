// The one number hedging is judged by, in rupees: J = protection cost + breach cost, where breach cost
// = the clearing corporations' shortfall penalty + breachCostPerEntry for every entry that left margin
// above 100 % of the budget. Why these parts and the default value: docs/margin-model.md ("The objective").
import { shortfallPenalties } from "./penalty.ts"

/** What a hedge cost and what selling it brought back, rupees. */
export interface HedgeOutlay {
  readonly paid: number
  readonly received: number
}

const round2 = (x: number) => Math.round(x * 100) / 100

/**
 * Protection cost: per hedge, what it paid less what it got back, never below zero (a hedge sold above
 * its price is a trading gain, not cheaper protection).
 */
export const protectionCostOf = (hedges: ReadonlyArray<HedgeOutlay>): number =>
  round2(hedges.reduce((s, x) => s + Math.max(0, x.paid - x.received), 0))

export interface ObjectiveParts {
  readonly protectionCost: number
  /** Entries after which margin in use exceeded 100 % of the budget. */
  readonly breaches: number
  /** The shortfall penalty, rupees (src/domain/penalty.ts). */
  readonly shortfallPenalty: number
  /** breaches × breachCostPerEntry. */
  readonly breachValue: number
  /** shortfallPenalty + breachValue. */
  readonly breachCost: number
  /** J = protectionCost + breachCost. */
  readonly objective: number
}

export const objectiveOf = (
  p: { readonly protectionCost: number; readonly breaches: number; readonly shortfallPenalty: number },
  breachCostPerEntry: number
): ObjectiveParts => {
  const breachValue = round2(p.breaches * breachCostPerEntry)
  const breachCost = round2(p.shortfallPenalty + breachValue)
  return { protectionCost: round2(p.protectionCost), breaches: p.breaches, shortfallPenalty: round2(p.shortfallPenalty), breachValue, breachCost, objective: round2(p.protectionCost + breachCost) }
}

/** The sum of several ObjectiveParts (days into a set, or a set's days by budget level). */
export const sumObjectives = (parts: ReadonlyArray<ObjectiveParts>): ObjectiveParts => {
  const sum = (f: (p: ObjectiveParts) => number) => round2(parts.reduce((s, p) => s + f(p), 0))
  return {
    protectionCost: sum((p) => p.protectionCost),
    breaches: parts.reduce((s, p) => s + p.breaches, 0),
    shortfallPenalty: sum((p) => p.shortfallPenalty),
    breachValue: sum((p) => p.breachValue),
    breachCost: sum((p) => p.breachCost),
    objective: sum((p) => p.objective)
  }
}

/** A traded day as the objective sees it. */
export interface ObjectiveDay {
  /** "YYYY-MM-DD" */
  readonly date: string
  readonly budget: number
  /** The day's highest margin in use, rupees. */
  readonly peakMargin: number
  readonly protectionCost: number
  readonly breaches: number
}

/**
 * J of every day of an account's run of days, in the order given: the penalty of each day depends on
 * the days before it (a shortfall continuing more than 3 days, more than 5 in a month).
 */
export const objectivesOfDays = (days: ReadonlyArray<ObjectiveDay>, breachCostPerEntry: number): ReadonlyArray<ObjectiveParts> => {
  // shortfallPenalties answers in date order (stable): map its answers back to the days' own order.
  const order = days.map((d, i) => ({ d, i })).sort((a, b) => a.d.date.localeCompare(b.d.date))
  const penalties = shortfallPenalties(order.map(({ d }) => ({ date: d.date, available: d.budget, peakMargin: d.peakMargin })))
  const penaltyOf = new Array<number>(days.length)
  order.forEach(({ i }, k) => (penaltyOf[i] = penalties[k]!.penalty))
  return days.map((d, i) => objectiveOf({ protectionCost: d.protectionCost, breaches: d.breaches, shortfallPenalty: penaltyOf[i]! }, breachCostPerEntry))
}

// ---- The engine's own weighing, before it buys: what a hedge set averts of the breach cost.

/** The penalty slab one day's shortfall draws, as a first shortfall day of its month and streak. */
export const dayPenaltyOf = (peakMargin: number, budget: number): number =>
  shortfallPenalties([{ date: "", peakMargin, available: budget }])[0]!.penalty

/**
 * How likely the engine takes an entry projected at `pct` of the budget to breach: not at all at or
 * under the trigger, for certain at 100 % and above, linearly between. The trigger is the trader's
 * allowance for what the projection misses (the market moving before and while the entry is in, the
 * estimate's error), so a projection between the trigger and 100 % is a risk, not a certainty.
 */
export const breachLikelihood = (pct: number, triggerPct: number): number =>
  pct >= 100 ? 1 : pct <= triggerPct ? 0 : (pct - triggerPct) / (100 - triggerPct)

/** The breach cost an entry projected at `margin` is expected to draw: its penalty and its likely breach. */
export const expectedBreachCost = (p: { readonly margin: number; readonly budget: number; readonly triggerPct: number; readonly breachCostPerEntry: number }): number =>
  dayPenaltyOf(p.margin, p.budget) + breachLikelihood((p.margin / p.budget) * 100, p.triggerPct) * p.breachCostPerEntry

/** The expected breach cost that hedges freeing `benefit` of margin avert for an entry projected at `margin`. */
export const avertedBreachCost = (p: { readonly margin: number; readonly benefit: number; readonly budget: number; readonly triggerPct: number; readonly breachCostPerEntry: number }): number =>
  expectedBreachCost(p) - expectedBreachCost({ ...p, margin: p.margin - p.benefit })
