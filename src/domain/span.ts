// A SPAN-style margin model for index options (exchange margin = SPAN + exposure/ELM), following the
// standard CME scenario set the exchanges (NSCCL, ICCL) publish, repriced with Black-76:
//
// - Each leg is repriced with Black-76 under 16 scenarios of the underlying and of its volatility: the
//   price moves ±1/3, ±2/3, ±1 of the price scan range (PSR) and 0, each with the vol up and down by the
//   leg's vol scan range (VSR), plus the two "extreme" moves ±2·PSR at the vol unchanged, counted at 35 %.
//   Loss_s = −Σ q·(V(F_s, σ_s, T_s) − V(F, σ, T)); scan risk = max(0, max_s Loss_s).
// - On an expiry day the legs expiring that day and the other legs are scanned separately and the two
//   scan risks added (SEBI removed the offset between them from 10-Feb-2025).
// - SPAN = max(scan risk, SOMC), SOMC = somcPct × short notional (≈ 0 today, kept as a parameter).
// - Exposure (ELM) is charged on short legs only: |q| × spot × (2 %, or 3 % when ≥ 10 % OTM), plus 2 % on
//   legs expiring that day. Hedges do not reduce it.
// - margin = SPAN + exposure: the exchange margin. Kite's `final.total` also adds the basket's net option
//   premium (negative for a net credit); this model leaves premium out on purpose.
//
// Not modelled: the calendar-spread charge (1.75 % of the far month, delta-netted between months; only
// roughly specified publicly, and the engine holds one expiry at a time outside expiry days, when the
// split scan above already removes the offset), Net Option Value, and any concentration margin.
//
// Volatility per leg: the implied vol of the leg's price in `query.chain` (the chain of `query.expiry`)
// at T to that expiry's 15:30 IST close; for a strike without a usable price, linear interpolation in
// strike between the nearest strikes of the same side that have one (flat beyond the last one), else
// `defaultVol`. Legs of another expiry take the vol of their strike from that same smile (a flat term
// structure). The forward is the spot (r ≈ 0).
//
// Speed: everything that depends only on the market (per-contract risk arrays, 16 losses per long unit)
// is computed once per (chain object, instant, spot, date, expiry) and reused, so a margin call is a
// handful of additions per leg; a chain's strikes are sorted once per chain object, and a portfolio
// asked about again at the same market context is not summed again.
import { Effect, Result, Schema } from "effect"
import {
  type Contract,
  type LinearMargin,
  MarginModelError,
  type MarginModel,
  type MarginQuery,
  netPositions
} from "./margin.ts"
import type { ChainRow, OptionType, Position } from "./market.ts"
import { black76, IMPLIED_VOL_MAX, IMPLIED_VOL_MIN, impliedVol, portableExp, portableLog, yearFraction } from "./pricing.ts"
import { keyPath, schemaProblems } from "./schema-issues.ts"
import { dateOf, isIsoDate, weekdayOf } from "./time.ts"

// ---------------------------------------------------------------------------------------------
// Parameters

export type PriceShift = "additive" | "multiplicative"

export interface SpanParameters {
  /** Floor of the price scan range, percent of the underlying (NSE index options: 9.3). */
  readonly priceScanFloorPct: number
  /** The index's annualised (EWMA) vol; PSR = max(floor, 6·σ_daily·√2) with σ_daily = this / √252. */
  readonly indexVolAnnual: number
  /** Least vol scan range, vol points (4 = ±0.04 of annual vol). */
  readonly volScanPts: number
  /** VSR as a fraction of the leg's own annual vol, when larger than `volScanPts`. */
  readonly volScanFraction: number
  /** The extreme scenarios move the price this many PSRs... */
  readonly extremeMoveMultiple: number
  /** ...and count this fraction of their loss. */
  readonly extremeLossFraction: number
  /** F_s = F + k·PSR (standard SPAN) or F·(1 + PSR%)^k (an implementer's calibration, see §2.3). */
  readonly priceShift: PriceShift
  /** Trading days of time decay in the scenarios: T_s = T at the valuation instant moved this many weekdays on. */
  readonly lookaheadDays: number
  /** Exposure margin, percent of short notional (spot × |quantity|). */
  readonly elmPct: number
  /** Exposure margin for legs at least `farOtmThresholdPct` out of the money. */
  readonly elmFarOtmPct: number
  readonly farOtmThresholdPct: number
  /** Added exposure margin on legs expiring on the query's date (NSE from 20-Nov-2024). */
  readonly expiryDayElmAddPct: number
  /** Short option minimum charge, percent of short notional (≈ 0 in current NSE files). */
  readonly somcPct: number
  /** Annual vol of a leg whose smile has no usable price at all. */
  readonly defaultVol: number
  /** Continuously compounded rate for discounting (0: spot as forward, as the reference allows). */
  readonly rate: number
}

