// The portfolio's risk at one instant: greeks per leg and in total, a stress grid of spot and implied-vol
// shocks with the P&L and the margin at each point, and a one-day value at risk, parametric and historical.
//
// Pure: the market and the positions come in as a MarginQuery. Prices and greeks are the project's
// Black-76 (pricing.ts); each leg's vol is the one the SPAN model takes for it (its implied vol in the
// chain, else interpolated: span.ts), so the risk view and the margin it reports see one market. The
// forward is the spot (r = the SPAN parameters' rate, 0 by default), as in the margin model.
import { Effect, Schema } from "effect"
import { SESSION_MINUTES } from "./bounds.ts"
import type { MarginModelError, MarginQuery } from "./margin.ts"
import type { ChainRow, OptionType } from "./market.ts"
import { black76, black76Greeks, impliedVol, normCdf, portableExp, portableLog, yearFraction } from "./pricing.ts"
import { defaultSpanParameters, spanBreakdown, spanMarginModel, type SpanParameters } from "./span.ts"

/** The stress grid: spot moves and relative implied-vol moves, in percent. */
export const SPOT_SHIFTS_PCT: ReadonlyArray<number> = [-3, -2, -1, 0, 1, 2, 3]
export const IV_SHIFTS_PCT: ReadonlyArray<number> = [-20, 0, 20]

/** Trading days a year: an annual vol over √252 is a daily one. */
const TRADING_DAYS_PER_YEAR = 252

/**
 * Greeks of a position in rupees, for its signed quantity in units (lots × lot size, negative short):
 * delta ₹ per index point (also the equivalent index units held), gamma the change of that delta per
 * index point, theta ₹ per calendar day, vega ₹ per volatility point (0.01 of annual vol).
 */
const RupeeGreeksFields = { delta: Schema.Number, gamma: Schema.Number, theta: Schema.Number, vega: Schema.Number }
type RupeeGreeks = Schema.Struct<typeof RupeeGreeksFields>["Type"]

const RiskLegSchema = Schema.Struct({
  strike: Schema.Number,
  optionType: Schema.Literals(["CE", "PE"]),
  expiry: Schema.String,
  side: Schema.Literals(["BUY", "SELL"]),
  lots: Schema.Number,
  /** Signed units after same-contract netting. */
  quantity: Schema.Number,
  /** Annual vol the leg is priced at, and where it came from (span.ts). */
  vol: Schema.Number,
  volSource: Schema.Literals(["chain", "interpolated", "extrapolated", "default"]),
  years: Schema.Number,
  /** Black-76 value per unit, and of the position (quantity × price). */
  price: Schema.Number,
  value: Schema.Number,
  ...RupeeGreeksFields
})
type RiskLeg = typeof RiskLegSchema.Type

const StressPointSchema = Schema.Struct({
  spotShiftPct: Schema.Number,
  ivShiftPct: Schema.Number,
  spot: Schema.Number,
  /** Full repricing of every leg, rupees, against its value now (time held). */
  pnl: Schema.Number,
  /** SPAN + exposure of the same positions in the shocked market. */
  margin: Schema.Number
})
type StressPoint = typeof StressPointSchema.Type

/** Full repricing at the history's intraday spot returns scaled to a day; null with the reason when too few. */
const HistoricalVarSchema = Schema.Struct({
  value: Schema.NullOr(Schema.Number),
  returns: Schema.Number,
  stepMinutes: Schema.Number,
  reason: Schema.optional(Schema.String)
})
type HistoricalVar = typeof HistoricalVarSchema.Type

export const RiskViewSchema = Schema.Struct({
  index: Schema.String,
  date: Schema.String,
  expiry: Schema.String,
  /** The valuation instant, epoch ms. */
  at: Schema.Number,
  spot: Schema.Number,
  lotSize: Schema.Number,
  legs: Schema.Array(RiskLegSchema),
  total: Schema.Struct({ value: Schema.Number, ...RupeeGreeksFields }),
  /** SPAN + exposure now (span.ts, the configured parameters). */
  margin: Schema.Number,
  stress: Schema.Array(StressPointSchema),
  valueAtRisk: Schema.Struct({
    confidence: Schema.Number,
    /** Delta-gamma in the spot's daily log return, normal with the ATM implied vol over √252; quantile exact. */
    parametric: Schema.Struct({ value: Schema.Number, dailyVol: Schema.Number }),
    historical: HistoricalVarSchema
  })
})
export type RiskView = typeof RiskViewSchema.Type

interface RiskOptions {
  readonly span?: SpanParameters
  /** VaR confidence, e.g. 0.99. */
  readonly confidence?: number
  /** One-day spot log returns for the historical VaR (see `scaledIntradayReturns`); null: none known. */
  readonly returns?: { readonly values: ReadonlyArray<number>; readonly stepMinutes: number } | null
}

// ---------------------------------------------------------------------------------------------
// Greeks

