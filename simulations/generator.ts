// Synthetic trading days in the recorded-day format v1 (docs/recorded-day-format.md).
//
// A day is: a spot path (log-space trend chosen by the regime + a random walk with regime-dependent
// volatility and occasional fat-tailed steps), an ATM implied volatility path, and at every tick a
// full option chain priced with Black-76 to the 15:30 expiry instant using a skewed smile. Stop-loss
// exits of the scheduled short straddles are derived from the generated chain.
//
// Volatility convention: ATM IVs and realised vols here are quoted on a trading-time clock (252
// sessions a year, variance accrues during the 09:15-15:30 session, each calendar night adds
// OVERNIGHT_WEIGHT of a session), which is how traders quote weekly IVs (roughly 10-18 % for
// NIFTY). For pricing, that variance is converted to the equivalent calendar-time vol and passed to
// black76 with yearFraction (ACT/365 to 15:30 on the expiry date): σ_cal² · T_cal = σ_tt² · T_tt.
// Hence a 0DTE chain at 09:20 prices about one session of variance, which gives far wings the few
// rupees they trade at in the market.
//
// Two market models draw the regimes. "v1" (the default) is frozen: it drew the bundled sample week
// (simulations/days), whose files and figures must not change. "v2" draws each regime as it hurts a
// hedger (1-3 % opening gaps with IV up, IV jumps of 6-11 vol points within minutes with a spot
// shock, a post-event IV crush that takes the wings down to the tick, whipsaws of 0.7-1.3 % either
// side of the open) and prices on a more put-skewed smile whose far wings keep a few rupees, so
// far-OTM hedges cost about what they do in the market (see scenarioV2Of and wingSmileMultiplier
// below; simulations/four-weeks is drawn with it).
//
// Determinism: only seeded mulberry32 streams, correctly rounded arithmetic and the portable
// exp/log of the pricing module are used; prices are rounded to the 0.05 tick and spot to 2
// decimals, so the same options give byte-identical JSON Lines on every machine.
import type { EntrySpec, IndexName, LegSpec, OptionType } from "../src/domain/market.ts"
import { atmStrike, toTick } from "../src/domain/market.ts"
import { black76, intrinsic, portableExp, portableLog, yearFraction } from "../src/domain/pricing.ts"
import { instantOf, isIsoDate, isWallTime, MARKET_CLOSE, MARKET_OPEN, tradingDaysBetween } from "../src/domain/time.ts"
import { exitLine, headerLine, type DayHeader as RecordedDayHeader, type OpeningPosition, tickLine, versionFor } from "../src/domain/recorded-day.ts"
import { createRng, deriveSeed, type Rng } from "./rng.ts"

// ---------------------------------------------------------------------------------------------
// Public types

export const REGIMES = ["calm", "trending", "gap", "volCrush", "volSpike", "whipsaw"] as const
export type Regime = (typeof REGIMES)[number]

export const isRegime = (s: string): s is Regime => (REGIMES as ReadonlyArray<string>).includes(s)

/** The market model that draws a day: "v1" froze with the bundled sample week; "v2" is hedger-realistic. */
export const MARKET_MODELS = ["v1", "v2"] as const
export type MarketModel = (typeof MARKET_MODELS)[number]

export const isMarketModel = (s: string): s is MarketModel => (MARKET_MODELS as ReadonlyArray<string>).includes(s)

/**
 * Which strikes a tick lists: "day" every strike within ±10 % of any spot of the day (the same rows
 * on every tick), "tick" only those within ±10 % of that tick's spot (the spec's minimum, smaller files).
 */
export type ChainStrikes = "day" | "tick"

/** The header fields a generated day is given (`version` follows from `openingPositions`). */
type GivenHeaderField =
  "date" | "index" | "expiry" | "lotSize" | "strikeStep" | "tickSeconds" | "baskets" | "budgetPerBasket" | "entries"

/**
 * The day's header fields (`expiry`: expiry date of the options, expiry instant 15:30 IST that day; on
 * or after `date`), and how to draw the day.
 */
export interface GenerateDayOptions extends Pick<RecordedDayHeader, GivenHeaderField> {
  readonly seed: number
  /** Default: drawn from the seed. */
  readonly regime?: Regime
  /** Spot of the 09:15 tick. Default: previousClose moved by the regime's opening gap. */
  readonly spotOpen?: number
  /** Previous session's close. Default: NIFTY ~25,000 / SENSEX ~82,000 perturbed by the seed. */
  readonly previousClose?: number
  /** A stop-loss fires when an entry's combined short premium rises by this fraction (default 0.3). */
  readonly stopFraction?: number
  /** Default "v1" (frozen: the bundled sample week's model). */
  readonly model?: MarketModel
  /** Default "day". */
  readonly chainStrikes?: ChainStrikes
  /** Positions held at the open, carried from an earlier day (default none: a version-1 header). */
  readonly openingPositions?: ReadonlyArray<OpeningPosition>
  /** Exits of carried portfolios (the platform closing them this day), at their times. Default none. */
  readonly carriedExits?: ReadonlyArray<{ readonly portfolio: string; readonly time: string }>
}

