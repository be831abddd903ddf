// Black-76 pricing of European options on a forward, its greeks and implied volatility, and the year fraction to an expiry.
//
// Everything here is built from IEEE-754 basic operations (+ - * / and Math.sqrt, which are
// correctly rounded by the ECMAScript spec) plus the portable exp/log below, instead of Math.exp /
// Math.log, whose results the spec leaves to the engine. So a price is bit-for-bit the same on
// every machine and runtime, which the synthetic-day generator relies on.
import type { OptionType } from "./market.ts"
import { instantOf, MARKET_CLOSE } from "./time.ts"

const MS_PER_YEAR = 365 * 24 * 3600 * 1000

// ---------------------------------------------------------------------------------------------
// Portable exp / log (a few ulp; deterministic everywhere)

const LN2_HI = 6.93147180369123816490e-1 // ln 2, upper bits (k * LN2_HI is exact for |k| < 2^11)
const LN2_LO = 1.90821492927058770002e-10 // ln 2 - LN2_HI
const INV_LN2 = 1.44269504088896338700
const SQRT2 = 1.4142135623730951
const EXP_MAX = 709.782712893384 // above: overflow
const EXP_MIN = -745.1332191019412 // below: underflow to 0

const bits = new DataView(new ArrayBuffer(8))

/** 2^n for an integer n in [-1022, 1023], exactly. */
const pow2 = (n: number): number => {
  bits.setUint32(0, (n + 1023) << 20, false)
  bits.setUint32(4, 0, false)
  return bits.getFloat64(0, false)
}

/** e^x, using only correctly rounded operations. */
export const portableExp = (x: number): number => {
  if (x !== x) return NaN
  if (x > EXP_MAX) return Infinity
  if (x < EXP_MIN) return 0
  const k = Math.round(x * INV_LN2)
  const r = x - k * LN2_HI - k * LN2_LO // |r| <= ~0.347
  // Taylor series of e^r to degree 13 (truncation < 1e-17 relative), Horner form.
  let p = 1 / 6227020800
  p = p * r + 1 / 479001600
  p = p * r + 1 / 39916800
  p = p * r + 1 / 3628800
  p = p * r + 1 / 362880
  p = p * r + 1 / 40320
  p = p * r + 1 / 5040
  p = p * r + 1 / 720
  p = p * r + 1 / 120
  p = p * r + 1 / 24
  p = p * r + 1 / 6
  p = p * r + 0.5
  p = p * r + 1
  p = p * r + 1
  const k1 = Math.trunc(k / 2)
  return p * pow2(k1) * pow2(k - k1)
}

/** Natural logarithm, using only correctly rounded operations. */
export const portableLog = (x: number): number => {
  if (x !== x || x < 0) return NaN
  if (x === 0) return -Infinity
  if (x === Infinity) return Infinity
  let e = 0
  let v = x
  if (v < 2.2250738585072014e-308) {
    v *= 18014398509481984 // 2^54: lift subnormals
    e = -54
  }
  bits.setFloat64(0, v, false)
  const hi = bits.getUint32(0, false)
  e += ((hi >>> 20) & 0x7ff) - 1023
  bits.setUint32(0, (hi & 0x000fffff) | 0x3ff00000, false)
  let m = bits.getFloat64(0, false) // in [1, 2)
  if (m > SQRT2) {
    m /= 2
    e += 1
  }
  // log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716
  const s = (m - 1) / (m + 1)
  const z = s * s
  let q = 1 / 25
  q = q * z + 1 / 23
  q = q * z + 1 / 21
  q = q * z + 1 / 19
  q = q * z + 1 / 17
  q = q * z + 1 / 15
  q = q * z + 1 / 13
  q = q * z + 1 / 11
  q = q * z + 1 / 9
  q = q * z + 1 / 7
  q = q * z + 1 / 5
  q = q * z + 1 / 3
  const logM = 2 * s + 2 * s * z * q
  return e * LN2_HI + (logM + e * LN2_LO)
}