/** A leg's greeks in rupees (see RupeeGreeks) for `quantity` units. */
const rupeeGreeks = (
  optionType: OptionType,
  spot: number,
  strike: number,
  years: number,
  vol: number,
  quantity: number,
  rate = 0
): RupeeGreeks => {
  const g = black76Greeks(optionType, spot, strike, years, vol, rate)
  return { delta: quantity * g.delta, gamma: quantity * g.gamma, theta: (quantity * g.theta) / 365, vega: (quantity * g.vega) / 100 }
}

const sumOf = (legs: ReadonlyArray<RiskLeg>, key: keyof RupeeGreeks | "value") => legs.reduce((s, l) => s + l[key], 0)

// ---------------------------------------------------------------------------------------------
// Stress

/**
 * The chain as it would read after the shock: each price repriced with Black-76 at the moved spot and
 * its own implied vol moved by `ivShiftPct` percent of itself, at the same instant. A price with no
 * implied vol (at or below intrinsic) has no shocked price: null. The unshocked market is the chain itself.
 */
const shockedChain = (
  chain: ReadonlyArray<ChainRow>,
  spot: number,
  years: number,
  spotShiftPct: number,
  ivShiftPct: number,
  rate = 0
): ReadonlyArray<ChainRow> => {
  if (spotShiftPct === 0 && ivShiftPct === 0) return chain
  const moved = spot * (1 + spotShiftPct / 100)
  const reprice = (optionType: OptionType, strike: number, price: number | null): number | null => {
    if (price === null) return null
    const iv = impliedVol(optionType, price, spot, strike, years, rate)
    return iv === null ? null : black76(optionType, moved, strike, years, iv * (1 + ivShiftPct / 100), rate)
  }
  return chain.map((row) => ({ strike: row.strike, ce: reprice("CE", row.strike, row.ce), pe: reprice("PE", row.strike, row.pe) }))
}

// ---------------------------------------------------------------------------------------------
// Value at risk

/**
 * The loss not exceeded with probability `confidence` when the portfolio's P&L is a·x + b·x², x standard
 * normal (a delta-gamma P&L in one risk factor): found by bisection on P(loss > ℓ), which is exact here
 * (the set where a·x + b·x² < −ℓ is an interval or the complement of one). Negative when even the worst
 * case at that confidence is a gain.
 */