/** The header line of a generated day: recorded-day's header with its `type`. */
export interface DayHeader extends RecordedDayHeader {
  readonly type: "day"
}

/** `[strike, ceLast, peLast]` */
export type ChainTuple = readonly [number, number, number]

export interface TickRecord {
  readonly type: "tick"
  readonly time: string
  readonly spot: number
  readonly chain: ReadonlyArray<ChainTuple>
}

export interface ExitRecord {
  readonly type: "exit"
  readonly time: string
  readonly portfolio: string
  /** SL_HIT: a stop-loss drawn from the chain; TIMED: a carried portfolio closed as told (carriedExits). */
  readonly reason: "SL_HIT" | "TIMED"
}

export type DayRecord = TickRecord | ExitRecord

/** What was drawn for the day (not part of the file). */
export interface DayMeta {
  readonly regime: Regime
  readonly model: MarketModel
  readonly seed: number
  readonly previousClose: number
  readonly open: number
  readonly close: number
  readonly low: number
  readonly high: number
  /** ATM IV (trading-time convention) at the first and the last tick. */
  readonly atmIvOpen: number
  readonly atmIvClose: number
  readonly stopLosses: number
}

export interface GeneratedDay {
  readonly header: DayHeader
  readonly records: ReadonlyArray<DayRecord>
  readonly meta: DayMeta
  /**
   * The legs still held after the close: entries with no exit time on a day before their expiry that
   * no stop-loss closed, at their struck strikes and entry prices (origin: their portfolio).
   */
  readonly heldAtClose: ReadonlyArray<OpeningPosition>
}

// ---------------------------------------------------------------------------------------------
// Constants

/**
 * Typical index level, around which a day without a previous close opens (a generator default, not
 * instrument data: lot sizes and strike steps come from config/instruments.json via instruments.ts).
 */
export const INDEX_LEVELS: Readonly<Record<IndexName, number>> = { NIFTY: 25_000, SENSEX: 82_000 }

const SESSION_DAYS_PER_YEAR = 252
/** Variance of a calendar night, in sessions. */
export const OVERNIGHT_WEIGHT = 0.3
const OPEN_SECONDS = secondsOf(MARKET_OPEN)
const CLOSE_SECONDS = secondsOf(MARKET_CLOSE)
const SESSION_SECONDS = CLOSE_SECONDS - OPEN_SECONDS
/** Chain half-width as a fraction of spot (spec: at least ±10 %). */
const CHAIN_HALF_WIDTH = 0.1
const DEFAULT_STOP_FRACTION = 0.3
const MAX_ABS_Z = 10

const REGIME_WEIGHTS: ReadonlyArray<readonly [Regime, number]> = [
  ["calm", 0.3],
  ["trending", 0.2],
  ["gap", 0.1],
  ["volCrush", 0.1],
  ["volSpike", 0.15],
  ["whipsaw", 0.15]
]

// ---------------------------------------------------------------------------------------------
// Small helpers

function secondsOf(wallTime: string): number {
  const [h, m, s] = wallTime.split(":").map(Number)
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0)
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)
const wallTimeFromSeconds = (s: number): string =>
  `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}`

const round2 = (x: number): number => Math.round(x * 100) / 100
const price = (x: number): number => Math.max(0.05, toTick(x))
const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x)
const smoothstep = (x: number): number => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x))

/** The regime a seed picks when none is given. */
export const chooseRegime = (seed: number): Regime => {
  const u = createRng(deriveSeed(seed, "regime")).uniform()
  let acc = 0
  for (const [regime, weight] of REGIME_WEIGHTS) {
    acc += weight
    if (u < acc) return regime
  }
  return "calm"
}

/**
 * Years of variance (trading-time clock) from `secondsOfDay` on `date` to 15:30 on `expiry`:
 * the rest of today's session, plus one per later session, plus OVERNIGHT_WEIGHT per calendar night
 * (model v1), or per night before a weekday and `weekendNightWeight` per night before a Saturday or
 * Sunday when that is given (model v2: the market prices less variance over a weekend).
 */
export const varianceYears = (date: string, secondsOfDay: number, expiry: string, weekendNightWeight?: number): number => {
  const sessionLeft = clamp((CLOSE_SECONDS - secondsOfDay) / SESSION_SECONDS, 0, 1)
  if (expiry <= date) return expiry === date ? sessionLeft / SESSION_DAYS_PER_YEAR : 0
  const nights = Math.round((instantOf(expiry, MARKET_OPEN) - instantOf(date, MARKET_OPEN)) / 86_400_000)
  const sessions = tradingDaysBetween(date, expiry)
  if (weekendNightWeight === undefined) return (sessionLeft + sessions + OVERNIGHT_WEIGHT * nights) / SESSION_DAYS_PER_YEAR
  return (sessionLeft + sessions + OVERNIGHT_WEIGHT * sessions + weekendNightWeight * (nights - sessions)) / SESSION_DAYS_PER_YEAR
}