// ---------------------------------------------------------------------------------------------
// Standard normal distribution

const INV_SQRT_2PI = 0.3989422804014327

/** Standard normal density. */
export const normPdf = (x: number): number => INV_SQRT_2PI * portableExp(-0.5 * x * x)

/**
 * Standard normal cumulative distribution (Hart 1968 as given by G. West, "Better approximations
 * to cumulative normal functions", 2005): double precision, good relative accuracy in the tails.
 */
export const normCdf = (x: number): number => {
  if (x !== x) return NaN
  const z = Math.abs(x)
  let tail: number
  if (z > 37) {
    tail = 0
  } else {
    const e = portableExp(-0.5 * z * z)
    if (z < 7.07106781186547) {
      let n = 3.52624965998911e-2 * z + 0.700383064443688
      n = n * z + 6.37396220353165
      n = n * z + 33.912866078383
      n = n * z + 112.079291497871
      n = n * z + 221.213596169931
      n = n * z + 220.206867912376
      let d = 8.83883476483184e-2 * z + 1.75566716318264
      d = d * z + 16.064177579207
      d = d * z + 86.7807322029461
      d = d * z + 296.564248779674
      d = d * z + 637.333633378831
      d = d * z + 793.826512519948
      d = d * z + 440.413735824752
      tail = (e * n) / d
    } else {
      let b = z + 0.65
      b = z + 4 / b
      b = z + 3 / b
      b = z + 2 / b
      b = z + 1 / b
      tail = e / b / 2.506628274631
    }
  }
  return x > 0 ? 1 - tail : tail
}

// ---------------------------------------------------------------------------------------------
// Black-76

/** Payoff at expiry of one unit: max(F - K, 0) for a call, max(K - F, 0) for a put. */
export const intrinsic = (optionType: OptionType, forward: number, strike: number): number =>
  optionType === "CE" ? Math.max(0, forward - strike) : Math.max(0, strike - forward)

/**
 * Black-76 price per unit of a European option on a forward.
 * `years` to expiry, `vol` annualised (0.15 = 15 %), `rate` continuously compounded (default 0).
 * Degenerate inputs price at intrinsic: years <= 0, vol <= 0, forward <= 0 or strike <= 0.
 * The out-of-the-money side is computed directly and the other through put-call parity, so deep
 * in-the-money prices keep their small time value and parity holds to rounding.
 */
export const black76 = (
  optionType: OptionType,
  forward: number,
  strike: number,
  years: number,
  vol: number,
  rate = 0
): number => {
  const discount = years > 0 && rate !== 0 ? portableExp(-rate * years) : 1
  const undiscounted = black76Undiscounted(optionType, forward, strike, years, vol)
  return undiscounted === 0 || discount === 0 ? 0 : discount * undiscounted
}

const black76Undiscounted = (optionType: OptionType, F: number, K: number, years: number, vol: number): number => {
  if (!(years > 0) || !(vol > 0) || !(F > 0) || !(K > 0)) return intrinsic(optionType, F, K)
  const s = vol * Math.sqrt(years)
  if (s === 0) return intrinsic(optionType, F, K)
  if (s === Infinity) return optionType === "CE" ? F : K
  const d1 = portableLog(F / K) / s + s / 2
  const d2 = d1 - s
  if (F >= K) {
    // put is out of the money
    const put = Math.max(0, K * normCdf(-d2) - F * normCdf(-d1))
    return optionType === "PE" ? put : put + (F - K)
  }
  const call = Math.max(0, F * normCdf(d1) - K * normCdf(d2))
  return optionType === "CE" ? call : call + (K - F)
}

/** Years (ACT/365, calendar time) from an instant (epoch ms) to 15:30 IST on `expiry`; never negative. */
export const yearFraction = (fromAt: number, expiry: string): number =>
  Math.max(0, (instantOf(expiry, MARKET_CLOSE) - fromAt) / MS_PER_YEAR)

