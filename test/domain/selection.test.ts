import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { toTick, type ChainRow, type OptionType, type Position } from "../../src/domain/market.ts"
import {
  shortContracts,
  hedgeCandidates,
  selectHedges,
  staticPair,
  type HedgeSelection,
  type SelectionRequest
} from "../../src/domain/selection.ts"
import { band, chain, EXPIRY, key, long, LOT, market, PER_LOT, request, short, SPOT, straddle, STRIKES } from "../fixtures/selection.ts"

const model = constantsMarginModel(defaultConfig.marginConstants)

// One covered short lot frees (withoutHedge - withHedge) / 2 on the NIFTY 0DTE row.
const marginOf = (positions: ReadonlyArray<Position>) => Effect.runSync(model.margin({ ...market, positions }))

const select = (over: Partial<SelectionRequest>): HedgeSelection => Effect.runSync(selectHedges(model, request(over)))


describe("synthetic chain (sanity of the fixture)", () => {
  it("has the expected cheapest in-band strikes", () => {
    const row = (k: number) => chain.find((r) => r.strike === k)!
    expect(row(25900).ce).toBe(2)
    expect(row(25950).ce).toBe(1)
    expect(row(24050).pe).toBe(2.75)
    expect(row(24000).pe).toBe(1.8)
  })
})

describe("hedgeCandidates", () => {
  it("keeps options inside both the premium band and the OTM-distance band, on both sides", () => {
    const got = hedgeCandidates(chain, SPOT, band, ["CE", "PE"]).map(key).sort()
    // CE: 25700 (6.00) .. 25900 (2.00); PE: 24050 (2.75) .. 24200 (5.45); 24250 PE is 6.35, 24000 PE is 1.80
    expect(got).toEqual(["CE25700", "CE25750", "CE25800", "CE25850", "CE25900", "PE24050", "PE24100", "PE24150", "PE24200"])
  })

  it("returns only the requested sides", () => {
    expect(hedgeCandidates(chain, SPOT, band, ["PE"]).every((c) => c.optionType === "PE")).toBe(true)
    expect(hedgeCandidates(chain, SPOT, band, ["PE"])).toHaveLength(4)
    expect(hedgeCandidates(chain, SPOT, band, [])).toEqual([])
  })

  it("treats both bands as inclusive and skips null prices and in-the-money strikes", () => {
    const c: ReadonlyArray<ChainRow> = [
      { strike: 24800, ce: 4, pe: 2 }, // PE at distance 200, premium 2: in; CE is ITM (distance -200): out
      { strike: 24000, ce: null, pe: 6 }, // PE at distance 1000, premium 6: in
      { strike: 23950, ce: null, pe: 3 }, // PE at distance 1050: out
      { strike: 24850, ce: null, pe: 4 }, // PE at distance 150: out
      { strike: 25200, ce: 1.95, pe: 4 }, // CE premium under 2: out; PE ITM: out
      { strike: 25250, ce: 6.05, pe: null }, // CE premium over 6: out
      { strike: 25300, ce: null, pe: null }, // no prices
      { strike: 25400, ce: 3, pe: null } // CE in
    ]
    const got = hedgeCandidates(c, SPOT, band, ["CE", "PE"])
    expect(got.map(key).sort()).toEqual(["CE25400", "PE24000", "PE24800"])
    const pe24800 = got.find((x) => key(x) === "PE24800")!
    expect(pe24800).toEqual({ strike: 24800, optionType: "PE", ltp: 2, limitPrice: 2.1, otmDistance: 200 })
  })

  it("sets the limit price to LTP + buffer rounded to the 0.05 tick", () => {
    const c: ReadonlyArray<ChainRow> = [
      { strike: 25500, ce: 2, pe: null },
      { strike: 25550, ce: 2.03, pe: null },
      { strike: 25600, ce: 3.4, pe: null }
    ]
    const got = hedgeCandidates(c, SPOT, { ...band, limitPriceBuffer: 0.12 }, ["CE"])
    expect(got.map((x) => x.limitPrice)).toEqual([2.1, 2.15, 3.5])
  })

  it("measures the OTM distance from spot, as docs/configuration.md and HedgeConfig document", () => {
    // Spot 25030: PE 24850 is 180 points below spot, inside no band starting at 200; PE 24800 is 230 out.
    const c: ReadonlyArray<ChainRow> = [
      { strike: 24800, ce: null, pe: 3 },
      { strike: 24850, ce: null, pe: 4 },
      { strike: 25000, ce: 40, pe: 25 },
      { strike: 25050, ce: 20, pe: 45 }
    ]
    const got = hedgeCandidates(c, 25030, band, ["PE"])
    expect(got.map(key)).toEqual(["PE24800"])
    expect(got[0]!.otmDistance).toBeCloseTo(230, 6)
  })
})

