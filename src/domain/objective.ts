// The one rupee objective hedging is judged by: J = protection cost + breach cost, where the breach
// cost is the estimated shortfall penalty plus a value per breached entry (what a blocked or over-budget
// entry costs the trader; config `breachCostPerEntry`, docs/margin-model.md). The engine weighs a hedge
// set's cost against the breach cost it removes; the league totals J per policy.
import { shortfallPenalties } from "./penalty.ts"

/** The penalty slab a single day's shortfall draws (a first shortfall day of its month and streak). */
export const dayPenaltyOf = (peakMargin: number, budget: number): number =>
  shortfallPenalties([{ date: "", peakMargin, available: budget }])[0]!.penalty

/** What breaches cost: the penalty on the shortfall plus the value of each breached entry. */
export const breachCostOf = (p: { readonly penalty: number; readonly breachedEntries: number; readonly breachCostPerEntry: number }): number =>
  p.penalty + p.breachedEntries * p.breachCostPerEntry

export interface Objective {
  readonly protectionCost: number
  readonly penalty: number
  readonly breaches: number
  readonly breachCost: number
  /** J = protection cost + breach cost, rupees. */
  readonly objective: number
}

export const objectiveOf = (p: { readonly protectionCost: number; readonly penalty: number; readonly breaches: number; readonly breachCostPerEntry: number }): Objective => {
  const breachCost = breachCostOf({ penalty: p.penalty, breachedEntries: p.breaches, breachCostPerEntry: p.breachCostPerEntry })
  return { protectionCost: p.protectionCost, penalty: p.penalty, breaches: p.breaches, breachCost, objective: Math.round((p.protectionCost + breachCost) * 100) / 100 }
}

/**
 * How likely the engine takes an entry projected at `pct` of the budget to breach: none at or under
 * the trigger, certain at 100 % and above, linear between. The trigger is the trader's allowance for
 * what the projection misses (the market moving before and while the entry is in, the estimate's
 * error), so a projection between the trigger and 100 % is a risk, not a certainty.
 */
export const breachLikelihood = (pct: number, triggerPct: number): number =>
  pct >= 100 ? 1 : pct <= triggerPct ? 0 : (pct - triggerPct) / (100 - triggerPct)

/** The breach cost an entry projected at `margin` is expected to draw (penalty at its projection). */
export const expectedBreachCost = (p: { readonly margin: number; readonly budget: number; readonly triggerPct: number; readonly breachCostPerEntry: number }): number =>
  breachCostOf({
    penalty: dayPenaltyOf(p.margin, p.budget),
    breachedEntries: breachLikelihood((p.margin / p.budget) * 100, p.triggerPct),
    breachCostPerEntry: p.breachCostPerEntry
  })

/** The expected breach cost hedges removing `benefit` of margin avert from an entry projected at `margin`. */
export const avertedBreachCost = (p: { readonly margin: number; readonly benefit: number; readonly budget: number; readonly triggerPct: number; readonly breachCostPerEntry: number }): number =>
  expectedBreachCost(p) - expectedBreachCost({ ...p, margin: p.margin - p.benefit })