// ---------------------------------------------------------------------------------------------
// Black-76 greeks

/** Sensitivities of one unit's Black-76 value, on the same inputs as `black76`. */
export interface Black76Greeks {
  /** ∂V/∂F. */
  readonly delta: number
  /** ∂²V/∂F². */
  readonly gamma: number
  /** ∂V/∂σ per 1.00 of volatility (divide by 100 for "per vol point"). */
  readonly vega: number
  /** ∂V/∂t per year of calendar time (= −∂V/∂T); a long option's decay is negative. */
  readonly theta: number
}

/** Saturate an overflow to the largest finite double, so later sums can never form ∞ − ∞. */
const saturate = (x: number): number => (x > Number.MAX_VALUE ? Number.MAX_VALUE : x < -Number.MAX_VALUE ? -Number.MAX_VALUE : x)

/** Product of finite factors: 0 if any factor is 0 (never 0 · ∞ = NaN), saturated on overflow. */
const product = (...factors: ReadonlyArray<number>): number => {
  let p = 1
  for (const f of factors) {
    if (f === 0) return 0
    p = saturate(p * f)
  }
  return p
}

/**
 * Black-76 greeks per unit. Degenerate inputs (years <= 0, vol <= 0, forward or strike <= 0) take the
 * limits of the payoff: delta 0 or ±1 by moneyness (½ exactly at the money, the mean of the kink's two
 * slopes), gamma and vega 0, theta r·V (only the discounting moves). Any finite input gives finite greeks.
 */
export const black76Greeks = (
  optionType: OptionType,
  forward: number,
  strike: number,
  years: number,
  vol: number,
  rate = 0
): Black76Greeks => {
  const discount = years > 0 && rate !== 0 ? saturate(portableExp(-rate * years)) : 1
  const price = black76(optionType, forward, strike, years, vol, rate)
  const carry = years > 0 ? product(rate, saturate(price)) : 0
  const s = years > 0 && vol > 0 ? vol * Math.sqrt(years) : 0
  if (!(forward > 0) || !(strike > 0) || !(s > 0) || s === Infinity) {
    // With infinite total variance the call is worth F (delta 1) and the put K (delta 0).
    const callDelta = s === Infinity && forward > 0 && strike > 0 ? 1 : forward > strike ? 1 : forward < strike ? 0 : 0.5
    const delta = product(discount, optionType === "CE" ? callDelta : callDelta - 1)
    return { delta, gamma: 0, vega: 0, theta: carry }
  }
  const d1 = portableLog(forward / strike) / s + s / 2
  const density = normPdf(d1)
  const delta = optionType === "CE" ? product(discount, normCdf(d1)) : -product(discount, normCdf(-d1))
  const gamma = density === 0 ? 0 : product(discount, density, 1 / product(forward, s))
  const sqrtYears = Math.sqrt(years)
  const vega = product(discount, forward, density, sqrtYears)
  const theta = saturate(carry - product(discount, forward, density, vol, 0.5 / sqrtYears))
  return { delta, gamma: gamma === Infinity ? Number.MAX_VALUE : gamma, vega, theta }
}

// ---------------------------------------------------------------------------------------------
// Implied volatility

/** The volatility domain `impliedVol` searches: 0.01 % to 1000 % a year. */
export const IMPLIED_VOL_MIN = 1e-4
export const IMPLIED_VOL_MAX = 10

/** Price tolerance of an implied vol: absolute (rupees per unit) and relative to the time value. */
const IV_ABS_TOLERANCE = 1e-10
const IV_REL_TOLERANCE = 1e-9
/** Newton and bisection steps together; bisection in log-vol alone needs under 60 to exhaust a double. */
const IV_MAX_ITERATIONS = 200