export const defaultSpanParameters: SpanParameters = Object.freeze({
  priceScanFloorPct: 9.3,
  // 12 % a year gives 6·σ_daily·√2 ≈ 6.4 %, so the 9.3 % floor binds, as it does at normal NIFTY vol.
  indexVolAnnual: 0.12,
  volScanPts: 4,
  volScanFraction: 0.25,
  extremeMoveMultiple: 2,
  extremeLossFraction: 0.35,
  priceShift: "additive",
  lookaheadDays: 0,
  elmPct: 2,
  elmFarOtmPct: 3,
  farOtmThresholdPct: 10,
  expiryDayElmAddPct: 2,
  somcPct: 0,
  defaultVol: 0.12,
  rate: 0
})

const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Percent = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(100))

export const SpanParametersSchema = Schema.Struct({
  priceScanFloorPct: Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(100)),
  // Ceilings far above any exchange's parameters: beyond them a value is a unit mistake (12 for 0.12).
  indexVolAnnual: NonNegative.check(Schema.isLessThanOrEqualTo(5)),
  volScanPts: NonNegative.check(Schema.isLessThanOrEqualTo(100)),
  volScanFraction: NonNegative.check(Schema.isLessThanOrEqualTo(10)),
  extremeMoveMultiple: Positive.check(Schema.isLessThanOrEqualTo(10)),
  extremeLossFraction: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1)),
  priceShift: Schema.Literals(["additive", "multiplicative"]),
  lookaheadDays: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(30)),
  elmPct: Percent,
  elmFarOtmPct: Percent,
  farOtmThresholdPct: Percent,
  expiryDayElmAddPct: Percent,
  somcPct: Percent,
  defaultVol: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(IMPLIED_VOL_MIN), Schema.isLessThanOrEqualTo(IMPLIED_VOL_MAX)),
  rate: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(-1), Schema.isLessThanOrEqualTo(1))
})

// The schema and the interface must describe the same thing.
const _schemaMatchesInterface = (p: typeof SpanParametersSchema.Type): SpanParameters => p
void _schemaMatchesInterface

/** A value as an error message shows it: strings quoted, numbers as JavaScript prints them (NaN, -1). */
const shown = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v))

/** Why the parameters are invalid ("field: problem (got value)"), or null. */
const parameterProblem = (params: SpanParameters): string | null => {
  const decoded = Schema.decodeUnknownResult(SpanParametersSchema)(params, { errors: "all", onExcessProperty: "ignore" })
  if (Result.isSuccess(decoded)) return null
  // One problem per field: a NaN fails both "finite" and "≥ 0", and the first says it best.
  const byField = new Map<string, string>()
  for (const p of schemaProblems(decoded.failure.issue, params)) {
    const field = keyPath(p.path)
    if (!byField.has(field)) byField.set(field, `SPAN parameter ${field}: ${p.problem} (got ${shown(p.value)})`)
  }
  return [...byField.values()].join("; ")
}

// ---------------------------------------------------------------------------------------------
// Scenarios

