// The decisions behind the machines' invocations: how an entry's margin is projected, which hedges are
// bought, which hedge is sold. Every input is explicit (the day, the market, the held portfolio, the
// entries to come with their times, the entries in): the rules read no actor and ask no service, so
// the same inputs give the same decision wherever they are taken. The engine gathers the inputs.
import { Effect } from "effect"
import type { DeltaDecision, EntryPlan, ExitCandidate, ExitDecision, OvernightAssessment, Policy, Projection, SelectionResult } from "../../machines/protocol.ts"
import type { IndexName, MarketSnapshot, Position } from "../domain/market.ts"
import { priceOf, shortSidesOf } from "../domain/market.ts"
import { netPositions, type MarginModel } from "../domain/margin.ts"
import type { SelectionMethod } from "../domain/config.ts"
import { chooseExit, type ExitRules } from "../domain/exits.ts"
import { bindingInstants, legPositions, portfolioAt, project, utilisationPct } from "../domain/projection.ts"
import { assessShorts, coversAShort, heldAfterClose, longsOf, shortsPastClose, type Contract, type WingRules } from "../domain/overnight.ts"
import { bandHoldsAt } from "../domain/band-forecast.ts"
import { selectHedgesBy, shortContracts, staticPair, type HedgeBand } from "../domain/selection.ts"
import { deltaBandWing, deltaPerPctOf, portfolioDelta } from "../domain/delta-band.ts"
import type { SpanParameters } from "../domain/span.ts"

/** The configured rules of deciding. */
export interface DecisionRules {
  /** The engine's margin estimate (the broker's number stays the truth for "now"). */
  readonly model: MarginModel
  /** How hedges are chosen from the candidates. */
  readonly selection: SelectionMethod
  /**
   * Keep a hedge while any entry still to come today would need it, not only the next: sold, it may
   * find no replacement in the premium band when the later entries come (far wings fall out of it by
   * the afternoon). Without it (the reference policy's way), only the next entry counts.
   */
  readonly foresight: boolean
  /** With foresight: buy for every entry still to come at the last chance (see horizonOf). */
  readonly anticipateBandExhaustion: boolean
  readonly lotSize: number
  readonly strikeStep: number
  /** Lots in one hedge unit: hedge lots per basket × baskets. */
  readonly unitLots: number
  readonly band: HedgeBand
  readonly exitRules: ExitRules
  /** The delta band's rules, when it is on (docs/delta-band.md); delta is priced on the SPAN model's vols. */
  readonly deltaBand?: { readonly limitPerPct: number; readonly maxLotsPerWing: number; readonly span: SpanParameters }
  /** How the overnight guard picks a wing for the day's index. */
  readonly overnightWing: WingRules
}

/** The day a decision is taken in. */
export interface DecisionDay {
  readonly index: IndexName
  readonly date: string
  readonly expiry: string
  readonly baskets: number
  readonly budget: number
  readonly policy: Policy
  /** Utilisation a decision aims for, percent. */
  readonly targetPct: number
  /** The market's close: what is held then is held overnight. */
  readonly closeAt: number
}

/** What a decision sees. */
export interface Situation {
  readonly day: DecisionDay
  readonly market: MarketSnapshot
  /** The broker's positions now. */
  readonly held: ReadonlyArray<Position>
  /** Entries still to come (neither entered nor passed), in entry order. */
  readonly coming: ReadonlyArray<EntryPlan>
  /** Entries in now, with the index level their legs were struck at. */
  readonly entered: ReadonlyArray<EntryPlan & { readonly struckSpot: number | null }>
}

const marketQuery = (rules: DecisionRules, { day, market }: Situation) => ({
  index: day.index,
  date: day.date,
  expiry: day.expiry,
  lotSize: rules.lotSize,
  spot: market.spot,
  at: market.at,
  chain: market.chain
})

const modelMargin = (rules: DecisionRules, s: Situation, positions: ReadonlyArray<Position>) =>
  rules.model.margin({ ...marketQuery(rules, s), positions: netPositions(positions) })