export const deltaGammaVar = (a: number, b: number, confidence: number): number => {
  const tail = 1 - confidence
  /** P(loss > ℓ) = P(b·x² + a·x + ℓ < 0). */
  const exceed = (l: number): number => {
    if (b === 0) return a === 0 ? (l < 0 ? 1 : 0) : normCdf(-l / Math.abs(a))
    const disc = a * a - 4 * b * l
    if (disc <= 0) return b > 0 ? 0 : 1
    const r = Math.sqrt(disc)
    const lo = Math.min((-a - r) / (2 * b), (-a + r) / (2 * b))
    const hi = Math.max((-a - r) / (2 * b), (-a + r) / (2 * b))
    return b > 0 ? normCdf(hi) - normCdf(lo) : normCdf(lo) + (1 - normCdf(hi))
  }
  // Twelve standard deviations either way hold every quantile a double can tell apart from 0 or 1.
  let lo = -(12 * Math.abs(a) + 144 * Math.abs(b))
  let hi = -lo
  for (let i = 0; i < 200 && hi - lo > 1e-9 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2
    if (exceed(mid) > tail) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** Scenarios a historical VaR needs at `confidence`: one in the tail at least (100 at 99 %). */
const leastScenarios = (confidence: number): number => Math.ceil(1 / (1 - confidence) - 1e-9)

/**
 * Historical VaR of a list of scenario P&Ls: the k-th largest loss, k = ⌈n·(1 − confidence)⌉ (no
 * interpolation: a loss that happened). Null when there are fewer than 1 / (1 − confidence) scenarios.
 */
export const historicalVar = (pnls: ReadonlyArray<number>, confidence: number): number | null => {
  if (pnls.length < leastScenarios(confidence)) return null
  const k = Math.ceil(pnls.length * (1 - confidence) - 1e-9)
  const losses = pnls.map((p) => -p).sort((x, y) => y - x)
  return losses[k - 1]!
}

/**
 * One-day spot log returns from recorded ticks: per day, non-overlapping returns over `stepMinutes`
 * (each from a tick to the first tick at least that much later, within the day: no overnight gap),
 * only ticks before `before`, each scaled to a day by √(375 / stepMinutes).
 */
export const scaledIntradayReturns = (
  days: ReadonlyArray<ReadonlyArray<{ readonly at: number; readonly spot: number }>>,
  stepMinutes: number,
  before: number
): ReadonlyArray<number> => {
  const scale = Math.sqrt(SESSION_MINUTES / stepMinutes)
  const stepMs = stepMinutes * 60_000
  const returns: Array<number> = []
  for (const ticks of days) {
    let from: { readonly at: number; readonly spot: number } | undefined
    for (const t of ticks) {
      if (t.at >= before) break
      if (from === undefined) from = t
      else if (t.at - from.at >= stepMs) {
        returns.push(scale * portableLog(t.spot / from.spot))
        from = t
      }
    }
  }
  return returns
}

/** The ATM implied vol: the out-of-the-money side of the strike nearest the spot with a solvable price. */
const atmVol = (q: MarginQuery, years: number, fallback: number, rate: number): number => {
  const rows = [...(q.chain ?? [])].sort((x, y) => Math.abs(x.strike - q.spot) - Math.abs(y.strike - q.spot))
  for (const row of rows) {
    const otm: OptionType = row.strike >= q.spot ? "CE" : "PE"
    const price = otm === "CE" ? row.ce : row.pe
    const iv = price === null ? null : impliedVol(otm, price, q.spot, row.strike, years, rate)
    if (iv !== null) return iv
  }
  return fallback
}

// ---------------------------------------------------------------------------------------------
// The view

/** The risk view of `query.positions` in `query`'s market. Bad input fails as the SPAN model names it. */
export const riskView = (query: MarginQuery, options: RiskOptions = {}): Effect.Effect<RiskView, MarginModelError> =>
  Effect.gen(function*() {
    const params = options.span ?? defaultSpanParameters
    const rate = params.rate
    const confidence = options.confidence ?? 0.99
    const model = spanMarginModel(params)
    const breakdown = yield* spanBreakdown(query, params)
    const legs = breakdown.legs.map((l): RiskLeg => {
      const price = black76(l.optionType, query.spot, l.strike, l.years, l.vol, rate)
      return {
        strike: l.strike,
        optionType: l.optionType,
        expiry: l.expiry,
        side: l.quantity < 0 ? "SELL" : "BUY",
        lots: Math.abs(l.quantity) / query.lotSize,
        quantity: l.quantity,
        vol: l.vol,
        volSource: l.volSource,
        years: l.years,
        price,
        value: l.quantity * price,
        ...rupeeGreeks(l.optionType, query.spot, l.strike, l.years, l.vol, l.quantity, rate)
      }
    })
    const total = { value: sumOf(legs, "value"), delta: sumOf(legs, "delta"), gamma: sumOf(legs, "gamma"), theta: sumOf(legs, "theta"), vega: sumOf(legs, "vega") }

    const chainYears = yearFraction(query.at, query.expiry)
    const stress: Array<StressPoint> = []
    for (const spotShiftPct of SPOT_SHIFTS_PCT) {
      for (const ivShiftPct of IV_SHIFTS_PCT) {
        const spot = query.spot * (1 + spotShiftPct / 100)
        const chain = query.chain === undefined ? undefined : shockedChain(query.chain, query.spot, chainYears, spotShiftPct, ivShiftPct, rate)
        const margin = yield* model.margin({ ...query, spot, ...(chain === undefined ? {} : { chain }) })
        stress.push({ spotShiftPct, ivShiftPct, spot, pnl: repriced(legs, spot, 1 + ivShiftPct / 100, rate), margin })
      }
    }

    const dailyVol = atmVol(query, chainYears, params.defaultVol, rate) / Math.sqrt(TRADING_DAYS_PER_YEAR)
    // P&L ≈ δ·ΔS + ½·Γ·ΔS² with ΔS ≈ S·σ_d·x.
    const move = query.spot * dailyVol
    const parametric = { value: deltaGammaVar(total.delta * move, 0.5 * total.gamma * move * move, confidence), dailyVol }

    const view: RiskView = {
      index: query.index,
      date: query.date,
      expiry: query.expiry,
      at: query.at,
      spot: query.spot,
      lotSize: query.lotSize,
      legs,
      total,
      margin: breakdown.total,
      stress,
      valueAtRisk: { confidence, parametric, historical: { value: null, returns: 0, stepMinutes: 0, reason: "no recorded days given for the history" } }
    }
    return options.returns === undefined || options.returns === null ? view : withHistoricalVar(view, options.returns, rate)
  })

/** P&L of every leg repriced at `spot` with its vol × `volFactor`, time held. */
const repriced = (legs: RiskView["legs"], spot: number, volFactor: number, rate: number): number =>
  legs.reduce((s, l) => s + l.quantity * (black76(l.optionType, spot, l.strike, l.years, l.vol * volFactor, rate) - l.price), 0)

/**
 * The view with its historical VaR: its legs repriced at spot·e^r for each one-day return r (see
 * `scaledIntradayReturns`). From the view alone, so a view answered by the API gets it where the history is.
 */
export const withHistoricalVar = (
  view: RiskView,
  returns: { readonly values: ReadonlyArray<number>; readonly stepMinutes: number },
  rate = 0
): RiskView => {
  const { confidence } = view.valueAtRisk
  const n = returns.values.length
  const value = historicalVar(returns.values.map((r) => repriced(view.legs, view.spot * portableExp(r), 1, rate)), confidence)
  const historical: HistoricalVar = value === null
    ? { value, returns: n, stepMinutes: returns.stepMinutes, reason: `${n} returns in the history: at ${Math.round(confidence * 1000) / 10} % it needs ${leastScenarios(confidence)} or more` }
    : { value, returns: n, stepMinutes: returns.stepMinutes }
  return { ...view, valueAtRisk: { ...view.valueAtRisk, historical } }
}