/** Variance of a night before a Saturday or Sunday, in sessions (model v2). */
export const WEEKEND_NIGHT_WEIGHT = 0.1

/** ATM IV (trading-time) of an index at a number of sessions to expiry, before regime effects. */
const baseAtmIv = (index: IndexName, sessionsToExpiry: number): number => {
  const nifty = sessionsToExpiry <= 0 ? 0.135 : sessionsToExpiry === 1 ? 0.125 : 0.12
  return index === "SENSEX" ? nifty + 0.015 : nifty
}

/**
 * Smile multiplier of the ATM IV at standardised moneyness z = ln(K/F) / (σ_atm √T):
 * roughly linear wings, slope `put` below the forward and `call` above, smooth at the money.
 */
export const smileMultiplier = (z: number, put: number, call: number): number => {
  const zc = clamp(z, -MAX_ABS_Z, MAX_ABS_Z)
  const a = (put + call) / 2
  const b = (call - put) / 2
  const c = 0.3
  return 1 + a * (Math.sqrt(zc * zc + c * c) - c) + b * zc
}

/** Where the v2 smile stops growing linearly (in units of the multiplier), and how fast it bends. */
const WING_LINEAR_TO = 0.6
const WING_BEND = 0.4

/**
 * The v2 smile: smileMultiplier's shape (slope `put` below the forward, `call` above, smooth at the
 * money), bent from linear to square-root growth once it has added WING_LINEAR_TO to the multiplier.
 * Far-OTM wings keep a few rupees (2-5 % OTM) and prices stay monotonic in the strike for any slopes
 * (a smile growing linearly in z without end would make the wings' prices rise again away from the
 * money: |m'(z)| must stay below the normal Mills ratio at |z|/m(z), which √-growth keeps).
 */
export const wingSmileMultiplier = (z: number, put: number, call: number): number => {
  const a = (put + call) / 2
  const b = (call - put) / 2
  const c = 0.4
  const y = a * (Math.sqrt(z * z + c * c) - c) + b * z
  return 1 + (y <= WING_LINEAR_TO ? y : WING_LINEAR_TO + 2 * WING_BEND * (Math.sqrt(1 + (y - WING_LINEAR_TO) / WING_BEND) - 1))
}

// ---------------------------------------------------------------------------------------------
// Regimes

interface Scenario {
  /** Log return of the open against the previous close. */
  readonly gap: number
  /** Log move from the open at day fraction u (0 = 09:15, 1 = 15:30). */
  readonly trend: (u: number) => number
  /** Annualised realised vol (trading time) of the random part at u. */
  readonly realisedVol: (u: number) => number
  /** Multiplier of the day's base ATM IV at u. */
  readonly ivLevel: (u: number) => number
  readonly putSkew: number
  readonly callSkew: number
  /** Multiplier of the smile's slopes at u (v1: always 1). */
  readonly skewLevel: (u: number) => number
  /** Smile multiplier of the ATM IV at standardised moneyness z, given the put and call slopes. */
  readonly smile: (z: number, put: number, call: number) => number
}

const flat = (): number => 1

const scenarioOf = (regime: Regime, rng: Rng, model: MarketModel): Scenario =>
  model === "v2" ? scenarioV2Of(regime, rng) : scenarioV1Of(regime, rng)

/** The frozen v1 regimes (the bundled sample week's): keep every number and every draw as it is. */
const scenarioV1Of = (regime: Regime, rng: Rng): Scenario => ({
  ...scenarioV1Paths(regime, rng),
  skewLevel: flat,
  smile: smileMultiplier
})

