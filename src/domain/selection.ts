// Hedge selection: which far-OTM options to buy, and how many, to bring projected margin down by a given
// amount cheaply. Two methods share the candidates and the result shape:
// - greedy (here, the original design's method, kept for comparison): best marginal benefit per rupee first, in
//   whole hedge units. It finds the cheapest mix when shorts come in whole hedge units per side, can
//   overspend when a unit covers shorts only in part, and under a scenario model (SPAN) can stop when
//   no one-sided unit lowers the worst scenario although both sides together would.
// - optimal (optimal-selection.ts): the exact minimum-cost mix in whole lots (at most a side's short
//   lots plus a unit on each side), a MILP over the model's linear form; models without one (a broker's
//   basket margin) fall back to greedy.
// selectHedgesBy dispatches on the configured method. Benefits are computed by the margin model on the
// whole projected portfolio (margin without the candidate minus margin with it), never taken from an average.
import { Effect } from "effect"
import type { HedgeConfig, SelectionMethod } from "./config.ts"
import type { MarginModel, MarginModelError, MarginQuery } from "./margin.ts"
import { toTick, type ChainRow, type IndexName, type OptionType, type Position } from "./market.ts"
import type { MilpFailed } from "./milp.ts"
import { selectHedgesOptimal } from "./optimal-selection.ts"

export type { SelectionMethod } from "./config.ts"

export interface HedgeBand {
  readonly minPremium: number
  readonly maxPremium: number
  readonly minOtmDistance: number
  readonly maxOtmDistance: number
  readonly limitPriceBuffer: number
}

/** The configured band for an index's hedges. */
export const hedgeBandOf = (config: HedgeConfig, index: IndexName): HedgeBand => ({
  minPremium: config.minPremium,
  maxPremium: config.maxPremium,
  minOtmDistance: config.minOtmDistance[index],
  maxOtmDistance: config.maxOtmDistance[index],
  limitPriceBuffer: config.limitPriceBuffer
})

export interface HedgeCandidate {
  readonly strike: number
  readonly optionType: OptionType
  readonly ltp: number
  readonly limitPrice: number
  readonly otmDistance: number
}

export interface HedgePick extends HedgeCandidate {
  readonly lots: number
  readonly quantity: number
  /** Worst-case cost at the limit price, rupees. */
  readonly cost: number
  /** Margin freed by this pick given the picks before it, rupees. */
  readonly benefit: number
}

export interface HedgeSelection {
  readonly picks: ReadonlyArray<HedgePick>
  readonly cost: number
  readonly benefit: number
  /** Reduction still missing after the picks (0 when the target is reached). */
  readonly shortfall: number
  /** Why selection stopped short of the target, if it did. */
  readonly limitedBy: "none" | "noCandidate" | "spendCap"
  /**
   * The method that chose the picks, when the caller asked through selectHedgesBy or
   * selectHedgesOptimal: "greedy" also when optimal was asked for and the model has no linear form.
   */
  readonly method?: SelectionMethod
}

export const contractKey = (strike: number, optionType: OptionType) => `${optionType}${strike}`

/**
 * Contracts the portfolio is short in. Buying one of them would not hedge: it would close part of a
 * strategy's own leg behind the execution platform's back, so they are never hedge candidates.
 */
export const shortContracts = (positions: ReadonlyArray<Position>): ReadonlySet<string> =>
  new Set(positions.filter((p) => p.quantity < 0).map((p) => contractKey(p.strike, p.optionType)))

/** Options in the premium band and the OTM-distance band, on the given sides, except `excluded` contracts. */
export const hedgeCandidates = (
  chain: ReadonlyArray<ChainRow>,
  spot: number,
  band: HedgeBand,
  sides: ReadonlyArray<OptionType>,
  excluded: ReadonlySet<string> = new Set()
): ReadonlyArray<HedgeCandidate> => {
  const out: Array<HedgeCandidate> = []
  for (const row of chain) {
    for (const optionType of sides) {
      if (excluded.has(contractKey(row.strike, optionType))) continue
      const ltp = optionType === "CE" ? row.ce : row.pe
      if (ltp === null || ltp < band.minPremium || ltp > band.maxPremium) continue
      const otmDistance = optionType === "CE" ? row.strike - spot : spot - row.strike
      if (otmDistance < band.minOtmDistance || otmDistance > band.maxOtmDistance) continue
      out.push({ strike: row.strike, optionType, ltp, limitPrice: toTick(ltp + band.limitPriceBuffer), otmDistance })
    }
  }
  return out
}

export interface SelectionRequest {
  /** Everything about the valuation except the positions (index, dates, lot size, spot, instant). */
  readonly market: Omit<MarginQuery, "positions">
  readonly chain: ReadonlyArray<ChainRow>
  /** The projected portfolio the hedges must protect (held positions plus the coming entries). */
  readonly positions: ReadonlyArray<Position>
  readonly reductionNeeded: number
  readonly spendLeft: number
  /** Lots in one hedge unit: hedge lots per basket × baskets. */
  readonly unitLots: number
  readonly band: HedgeBand
}

