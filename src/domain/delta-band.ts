// The delta band: a second policy beside the margin engine, off by default. When the portfolio's delta
// leaves a configured band, it buys (or, in recommend mode, recommends) one far-OTM wing that brings the
// delta back inside: a call when the book is short delta (the index rising hurts), a put when it is long.
//
// Units: the band is in rupees per 1 % move of the index (delta × spot / 100): what the book gains or
// loses, to first order, when the index moves 1 %. A rupee figure is what a trader sizes risk in, and a
// 1 % move is the same size of event for NIFTY and SENSEX, whose points differ about threefold.
//
// Pure: the market and the positions come in. Delta is the risk view's (risk.ts): Black-76 on the SPAN
// model's vol for each leg, so the band, the risk view and the margin see one market.
import { Effect } from "effect"
import type { MarginModelError, MarginQuery } from "./margin.ts"
import type { ChainRow, OptionType } from "./market.ts"
import { black76Greeks, impliedVol, yearFraction } from "./pricing.ts"
import { hedgeCandidates, type HedgeBand, type HedgeCandidate } from "./selection.ts"
import { defaultSpanParameters, spanBreakdown, type SpanParameters } from "./span.ts"

/** Delta in rupees per index point (= index units held) as rupees per 1 % index move, at `spot`. */
export const deltaPerPctOf = (delta: number, spot: number): number => (delta * spot) / 100

/** The portfolio's delta, rupees per index point: Σ quantity × Black-76 delta at each leg's SPAN vol. */
export const portfolioDelta = (query: MarginQuery, span: SpanParameters = defaultSpanParameters): Effect.Effect<number, MarginModelError> =>
  Effect.map(spanBreakdown(query, span), (b) =>
    b.legs.reduce((s, l) => s + l.quantity * black76Greeks(l.optionType, query.spot, l.strike, l.years, l.vol, span.rate).delta, 0)
  )

export interface DeltaWing extends HedgeCandidate {
  readonly lots: number
  readonly quantity: number
  /** Worst-case cost at the limit price, rupees. */
  readonly cost: number
  /** The wing's own delta per unit (at its implied vol in the chain). */
  readonly unitDelta: number
}

export interface DeltaBandAsk {
  readonly spot: number
  readonly at: number
  readonly expiry: string
  readonly lotSize: number
  readonly chain: ReadonlyArray<ChainRow>
  /** The wing's premium and distance band: the engine's hedge band. */
  readonly band: HedgeBand
  /** The portfolio's delta now, rupees per index point. */
  readonly delta: number
  /** The band's half-width, rupees per 1 % index move: |delta per 1 %| up to this is inside. */
  readonly limitPerPct: number
  /** Most lots one wing may have. */
  readonly maxLots: number
  /** Spend left today (the day's cap less what is spent and reserved), rupees. */
  readonly spendLeft: number
  /** Contracts the book is short in: buying one would close a strategy's leg, not hedge it. */
  readonly excluded?: ReadonlySet<string>
  readonly rate?: number
}

export type DeltaBandAnswer =
  | { readonly kind: "inside" }
  | { readonly kind: "wing"; readonly wing: DeltaWing; readonly deltaAfter: number }
  | { readonly kind: "noWing"; readonly reason: string }

/** Which side brings a delta back: a call adds delta to a short book, a put takes it from a long one. */
export const wingSideFor = (delta: number): OptionType => (delta < 0 ? "CE" : "PE")

/**
 * Inside the band, or else the cheapest wing (whole lots, at the limit price) in the hedge band on the
 * side that brings the delta back inside, within the lot cap and the spend left. Each candidate is
 * sized to the fewest lots that bring |delta| inside; one that would overshoot past the far edge is
 * left out. Ties go to the nearer strike (less gamma bought for the same delta).
 */
export const deltaBandWing = (a: DeltaBandAsk): DeltaBandAnswer => {
  const limit = (a.limitPerPct * 100) / a.spot // rupees per index point
  if (Math.abs(a.delta) <= limit) return { kind: "inside" }
  const side = wingSideFor(a.delta)
  const years = yearFraction(a.at, a.expiry)
  const excess = Math.abs(a.delta) - limit
  let best: { wing: DeltaWing; deltaAfter: number } | null = null
  let tooMany = 0
  let tooDear = 0
  const candidates = hedgeCandidates(a.chain, a.spot, a.band, [side], a.excluded)
  for (const c of candidates) {
    const vol = impliedVol(c.optionType, c.ltp, a.spot, c.strike, years, a.rate ?? 0)
    if (vol === null) continue
    const unitDelta = black76Greeks(c.optionType, a.spot, c.strike, years, vol, a.rate ?? 0).delta
    const perLot = Math.abs(unitDelta) * a.lotSize
    if (!(perLot > 0)) continue
    const lots = Math.ceil(excess / perLot - 1e-9)
    const deltaAfter = a.delta + lots * a.lotSize * unitDelta
    if (Math.abs(deltaAfter) > limit) continue
    if (lots > a.maxLots) {
      tooMany++
      continue
    }
    const quantity = lots * a.lotSize
    const cost = quantity * c.limitPrice
    if (cost > a.spendLeft) {
      tooDear++
      continue
    }
    const wing: DeltaWing = { ...c, lots, quantity, cost, unitDelta }
    if (best === null || cost < best.wing.cost || (cost === best.wing.cost && c.otmDistance < best.wing.otmDistance)) best = { wing, deltaAfter }
  }
  if (best !== null) return { kind: "wing", ...best }
  const reason = candidates.length === 0
    ? `no ${side} in the hedge band (premium ${a.band.minPremium}–${a.band.maxPremium}, distance ${a.band.minOtmDistance}–${a.band.maxOtmDistance})`
    : tooDear > 0
    ? `every ${side} wing that brings delta inside costs more than the ₹${Math.round(a.spendLeft)} left today`
    : tooMany > 0
    ? `every ${side} wing that brings delta inside needs more than ${a.maxLots} lots`
    : `no ${side} wing brings delta inside the band`
  return { kind: "noWing", reason }
}