const scenarioV1Paths = (regime: Regime, rng: Rng): Omit<Scenario, "skewLevel" | "smile"> => {
  switch (regime) {
    case "calm": {
      const gap = 0.0025 * rng.normal()
      const drift = 0.002 * rng.normal()
      return {
        gap,
        trend: (u) => drift * u,
        realisedVol: () => 0.08,
        ivLevel: (u) => 0.88 * (1 - 0.05 * u),
        putSkew: 0.14,
        callSkew: 0.09
      }
    }
    case "trending": {
      const gap = 0.003 * rng.normal()
      const dir = rng.sign()
      const total = dir * rng.between(0.007, 0.015)
      return {
        gap,
        trend: (u) => total * u * (1.3 - 0.3 * u),
        realisedVol: () => 0.11,
        ivLevel: (u) => (dir < 0 ? 1 + 0.08 * u : 1 - 0.04 * u),
        putSkew: 0.15,
        callSkew: 0.1
      }
    }
    case "gap": {
      const gap = rng.sign() * rng.between(0.007, 0.016)
      const fill = rng.between(-0.4, 0.9) // < 0: the gap extends; > 0: part of it is filled
      const norm = 1 - portableExp(-4)
      return {
        gap,
        trend: (u) => (-gap * fill * (1 - portableExp(-u / 0.25))) / norm,
        realisedVol: (u) => 0.11 + 0.06 * portableExp(-u / 0.15),
        ivLevel: (u) => 1 + 0.3 * portableExp(-u / 0.2),
        putSkew: 0.16,
        callSkew: 0.1
      }
    }
    case "volCrush": {
      const gap = 0.004 * rng.normal()
      const drift = 0.003 * rng.normal()
      return {
        gap,
        trend: (u) => drift * u,
        realisedVol: (u) => 0.07 + 0.08 * portableExp(-u / 0.2),
        ivLevel: (u) => 0.82 + 0.55 * portableExp(-u / 0.25),
        putSkew: 0.14,
        callSkew: 0.11
      }
    }
    case "volSpike": {
      const gap = 0.0025 * rng.normal()
      const start = rng.between(0.3, 0.7)
      const duration = rng.between(10, 25) / 375
      const size = rng.sign() * rng.between(0.008, 0.018)
      const retrace = rng.between(0, 0.4)
      const spike = (u: number): number => smoothstep((u - start) / duration)
      const after = (u: number): number => Math.max(0, u - start - duration)
      return {
        gap,
        trend: (u) => size * spike(u) - size * retrace * smoothstep(after(u) / 0.25),
        realisedVol: (u) => (u < start ? 0.08 : u < start + duration ? 0.35 : 0.15),
        ivLevel: (u) => 0.9 + 0.65 * spike(u) * (0.45 + 0.55 * portableExp(-after(u) / 0.15)),
        putSkew: 0.17,
        callSkew: 0.1
      }
    }
    case "whipsaw": {
      const gap = 0.003 * rng.normal()
      return {
        gap,
        trend: piecewise(swingKnots(rng, 3 + rng.int(3), 0.3, [0.005, 0.011])),
        realisedVol: () => 0.14,
        ivLevel: () => 1.08,
        putSkew: 0.15,
        callSkew: 0.11
      }
    }
  }
}

/**
 * The v2 regimes: each does what hurts a hedger, with the numbers the tests hold it to.
 * - calm / trending: baselines, on the same random walk (realised vol 8 %): a drift of ±0.2 % / a trend
 *   of 1-1.8 % over the day; IV flat, or up 10 % through a falling day.
 * - gap: the open is 1-3 % away from the previous close (either way), ATM IV opens 1.2-1.5x the day's
 *   base (more for a bigger gap) and eases over the morning, the put skew is steeper after a gap down;
 *   between -30 % (the gap extends) and +60 % of the gap is filled in the first hour or so.
 * - volSpike: at a seeded time between 10:30 and 14:00 ATM IV jumps by 55-95 % of the base (6-11 vol
 *   points at a 12 % base) within 3-10 minutes, together with a 1-2.2 % spot shock (down 70 % of the
 *   time), and keeps 45-70 % of the jump to the close; the put skew steepens with it.
 * - volCrush: a post-event open: ATM IV opens 1.35-1.65x the base and falls to 0.72-0.85x with a time
 *   constant of 30-70 minutes, the smile flattening (slopes 1.2x to 0.8x), so far-OTM wings bought
 *   early lose most of their value (to the 0.05 tick on an expiry day).
 * - whipsaw: 4-6 swings to 0.7-1.3 % either side of the open through the day: short straddles are
 *   stopped out and the market comes back, leaving the hedges bought for them idle.
 */