/**
 * The portfolios a decision must hold at: for each instant worth projecting, what will be open then
 * (timed exits out, entries to come in), from the held portfolio. Their model margins, highest first.
 */
const portfoliosAt = (rules: DecisionRules, s: Situation, instants: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    // The reference policy (no foresight) counts every entry in now as staying.
    const inNow = rules.foresight ? s.entered : []
    const striking = { strikeStep: rules.strikeStep, baskets: s.day.baskets, lotSize: rules.lotSize, expiry: s.day.expiry }
    const out: Array<{ at: number; positions: ReadonlyArray<Position>; margin: number }> = []
    for (const at of bindingInstants(instants, inNow, s.coming)) {
      const positions = portfolioAt({ at, held: s.held, inNow, coming: s.coming, spot: s.market.spot, striking })
      out.push({ at, positions, margin: yield* modelMargin(rules, s, positions) })
    }
    return out.sort((a, b) => b.margin - a.margin || a.at - b.at)
  })

/**
 * Until when the entries to come count for a decision at `entryAt`: every one up to the deciding
 * entry. With foresight and anticipation (config `anticipateBandExhaustion`), when no option is
 * forecast to be left in the premium band by the next entry's look-ahead (an expiry day's afternoon:
 * far wings decay below it), this is the last chance to buy: the decision hedges for every entry
 * still to come. Not earlier: by then some entries may have stopped out.
 */
export const horizonOf = (rules: DecisionRules, s: Situation, entryAt: number): number => {
  if (!rules.foresight || !rules.anticipateBandExhaustion) return entryAt
  const { market } = s
  const next = s.coming.find((e) => e.entryAt > entryAt && e.lookaheadAt > market.at)
  if (next === undefined) return entryAt
  const sides = shortSidesOf(next.legs)
  const lastChance = sides.length > 0 && !bandHoldsAt({ chain: market.chain, spot: market.spot, at: market.at, later: next.lookaheadAt, expiry: s.day.expiry, band: rules.band, sides })
  return lastChance ? Number.POSITIVE_INFINITY : entryAt
}

/**
 * The portfolio a decision for `entry` hedges: of the portfolios open at the entry's instant (and,
 * buying ahead, at each later entry's), the one needing the most margin. Each is what will still be
 * open then: entries whose timed exit comes first are out, not counted with it.
 */
const projectionBasis = (rules: DecisionRules, s: Situation, entry: EntryPlan | undefined) =>
  Effect.gen(function*() {
    const entryAt = entry?.entryAt ?? s.market.at
    const horizon = horizonOf(rules, s, entryAt)
    const instants = [entryAt, ...s.coming.filter((e) => e.entryAt <= horizon && e.entryAt > entryAt).map((e) => e.entryAt)]
    const portfolios = yield* portfoliosAt(rules, s, instants)
    const binding = portfolios[0]
    const entriesAtRisk = Math.max(1, instants.filter((at) => at <= (binding?.at ?? entryAt)).length)
    // Buying ahead, the deciding entry's own instant too: a set that cannot bring it under 100 % saves nothing.
    const own = instants.length > 1 ? (portfolios.find((p) => p.at === entryAt) ?? (yield* portfoliosAt(rules, s, [entryAt]))[0]) : binding
    return { projected: binding?.positions ?? s.held, projectedMargin: binding?.margin, entriesAtRisk, atEntryMargin: own?.margin }
  })

/** Utilisation now and once `entry` (and, buying ahead, the entries after it) is in, at `now`. */
export const projectEntry = (rules: DecisionRules, s: Situation, entry: EntryPlan | undefined, marginInUse: number, now: number) =>
  Effect.gen(function*() {
    const { projected, projectedMargin, entriesAtRisk, atEntryMargin } = yield* projectionBasis(rules, s, entry)
    return project({
      at: now,
      budget: s.day.budget,
      targetPct: s.day.targetPct,
      marginInUse,
      heldModelMargin: yield* modelMargin(rules, s, s.held),
      withEntriesModelMargin: projectedMargin ?? (yield* modelMargin(rules, s, projected)),
      entriesAtRisk,
      ...(atEntryMargin === undefined ? {} : { atEntryModelMargin: atEntryMargin })
    }) satisfies Projection
  })