/**
 * The volatility in [IMPLIED_VOL_MIN, IMPLIED_VOL_MAX] at which `black76` reproduces `price`, to within
 * min(1e-10, 1e-9 · time value) per unit, or as close as doubles allow (the bracket shrinks to adjacent
 * doubles); null when there is none:
 * years <= 0, forward or strike <= 0, a non-finite input, a price at or below intrinsic (no time value:
 * only vol 0 gives it), at or above the upper bound (F for a call, K for a put: infinite vol), or a vol
 * outside the domain.
 *
 * Method: the time value is the out-of-the-money option's price (put-call parity), which keeps full
 * precision deep in the money. The root is bracketed in [min, max] and found by Newton steps on the log of
 * the price (near-linear in vol even for deep OTM options minutes from expiry, where the price itself
 * behaves like e^(−c/σ²)), falling back to bisection in log-vol whenever a step leaves the bracket or
 * fails to halve the error. Bounded by IV_MAX_ITERATIONS; each step shrinks the bracket or the error.
 */
export const impliedVol = (
  optionType: OptionType,
  price: number,
  forward: number,
  strike: number,
  years: number,
  rate = 0
): number | null => {
  if (!Number.isFinite(price) || !Number.isFinite(forward) || !Number.isFinite(strike) || !Number.isFinite(years) || !Number.isFinite(rate))
    return null
  if (!(years > 0) || !(forward > 0) || !(strike > 0) || !(price > 0)) return null
  const discount = rate !== 0 ? portableExp(-rate * years) : 1
  if (!(discount > 0) || !Number.isFinite(discount)) return null
  const undiscounted = price / discount
  if (!Number.isFinite(undiscounted)) return null
  const upperBound = optionType === "CE" ? forward : strike
  const timeValue = undiscounted - intrinsic(optionType, forward, strike)
  if (!(timeValue > 0) || !(undiscounted < upperBound)) return null
  // The out-of-the-money option's whole price is the time value of either side.
  const otmType: OptionType = forward >= strike ? "PE" : "CE"
  const priceAt = (vol: number) => black76Undiscounted(otmType, forward, strike, years, vol)
  // Both bounds: tiny (deep OTM) prices still get their vol to 9 digits, not just "close to 0".
  const tolerance = Math.min(IV_ABS_TOLERANCE, IV_REL_TOLERANCE * timeValue)
  const sqrtYears = Math.sqrt(years)

  let lo = IMPLIED_VOL_MIN
  let hi = IMPLIED_VOL_MAX
  const errLo = priceAt(lo) - timeValue
  if (Math.abs(errLo) <= tolerance) return lo
  if (errLo > 0) return null // would need a vol below the domain
  const errHi = priceAt(hi) - timeValue
  if (Math.abs(errHi) <= tolerance) return hi
  if (errHi < 0) return null // would need a vol above the domain

  // Start from the at-the-money approximation σ ≈ √(2π/T) · time value / F, kept inside the bracket.
  let vol = Math.min(hi, Math.max(lo, (2.5066282746310002 / sqrtYears) * (timeValue / forward)))
  let best = vol
  let bestErr = Infinity
  let previousErr = Infinity
  for (let i = 0; i < IV_MAX_ITERATIONS; i++) {
    const p = priceAt(vol)
    const err = p - timeValue
    if (Math.abs(err) < bestErr) {
      bestErr = Math.abs(err)
      best = vol
    }
    if (Math.abs(err) <= tolerance) return vol
    if (err > 0) hi = vol
    else lo = vol
    if (hi - lo <= 4 * Number.EPSILON * hi) return best // the bracket is down to adjacent doubles
    // Newton on ln(price): step = −(ln p − ln target) / (vega / p).
    const d1 = portableLog(forward / strike) / (vol * sqrtYears) + (vol * sqrtYears) / 2
    const vega = forward * normPdf(d1) * sqrtYears
    let next = NaN
    if (p > 0 && vega > 0 && Math.abs(err) <= 0.5 * previousErr) next = vol - (portableLog(p / timeValue) * p) / vega
    if (!(next > lo && next < hi)) next = Math.sqrt(lo * hi) // bisection in log-vol
    previousErr = Math.abs(err)
    vol = next
  }
  return best
}