export const positionOf = (c: HedgeCandidate, quantity: number, expiry: string): Position => ({
  strike: c.strike,
  optionType: c.optionType,
  quantity,
  expiry
})

// Deterministic order: best benefit per rupee, then more benefit, then cheaper, then further out.
const better = (a: HedgePick, b: HedgePick): boolean => {
  const ra = a.benefit / a.cost
  const rb = b.benefit / b.cost
  if (ra !== rb) return ra > rb
  if (a.benefit !== b.benefit) return a.benefit > b.benefit
  if (a.ltp !== b.ltp) return a.ltp < b.ltp
  if (a.otmDistance !== b.otmDistance) return a.otmDistance > b.otmDistance
  return a.optionType === b.optionType ? a.strike < b.strike : a.optionType < b.optionType
}

/** Merge repeated picks of one contract into one pick (one order). */
const mergePicks = (picks: ReadonlyArray<HedgePick>): ReadonlyArray<HedgePick> => {
  const merged = new Map<string, HedgePick>()
  for (const p of picks) {
    const key = `${p.optionType}${p.strike}`
    const prev = merged.get(key)
    merged.set(
      key,
      prev === undefined
        ? p
        : { ...prev, lots: prev.lots + p.lots, quantity: prev.quantity + p.quantity, cost: prev.cost + p.cost, benefit: prev.benefit + p.benefit }
    )
  }
  return [...merged.values()]
}

/**
 * Greedy cover: repeatedly add the hedge unit with the highest marginal benefit per
 * rupee (benefit recomputed by the model on the portfolio including earlier picks) until the
 * reduction is reached, no candidate frees margin, or the next unit would break the spend cap.
 */
export const selectHedges = (
  model: MarginModel,
  req: SelectionRequest
): Effect.Effect<HedgeSelection, MarginModelError> =>
  Effect.gen(function*() {
    const margin = (positions: ReadonlyArray<Position>) => model.margin({ ...req.market, positions })
    const sides: ReadonlyArray<OptionType> = ["CE", "PE"]
    const candidates = hedgeCandidates(req.chain, req.market.spot, req.band, sides, shortContracts(req.positions))
    const quantity = req.unitLots * req.market.lotSize
    let portfolio = [...req.positions]
    let current = yield* margin(portfolio)
    const picks: Array<HedgePick> = []
    let cost = 0
    let benefit = 0
    let limitedBy: HedgeSelection["limitedBy"] = "none"
    while (benefit < req.reductionNeeded) {
      let best: HedgePick | undefined
      let blockedByCap = false
      for (const c of candidates) {
        const unitCost = c.limitPrice * quantity
        const gain = current - (yield* margin([...portfolio, positionOf(c, quantity, req.market.expiry)]))
        if (gain <= 0) continue
        if (cost + unitCost > req.spendLeft) {
          blockedByCap = true
          continue
        }
        const pick: HedgePick = { ...c, lots: req.unitLots, quantity, cost: unitCost, benefit: gain }
        if (best === undefined || better(pick, best)) best = pick
      }
      if (best === undefined) {
        limitedBy = blockedByCap ? "spendCap" : "noCandidate"
        break
      }
      picks.push(best)
      cost += best.cost
      benefit += best.benefit
      portfolio = [...portfolio, positionOf(best, quantity, req.market.expiry)]
      current -= best.benefit
    }
    return {
      picks: mergePicks(picks),
      cost,
      benefit,
      shortfall: Math.max(0, req.reductionNeeded - benefit),
      limitedBy
    }
  })

/** Select with the given method; the result says which method chose (see HedgeSelection.method). */
export const selectHedgesBy = (
  method: SelectionMethod,
  model: MarginModel,
  req: SelectionRequest
): Effect.Effect<HedgeSelection, MarginModelError | MilpFailed> =>
  method === "optimal"
    ? selectHedgesOptimal(model, req)
    : Effect.map(selectHedges(model, req), (r): HedgeSelection => ({ ...r, method: "greedy" }))

/**
 * The static baseline: one unit of the cheapest in-band option on each side the entry sells,
 * whatever the margin (what platforms with static hedges do).
 */
export const staticPair = (
  chain: ReadonlyArray<ChainRow>,
  spot: number,
  band: HedgeBand,
  sides: ReadonlyArray<OptionType>,
  unitLots: number,
  lotSize: number,
  positions: ReadonlyArray<Position> = []
): ReadonlyArray<HedgePick> =>
  sides.flatMap((side) => {
    const cheapest = hedgeCandidates(chain, spot, band, [side], shortContracts(positions)).reduce<HedgeCandidate | undefined>(
      (best, c) => (best === undefined || c.ltp < best.ltp || (c.ltp === best.ltp && c.otmDistance > best.otmDistance) ? c : best),
      undefined
    )
    if (cheapest === undefined) return []
    const quantity = unitLots * lotSize
    return [{ ...cheapest, lots: unitLots, quantity, cost: cheapest.limitPrice * quantity, benefit: 0 }]
  })