const scenarioV2Of = (regime: Regime, rng: Rng): Scenario => {
  const smile = wingSmileMultiplier
  const putSkew = 0.22
  const callSkew = 0.1
  switch (regime) {
    case "calm": {
      const gap = 0.0025 * rng.normal()
      const drift = 0.002 * rng.normal()
      return {
        gap,
        trend: (u) => drift * u,
        realisedVol: () => 0.08,
        ivLevel: (u) => 0.9 * (1 - 0.05 * u),
        skewLevel: flat,
        putSkew,
        callSkew,
        smile
      }
    }
    case "trending": {
      const gap = 0.003 * rng.normal()
      const dir = rng.sign()
      const total = dir * rng.between(0.01, 0.018)
      return {
        gap,
        trend: (u) => total * u * (1.3 - 0.3 * u),
        realisedVol: () => 0.08,
        ivLevel: (u) => (dir < 0 ? 1 + 0.1 * u : 1 - 0.05 * u),
        skewLevel: (u) => (dir < 0 ? 1 + 0.15 * u : 1),
        putSkew,
        callSkew,
        smile
      }
    }
    case "gap": {
      const dir = rng.sign()
      const size = rng.between(0.01, 0.03)
      const gap = portableLog(1 + dir * size)
      const fill = rng.between(-0.3, 0.6) // < 0: the gap extends; > 0: part of it is filled
      const norm = 1 - portableExp(-4)
      const surprise = 0.08 + 12 * size
      return {
        gap,
        trend: (u) => (-gap * fill * (1 - portableExp(-u / 0.25))) / norm,
        realisedVol: (u) => 0.11 + 0.1 * portableExp(-u / 0.12),
        ivLevel: (u) => 1 + 3 * size + surprise * portableExp(-u / 0.25),
        skewLevel: (u) => 1 + (dir < 0 ? 0.3 : 0.1) * portableExp(-u / 0.3),
        putSkew,
        callSkew,
        smile
      }
    }
    case "volCrush": {
      const gap = 0.004 * rng.normal()
      const drift = 0.003 * rng.normal()
      const high = rng.between(1.35, 1.65)
      const low = rng.between(0.72, 0.85)
      const tau = rng.between(30, 70) / 375
      return {
        gap,
        trend: (u) => drift * u,
        realisedVol: (u) => 0.07 + 0.08 * portableExp(-u / 0.15),
        ivLevel: (u) => low + (high - low) * portableExp(-u / tau),
        skewLevel: (u) => 0.8 + 0.4 * portableExp(-u / tau),
        putSkew,
        callSkew,
        smile
      }
    }
    case "volSpike": {
      const gap = 0.0025 * rng.normal()
      const start = rng.between(75, 285) / 375 // 10:30-14:00
      const ramp = rng.between(3, 10) / 375
      const jump = rng.between(0.55, 0.95)
      const keep = rng.between(0.45, 0.7)
      const dir = rng.uniform() < 0.7 ? -1 : 1
      const size = dir * rng.between(0.01, 0.022)
      const retrace = rng.between(0, 0.35)
      const spike = (u: number): number => smoothstep((u - start) / ramp)
      const after = (u: number): number => Math.max(0, u - start - ramp)
      return {
        gap,
        trend: (u) => size * spike(u) - size * retrace * smoothstep(after(u) / 0.25),
        realisedVol: (u) => (u < start ? 0.08 : u < start + ramp ? 0.15 : 0.1 + 0.08 * portableExp(-after(u) / 0.1)),
        ivLevel: (u) => 0.9 + jump * spike(u) * (keep + (1 - keep) * portableExp(-after(u) / 0.2)),
        skewLevel: (u) => 1 + (dir < 0 ? 0.35 : 0.15) * spike(u),
        putSkew,
        callSkew,
        smile
      }
    }
    case "whipsaw": {
      const gap = 0.003 * rng.normal()
      return {
        gap,
        trend: piecewise(swingKnots(rng, 4 + rng.int(3), 0.25, [0.007, 0.013])),
        realisedVol: () => 0.13,
        ivLevel: () => 1.08,
        skewLevel: () => 1.05,
        putSkew,
        callSkew,
        smile
      }
    }
  }
}

/** A path through the knots (u, log move), smooth between them, flat after the last. */
/**
 * A whipsaw's path: `swings` turns at about evenly spaced day fractions (each moved by up to `jitter` of
 * a step), alternating in sign from a random first, each to a log move within `size`; flat after the last.
 */
const swingKnots = (rng: Rng, swings: number, jitter: number, size: readonly [number, number]): ReadonlyArray<readonly [number, number]> => {
  const knots: Array<readonly [number, number]> = [[0, 0]]
  let sign = rng.sign()
  for (let k = 1; k <= swings; k++) {
    const u = clamp((k + rng.between(-jitter, jitter)) / (swings + 0.5), 0.05, 1)
    knots.push([u, sign * rng.between(size[0], size[1])])
    sign = sign === 1 ? -1 : 1
  }
  knots.push([1, knots[knots.length - 1]?.[1] ?? 0])
  return knots
}

const piecewise = (knots: ReadonlyArray<readonly [number, number]>) => (u: number): number => {
  for (let k = 1; k < knots.length; k++) {
    const [u1, v1] = knots[k] ?? [1, 0]
    const [u0, v0] = knots[k - 1] ?? [0, 0]
    if (u <= u1) return v0 + (v1 - v0) * smoothstep(u1 > u0 ? (u - u0) / (u1 - u0) : 1)
  }
  return knots[knots.length - 1]?.[1] ?? 0
}

// ---------------------------------------------------------------------------------------------
// Validation

const fail = (message: string): never => {
  throw new RangeError(`generateDay: ${message}`)
}