export const SCENARIO_COUNT = 16
/**
 * Price move in PSRs and vol move in VSRs of the 16 scenarios, in the exchange's order (§2.2). The two
 * extremes (15, 16) move by ±1 here, scaled by `extremeMoveMultiple` (2 at the exchange).
 */
const PRICE_MOVES = [0, 0, 1 / 3, 1 / 3, -1 / 3, -1 / 3, 2 / 3, 2 / 3, -2 / 3, -2 / 3, 1, 1, -1, -1, 1, -1]
const VOL_MOVES = [1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0, 0]
const IS_EXTREME = PRICE_MOVES.map((_, i) => i >= 14)
/**
 * Scenario vectors are plain arrays of doubles, not Float64Arrays: a market context makes one per
 * contract every instant, and a small typed array is several times dearer to make and to collect.
 */
const zeros = (): Array<number> => new Array<number>(SCENARIO_COUNT).fill(0)

/** Scan groups: legs expiring on the query's date, and every other leg. */
const EXPIRING_TODAY = 0
const OTHER_EXPIRIES = 1
export type ScanGroupName = "expiringToday" | "otherExpiries"
const GROUP_NAMES: ReadonlyArray<ScanGroupName> = ["expiringToday", "otherExpiries"]

const MS_PER_DAY = 24 * 3600 * 1000

/** The instant `days` weekdays after `at`, same wall time (IST has no DST, so a day is 24 h). */
const weekdaysAfter = (at: number, days: number): number => {
  let t = at
  for (let n = 0; n < days; ) {
    t += MS_PER_DAY
    const weekday = weekdayOf(dateOf(t))
    if (weekday !== "Saturday" && weekday !== "Sunday") n++
  }
  return t
}

// ---------------------------------------------------------------------------------------------
// The market context: everything that does not depend on the positions

export type VolSource = "chain" | "interpolated" | "extrapolated" | "default"

/** One side of a chain: its strikes ascending (the first row of a repeated strike) and their prices. */
interface ChainSide {
  readonly strikes: ReadonlyArray<number>
  readonly prices: ReadonlyArray<number | null>
}

// A chain is priced at every instant until the next tick: sort it once, not once per instant.
const chainSides = new WeakMap<ReadonlyArray<ChainRow>, { readonly CE: ChainSide; readonly PE: ChainSide }>()

const sidesOf = (rows: ReadonlyArray<ChainRow>): { readonly CE: ChainSide; readonly PE: ChainSide } => {
  let sides = chainSides.get(rows)
  if (sides === undefined) {
    const sorted = [...rows].sort((a, b) => a.strike - b.strike)
    const strikes: Array<number> = []
    const ce: Array<number | null> = []
    const pe: Array<number | null> = []
    for (const row of sorted) {
      if (strikes.length > 0 && strikes[strikes.length - 1] === row.strike) continue
      strikes.push(row.strike)
      ce.push(row.ce)
      pe.push(row.pe)
    }
    sides = { CE: { strikes, prices: ce }, PE: { strikes, prices: pe } }
    chainSides.set(rows, sides)
  }
  return sides
}

/** One side (CE or PE) of the chain's smile, implied vols solved lazily per strike. */
class SideSmile {
  private readonly strikes: ReadonlyArray<number>
  private readonly prices: ReadonlyArray<number | null>
  /** 0 unsolved, 1 solved (vol in `vols`), 2 no vol. */
  private readonly state: Array<number>
  private readonly vols: Array<number>
  constructor(
    private readonly optionType: OptionType,
    rows: ReadonlyArray<ChainRow>,
    private readonly forward: number,
    private readonly years: number,
    private readonly rate: number
  ) {
    const side = sidesOf(rows)[optionType]
    this.strikes = side.strikes
    this.prices = side.prices
    // Plain arrays: small typed arrays live off the heap and cost the collector more, per instant.
    this.state = new Array<number>(side.strikes.length).fill(0)
    this.vols = new Array<number>(side.strikes.length).fill(0)
  }

