import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { OptionType } from "../../src/domain/market.ts"
import {
  black76,
  black76Greeks,
  IMPLIED_VOL_MAX,
  IMPLIED_VOL_MIN,
  impliedVol,
  intrinsic,
  normCdf,
  normPdf,
  portableExp,
  portableLog,
  yearFraction
} from "../../src/domain/pricing.ts"
import { instantOf } from "../../src/domain/time.ts"

const optionType = fc.constantFrom<OptionType>("CE", "PE")
const positive = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
const finite = fc.double({ noNaN: true, noDefaultInfinity: true })

describe("black76", () => {
  it("matches a known value (ATM, F = K = 100, 1 year, 20 %)", () => {
    // ATM: C = P = F (2 N(σ√T / 2) - 1)
    expect(black76("CE", 100, 100, 1, 0.2)).toBeCloseTo(7.965567455405804, 12)
    expect(black76("PE", 100, 100, 1, 0.2)).toBeCloseTo(7.965567455405804, 12)
    // an out-of-the-money put, checked against an independent evaluation
    const F = 25_000
    const K = 24_500
    const T = 1 / 365
    const v = 0.15
    const s = v * Math.sqrt(T)
    const d1 = Math.log(F / K) / s + s / 2
    const expected = K * normCdf(-(d1 - s)) - F * normCdf(-d1)
    expect(black76("PE", F, K, T, v)).toBeCloseTo(expected, 9)
  })

  it("holds put-call parity: C - P = e^(-rT) (F - K)", () => {
    fc.assert(
      fc.property(
        positive(1, 200_000),
        positive(1, 200_000),
        positive(0, 3),
        positive(0, 3),
        positive(-0.1, 0.2),
        (F, K, T, v, r) => {
          const c = black76("CE", F, K, T, v, r)
          const p = black76("PE", F, K, T, v, r)
          const df = T > 0 && r !== 0 ? Math.exp(-r * T) : 1
          expect(Math.abs(c - p - df * (F - K))).toBeLessThanOrEqual(1e-9 * Math.max(F, K))
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("is non-increasing in strike for calls and non-decreasing for puts", () => {
    fc.assert(
      fc.property(positive(100, 100_000), positive(0.5, 1.5), positive(0.5, 1.5), positive(0, 1), positive(0.01, 1), (F, a, b, T, v) => {
        const [k1, k2] = a < b ? [F * a, F * b] : [F * b, F * a]
        const tol = 1e-9 * F
        expect(black76("CE", F, k1, T, v)).toBeGreaterThanOrEqual(black76("CE", F, k2, T, v) - tol)
        expect(black76("PE", F, k1, T, v)).toBeLessThanOrEqual(black76("PE", F, k2, T, v) + tol)
      }),
      { numRuns: 1000 }
    )
  })

  it("is non-decreasing in vol", () => {
    fc.assert(
      fc.property(optionType, positive(100, 100_000), positive(0.5, 1.5), positive(0, 1), positive(0, 2), positive(0, 2), (t, F, m, T, a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a]
        expect(black76(t, F, F * m, T, hi)).toBeGreaterThanOrEqual(black76(t, F, F * m, T, lo) - 1e-9 * F)
      }),
      { numRuns: 1000 }
    )
  })

  it("lies between intrinsic and its upper bound (F for a call, K for a put)", () => {
    fc.assert(
      fc.property(optionType, positive(1, 200_000), positive(1, 200_000), positive(0, 2), positive(0, 3), (t, F, K, T, v) => {
        const p = black76(t, F, K, T, v)
        const tol = 1e-9 * Math.max(F, K)
        expect(p).toBeGreaterThanOrEqual(intrinsic(t, F, K) - tol)
        expect(p).toBeLessThanOrEqual((t === "CE" ? F : K) + tol)
      }),
      { numRuns: 1000 }
    )
  })

  it("is intrinsic at expiry and at zero vol", () => {
    expect(black76("CE", 25_100, 25_000, 0, 0.15)).toBe(100)
    expect(black76("PE", 25_100, 25_000, 0, 0.15)).toBe(0)
    expect(black76("PE", 24_900, 25_000, -1, 0.15)).toBe(100)
    expect(black76("CE", 25_100, 25_000, 0.01, 0)).toBe(100)
    expect(black76("PE", 25_100, 25_200, 0.01, 0)).toBe(100)
    fc.assert(
      fc.property(optionType, positive(1, 1e6), positive(1, 1e6), positive(0, 3), (t, F, K, v) => {
        expect(black76(t, F, K, 0, v)).toBe(intrinsic(t, F, K))
        expect(black76(t, F, K, v, 0)).toBe(intrinsic(t, F, K))
      })
    )
  })

  it("approaches intrinsic as expiry nears", () => {
    const F = 25_012.35
    for (const K of [24_800, 25_000, 25_050, 25_300]) {
      for (const t of ["CE", "PE"] as const) {
        expect(Math.abs(black76(t, F, K, 1 / (365 * 24 * 60), 0.3) - intrinsic(t, F, K))).toBeLessThan(1)
      }
    }
  })

  it("never returns NaN for finite inputs", () => {
    fc.assert(
      fc.property(optionType, finite, finite, finite, finite, finite, (t, F, K, T, v, r) => {
        const p = black76(t, F, K, T, v, r)
        expect(Number.isNaN(p)).toBe(false)
        expect(p).toBeGreaterThanOrEqual(0)
      }),
      { numRuns: 5000 }
    )
    // the shrunk counterexample of an earlier bug: overflowing intrinsic × underflowing discount
    expect(Number.isNaN(black76("PE", -2.8939684488253437e293, 1.797693134862313e308, 2.6684734718027815e58, 0, 2.792357604359245e-56))).toBe(false)
    const edges = [0, -0, 5e-324, -5e-324, 1e-300, 1, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE]
    for (const t of ["CE", "PE"] as const)
      for (const F of edges)
        for (const K of edges)
          for (const T of edges)
            for (const v of edges)
              for (const r of [0, 1e-300, -1e-300, 0.07, 1e300, -1e300]) {
                const p = black76(t, F, K, T, v, r)
                if (Number.isNaN(p)) expect.fail(`NaN for ${t} ${F} ${K} ${T} ${v} ${r}`)
              }
  })
})

describe("portable exp / log / normal", () => {
  it("agree with Math.exp / Math.log to a few ulp", () => {
    fc.assert(
      fc.property(positive(-700, 700), (x) => {
        const e = Math.exp(x)
        expect(Math.abs(portableExp(x) - e)).toBeLessThanOrEqual(4e-16 * e)
      }),
      { numRuns: 5000 }
    )
    fc.assert(
      fc.property(positive(1e-300, 1e300), (x) => {
        const l = Math.log(x)
        expect(Math.abs(portableLog(x) - l)).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(l)))
      }),
      { numRuns: 5000 }
    )
  })

  it("handle special values", () => {
    expect(portableExp(0)).toBe(1)
    expect(portableExp(1000)).toBe(Infinity)
    expect(portableExp(-1000)).toBe(0)
    expect(portableLog(1)).toBe(0)
    expect(portableLog(0)).toBe(-Infinity)
    expect(portableLog(Infinity)).toBe(Infinity)
    expect(Number.isNaN(portableLog(-1))).toBe(true)
    expect(portableLog(5e-324)).toBeCloseTo(Math.log(5e-324), 10)
  })

  it("normCdf is symmetric and matches known quantiles", () => {
    expect(normCdf(0)).toBe(0.5)
    expect(normCdf(1.959963984540054)).toBeCloseTo(0.975, 12)
    expect(normCdf(-1)).toBeCloseTo(0.15865525393145707, 13)
    expect(normCdf(-40)).toBe(0)
    expect(normCdf(40)).toBe(1)
    expect(normPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15)
    fc.assert(
      fc.property(positive(-10, 10), (x) => {
        expect(Math.abs(normCdf(x) + normCdf(-x) - 1)).toBeLessThan(1e-15)
      })
    )
  })
})

describe("yearFraction", () => {
  it("is ~6.25 h of a 365-day year at 09:15 on a 0DTE day", () => {
    const y = yearFraction(instantOf("2026-02-10", "09:15:00"), "2026-02-10")
    expect(y).toBeCloseTo(6.25 / (365 * 24), 15)
  })

  it("counts calendar time across nights and weekends", () => {
    expect(yearFraction(instantOf("2026-02-09", "15:30:00"), "2026-02-10")).toBeCloseTo(1 / 365, 15)
    expect(yearFraction(instantOf("2026-02-13", "15:30:00"), "2026-02-17")).toBeCloseTo(4 / 365, 15)
  })

  it("is zero at and after the expiry instant, never negative", () => {
    expect(yearFraction(instantOf("2026-02-10", "15:30:00"), "2026-02-10")).toBe(0)
    expect(yearFraction(instantOf("2026-02-10", "15:31:00"), "2026-02-10")).toBe(0)
    expect(yearFraction(instantOf("2026-03-01", "10:00:00"), "2026-02-10")).toBe(0)
  })
})

describe("black76Greeks", () => {
  it("matches closed forms at the money (F = K = 100, 1 year, 20 %, r = 0)", () => {
    // d1 = σ/2 = 0.1: delta N(0.1), gamma φ(0.1)/(Fσ), vega Fφ(0.1), theta −Fφ(0.1)σ/2
    const phi = Math.exp(-0.005) / Math.sqrt(2 * Math.PI)
    const g = black76Greeks("CE", 100, 100, 1, 0.2)
    expect(g.delta).toBeCloseTo(0.539827837277029, 12)
    expect(g.gamma).toBeCloseTo(phi / 20, 12)
    expect(g.vega).toBeCloseTo(100 * phi, 10)
    expect(g.theta).toBeCloseTo(-10 * phi, 10)
    const p = black76Greeks("PE", 100, 100, 1, 0.2)
    expect(p.delta).toBeCloseTo(0.539827837277029 - 1, 12)
    expect(p.gamma).toBe(g.gamma)
    expect(p.vega).toBe(g.vega)
  })

  it("agrees with central finite differences of black76 (delta, gamma, vega, theta)", () => {
    const close = (analytic: number, numeric: number, scale: number) =>
      Math.abs(analytic - numeric) <= 1e-5 * Math.abs(analytic) + 1e-7 * scale
    fc.assert(
      fc.property(
        optionType,
        positive(100, 100_000),
        positive(0.7, 1.3),
        positive(1 / 365, 2),
        positive(0.03, 1.5),
        positive(-0.05, 0.15),
        (t, F, m, T, v, r) => {
          const K = F * m
          const g = black76Greeks(t, F, K, T, v, r)
          const price = (f: number, years: number, vol: number) => black76(t, f, K, years, vol, r)
          const hF = 1e-4 * F * v * Math.sqrt(T)
          const dF = (price(F + hF, T, v) - price(F - hF, T, v)) / (2 * hF)
          const gF = (black76Greeks(t, F + hF, K, T, v, r).delta - black76Greeks(t, F - hF, K, T, v, r).delta) / (2 * hF)
          const hV = 1e-5 * v
          const dV = (price(F, T, v + hV) - price(F, T, v - hV)) / (2 * hV)
          const hT = 1e-5 * T
          const dT = -(price(F, T + hT, v) - price(F, T - hT, v)) / (2 * hT)
          // scales: rupees per unit of the bumped variable over its natural range
          if (!close(g.delta, dF, 1)) expect.fail(`delta ${g.delta} vs ${dF}`)
          if (!close(g.gamma, gF, 1 / (F * v * Math.sqrt(T)))) expect.fail(`gamma ${g.gamma} vs ${gF}`)
          if (!close(g.vega, dV, F * Math.sqrt(T))) expect.fail(`vega ${g.vega} vs ${dV}`)
          if (!close(g.theta, dT, (F * v) / Math.sqrt(T))) expect.fail(`theta ${g.theta} vs ${dT}`)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("agrees with finite differences minutes before expiry", () => {
    const F = 25_012.35
    const T = 20 / (365 * 24 * 60)
    for (const K of [24_900, 25_000, 25_050, 25_150])
      for (const t of ["CE", "PE"] as const) {
        const g = black76Greeks(t, F, K, T, 0.15)
        const h = 0.01
        const dF = (black76(t, F + h, K, T, 0.15) - black76(t, F - h, K, T, 0.15)) / (2 * h)
        expect(Math.abs(g.delta - dF)).toBeLessThan(1e-6)
        const dV = (black76(t, F, K, T, 0.15 + 1e-6) - black76(t, F, K, T, 0.15 - 1e-6)) / 2e-6
        expect(Math.abs(g.vega - dV)).toBeLessThan(1e-4 * Math.max(1, g.vega))
      }
  })

  it("holds delta parity (call − put = e^(−rT)) and equal gamma and vega for both sides", () => {
    fc.assert(
      fc.property(positive(1, 200_000), positive(1, 200_000), positive(1e-6, 3), positive(1e-4, 3), positive(-0.1, 0.2), (F, K, T, v, r) => {
        const c = black76Greeks("CE", F, K, T, v, r)
        const p = black76Greeks("PE", F, K, T, v, r)
        expect(Math.abs(c.delta - p.delta - Math.exp(-r * T))).toBeLessThan(1e-12)
        expect(c.gamma).toBe(p.gamma)
        expect(c.vega).toBe(p.vega)
        expect(c.gamma).toBeGreaterThanOrEqual(0)
        expect(c.vega).toBeGreaterThanOrEqual(0)
      }),
      { numRuns: 2000 }
    )
  })

  it("takes the payoff's limits at expiry and at zero vol", () => {
    const limits = (t: OptionType, F: number, K: number, T: number, v: number, r = 0) => {
      const g = black76Greeks(t, F, K, T, v, r)
      return [g.delta, g.gamma, g.vega]
    }
    expect(limits("CE", 25_100, 25_000, 0, 0.15)).toEqual([1, 0, 0])
    expect(limits("CE", 24_900, 25_000, 0, 0.15)).toEqual([0, 0, 0])
    expect(limits("PE", 24_900, 25_000, -1, 0.15)).toEqual([-1, 0, 0])
    expect(limits("PE", 25_100, 25_000, 0.01, 0)).toEqual([0, 0, 0])
    expect(limits("CE", 25_000, 25_000, 0, 0.15)).toEqual([0.5, 0, 0]) // the kink: mean of its slopes
    // at zero vol, only discounting moves the value: theta = r·V
    const g = black76Greeks("CE", 110, 100, 0.5, 0, 0.1)
    expect(g.delta).toBeCloseTo(Math.exp(-0.05), 15)
    expect(g.theta).toBeCloseTo(0.1 * 10 * Math.exp(-0.05), 12)
    expect(black76Greeks("CE", 110, 100, 0, 0.2, 0.1).theta).toBe(0)
  })

  it("never returns NaN for finite inputs", () => {
    const check = (t: OptionType, F: number, K: number, T: number, v: number, r: number) => {
      const g = black76Greeks(t, F, K, T, v, r)
      for (const [name, x] of Object.entries(g)) if (Number.isNaN(x)) expect.fail(`${name} NaN for ${t} ${F} ${K} ${T} ${v} ${r}`)
    }
    fc.assert(
      fc.property(optionType, finite, finite, finite, finite, finite, (t, F, K, T, v, r) => check(t, F, K, T, v, r)),
      { numRuns: 5000 }
    )
    const edges = [0, -0, 5e-324, -5e-324, 1e-300, 1, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE]
    for (const t of ["CE", "PE"] as const)
      for (const F of edges) for (const K of edges) for (const T of edges) for (const v of edges) for (const r of [0, 1e-300, 0.07, 1e300, -1e300]) check(t, F, K, T, v, r)
  })
})

describe("impliedVol", () => {
  const MINUTE = 1 / (365 * 24 * 60)

  it("recovers known vols", () => {
    for (const [t, F, K, T, v] of [
      ["CE", 25_000, 25_000, 1 / 365, 0.12],
      ["PE", 25_000, 24_000, 7 / 365, 0.18],
      ["CE", 25_000, 20_000, 0.1, 0.2], // deep in the money: solved on the put's time value
      ["CE", 100, 100, 1, 5]
    ] as const) {
      expect(impliedVol(t, black76(t, F, K, T, v), F, K, T)).toBeCloseTo(v, 9)
    }
    expect(impliedVol("CE", black76("CE", 25_000, 25_300, 0.05, 0.14, 0.065), 25_000, 25_300, 0.05, 0.065)).toBeCloseTo(0.14, 9)
  })

  it("solves 0.05 quotes of deep OTM options minutes before expiry, or says there is no vol in its domain", () => {
    for (const minutes of [1, 5, 15, 30, 60, 120])
      for (const K of [25_100, 25_200, 25_300, 25_500, 26_000]) {
        const T = minutes * MINUTE
        const iv = impliedVol("CE", 0.05, 25_000, K, T)
        if (iv === null) {
          // only when even the domain's highest vol cannot make it worth 0.05
          expect(black76("CE", 25_000, K, T, IMPLIED_VOL_MAX)).toBeLessThan(0.05)
        } else {
          expect(Math.abs(black76("CE", 25_000, K, T, iv) - 0.05)).toBeLessThan(1e-10)
        }
      }
    // 30 minutes before expiry, 200 points out: a real, finite vol
    expect(impliedVol("CE", 0.05, 25_000, 25_200, 30 * MINUTE)).not.toBeNull()
  })

  it("returns null when no vol reproduces the price", () => {
    expect(impliedVol("CE", 99.99, 25_100, 25_000, 0.01)).toBeNull() // below intrinsic
    expect(impliedVol("CE", 100, 25_100, 25_000, 0.01)).toBeNull() // at intrinsic: only vol 0
    expect(impliedVol("PE", 0, 25_100, 25_000, 0.01)).toBeNull() // OTM at zero
    expect(impliedVol("CE", 25_100, 25_100, 25_000, 0.01)).toBeNull() // at the bound F
    expect(impliedVol("PE", 25_001, 25_100, 25_000, 0.01)).toBeNull() // above the bound K
    expect(impliedVol("CE", 50, 25_000, 25_000, 0)).toBeNull() // expired
    expect(impliedVol("CE", 50, 25_000, 25_000, -1)).toBeNull()
    expect(impliedVol("CE", 50, 0, 25_000, 0.01)).toBeNull()
    expect(impliedVol("CE", Number.NaN, 25_000, 25_000, 0.01)).toBeNull()
    expect(impliedVol("CE", 50, 25_000, Infinity, 0.01)).toBeNull()
    // outside the domain: a vol above 1000 % or below 0.01 %
    expect(impliedVol("CE", black76("CE", 100, 100, 1, 20), 100, 100, 1)).toBeNull()
    expect(impliedVol("CE", black76("CE", 100, 100, 1, 5e-5), 100, 100, 1)).toBeNull()
  })

  it("round-trips price → vol → price over wide ranges, near-expiry deep OTM included", () => {
    fc.assert(
      fc.property(
        optionType,
        positive(100, 200_000),
        positive(0.5, 1.5),
        fc.oneof(positive(MINUTE, 60 * MINUTE), positive(1 / 365, 3)),
        positive(0.01, 5),
        positive(-0.05, 0.15),
        (t, F, m, T, v, r) => {
          const K = F * m
          const price = black76(t, F, K, T, v, r)
          const iv = impliedVol(t, price, F, K, T, r)
          const timeValue = price / Math.exp(-r * T) - intrinsic(t, F, K)
          if (iv === null) {
            // nothing left to solve from: the time value vanished in rounding
            expect(timeValue).toBeLessThanOrEqual(1e-12 * F)
            return
          }
          expect(iv).toBeGreaterThanOrEqual(IMPLIED_VOL_MIN)
          expect(iv).toBeLessThanOrEqual(IMPLIED_VOL_MAX)
          expect(Math.abs(black76(t, F, K, T, iv, r) - price)).toBeLessThanOrEqual(1e-8)
          // where the price is sensitive to vol, the vol itself comes back
          if (black76Greeks(t, F, K, T, v, r).vega > 1e-2) expect(Math.abs(iv - v)).toBeLessThan(1e-6)
        }
      ),
      { numRuns: 3000 }
    )
  })

  it("is increasing in price", () => {
    fc.assert(
      fc.property(optionType, positive(1_000, 100_000), positive(0.8, 1.2), positive(MINUTE, 1), positive(0.02, 3), positive(0.02, 3), (t, F, m, T, a, b) => {
        const K = F * m
        const [lo, hi] = a < b ? [a, b] : [b, a]
        const ivLo = impliedVol(t, black76(t, F, K, T, lo), F, K, T)
        const ivHi = impliedVol(t, black76(t, F, K, T, hi), F, K, T)
        if (ivLo !== null && ivHi !== null) expect(ivHi).toBeGreaterThanOrEqual(ivLo - 1e-9)
      }),
      { numRuns: 1000 }
    )
  })

  it("never returns NaN and stays in its domain for any finite input", () => {
    fc.assert(
      fc.property(optionType, finite, finite, finite, finite, finite, (t, p, F, K, T, r) => {
        const iv = impliedVol(t, p, F, K, T, r)
        if (iv !== null) {
          expect(iv).toBeGreaterThanOrEqual(IMPLIED_VOL_MIN)
          expect(iv).toBeLessThanOrEqual(IMPLIED_VOL_MAX)
        }
      }),
      { numRuns: 5000 }
    )
    // realistic but hostile: prices right at a tick above intrinsic, huge and tiny inputs
    for (const p of [0.05, 1e-300, 5e-324, 1e300])
      for (const F of [1e-300, 1, 25_000, 1e300])
        for (const K of [1e-300, 1, 25_000, 1e300])
          for (const T of [5e-324, MINUTE, 1, 1e300]) {
            const iv = impliedVol("CE", p, F, K, T)
            if (iv !== null && !(iv >= IMPLIED_VOL_MIN && iv <= IMPLIED_VOL_MAX)) expect.fail(`${iv} for ${p} ${F} ${K} ${T}`)
          }
  })
})