const validate = (o: GenerateDayOptions): void => {
  if (!isIsoDate(o.date)) fail(`bad date ${o.date}`)
  if (!isIsoDate(o.expiry)) fail(`bad expiry ${o.expiry}`)
  if (o.expiry < o.date) fail(`expiry ${o.expiry} is before date ${o.date}`)
  if (o.index !== "NIFTY" && o.index !== "SENSEX") fail(`bad index ${String(o.index)}`)
  if (!Number.isInteger(o.lotSize) || o.lotSize <= 0) fail(`bad lotSize ${o.lotSize}`)
  if (!(o.strikeStep > 0) || !Number.isFinite(o.strikeStep)) fail(`bad strikeStep ${o.strikeStep}`)
  if (!Number.isInteger(o.tickSeconds) || o.tickSeconds <= 0) fail(`bad tickSeconds ${o.tickSeconds}`)
  if (!Number.isInteger(o.baskets) || o.baskets <= 0) fail(`bad baskets ${o.baskets}`)
  if (!(o.budgetPerBasket > 0) || !Number.isFinite(o.budgetPerBasket)) fail(`bad budgetPerBasket ${o.budgetPerBasket}`)
  if (!Number.isFinite(o.seed)) fail(`bad seed ${o.seed}`)
  if (o.regime !== undefined && !isRegime(o.regime)) fail(`unknown regime ${String(o.regime)}`)
  for (const [key, v] of [["spotOpen", o.spotOpen], ["previousClose", o.previousClose]] as const) {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) fail(`bad ${key} ${v}`)
  }
  if (o.stopFraction !== undefined && !(o.stopFraction > 0 && Number.isFinite(o.stopFraction)))
    fail(`bad stopFraction ${o.stopFraction}`)
  if (o.model !== undefined && !isMarketModel(o.model)) fail(`unknown model ${String(o.model)}`)
  if (o.chainStrikes !== undefined && o.chainStrikes !== "day" && o.chainStrikes !== "tick")
    fail(`bad chainStrikes ${String(o.chainStrikes)}`)
  const seen = new Set<string>()
  for (const e of o.entries) {
    if (typeof e.portfolio !== "string" || e.portfolio === "") fail("entry without portfolio")
    if (seen.has(e.portfolio)) fail(`duplicate portfolio ${e.portfolio}`)
    seen.add(e.portfolio)
    if (!isWallTime(e.entryTime)) fail(`${e.portfolio}: bad entryTime ${e.entryTime}`)
    if (e.exitTime !== null && !isWallTime(e.exitTime)) fail(`${e.portfolio}: bad exitTime ${String(e.exitTime)}`)
    if (e.legs.length === 0) fail(`${e.portfolio}: no legs`)
    for (const l of e.legs) {
      if (l.side !== "BUY" && l.side !== "SELL") fail(`${e.portfolio}: bad side ${String(l.side)}`)
      if (l.optionType !== "CE" && l.optionType !== "PE") fail(`${e.portfolio}: bad optionType ${String(l.optionType)}`)
      if (!Number.isInteger(l.strikeOffset)) fail(`${e.portfolio}: bad strikeOffset ${l.strikeOffset}`)
      if (!Number.isInteger(l.lotsPerBasket) || l.lotsPerBasket <= 0) fail(`${e.portfolio}: bad lotsPerBasket ${l.lotsPerBasket}`)
    }
  }
}

/** An entry with its keys in the spec's order (and nothing else). */
const copyEntry = (e: EntrySpec): EntrySpec => ({
  portfolio: e.portfolio,
  entryTime: e.entryTime,
  exitTime: e.exitTime,
  legs: e.legs.map(
    (l): LegSpec => ({ side: l.side, optionType: l.optionType, strikeOffset: l.strikeOffset, lotsPerBasket: l.lotsPerBasket })
  )
})

// ---------------------------------------------------------------------------------------------
// The generator

/** Tick times (seconds of the day): every tickSeconds from 09:15:00, and 15:30:00 last. */
const tickSecondsOfDay = (tickSeconds: number): ReadonlyArray<number> => {
  const out: Array<number> = []
  for (let s = OPEN_SECONDS; s <= CLOSE_SECONDS; s += tickSeconds) out.push(s)
  if (out[out.length - 1] !== CLOSE_SECONDS) out.push(CLOSE_SECONDS)
  return out
}