  private volAt(i: number): number | null {
    if (this.state[i] === 0) {
      const price = this.prices[i]
      const iv = price === null || price === undefined ? null : impliedVol(this.optionType, price, this.forward, this.strikes[i]!, this.years, this.rate)
      this.state[i] = iv === null ? 2 : 1
      this.vols[i] = iv ?? 0
    }
    return this.state[i] === 1 ? this.vols[i]! : null
  }

  /** The vol at `strike`: its own, else interpolated between the nearest solvable strikes, else flat from one. */
  vol(strike: number, fallback: number): { readonly vol: number; readonly source: VolSource } {
    // first index with strikes[i] >= strike
    let lo = 0
    let hi = this.strikes.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.strikes[mid]! < strike) lo = mid + 1
      else hi = mid
    }
    let above = lo
    if (above < this.strikes.length && this.strikes[above] === strike) {
      const own = this.volAt(above)
      if (own !== null) return { vol: own, source: "chain" }
      above++
    }
    let below = lo - 1
    let volBelow: number | null = null
    while (below >= 0 && (volBelow = this.volAt(below)) === null) below--
    let volAbove: number | null = null
    while (above < this.strikes.length && (volAbove = this.volAt(above)) === null) above++
    if (volBelow !== null && volAbove !== null) {
      const k0 = this.strikes[below]!
      const k1 = this.strikes[above]!
      return { vol: volBelow + ((volAbove - volBelow) * (strike - k0)) / (k1 - k0), source: "interpolated" }
    }
    if (volBelow !== null) return { vol: volBelow, source: "extrapolated" }
    if (volAbove !== null) return { vol: volAbove, source: "extrapolated" }
    return { vol: fallback, source: "default" }
  }
}

interface ContractRisk {
  readonly group: number
  readonly years: number
  readonly vol: number
  readonly volSource: VolSource
  readonly vsr: number
  /** Loss of one long unit in each scenario (extremes already weighted); a short's is the negative. */
  readonly losses: ReadonlyArray<number>
}

class MarketContext {
  readonly psrPct: number
  /** The underlying in each scenario. */
  readonly scenarioForwards: ReadonlyArray<number>
  private readonly scenarioAt: number
  private readonly smiles: { readonly CE: SideSmile; readonly PE: SideSmile }
  private readonly years = new Map<string, { readonly now: number; readonly scenario: number }>()
  private readonly risks = new Map<string, ContractRisk>()

  constructor(
    private readonly params: SpanParameters,
    readonly spot: number,
    readonly at: number,
    readonly date: string,
    expiry: string,
    chain: ReadonlyArray<ChainRow>
  ) {
    const dailyVol = params.indexVolAnnual / Math.sqrt(252)
    this.psrPct = Math.max(params.priceScanFloorPct, 100 * 6 * dailyVol * Math.SQRT2)
    const f = this.psrPct / 100
    const logGrowth = portableLog(1 + f)
    this.scenarioForwards = PRICE_MOVES.map((k, i) => {
      const moves = IS_EXTREME[i] ? k * params.extremeMoveMultiple : k
      const forward = params.priceShift === "additive" ? spot * (1 + moves * f) : spot * portableExp(moves * logGrowth)
      return Math.max(0, forward) // an index cannot fall below zero
    })
    this.scenarioAt = weekdaysAfter(at, params.lookaheadDays)
    const chainYears = yearFraction(at, expiry)
    this.smiles = {
      CE: new SideSmile("CE", chain, spot, chainYears, params.rate),
      PE: new SideSmile("PE", chain, spot, chainYears, params.rate)
    }
  }

  private yearsTo(expiry: string) {
    let y = this.years.get(expiry)
    if (y === undefined) {
      y = { now: yearFraction(this.at, expiry), scenario: yearFraction(this.scenarioAt, expiry) }
      this.years.set(expiry, y)
    }
    return y
  }

