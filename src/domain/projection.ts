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
  /** Entries the projection stands for (default 1, the deciding entry). */
  readonly entriesAtRisk?: number
  /** Model margin at the deciding entry's own instant, when the projection looks further (buying ahead). */
  readonly atEntryModelMargin?: number
}): Projection => {
  const entryMargin = Math.max(0, p.withEntriesModelMargin - p.heldModelMargin)
  const projectedMargin = p.marginInUse + entryMargin
  const marginAtEntry = p.atEntryModelMargin === undefined ? projectedMargin : p.marginInUse + Math.max(0, p.atEntryModelMargin - p.heldModelMargin)
  return {
    at: p.at,
    budget: p.budget,
    marginInUse: p.marginInUse,
    currentPct: utilisationPct(p.marginInUse, p.budget),
    entryMargin,
    projectedMargin,
    projectedPct: utilisationPct(projectedMargin, p.budget),
    reductionNeeded: Math.max(0, Math.round(projectedMargin - (p.targetPct / 100) * p.budget)),
    entriesAtRisk: p.entriesAtRisk ?? 1,
    marginAtEntry
  }
}

// ---- The portfolio at a coming instant: what will still be open when a later entry comes in.

/** An entry as the projection sees it: its schedule, and where its legs were struck if it is in. */
export interface ScheduledLegs {
  readonly id: string
  readonly entryAt: number
  readonly exitAt: number | null
  readonly legs: ReadonlyArray<LegSpec>
}

/** How positions are sized and struck (the day's contract and basket count). */
export interface Striking {
  readonly strikeStep: number
  readonly baskets: number
  readonly lotSize: number
  readonly expiry: string
}

/** Out by `at`: timed to exit at or before it. In one instant exits come before entries (issue 18), as the platform makes them. */
const outBy = (e: ScheduledLegs, at: number) => e.exitAt !== null && e.exitAt <= at

/** The entries open at `at`: those in now not timed out by it, and those to come in by then and not out. */
export const openEntriesAt = (at: number, inNow: ReadonlyArray<ScheduledLegs>, coming: ReadonlyArray<ScheduledLegs>): ReadonlyArray<string> => [
  ...inNow.filter((e) => !outBy(e, at)).map((e) => e.id),
  ...coming.filter((e) => e.entryAt <= at && !outBy(e, at)).map((e) => e.id)
]

/**
 * The instants worth projecting among `instants`: each whose open entries are not all open at another
 * one as well (an instant with fewer of the same shorts cannot need more margin). Ties keep the earliest.
 */
export const bindingInstants = (instants: ReadonlyArray<number>, inNow: ReadonlyArray<ScheduledLegs>, coming: ReadonlyArray<ScheduledLegs>): ReadonlyArray<number> => {
  const sets = [...new Set(instants)].sort((a, b) => a - b).map((at) => ({ at, open: new Set(openEntriesAt(at, inNow, coming)) }))
  const within = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].every((id) => b.has(id))
  return sets
    .filter((s, i) => !sets.some((o, j) => j !== i && within(s.open, o.open) && (o.open.size > s.open.size || j < i)))
    .map((s) => s.at)
}

/**
 * The portfolio open at `at`: the held one, less the legs of entries in now timed to exit at or
 * before `at` (struck where they were seen), plus the legs of entries to come in by then and not out,
 * struck at `spot`. An entry in now is taken out only if the held portfolio is short each of its legs
 * in full: otherwise (its strike is not known, or a leg already left) it is kept, erring on the side
 * of more margin. Hedges held stay: they expire at the close, after every entry's instant.
 */
export const portfolioAt = (p: {
  readonly at: number
  readonly held: ReadonlyArray<Position>
  readonly inNow: ReadonlyArray<ScheduledLegs & { readonly struckSpot: number | null }>
  readonly coming: ReadonlyArray<ScheduledLegs>
  readonly spot: number
  readonly striking: Striking
}): ReadonlyArray<Position> => {
  const { strikeStep, baskets, lotSize, expiry } = p.striking
  const legsAt = (legs: ReadonlyArray<LegSpec>, spot: number) => legPositions(legs, spot, strikeStep, baskets, lotSize, expiry)
  // What is left of the held portfolio as leaving entries are taken out, contract by contract.
  const left = new Map<string, number>()
  const key = (q: Position) => `${q.expiry}|${q.strike}|${q.optionType}`
  for (const h of p.held) left.set(key(h), (left.get(key(h)) ?? 0) + h.quantity)
  const leaving = p.inNow.flatMap((e) => {
    if (!outBy(e, p.at) || e.struckSpot === null) return []
    const legs = legsAt(e.legs, e.struckSpot)
    const heldInFull = legs.every((l) => l.quantity > 0 || (left.get(key(l)) ?? 0) <= l.quantity)
    if (!heldInFull) return []
    for (const l of legs) left.set(key(l), (left.get(key(l)) ?? 0) - l.quantity)
    return legs.map((l) => ({ ...l, quantity: -l.quantity }))
  })
  const arriving = p.coming.filter((e) => e.entryAt <= p.at && !outBy(e, p.at)).flatMap((e) => legsAt(e.legs, p.spot))
  return [...p.held, ...leaving, ...arriving]
}
