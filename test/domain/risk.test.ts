import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { MarginQuery } from "../../src/domain/margin.ts"
import { black76, impliedVol } from "../../src/domain/pricing.ts"
import {
  deltaGammaVar,
  historicalVar,
  IV_SHIFTS_PCT,
  riskView,
  scaledIntradayReturns,
  SPOT_SHIFTS_PCT,
  withHistoricalVar,
  type RiskView
} from "../../src/domain/risk.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { instantOf } from "../../src/domain/time.ts"
import { AT, CHAIN, DATE, EXPIRY, leg, LOT, SPOT, YEARS } from "../fixtures/smiled-chain.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { instantOfDay, positionsFromFile, recordedInstantRisk, replayedPositions } from "../../simulations/risk.ts"
import { readRecordedDay } from "../../src/domain/recorded-day.ts"
import { mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** 15 lots of a short straddle at 25,000 with wings 500 out; one more lot of call wing. */
const POSITIONS = [leg("CE", 25_000, -15), leg("PE", 25_000, -15), leg("CE", 25_500, 16), leg("PE", 24_500, 15)]

const QUERY: MarginQuery = { index: "NIFTY", date: DATE, expiry: EXPIRY, lotSize: LOT, spot: SPOT, at: AT, positions: POSITIONS, chain: CHAIN }

const view = (q: MarginQuery = QUERY, returns?: ReadonlyArray<number>): RiskView =>
  Effect.runSync(riskView(q, returns === undefined ? {} : { returns: { values: returns, stepMinutes: 15 } }))

/** The portfolio's value with every leg at its chain implied vol (independent of the view's code). */
const portfolioValue = (spot: number, volFactor = 1, yearsShift = 0) =>
  POSITIONS.reduce((s, p) => {
    const price = CHAIN.find((r) => r.strike === p.strike)![p.optionType === "CE" ? "ce" : "pe"]!
    const vol = impliedVol(p.optionType, price, SPOT, p.strike, YEARS)!
    return s + p.quantity * black76(p.optionType, spot, p.strike, YEARS + yearsShift, vol * volFactor)
  }, 0)

describe("risk view: greeks", () => {
  const v = view()

  it("every leg in rupees: lots × lot size, short legs negative", () => {
    expect(v.legs.map((l) => [l.strike, l.optionType, l.side, l.lots, l.quantity])).toEqual([
      [24_500, "PE", "BUY", 15, 975],
      [25_000, "CE", "SELL", 15, -975],
      [25_000, "PE", "SELL", 15, -975],
      [25_500, "CE", "BUY", 16, 1040]
    ])
    for (const l of v.legs) expect(l.volSource).toBe("chain")
    // A short straddle is short gamma and vega and earns theta.
    expect(v.total.gamma).toBeLessThan(0)
    expect(v.total.vega).toBeLessThan(0)
    expect(v.total.theta).toBeGreaterThan(0)
    for (const key of ["delta", "gamma", "theta", "vega", "value"] as const) {
      expect(v.total[key]).toBeCloseTo(v.legs.reduce((s, l) => s + l[key], 0), 9)
    }
  })

  // Central differences of the pricer on the whole portfolio (steps: 0.01 % of spot, 0.01 vol point, one
  // minute). Tolerances: delta within 1e-6 of the gross delta, gamma 1e-4 relative (a second difference),
  // vega 1e-6 and theta 1e-5 relative.
  it("match finite differences of the Black-76 pricer", () => {
    const h = SPOT * 1e-4
    const fdDelta = (portfolioValue(SPOT + h) - portfolioValue(SPOT - h)) / (2 * h)
    const fdGamma = (portfolioValue(SPOT + h) - 2 * portfolioValue(SPOT) + portfolioValue(SPOT - h)) / (h * h)
    // Vega per vol point: the vols move together by dv (absolute) — a relative factor per leg.
    const vegaFd = POSITIONS.reduce((s, p) => {
      const price = CHAIN.find((r) => r.strike === p.strike)![p.optionType === "CE" ? "ce" : "pe"]!
      const vol = impliedVol(p.optionType, price, SPOT, p.strike, YEARS)!
      const dv = 1e-4
      return s + (p.quantity * (black76(p.optionType, SPOT, p.strike, YEARS, vol + dv) - black76(p.optionType, SPOT, p.strike, YEARS, vol - dv))) / (2 * dv) / 100
    }, 0)
    const minute = 1 / (365 * 24 * 60)
    const fdThetaPerDay = ((portfolioValue(SPOT, 1, -minute) - portfolioValue(SPOT, 1, minute)) / (2 * minute)) / 365
    // The straddle's net delta is nearly 0 (₹−2 a point of ±₹488 legs): it is held to the gross delta.
    const grossDelta = v.legs.reduce((s, l) => s + Math.abs(l.delta), 0)
    expect(Math.abs(v.total.delta - fdDelta)).toBeLessThan(1e-6 * grossDelta)
    expect(Math.abs(v.total.gamma / fdGamma - 1)).toBeLessThan(1e-4)
    expect(Math.abs(v.total.vega / vegaFd - 1)).toBeLessThan(1e-6)
    expect(Math.abs(v.total.theta / fdThetaPerDay - 1)).toBeLessThan(1e-5)
  })
})

describe("risk view: stress", () => {
  const v = view()

  it("is the 7 × 3 grid of spot ±1/2/3 % and IV −20/0/+20 %", () => {
    expect(v.stress.map((p) => [p.spotShiftPct, p.ivShiftPct])).toEqual(SPOT_SHIFTS_PCT.flatMap((s) => IV_SHIFTS_PCT.map((i) => [s, i])))
    expect(v.stress).toHaveLength(21)
  })

  it("P&L at each point is the full repricing of every leg (to a paisa)", () => {
    const now = portfolioValue(SPOT)
    for (const p of v.stress) {
      expect(p.pnl).toBeCloseTo(portfolioValue(SPOT * (1 + p.spotShiftPct / 100), 1 + p.ivShiftPct / 100) - now, 2)
    }
    const flat = v.stress.find((p) => p.spotShiftPct === 0 && p.ivShiftPct === 0)!
    expect(flat.pnl).toBe(0)
    // Short vega and gamma: vol up loses, vol down gains; a 1 % move loses.
    const at = (s: number, i: number) => v.stress.find((p) => p.spotShiftPct === s && p.ivShiftPct === i)!.pnl
    expect(at(0, 20)).toBeLessThan(0)
    expect(at(0, -20)).toBeGreaterThan(0)
    expect(at(1, 0)).toBeLessThan(0)
    expect(at(-1, 0)).toBeLessThan(0)
  })

  // The greeks' second-order Taylor estimate against full repricing for a small move: within 1 % of the P&L.
  it("the greeks explain full repricing for small moves", () => {
    const dS = SPOT * 0.002
    const full = portfolioValue(SPOT + dS) - portfolioValue(SPOT)
    const taylor = v.total.delta * dS + 0.5 * v.total.gamma * dS * dS
    expect(Math.abs(taylor / full - 1)).toBeLessThan(0.01)
  })

  it("margin at a stress point is the SPAN model called directly on the shocked market", () => {
    const model = spanMarginModel()
    for (const [s, i] of [[0, 0], [2, 20], [-3, -20], [1, 0]] as const) {
      const spot = SPOT * (1 + s / 100)
      // The chain as the shocked market would quote it: each price at its own implied vol moved by i %.
      const chain = CHAIN.map((r) => ({
        strike: r.strike,
        ce: black76("CE", spot, r.strike, YEARS, impliedVol("CE", r.ce!, SPOT, r.strike, YEARS)! * (1 + i / 100)),
        pe: black76("PE", spot, r.strike, YEARS, impliedVol("PE", r.pe!, SPOT, r.strike, YEARS)! * (1 + i / 100))
      }))
      const direct = Effect.runSync(model.margin({ ...QUERY, spot, chain: s === 0 && i === 0 ? CHAIN : chain }))
      expect(v.stress.find((p) => p.spotShiftPct === s && p.ivShiftPct === i)!.margin).toBeCloseTo(direct, 6)
    }
    expect(v.margin).toBeCloseTo(Effect.runSync(model.margin(QUERY)), 6)
  })
})

describe("value at risk", () => {
  const Z99 = 2.3263478740408408 // Φ⁻¹(0.99)
  const Z995 = 2.5758293035489004 // Φ⁻¹(0.995)

  it("parametric, delta only, is the delta-normal closed form z·|a|", () => {
    expect(deltaGammaVar(1000, 0, 0.99)).toBeCloseTo(Z99 * 1000, 3)
    expect(deltaGammaVar(-1000, 0, 0.99)).toBeCloseTo(Z99 * 1000, 3)
  })

  it("parametric, short gamma only, is the χ²₁ closed form |b|·Φ⁻¹((1 + c) / 2)²", () => {
    expect(deltaGammaVar(0, -500, 0.99)).toBeCloseTo(500 * Z995 ** 2, 3)
    // Long gamma alone never loses: its 99 % worst case is a gain.
    expect(deltaGammaVar(0, 500, 0.99)).toBeLessThan(0)
  })

  it("the view's parametric VaR is delta-gamma at the ATM implied vol over √252", () => {
    const v = view()
    const move = SPOT * v.valueAtRisk.parametric.dailyVol
    expect(v.valueAtRisk.parametric.dailyVol).toBeCloseTo(0.12 / Math.sqrt(252), 6)
    expect(v.valueAtRisk.parametric.value).toBeCloseTo(deltaGammaVar(v.total.delta * move, 0.5 * v.total.gamma * move * move, 0.99), 6)
    expect(v.valueAtRisk.parametric.value).toBeGreaterThan(0)
  })

  it("historical VaR of a known series is its k-th worst loss, k = ⌈n(1 − c)⌉", () => {
    const pnls = Array.from({ length: 100 }, (_, i) => -(i + 1)) // losses 1 … 100
    expect(historicalVar(pnls, 0.99)).toBe(100)
    expect(historicalVar(pnls, 0.95)).toBe(96)
    expect(historicalVar(pnls.slice(0, 50), 0.99)).toBeNull()
  })

  it("the view's historical VaR reprices the portfolio at each return", () => {
    const returns = Array.from({ length: 200 }, (_, i) => ((i % 41) - 20) / 1000) // −2 % … +2 %
    const v = view(QUERY, returns)
    const losses = returns.map((r) => -(portfolioValue(SPOT * Math.exp(r)) - portfolioValue(SPOT))).sort((a, b) => b - a)
    const h = v.valueAtRisk.historical
    expect(h.value).not.toBeNull()
    expect(h.value!).toBeCloseTo(losses[1]!, 2) // ⌈200 × 0.01⌉ = 2nd worst
    expect(view(QUERY, returns.slice(0, 20)).valueAtRisk.historical).toMatchObject({ value: null, returns: 20 })
    // From the view alone (a view the API answered, history added by the CLI): the same.
    expect(withHistoricalVar(view(), { values: returns, stepMinutes: 15 })).toEqual(v)
  })

  it("intraday returns are taken over non-overlapping steps, before the instant, scaled by √(375 / step)", () => {
    const t0 = instantOf(DATE, "09:15:00")
    const ticks = Array.from({ length: 61 }, (_, m) => ({ at: t0 + m * 60_000, spot: 100 * Math.exp(m / 1000) }))
    const returns = scaledIntradayReturns([ticks], 15, t0 + 45 * 60_000)
    expect(returns).toHaveLength(2) // 09:15→09:30, 09:30→09:45; 10:00 is not before the instant
    for (const r of returns) expect(r).toBeCloseTo(0.015 * Math.sqrt(25), 9)
  })
})

describe("risk view: bad input", () => {
  it("names the field and the value", () => {
    const bad = Effect.runSync(Effect.flip(riskView({ ...QUERY, spot: Number.NaN })))
    expect(bad.message).toContain("query.spot")
    const badLeg = Effect.runSync(Effect.flip(riskView({ ...QUERY, positions: [{ ...POSITIONS[0]!, strike: -5 }] })))
    expect(badLeg.message).toContain("positions[0].strike")
  })
})

describe("the risk view at a recorded instant", () => {
  const FILE = "simulations/days/2026-02-09-NIFTY.jsonl"
  const recorded = (over: Partial<Parameters<typeof recordedInstantRisk>[0]> = {}) =>
    Effect.runPromise(Effect.flip(recordedInstantRisk({ dayFile: FILE, at: "10:00", history: [], confidence: 0.99, stepMinutes: 15, config: defaultConfig, ...over })))

  it("refuses a bad --at and an unknown day, naming them", async () => {
    const day = await Effect.runPromise(readRecordedDay(FILE))
    for (const bad of ["25:00", "10.30", "9:30", ""]) {
      expect((await Effect.runPromise(Effect.flip(instantOfDay(day, bad)))).message).toBe(`--at: expected HH:MM (IST), e.g. 10:30, got ${JSON.stringify(bad)}`)
    }
    expect((await Effect.runPromise(Effect.flip(instantOfDay(day, "09:00")))).message).toBe('--at: 2026-02-09 is recorded from 09:15 to 15:30, got "09:00"')
    expect((await Effect.runPromise(Effect.flip(instantOfDay(day, "15:45")))).message).toContain("recorded from 09:15 to 15:30")
    expect(await Effect.runPromise(instantOfDay(day, "15:30"))).toBe(instantOf(DATE, "15:30:00"))
    expect((await recorded({ dayFile: "simulations/days/2026-02-11-NIFTY.jsonl" })).message).toMatch(/^simulations\/days\/2026-02-11-NIFTY\.jsonl:0: file: cannot read/)
  })

  it("refuses a positions file that is not one, naming the key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "risk-"))
    const day = await Effect.runPromise(readRecordedDay(FILE))
    const problem = async (content: string) => {
      const path = join(dir, "p.json")
      await writeFile(path, content)
      return (await Effect.runPromise(Effect.flip(positionsFromFile(path, day)))).message
    }
    expect(await problem('[{"strike": 25000, "optionType": "CE", "side": "SHORT", "lots": 1}]')).toMatch(/^--positions: .*p\.json: \[0\]\.side: /)
    expect(await problem('[{"strike": 25000, "optionType": "CE", "side": "SELL", "lots": 1.5}]')).toMatch(/\[0\]\.lots: /)
    expect(await problem("{")).toMatch(/not JSON/)
    const path = join(dir, "ok.json")
    await writeFile(path, '[{"strike": 25000, "optionType": "PE", "side": "SELL", "lots": 2}]')
    expect(await Effect.runPromise(positionsFromFile(path, day))).toEqual([{ strike: 25_000, optionType: "PE", quantity: -130, expiry: EXPIRY }])
  })

  it("takes the positions the engine's replay holds at that instant", async () => {
    const day = await Effect.runPromise(readRecordedDay(FILE))
    // The day's first entry (15 baskets of a short ATM straddle) comes in at 09:19.
    expect(await Effect.runPromise(replayedPositions(day, instantOf(DATE, "09:18:00"), defaultConfig))).toEqual([])
    const after = await Effect.runPromise(replayedPositions(day, instantOf(DATE, "09:20:00"), defaultConfig))
    expect(after.map((p) => [p.optionType, p.quantity]).sort()).toEqual([["CE", -975], ["PE", -975]])
  })
})