  /** The 16 per-unit losses of a contract, computed once per context. */
  risk(strike: number, optionType: OptionType, expiry: string): ContractRisk {
    const key = `${expiry}|${strike}|${optionType}`
    let r = this.risks.get(key)
    if (r !== undefined) return r
    const p = this.params
    const years = this.yearsTo(expiry)
    const { vol, source } = this.smiles[optionType].vol(strike, p.defaultVol)
    const vsr = Math.max(p.volScanPts / 100, p.volScanFraction * vol)
    const now = black76(optionType, this.spot, strike, years.now, vol, p.rate)
    const losses: Array<number> = []
    for (let s = 0; s < SCENARIO_COUNT; s++) {
      // A vol scanned below zero prices at intrinsic (black76 treats vol <= 0 so).
      const scenarioValue = black76(optionType, this.scenarioForwards[s]!, strike, years.scenario, vol + VOL_MOVES[s]! * vsr, p.rate)
      const loss = now - scenarioValue
      losses.push(IS_EXTREME[s] ? loss * p.extremeLossFraction : loss)
    }
    r = { group: expiry === this.date ? EXPIRING_TODAY : OTHER_EXPIRIES, years: years.now, vol, volSource: source, vsr, losses }
    this.risks.set(key, r)
    return r
  }

  /** Exposure-margin rate (fraction) of a short leg. */
  elmRate(strike: number, optionType: OptionType, expiry: string): number {
    const p = this.params
    const otmPct = (100 * (optionType === "CE" ? strike - this.spot : this.spot - strike)) / this.spot
    const base = otmPct >= p.farOtmThresholdPct ? p.elmFarOtmPct : p.elmPct
    return (base + (expiry === this.date ? p.expiryDayElmAddPct : 0)) / 100
  }
}

// ---------------------------------------------------------------------------------------------
// The engine: contexts cached per parameter set

const NO_CHAIN: ReadonlyArray<ChainRow> = Object.freeze([])
/** Contexts kept per chain object: a chain is normally priced at one instant and spot. */
const CONTEXTS_PER_CHAIN = 8

class SpanEngine {
  readonly problem: string | null
  private readonly contexts = new WeakMap<ReadonlyArray<ChainRow>, Map<string, MarketContext>>()
  /** Scenario losses of a margin call, reused: a call sums into them and is done before the next. */
  private readonly scratch: [Array<number>, Array<number>] = [zeros(), zeros()]
  /**
   * The margin of a netted portfolio (by identity: portfolios are never changed in place) at the market
   * context it was last worked out at: the broker's held portfolio is asked for again by the engine.
   */
  private readonly lastMargins = new WeakMap<ReadonlyArray<Position>, { readonly ctx: MarketContext; readonly margin: number }>()

  constructor(readonly params: SpanParameters) {
    this.problem = parameterProblem(params)
  }

  context(q: MarginQuery): MarketContext {
    const chain = q.chain ?? NO_CHAIN
    let byMarket = this.contexts.get(chain)
    if (byMarket === undefined) {
      byMarket = new Map()
      this.contexts.set(chain, byMarket)
    }
    const key = `${q.at}|${q.spot}|${q.date}|${q.expiry}`
    let ctx = byMarket.get(key)
    if (ctx === undefined) {
      ctx = new MarketContext(this.params, q.spot, q.at, q.date, q.expiry, chain)
      if (byMarket.size >= CONTEXTS_PER_CHAIN) byMarket.delete(byMarket.keys().next().value!)
      byMarket.set(key, ctx)
    }
    return ctx
  }

  /** SPAN + exposure of a checked query. */
  margin(q: MarginQuery): number {
    const ctx = this.context(q)
    const netted = netPositions(q.positions)
    const last = this.lastMargins.get(netted)
    if (last !== undefined && last.ctx === ctx) return last.margin
    const margin = marginOf(evaluate(this, q, ctx, netted, this.scratch))
    // Only a portfolio that came netted can come again as the same array.
    if (netted === q.positions) this.lastMargins.set(netted, { ctx, margin })
    return margin
  }
}

