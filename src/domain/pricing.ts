// Black-76 pricing of European options on a forward, and the year fraction to an expiry.
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