describe("selectHedges on a NIFTY 0DTE portfolio of 3 baskets", () => {
  it("covers a reduction one unit can reach with the cheapest in-band strike", () => {
    const r = select({ reductionNeeded: 300_000 })
    expect(r.limitedBy).toBe("none")
    expect(r.picks).toHaveLength(1)
    const p = r.picks[0]!
    expect(key(p)).toBe("CE25900")
    expect(p.ltp).toBe(2)
    expect(p.limitPrice).toBe(2.1)
    expect(p.lots).toBe(3)
    expect(p.quantity).toBe(3 * LOT)
    expect(p.cost).toBeCloseTo(2.1 * 195, 6)
    expect(p.benefit).toBeCloseTo(3 * PER_LOT, 1)
    expect(r.cost).toBeCloseTo(409.5, 6)
    expect(r.benefit).toBeCloseTo(369999.99, 1)
    expect(r.shortfall).toBe(0)
    // the benefit is what the model says the pick frees
    expect(marginOf(straddle(3)) - marginOf([...straddle(3), long("CE", 25900, 3)])).toBeCloseTo(r.benefit, 1)
  })

  it("adds the cheapest wing of the other side when one side is not enough", () => {
    const r = select({ reductionNeeded: 500_000 })
    expect(r.limitedBy).toBe("none")
    expect(r.picks.map(key)).toEqual(["CE25900", "PE24050"])
    expect(r.picks[1]!.limitPrice).toBe(2.85)
    expect(r.cost).toBeCloseTo(409.5 + 2.85 * 195, 6)
    expect(r.benefit).toBeCloseTo(6 * PER_LOT, 1)
    expect(r.shortfall).toBe(0)
  })

  it("stops with noCandidate when every short is covered and reports the shortfall", () => {
    const r = select({ reductionNeeded: 800_000 })
    expect(r.limitedBy).toBe("noCandidate")
    expect(r.picks.map(key)).toEqual(["CE25900", "PE24050"])
    expect(r.shortfall).toBeCloseTo(800_000 - 6 * PER_LOT, 1)
  })

  it("stops with noCandidate when the band is empty", () => {
    const r = select({ reductionNeeded: 300_000, band: { ...band, minPremium: 100, maxPremium: 200 } })
    expect(r).toEqual({ picks: [], cost: 0, benefit: 0, shortfall: 300_000, limitedBy: "noCandidate" })
  })

  it("stops with noCandidate when nothing is uncovered", () => {
    const hedged = [...straddle(3), long("CE", 25600, 3), long("PE", 24400, 3)]
    const r = select({ positions: hedged, reductionNeeded: 100_000 })
    expect(r.limitedBy).toBe("noCandidate")
    expect(r.picks).toEqual([])
    expect(r.shortfall).toBe(100_000)
  })

  it("stops with spendCap when the spend left cannot pay for one unit", () => {
    const r = select({ reductionNeeded: 300_000, spendLeft: 400 })
    expect(r.limitedBy).toBe("spendCap")
    expect(r.picks).toEqual([])
    expect(r.cost).toBe(0)
    expect(r.shortfall).toBe(300_000)
  })

  it("stops with spendCap when the next unit would break the spend left", () => {
    const r = select({ reductionNeeded: 500_000, spendLeft: 600 })
    expect(r.limitedBy).toBe("spendCap")
    expect(r.picks.map(key)).toEqual(["CE25900"])
    expect(r.cost).toBeCloseTo(409.5, 6)
    expect(r.cost).toBeLessThanOrEqual(600)
    expect(r.shortfall).toBeCloseTo(500_000 - 3 * PER_LOT, 1)
  })

  it("spends exactly up to the spend left", () => {
    const r = select({ reductionNeeded: 300_000, spendLeft: 409.5 })
    expect(r.limitedBy).toBe("none")
    expect(r.cost).toBeCloseTo(409.5, 6)
  })

  it("buys nothing when no reduction is needed", () => {
    expect(select({ reductionNeeded: 0 })).toEqual({ picks: [], cost: 0, benefit: 0, shortfall: 0, limitedBy: "none" })
  })

  it("never picks a wing that frees no margin, however cheap", () => {
    // only short calls: puts free nothing, even when they are far cheaper than any call
    const cheapPuts = chain.map((r) => (r.strike <= 24400 ? { ...r, pe: 2 } : r))
    const r = select({ chain: cheapPuts, positions: [short("CE", 3)], reductionNeeded: 1_000_000 })
    expect(r.picks.map(key)).toEqual(["CE25900"])
    expect(r.limitedBy).toBe("noCandidate")
    expect(r.picks.every((p) => p.benefit > 0)).toBe(true)
  })

  it("merges repeated picks of one contract into one order", () => {
    const r = select({ positions: straddle(6), reductionNeeded: 700_000 })
    expect(r.limitedBy).toBe("none")
    expect(r.picks).toHaveLength(1)
    const p = r.picks[0]!
    expect(key(p)).toBe("CE25900")
    expect(p.lots).toBe(6)
    expect(p.quantity).toBe(6 * LOT)
    expect(p.cost).toBeCloseTo(2.1 * 390, 6)
    expect(p.benefit).toBeCloseTo(6 * PER_LOT, 1)
  })

  it("recomputes the marginal benefit after each pick (a partial last unit)", () => {
    // 4 short call lots, units of 3: the second unit covers only the one lot left
    const r = select({ positions: [short("CE", 4)], reductionNeeded: 4 * PER_LOT })
    expect(r.picks).toHaveLength(1)
    expect(r.picks[0]!.lots).toBe(6)
    expect(r.benefit).toBeCloseTo(4 * PER_LOT, 1)
  })

  it("breaks an exact tie (same price, same benefit) towards the strike farther out", () => {
    const tied = chain.map((r) => (r.strike === 25850 ? { ...r, ce: 2 } : r))
    const r = select({ chain: tied, reductionNeeded: 300_000 })
    expect(r.picks.map(key)).toEqual(["CE25900"])
  })
})