const engines = new WeakMap<SpanParameters, SpanEngine>()
const engineFor = (params: SpanParameters): SpanEngine => {
  let e = engines.get(params)
  if (e === undefined) {
    e = new SpanEngine(params)
    engines.set(params, e)
  }
  return e
}

// ---------------------------------------------------------------------------------------------
// Input checks: a clear error naming the field and the value, never a NaN margin

const fail = (message: string) => new MarginModelError({ model: "span", message })

/** Largest index level, strike or quantity accepted: far beyond any market, small enough that no sum overflows. */
const MAX_MAGNITUDE = 1e9
const isPositiveFinite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x > 0 && x <= MAX_MAGNITUDE

// Dates already checked: the calendar check (luxon) is the costly part and its answer never changes.
const validDates = new Set<string>()
const isValidDate = (s: unknown): boolean => {
  if (typeof s !== "string") return false
  if (validDates.has(s)) return true
  if (!isIsoDate(s)) return false
  if (validDates.size < 10_000) validDates.add(s)
  return true
}

const legProblem = (field: string, leg: { strike: unknown; optionType: unknown; expiry: unknown }): string | null => {
  if (!isPositiveFinite(leg.strike)) return `${field}.strike must be a positive number up to 1e9, got ${shown(leg.strike)}`
  if (leg.optionType !== "CE" && leg.optionType !== "PE") return `${field}.optionType must be "CE" or "PE", got ${shown(leg.optionType)}`
  if (!isValidDate(leg.expiry)) return `${field}.expiry must be a date "YYYY-MM-DD", got ${shown(leg.expiry)}`
  return null
}

const queryProblem = (q: MarginQuery): string | null => {
  if (!isPositiveFinite(q.spot)) return `query.spot must be a positive number up to 1e9, got ${shown(q.spot)}`
  if (typeof q.at !== "number" || !Number.isFinite(q.at)) return `query.at must be a finite epoch-ms instant, got ${shown(q.at)}`
  if (!isValidDate(q.date)) return `query.date must be a date "YYYY-MM-DD", got ${shown(q.date)}`
  if (!isValidDate(q.expiry)) return `query.expiry must be a date "YYYY-MM-DD", got ${shown(q.expiry)}`
  for (let i = 0; i < q.positions.length; i++) {
    const p = q.positions[i]!
    if (typeof p.quantity !== "number" || !(Math.abs(p.quantity) <= MAX_MAGNITUDE))
      return `query.positions[${i}].quantity must be a number within ±1e9, got ${shown(p.quantity)}`
    const problem = legProblem(`query.positions[${i}]`, p)
    if (problem !== null) return problem
  }
  return q.chain === undefined ? null : chainProblem(q.chain)
}

const checkedChains = new WeakSet<ReadonlyArray<ChainRow>>()
const chainProblem = (chain: ReadonlyArray<ChainRow>): string | null => {
  if (checkedChains.has(chain)) return null
  for (const row of chain) {
    if (!isPositiveFinite(row.strike)) return `query.chain strike must be a positive number up to 1e9, got ${shown(row.strike)}`
    for (const side of ["ce", "pe"] as const) {
      const price = row[side]
      if (price !== null && !(typeof price === "number" && Number.isFinite(price) && price >= 0))
        return `query.chain[strike=${row.strike}].${side} must be null or a finite price >= 0, got ${shown(price)}`
    }
  }
  checkedChains.add(chain)
  return null
}

// ---------------------------------------------------------------------------------------------
// The margin of a portfolio

interface Evaluation {
  readonly ctx: MarketContext
  readonly netted: ReadonlyArray<Position>
  /** Per scan group, the portfolio's loss in each scenario. */
  readonly losses: readonly [Array<number>, Array<number>]
  /** Per scan group, the short option minimum charge. */
  readonly somc: readonly [number, number]
  readonly exposure: number
}

