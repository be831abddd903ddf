import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { OptionType } from "../../src/domain/market.ts"
import {
  black76,
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