export const generateDay = (options: GenerateDayOptions): GeneratedDay => {
  validate(options)
  const { date, index, expiry, strikeStep, seed } = options
  const regime = options.regime ?? chooseRegime(seed)
  const model = options.model ?? "v1"
  // v1 seeds its scenario stream as it always did; v2 draws from a stream of its own.
  const scenarioSeed = model === "v1" ? deriveSeed(seed, "scenario", regime) : deriveSeed(seed, "scenario", model, regime)
  const scenario = scenarioOf(regime, createRng(scenarioSeed), model)
  const weekendNightWeight = model === "v2" ? WEEKEND_NIGHT_WEIGHT : undefined
  const dayRng = createRng(deriveSeed(seed, "day"))
  const pathRng = createRng(deriveSeed(seed, "path"))
  const ivRng = createRng(deriveSeed(seed, "iv"))

  // levels
  const levelDraw = dayRng.uniform()
  const ivDay = portableExp(0.07 * clamp(dayRng.normal(), -2, 2))
  const rvDay = portableExp(0.1 * clamp(dayRng.normal(), -2.5, 2.5))
  const skewDay = portableExp(0.08 * clamp(dayRng.normal(), -2.5, 2.5))
  const defaultClose = round2(INDEX_LEVELS[index] * (1 + 0.03 * (2 * levelDraw - 1)))
  const open =
    options.spotOpen ?? round2((options.previousClose ?? defaultClose) * portableExp(scenario.gap))
  const previousClose = options.previousClose ?? (options.spotOpen === undefined ? defaultClose : round2(open * portableExp(-scenario.gap)))

  const sessions = tradingDaysBetween(date, expiry)
  const ivBase = baseAtmIv(index, sessions) * ivDay
  const putSkew = scenario.putSkew * skewDay
  const callSkew = scenario.callSkew * skewDay
  const skews: Array<number> = []

  // spot and ATM IV paths
  const times = tickSecondsOfDay(options.tickSeconds)
  const spots: Array<number> = []
  const ivs: Array<number> = []
  let walk = 0
  let ivNoise = 0
  for (let i = 0; i < times.length; i++) {
    const u = ((times[i] ?? OPEN_SECONDS) - OPEN_SECONDS) / SESSION_SECONDS
    if (i > 0) {
      const uPrev = ((times[i - 1] ?? OPEN_SECONDS) - OPEN_SECONDS) / SESSION_SECONDS
      const du = u - uPrev
      const z = pathRng.normal()
      const fat = pathRng.uniform() < 0.02 ? 2.5 : 1
      walk += scenario.realisedVol(uPrev) * rvDay * Math.sqrt(du / SESSION_DAYS_PER_YEAR) * z * fat
      ivNoise = ivNoise * portableExp(-4 * du) + 0.06 * Math.sqrt(du) * ivRng.normal()
    }
    const logMove = scenario.trend(u) + walk
    spots.push(round2(open * portableExp(logMove)))
    const leverage = clamp(1 - 4 * logMove, 0.8, 1.3)
    ivs.push(ivBase * scenario.ivLevel(u) * portableExp(ivNoise) * leverage)
    skews.push(scenario.skewLevel(u))
  }

  // the day's listed strikes: every multiple of the step within ±10 % of any tick's spot
  let low = Infinity
  let high = -Infinity
  for (const s of spots) {
    if (s < low) low = s
    if (s > high) high = s
  }
  const strikesFrom = (first: number, last: number): Array<number> => {
    const out: Array<number> = []
    for (let k = first; k <= last; k++) out.push(k * strikeStep)
    return out
  }
  const dayStrikes = strikesFrom(
    Math.max(1, Math.floor((low * (1 - CHAIN_HALF_WIDTH)) / strikeStep) - 1),
    Math.ceil((high * (1 + CHAIN_HALF_WIDTH)) / strikeStep) + 1
  )
  // "tick": the strikes from the last one at or below spot - 10 % to the first at or above spot + 10 %
  const strikesOf = (spot: number): ReadonlyArray<number> =>
    options.chainStrikes === "tick"
      ? strikesFrom(
          Math.max(1, Math.floor((spot * (1 - CHAIN_HALF_WIDTH)) / strikeStep)),
          Math.ceil((spot * (1 + CHAIN_HALF_WIDTH)) / strikeStep)
        )
      : dayStrikes

  // chains
  const ticks: Array<TickRecord> = times.map((s, i) => {
    const time = wallTimeFromSeconds(s)
    const spot = spots[i] ?? open
    const atmIv = ivs[i] ?? ivBase
    const skewLevel = skews[i] ?? 1
    const tv = varianceYears(date, s, expiry, weekendNightWeight)
    const tc = yearFraction(instantOf(date, time), expiry)
    const chain = strikesOf(spot).map((strike): ChainTuple => {
      if (!(tv > 0 && tc > 0)) return [strike, price(intrinsic("CE", spot, strike)), price(intrinsic("PE", spot, strike))]
      const z = portableLog(strike / spot) / (atmIv * Math.sqrt(tv))
      const vol = atmIv * scenario.smile(z, putSkew * skewLevel, callSkew * skewLevel) * Math.sqrt(tv / tc)
      return [strike, price(black76("CE", spot, strike, tc, vol)), price(black76("PE", spot, strike, tc, vol))]
    })
    return { type: "tick", time, spot, chain }
  })

  const stops = stopLossExits(ticks, options.entries, strikeStep, options.stopFraction ?? DEFAULT_STOP_FRACTION)
  const carriedExits = (options.carriedExits ?? []).map((x): ExitRecord => ({ type: "exit", time: x.time, portfolio: x.portfolio, reason: "TIMED" }))
  // Stable: at one time, stop-losses first, then the carried exits in the order given.
  const exits = carriedExits.length === 0 ? stops : [...stops, ...carriedExits].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))

  // merge: ticks and exits in time order, a tick before exits at the same time
  const records: Array<DayRecord> = []
  let e = 0
  for (const tick of ticks) {
    records.push(tick)
    while (e < exits.length && (exits[e]?.time ?? "") <= tick.time) {
      const exit = exits[e]
      if (exit !== undefined) records.push(exit)
      e++
    }
  }

  const header: DayHeader = {
    type: "day",
    version: versionFor(options.openingPositions ?? []),
    date,
    index,
    expiry,
    lotSize: options.lotSize,
    strikeStep,
    tickSeconds: options.tickSeconds,
    baskets: options.baskets,
    budgetPerBasket: options.budgetPerBasket,
    entries: options.entries.map(copyEntry),
    openingPositions: options.openingPositions ?? []
  }
  const round4 = (x: number): number => Math.round(x * 10_000) / 10_000
  return {
    header,
    records,
    meta: {
      regime,
      model,
      seed,
      previousClose,
      open,
      close: spots[spots.length - 1] ?? open,
      low,
      high,
      atmIvOpen: round4(ivs[0] ?? ivBase),
      atmIvClose: round4(ivs[ivs.length - 1] ?? ivBase),
      stopLosses: stops.length
    },
    heldAtClose: expiry > date ? heldAtCloseOf(ticks, options, stops) : []
  }
}