const evaluate = (
  engine: SpanEngine,
  q: MarginQuery,
  ctx: MarketContext = engine.context(q),
  netted: ReadonlyArray<Position> = netPositions(q.positions),
  /** Where to sum the scenario losses (zeroed here); new arrays unless the caller lends some. */
  losses: [Array<number>, Array<number>] = [zeros(), zeros()]
): Evaluation => {
  losses[0].fill(0)
  losses[1].fill(0)
  const shortNotional = [0, 0]
  let exposure = 0
  for (const leg of netted) {
    const r = ctx.risk(leg.strike, leg.optionType, leg.expiry)
    const groupLosses = losses[r.group]!
    for (let s = 0; s < SCENARIO_COUNT; s++) groupLosses[s]! += leg.quantity * r.losses[s]!
    if (leg.quantity < 0) {
      const notional = -leg.quantity * ctx.spot
      shortNotional[r.group]! += notional
      exposure += notional * ctx.elmRate(leg.strike, leg.optionType, leg.expiry)
    }
  }
  const somcRate = engine.params.somcPct / 100
  return { ctx, netted, losses, somc: [somcRate * shortNotional[0]!, somcRate * shortNotional[1]!], exposure }
}

const worstLoss = (losses: ReadonlyArray<number>): number => {
  let worst = 0
  for (let s = 0; s < SCENARIO_COUNT; s++) if (losses[s]! > worst) worst = losses[s]!
  return worst
}

/**
 * SPAN of one scan group: max(scan risk, SOMC). With two groups (an expiry day) each group's SOMC is
 * that group's own short notional × somcPct, so SPAN = Σ_g max(scan_g, SOMC_g) — never less than
 * max(Σ scan, Σ SOMC), and exactly the exchange's rule when one group holds every short.
 */
const groupSpan = (losses: ReadonlyArray<number>, somc: number) => Math.max(somc, worstLoss(losses))

const marginOf = (e: Evaluation): number =>
  e.exposure + groupSpan(e.losses[0], e.somc[0]) + groupSpan(e.losses[1], e.somc[1])

const withChecks = <A>(engine: SpanEngine, q: MarginQuery, run: () => A): Effect.Effect<A, MarginModelError> => {
  if (engine.problem !== null) return Effect.fail(fail(engine.problem))
  const problem = queryProblem(q)
  if (problem !== null) return Effect.fail(fail(problem))
  return Effect.succeed(run())
}

// ---------------------------------------------------------------------------------------------
// Breakdown (the calibration report prints it)

export interface SpanLegBreakdown {
  readonly strike: number
  readonly optionType: OptionType
  readonly expiry: string
  /** Net signed units after same-contract netting. */
  readonly quantity: number
  readonly group: ScanGroupName
  readonly years: number
  readonly vol: number
  readonly volSource: VolSource
  /** This leg's vol scan range (annual vol, 0.04 = 4 points). */
  readonly vsr: number
  /** Exposure margin of the leg, rupees (0 for a long). */
  readonly exposure: number
}

export interface SpanGroupBreakdown {
  readonly group: ScanGroupName
  readonly scanRisk: number
  /** 1-based scenario number (§2.2 table) of the worst loss; 0 when no scenario loses. */
  readonly worstScenario: number
  readonly somc: number
  readonly span: number
  /** The group's loss in each of the 16 scenarios, rupees. */
  readonly scenarioLosses: ReadonlyArray<number>
}

export interface SpanBreakdown {
  /** Price scan range, percent of the underlying and rupees. */
  readonly psrPct: number
  readonly psr: number
  /** The least vol scan range (annual vol); each leg's own is in `legs`. */
  readonly vsrFloor: number
  readonly groups: ReadonlyArray<SpanGroupBreakdown>
  readonly scanRisk: number
  readonly somc: number
  readonly span: number
  readonly exposure: number
  /** SPAN + exposure (net option premium not included). */
  readonly total: number
  readonly legs: ReadonlyArray<SpanLegBreakdown>
}

