// The delta band's domain: the portfolio delta against central finite differences of a repricing
// written here, and the wing it picks brings the delta inside the band with the fewest lots, on the
// right side, within the lot cap and the spend left.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { MarginQuery } from "../../src/domain/margin.ts"
import type { Position } from "../../src/domain/market.ts"
import { black76 } from "../../src/domain/pricing.ts"
import { deltaBandWing, deltaPerPctOf, portfolioDelta, type DeltaBandAsk } from "../../src/domain/delta-band.ts"
import type { HedgeBand } from "../../src/domain/selection.ts"
import { AT, CHAIN, DATE, EXPIRY, leg, LOT, SPOT, YEARS, smile } from "../fixtures/smiled-chain.ts"

const BAND: HedgeBand = { minPremium: 0.5, maxPremium: 40, minOtmDistance: 100, maxOtmDistance: 1500, limitPriceBuffer: 0.1 }

const query = (positions: ReadonlyArray<Position>, spot = SPOT): MarginQuery => ({ index: "NIFTY", date: DATE, expiry: EXPIRY, lotSize: LOT, spot, at: AT, positions, chain: CHAIN })
const deltaOf = (positions: ReadonlyArray<Position>) => Effect.runSync(portfolioDelta(query(positions)))

/** 30 lots of short calls a strike up, 30 short puts two strikes down: short delta (the index rising hurts). */
const SHORT_DELTA = [leg("CE", 25_050, -30), leg("PE", 24_900, -30)]
const LONG_DELTA = [leg("CE", 25_100, -30), leg("PE", 24_950, -30)]

const ask = (positions: ReadonlyArray<Position>, over: Partial<DeltaBandAsk> = {}): DeltaBandAsk => ({
  spot: SPOT,
  at: AT,
  expiry: EXPIRY,
  lotSize: LOT,
  chain: CHAIN,
  band: BAND,
  delta: deltaOf(positions),
  limitPerPct: 20_000,
  maxLots: 1000,
  spendLeft: 1e9,
  ...over
})

describe("portfolio delta", () => {
  it("matches central finite differences of the positions repriced at their chain vols, within 1e-6 relative", () => {
    for (const positions of [SHORT_DELTA, LONG_DELTA, [...SHORT_DELTA, leg("CE", 25_600, 40)]]) {
      // The chain was priced on the smile: each leg's implied vol is smile(strike), held fixed as spot moves.
      const value = (spot: number) => positions.reduce((s, p) => s + p.quantity * black76(p.optionType, spot, p.strike, YEARS, smile(p.strike)), 0)
      const h = 0.01
      const fd = (value(SPOT + h) - value(SPOT - h)) / (2 * h)
      const delta = deltaOf(positions)
      expect(Math.abs(delta - fd)).toBeLessThanOrEqual(1e-6 * Math.abs(fd))
    }
  })

  it("per 1 % move is delta × spot ÷ 100", () => {
    expect(deltaPerPctOf(-200, 25_000)).toBe(-50_000)
  })
})

describe("the wing that brings delta back", () => {
  it("short delta outside the band: a call, the fewest lots that bring |delta| inside", () => {
    const a = ask(SHORT_DELTA)
    expect(deltaPerPctOf(a.delta, SPOT)).toBeLessThan(-a.limitPerPct)
    const answer = deltaBandWing(a)
    if (answer.kind !== "wing") throw new Error(`expected a wing, got ${JSON.stringify(answer)}`)
    const { wing } = answer
    expect(wing.optionType).toBe("CE")
    expect(wing.strike - SPOT).toBeGreaterThanOrEqual(BAND.minOtmDistance)
    // Priced again with the wing in the book, the delta is inside; one lot fewer, it is not.
    const withWing = (lots: number) => deltaPerPctOf(deltaOf([...SHORT_DELTA, leg("CE", wing.strike, lots)]), SPOT)
    expect(Math.abs(withWing(wing.lots))).toBeLessThanOrEqual(a.limitPerPct + 1e-6)
    expect(Math.abs(withWing(wing.lots - 1))).toBeGreaterThan(a.limitPerPct)
    expect(deltaPerPctOf(answer.deltaAfter, SPOT)).toBeCloseTo(withWing(wing.lots), 6)
    expect(wing.quantity).toBe(wing.lots * LOT)
    expect(wing.cost).toBeCloseTo(wing.quantity * wing.limitPrice, 6)
  })

  it("is the cheapest such wing in the band", () => {
    const a = ask(SHORT_DELTA)
    const answer = deltaBandWing(a)
    if (answer.kind !== "wing") throw new Error("expected a wing")
    // Every other call in the band, sized to bring delta inside, costs at least as much.
    for (const row of CHAIN.filter((r) => r.strike - SPOT >= BAND.minOtmDistance && r.ce! >= BAND.minPremium && r.ce! <= BAND.maxPremium)) {
      const only = deltaBandWing({ ...a, chain: [row] })
      if (only.kind === "wing") expect(only.wing.cost).toBeGreaterThanOrEqual(answer.wing.cost)
    }
  })

  it("long delta outside the band: a put", () => {
    const a = ask(LONG_DELTA)
    expect(deltaPerPctOf(a.delta, SPOT)).toBeGreaterThan(a.limitPerPct)
    const answer = deltaBandWing(a)
    if (answer.kind !== "wing") throw new Error("expected a wing")
    expect(answer.wing.optionType).toBe("PE")
    expect(Math.abs(deltaPerPctOf(deltaOf([...LONG_DELTA, leg("PE", answer.wing.strike, answer.wing.lots)]), SPOT))).toBeLessThanOrEqual(a.limitPerPct + 1e-6)
  })

  it("inside the band: nothing", () => {
    expect(deltaBandWing(ask(SHORT_DELTA, { limitPerPct: 1e7 }))).toEqual({ kind: "inside" })
  })

  it("held to the lot cap and the spend left, and says which stopped it", () => {
    const a = ask(SHORT_DELTA)
    const answer = deltaBandWing(a)
    if (answer.kind !== "wing") throw new Error("expected a wing")
    const fewLots = deltaBandWing({ ...a, maxLots: 1 })
    expect(fewLots).toMatchObject({ kind: "noWing", reason: expect.stringContaining("more than 1 lots") })
    const poor = deltaBandWing({ ...a, spendLeft: 1 })
    expect(poor).toMatchObject({ kind: "noWing", reason: expect.stringContaining("costs more than") })
    // With exactly the chosen wing's cost left it is still bought.
    expect(deltaBandWing({ ...a, spendLeft: answer.wing.cost })).toEqual(answer)
  })

  it("never picks a contract the book is short in", () => {
    const a = ask(SHORT_DELTA)
    const first = deltaBandWing(a)
    if (first.kind !== "wing") throw new Error("expected a wing")
    const second = deltaBandWing({ ...a, excluded: new Set([`CE${first.wing.strike}`]) })
    expect(second.kind === "wing" && second.wing.strike).not.toBe(first.wing.strike)
  })
})