/** The legs of the entries held past the close (no exit time, no stop-loss), struck as stopLossExits strikes them. */
const heldAtCloseOf = (ticks: ReadonlyArray<TickRecord>, o: GenerateDayOptions, stops: ReadonlyArray<ExitRecord>): ReadonlyArray<OpeningPosition> =>
  o.entries
    .filter((e) => e.exitTime === null && !stops.some((x) => x.portfolio === e.portfolio))
    .flatMap((e) => {
      const entryTick = ticks.filter((t) => t.time <= e.entryTime).at(-1)
      if (entryTick === undefined) return []
      const atm = atmStrike(entryTick.spot, o.strikeStep)
      return e.legs.map((l): OpeningPosition => {
        const strike = atm + l.strikeOffset * o.strikeStep
        const row = entryTick.chain.find((r) => r[0] === strike)
        const units = l.lotsPerBasket * o.baskets * o.lotSize
        return {
          strike,
          optionType: l.optionType,
          quantity: l.side === "SELL" ? -units : units,
          avgPrice: row === undefined ? 0.05 : l.optionType === "CE" ? row[1] : row[2],
          expiry: o.expiry,
          origin: { kind: "entry", portfolio: e.portfolio }
        }
      })
    })

/**
 * SL_HIT exits: after an entry's entryTime and before its exitTime (or the close), the first tick at
 * which the combined last price of its SELL legs is at least (1 + stopFraction) × that at entry.
 * Legs sit at ATM-at-entry + strikeOffset steps, ATM being the listed strike nearest the spot of the
 * latest tick at or before entryTime (a tie to the lower strike).
 */
const stopLossExits = (
  ticks: ReadonlyArray<TickRecord>,
  entries: ReadonlyArray<EntrySpec>,
  strikeStep: number,
  stopFraction: number
): Array<ExitRecord> => {
  const lastOf = (chain: ReadonlyArray<ChainTuple>, strike: number, t: OptionType): number | null => {
    const row = chain.find((r) => r[0] === strike)
    return row === undefined ? null : t === "CE" ? row[1] : row[2]
  }
  const premium = (tick: TickRecord, legs: ReadonlyArray<readonly [number, OptionType]>): number | null => {
    let sum = 0
    for (const [strike, t] of legs) {
      const p = lastOf(tick.chain, strike, t)
      if (p === null) return null
      sum += p
    }
    return sum
  }
  const exits: Array<{ readonly exit: ExitRecord; readonly order: number }> = []
  entries.forEach((entry, order) => {
    const shorts = entry.legs.filter((l) => l.side === "SELL")
    if (shorts.length === 0) return
    let at = -1
    for (let i = 0; i < ticks.length && (ticks[i]?.time ?? "") <= entry.entryTime; i++) at = i
    const entryTick = ticks[at]
    if (entryTick === undefined) return
    const atm = atmStrike(entryTick.spot, strikeStep)
    const legs = shorts.map((l): readonly [number, OptionType] => [atm + l.strikeOffset * strikeStep, l.optionType])
    const start = premium(entryTick, legs)
    if (start === null) return
    const deadline = entry.exitTime ?? MARKET_CLOSE
    for (let i = at + 1; i < ticks.length; i++) {
      const tick = ticks[i]
      if (tick === undefined || tick.time >= deadline) break
      const now = premium(tick, legs)
      if (now !== null && now >= start * (1 + stopFraction)) {
        exits.push({ exit: { type: "exit", time: tick.time, portfolio: entry.portfolio, reason: "SL_HIT" }, order })
        break
      }
    }
  })
  exits.sort((a, b) => (a.exit.time < b.exit.time ? -1 : a.exit.time > b.exit.time ? 1 : a.order - b.order))
  return exits.map((x) => x.exit)
}

// ---------------------------------------------------------------------------------------------
// Serialisation

/** The day as recorded-day v1 JSON Lines (header line, then records; trailing newline). */
export const toJsonl = (day: { readonly header: DayHeader; readonly records: ReadonlyArray<DayRecord> }): string => {
  const lines = [headerLine(day.header)]
  for (const r of day.records) {
    lines.push(r.type === "tick" ? tickLine({ ...r, chain: r.chain.map(([strike, ce, pe]) => ({ strike, ce, pe })) }) : exitLine(r))
  }
  return `${lines.join("\n")}\n`
}