/** The hedges to buy for `entry`: the static pair on its short sides, or the configured selection. */
export const selectHedges = (
  rules: DecisionRules,
  s: Situation,
  entry: EntryPlan | undefined,
  ask: { readonly policy: string; readonly reductionNeeded: number; readonly spendLeft: number }
) =>
  Effect.gen(function*() {
    const { projected } = yield* projectionBasis(rules, s, entry)
    if (ask.policy === "static") {
      const picks = staticPair(s.market.chain, s.market.spot, rules.band, shortSidesOf(entry?.legs ?? []), rules.unitLots, rules.lotSize, netPositions(projected))
      return { picks, cost: picks.reduce((t, p) => t + p.cost, 0), benefit: 0, shortfall: 0, limitedBy: picks.length === 0 ? "noCandidate" as const : "none" as const } satisfies SelectionResult
    }
    return yield* selectHedgesBy(rules.selection, rules.model, {
      market: marketQuery(rules, s),
      chain: s.market.chain,
      positions: netPositions(projected),
      reductionNeeded: ask.reductionNeeded,
      spendLeft: ask.spendLeft,
      unitLots: rules.unitLots,
      band: rules.band
    })
  })

/**
 * What will be held after the close: the broker's positions less the legs of the entries in now that
 * are timed to exit by it (found where they were struck, within two strike steps: the spot noted at
 * an entry may be a tick older than the one it was struck at; anywhere when it was not noted).
 */
const heldOvernight = (rules: DecisionRules, s: Situation) =>
  heldAfterClose(
    s.held,
    s.entered
      .filter((e) => e.exitAt !== null && e.exitAt <= s.day.closeAt)
      .map((e) => ({
        legs: legPositions(e.legs, e.struckSpot ?? s.market.spot, rules.strikeStep, s.day.baskets, rules.lotSize, s.day.expiry),
        tolerance: e.struckSpot === null ? Number.POSITIVE_INFINITY : 2 * rules.strikeStep
      }))
  )

/** The short options held past the close and not expiring today. */
export const overnightShorts = (rules: DecisionRules, s: Situation): ReadonlyArray<Contract> => shortsPastClose(heldOvernight(rules, s), s.day.date)

/**
 * The overnight guard's check: every short held past the close and not expiring today, what covers
 * it (the longs held, and the wings `beingBought`), and a wing for what is not covered (from the
 * market's chain, which is the day's expiry's only).
 */
export const assessOvernight = (rules: DecisionRules, s: Situation, marginInUse: number, beingBought: ReadonlyArray<Contract>): OvernightAssessment => ({
  shorts: assessShorts({
    shorts: overnightShorts(rules, s),
    longs: [...longsOf(s.held), ...beingBought],
    chainOf: (expiry) => (expiry === s.day.expiry ? s.market.chain : null),
    rules: rules.overnightWing
  }),
  spot: s.market.spot,
  utilisationPct: utilisationPct(marginInUse, s.day.budget)
})

/**
 * Which hedge to sell now, if any: each judged by the margin the portfolio would need without it. A
 * hedge that still covers an open short (its sale would raise the held portfolio's margin now) is not
 * a candidate at all.
 */
