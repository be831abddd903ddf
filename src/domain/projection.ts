// Projected utilisation: where margin will stand once the coming entries are in, and how much the
// hedges must free to come back to the target.
import type { Projection } from "../../machines/protocol.ts"
import { atmStrike, type LegSpec, type Position } from "./market.ts"

/** Positions an entry's legs will open, struck around the at-the-money strike of `spot`. */
export const legPositions = (
  legs: ReadonlyArray<LegSpec>,
  spot: number,
  strikeStep: number,
  baskets: number,
  lotSize: number,
  expiry: string
): ReadonlyArray<Position> => {
  const atm = atmStrike(spot, strikeStep)
  return legs.map((leg) => ({
    strike: atm + leg.strikeOffset * strikeStep,
    optionType: leg.optionType,
    quantity: (leg.side === "SELL" ? -1 : 1) * leg.lotsPerBasket * baskets * lotSize,
    expiry
  }))
}

export const utilisationPct = (margin: number, budget: number): number => Math.round((margin / budget) * 10_000) / 100

/**
 * The broker's margin in use is the truth for now; the model supplies only the increment the coming
 * entries add (model margin with them minus model margin without them).
 */
export const project = (p: {
  readonly at: number
  readonly budget: number
  readonly targetPct: number
  readonly marginInUse: number
  readonly heldModelMargin: number
  readonly withEntriesModelMargin: number
}): Projection => {
  const entryMargin = Math.max(0, p.withEntriesModelMargin - p.heldModelMargin)
  const projectedMargin = p.marginInUse + entryMargin
  return {
    at: p.at,
    budget: p.budget,
    marginInUse: p.marginInUse,
    currentPct: utilisationPct(p.marginInUse, p.budget),
    entryMargin,
    projectedMargin,
    projectedPct: utilisationPct(projectedMargin, p.budget),
    reductionNeeded: Math.max(0, Math.round(projectedMargin - (p.targetPct / 100) * p.budget))
  }
}