describe("staticPair", () => {
  it("picks the cheapest in-band option of each requested side", () => {
    const picks = staticPair(chain, SPOT, band, ["CE", "PE"], 3, LOT)
    expect(picks.map(key)).toEqual(["CE25900", "PE24050"])
    for (const p of picks) {
      expect(p.lots).toBe(3)
      expect(p.quantity).toBe(195)
      expect(p.cost).toBeCloseTo(p.limitPrice * 195, 6)
      expect(p.benefit).toBe(0)
    }
  })

  it("picks one option per requested side only", () => {
    expect(staticPair(chain, SPOT, band, ["PE"], 2, LOT).map(key)).toEqual(["PE24050"])
    expect(staticPair(chain, SPOT, band, ["CE"], 2, LOT).map(key)).toEqual(["CE25900"])
    expect(staticPair(chain, SPOT, band, [], 2, LOT)).toEqual([])
  })

  it("returns nothing for a side without an in-band option, and breaks price ties farther out", () => {
    const noPuts = chain.map((r) => ({ ...r, pe: null }))
    expect(staticPair(noPuts, SPOT, band, ["CE", "PE"], 1, LOT).map(key)).toEqual(["CE25900"])
    const tied = chain.map((r) => (r.strike === 25850 ? { ...r, ce: 2 } : r))
    expect(staticPair(tied, SPOT, band, ["CE"], 1, LOT).map(key)).toEqual(["CE25900"])
  })
})