/** Every part of the SPAN-style margin of a query's portfolio. */
export const spanBreakdown = (query: MarginQuery, params: SpanParameters = defaultSpanParameters): Effect.Effect<SpanBreakdown, MarginModelError> => {
  const engine = engineFor(params)
  return withChecks(engine, query, () => {
    const e = evaluate(engine, query)
    const groups = GROUP_NAMES.map((group, g): SpanGroupBreakdown => {
      const losses = e.losses[g]!
      const scanRisk = worstLoss(losses)
      const worstScenario = scanRisk > 0 ? losses.indexOf(scanRisk) + 1 : 0
      return { group, scanRisk, worstScenario, somc: e.somc[g]!, span: groupSpan(losses, e.somc[g]!), scenarioLosses: [...losses] }
    })
    const legs = e.netted.map((leg): SpanLegBreakdown => {
      const r = e.ctx.risk(leg.strike, leg.optionType, leg.expiry)
      return {
        strike: leg.strike,
        optionType: leg.optionType,
        expiry: leg.expiry,
        quantity: leg.quantity,
        group: GROUP_NAMES[r.group]!,
        years: r.years,
        vol: r.vol,
        volSource: r.volSource,
        vsr: r.vsr,
        exposure: leg.quantity < 0 ? -leg.quantity * e.ctx.spot * e.ctx.elmRate(leg.strike, leg.optionType, leg.expiry) : 0
      }
    })
    const span = groups.reduce((s, g) => s + g.span, 0)
    return {
      psrPct: e.ctx.psrPct,
      psr: (e.ctx.psrPct / 100) * e.ctx.spot,
      vsrFloor: params.volScanPts / 100,
      groups,
      scanRisk: groups.reduce((s, g) => s + g.scanRisk, 0),
      somc: e.somc[0] + e.somc[1],
      span,
      exposure: e.exposure,
      total: marginOf(e), // the very sum margin() returns
      legs
    }
  })
}

// ---------------------------------------------------------------------------------------------
// The model

/**
 * The SPAN-style margin model (name "span"). `margin` is SPAN + exposure in rupees, unrounded (so the
 * linear form matches it exactly). `linear` is exact for long additions of any contract the portfolio is
 * not short in; a contract it is short in gets `perUnit` null, because buying it would net against the
 * short and cut exposure and SOMC, which the form's constant `fixed` and floors cannot follow (selection
 * never proposes such contracts: see `shortContracts`).
 */
export const spanMarginModel = (params: SpanParameters = defaultSpanParameters): MarginModel => {
  const engine = engineFor(params)
  return {
    name: "span",
    margin: (query) => withChecks(engine, query, () => engine.margin(query)),
    linear: (query, contracts) => {
      for (let i = 0; i < contracts.length; i++) {
        const problem = legProblem(`contracts[${i}]`, contracts[i]!)
        if (problem !== null) return Effect.fail(fail(problem))
      }
      return withChecks(engine, query, () => linearForm(evaluate(engine, query), query.date, contracts))
    }
  }
}

const linearForm = (e: Evaluation, date: string, contracts: ReadonlyArray<Contract>): LinearMargin => {
  // Two groups only when something expires on the date; otherwise the expiring group is empty (SPAN 0).
  const split = e.netted.some((p) => p.expiry === date) || contracts.some((c) => c.expiry === date)
  const groupIds = split ? [EXPIRING_TODAY, OTHER_EXPIRIES] : [OTHER_EXPIRIES]
  const shorts = new Set(e.netted.filter((p) => p.quantity < 0).map((p) => `${p.expiry}|${p.strike}|${p.optionType}`))
  return {
    fixed: e.exposure,
    groups: groupIds.map((g) => ({ floor: Math.max(0, e.somc[g]!), base: [...e.losses[g]!] })),
    perUnit: contracts.map((c) => {
      if (shorts.has(`${c.expiry}|${c.strike}|${c.optionType}`)) return null
      const r = e.ctx.risk(c.strike, c.optionType, c.expiry)
      return groupIds.map((g) => (g === r.group ? [...r.losses] : new Array<number>(SCENARIO_COUNT).fill(0)))
    })
  }
}