export const assessExits = (rules: DecisionRules, s: Situation, marginInUse: number, hedges: ReadonlyArray<ExitCandidate>, liveEntries: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { market, day } = s
    // With foresight, a hedge is kept for every entry still to come today, not only the next: sold
    // now, it may have no candidate to replace it when the later entries come. Each is judged on the
    // portfolio open at its instant (entries timed to exit before it are out), and now on the held one.
    const instants = [market.at, ...(rules.foresight ? s.coming : s.coming.slice(0, 1)).map((e) => e.entryAt)]
    const portfolios = yield* portfoliosAt(rules, s, instants)
    const heldModel = yield* modelMargin(rules, s, s.held)
    // A hedge covering a short held overnight is never sold: the short would be left naked.
    const shorts = overnightShorts(rules, s)
    const longs = longsOf(s.held)
    let kept = 0
    const options = []
    for (const h of hedges) {
      if (coversAShort(shorts, longs, { strike: h.strike, optionType: h.optionType, expiry: h.expiry ?? day.expiry, quantity: h.quantity })) {
        kept++
        continue
      }
      const sold = { strike: h.strike, optionType: h.optionType, quantity: -h.quantity, expiry: h.expiry ?? day.expiry }
      // Exits before entries: a wing whose sale would raise the margin of what is held now still covers
      // a short that is open. It is never sold (whatever the policy): the short is closed first, and
      // only then is the wing it freed for sale.
      if ((yield* modelMargin(rules, s, [...s.held, sold])) > heldModel) continue
      let worst = Number.NEGATIVE_INFINITY
      for (const p of portfolios) worst = Math.max(worst, yield* modelMargin(rules, s, [...p.positions, sold]))
      // Broker's margin now, moved by the model's difference: sell this hedge, at the instant it matters most.
      const projectedMarginWithout = marginInUse + (worst - heldModel)
      options.push({ hedgeId: h.hedgeId, forEntry: h.forEntry, price: priceOf(market.chain, h.strike, h.optionType), projectedMarginWithout })
    }
    if (kept > 0 && options.length === 0) return { hedgeId: null, reason: "each hedge covers a short held overnight", utilisationPct: utilisationPct(marginInUse, day.budget) } satisfies ExitDecision
    return chooseExit({ policy: day.policy, options, liveEntries, marginInUse, budget: day.budget, rules: rules.exitRules }) satisfies ExitDecision
  })

/**
 * The delta band's check: the held portfolio's delta and, when it is outside the band, the wing that
 * brings it back (src/domain/delta-band.ts), within the spend left. A second policy beside the margin
 * engine: it reads the same market and positions and buys through the same hedge path.
 */
export const assessDelta = (rules: DecisionRules, s: Situation, marginInUse: number, spendLeft: number) =>
  Effect.gen(function*() {
    const band = rules.deltaBand
    const { market, day } = s
    const utilisation = utilisationPct(marginInUse, day.budget)
    if (band === undefined) return { deltaPerPct: 0, limitPerPct: 0, outside: false, wing: null, reason: "the delta band is off", utilisationPct: utilisation } satisfies DeltaDecision
    const positions = netPositions(s.held)
    const delta = yield* portfolioDelta({ ...marketQuery(rules, s), positions }, band.span)
    const answer = deltaBandWing({
      spot: market.spot,
      at: market.at,
      expiry: day.expiry,
      lotSize: rules.lotSize,
      chain: market.chain,
      band: rules.band,
      delta,
      limitPerPct: band.limitPerPct,
      maxLots: band.maxLotsPerWing,
      spendLeft,
      excluded: shortContracts(positions),
      rate: band.span.rate
    })
    const base = { deltaPerPct: deltaPerPctOf(delta, market.spot), limitPerPct: band.limitPerPct, utilisationPct: utilisation }
    if (answer.kind === "inside") return { ...base, outside: false, wing: null, reason: "inside the band" } satisfies DeltaDecision
    if (answer.kind === "noWing") return { ...base, outside: true, wing: null, reason: answer.reason } satisfies DeltaDecision
    const w = answer.wing
    return {
      ...base,
      outside: true,
      wing: { strike: w.strike, optionType: w.optionType, quantity: w.quantity, lots: w.lots, limitPrice: w.limitPrice, cost: w.cost, otmDistance: w.otmDistance, deltaAfterPerPct: deltaPerPctOf(answer.deltaAfter, market.spot) },
      reason: "outside the band"
    } satisfies DeltaDecision
  })