// ---------------------------------------------------------------------------------------------
// Properties

const priceArb = fc.option(fc.integer({ min: 1, max: 200 }).map((n) => n / 20), { nil: null, freq: 4 })
const chainArb = fc
  .array(fc.tuple(priceArb, priceArb), { minLength: STRIKES.length, maxLength: STRIKES.length })
  .map((prices) => STRIKES.map((strike, i) => ({ strike, ce: prices[i]![0], pe: prices[i]![1] })))
const typeArb = fc.constantFrom<OptionType>("CE", "PE")
const portfolioArb = fc.array(
  fc.record({
    strike: fc.constantFrom(...STRIKES),
    optionType: typeArb,
    lots: fc.integer({ min: -6, max: 4 }).filter((n) => n !== 0)
  }),
  { maxLength: 6 }
).map((ps) => ps.map((p) => ({ strike: p.strike, optionType: p.optionType, quantity: p.lots * LOT, expiry: EXPIRY })))

describe("selectHedges properties", () => {
  it("never buys a contract the portfolio is short in (that would close a strategy leg, not hedge it)", () => {
    // An earlier entry's short CE 25950 has drifted into the hedge band; buying it back would free the
    // most margin per rupee, and must not happen.
    const chain: ReadonlyArray<ChainRow> = [
      { strike: 25600, ce: 2, pe: null },
      { strike: 25950, ce: 3.6, pe: null }
    ]
    const positions = [
      { strike: 25950, optionType: "CE" as const, quantity: -260, expiry: EXPIRY },
      { strike: 24000, optionType: "CE" as const, quantity: -130, expiry: EXPIRY }
    ]
    const r = select({ chain, positions, reductionNeeded: 1_113_334, spendLeft: 1235, unitLots: 2 })
    expect(r.picks.map(key)).not.toContain("CE25950")
    expect(hedgeCandidates(chain, SPOT, band, ["CE"], shortContracts(positions)).map(key)).toEqual(["CE25600"])
  })

  it("reaches the reduction or says why not, within the spend left, with consistent picks", () => {
    fc.assert(
      fc.property(
        chainArb,
        portfolioArb,
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 1, max: 4 }),
        (chain, positions, reductionNeeded, spendLeft, unitLots) => {
          const r = select({ chain, positions, reductionNeeded, spendLeft, unitLots })
          expect(r.benefit >= reductionNeeded || r.limitedBy !== "none").toBe(true)
          if (r.limitedBy !== "none") expect(r.benefit).toBeLessThan(reductionNeeded)
          expect(r.cost).toBeLessThanOrEqual(spendLeft + 1e-9)
          expect(r.shortfall).toBeCloseTo(Math.max(0, reductionNeeded - r.benefit), 6)
          expect(r.picks.reduce((s, p) => s + p.cost, 0)).toBeCloseTo(r.cost, 6)
          expect(r.picks.reduce((s, p) => s + p.benefit, 0)).toBeCloseTo(r.benefit, 4)
          const inBand = new Map(hedgeCandidates(chain, SPOT, band, ["CE", "PE"], shortContracts(positions)).map((c) => [key(c), c]))
          expect(new Set(r.picks.map(key)).size).toBe(r.picks.length)
          for (const p of r.picks) {
            expect(p.benefit).toBeGreaterThan(0)
            expect(p.lots % unitLots).toBe(0)
            expect(p.quantity).toBe(p.lots * LOT)
            expect(p.limitPrice).toBe(toTick(p.ltp + band.limitPriceBuffer))
            expect(p.cost).toBeCloseTo(p.limitPrice * p.quantity, 6)
            expect(inBand.get(key(p))).toEqual({ strike: p.strike, optionType: p.optionType, ltp: p.ltp, limitPrice: p.limitPrice, otmDistance: p.otmDistance })
          }
          // the benefit is what the model says the picks free together
          const after = [...positions, ...r.picks.map((p) => ({ strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: EXPIRY }))]
          const units = r.picks.reduce((s, p) => s + p.lots / unitLots, 0)
          expect(Math.abs(marginOf(positions) - marginOf(after) - r.benefit)).toBeLessThanOrEqual(0.01 * (units + 1))
          // the stop reason is true of the final portfolio
          const frees = [...inBand.values()].filter(
            (c) => marginOf([...after, { strike: c.strike, optionType: c.optionType, quantity: unitLots * LOT, expiry: EXPIRY }]) < marginOf(after)
          )
          if (r.limitedBy === "noCandidate") expect(frees).toEqual([])
          if (r.limitedBy === "spendCap") {
            expect(frees.length).toBeGreaterThan(0)
            expect(frees.every((c) => r.cost + c.limitPrice * unitLots * LOT > spendLeft)).toBe(true)
          }
        }
      ),
      { numRuns: 200 }
    )
  })

  it("reaches the reduction at least cost (brute force over small combinations)", () => {
    // Regime of the engine: shorts at the money in whole units (baskets × lots per basket) per side,
    // a few in-band candidates per side, no spend cap.
    const sideCandidatesArb = fc.uniqueArray(
      fc.record({ d: fc.integer({ min: 4, max: 20 }).map((n) => n * 50), price: fc.integer({ min: 40, max: 120 }).map((n) => n / 20) }),
      { selector: (c) => c.d, minLength: 0, maxLength: 3 }
    )
    const arb = fc.record({
      unitLots: fc.integer({ min: 1, max: 3 }),
      kCe: fc.integer({ min: 0, max: 2 }),
      kPe: fc.integer({ min: 0, max: 2 }),
      ce: sideCandidatesArb,
      pe: sideCandidatesArb,
      fraction: fc.double({ min: 0.01, max: 1.2, noNaN: true })
    })
    fc.assert(
      fc.property(arb, (s) => {
        const rows = new Map<number, { ce: number | null; pe: number | null }>()
        for (const c of s.ce) rows.set(SPOT + c.d, { ce: c.price, pe: null })
        for (const c of s.pe) rows.set(SPOT - c.d, { ce: null, pe: c.price })
        const sparse: Array<ChainRow> = [...rows.entries()].map(([strike, p]) => ({ strike, ...p }))
        const positions = [
          ...(s.kCe > 0 ? [short("CE", s.kCe * s.unitLots)] : []),
          ...(s.kPe > 0 ? [short("PE", s.kPe * s.unitLots)] : [])
        ]
        const maxUnits = s.kCe + s.kPe
        const reductionNeeded = Math.max(1, Math.round(s.fraction * maxUnits * s.unitLots * PER_LOT))
        const r = select({ chain: sparse, positions, reductionNeeded, spendLeft: 1e12, unitLots: s.unitLots })

        const cands = hedgeCandidates(sparse, SPOT, band, ["CE", "PE"])
        const base = marginOf(positions)
        let best = Infinity
        const explore = (from: number, chosen: Array<(typeof cands)[number]>) => {
          if (chosen.length > 0) {
            const cost = chosen.reduce((t, c) => t + c.limitPrice * s.unitLots * LOT, 0)
            const freed = base - marginOf([...positions, ...chosen.map((c) => long(c.optionType, c.strike, s.unitLots))])
            if (freed >= reductionNeeded - 1e-6) best = Math.min(best, cost)
          }
          if (chosen.length === maxUnits) return
          for (let i = from; i < cands.length; i++) explore(i, [...chosen, cands[i]!])
        }
        explore(0, [])
        if (best === Infinity) {
          expect(r.limitedBy).toBe("noCandidate")
        } else {
          expect(r.limitedBy).toBe("none")
          expect(r.cost).toBeCloseTo(best, 6)
        }
      }),
      { numRuns: 300 }
    )
  })
})
