import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { LegSpec } from "../../src/domain/market.ts"
import { bindingInstants, legPositions, openEntriesAt, portfolioAt, project, utilisationPct } from "../../src/domain/projection.ts"
import { netPositions } from "../../src/domain/margin.ts"

const EXPIRY = "2026-02-10"
const straddle: ReadonlyArray<LegSpec> = [
  { side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 },
  { side: "SELL", optionType: "PE", strikeOffset: 0, lotsPerBasket: 1 }
]

describe("legPositions", () => {
  it("strikes the legs at the nearest strike to spot", () => {
    expect(legPositions(straddle, 25024, 50, 1, 65, EXPIRY).map((p) => p.strike)).toEqual([25000, 25000])
    expect(legPositions(straddle, 25026, 50, 1, 65, EXPIRY).map((p) => p.strike)).toEqual([25050, 25050])
    expect(legPositions(straddle, 24976, 50, 1, 65, EXPIRY).map((p) => p.strike)).toEqual([25000, 25000])
    expect(legPositions(straddle, 25000, 50, 1, 65, EXPIRY).map((p) => p.strike)).toEqual([25000, 25000])
  })

  it("gives a tie to the lower strike", () => {
    expect(legPositions(straddle, 25025, 50, 1, 65, EXPIRY)[0]!.strike).toBe(25000)
    expect(legPositions(straddle, 83050, 100, 1, 20, EXPIRY)[0]!.strike).toBe(83000)
  })

  it("moves strikeOffset steps from ATM and signs quantities by side", () => {
    const legs: ReadonlyArray<LegSpec> = [
      { side: "SELL", optionType: "CE", strikeOffset: 2, lotsPerBasket: 2 },
      { side: "SELL", optionType: "PE", strikeOffset: -3, lotsPerBasket: 1 },
      { side: "BUY", optionType: "CE", strikeOffset: 12, lotsPerBasket: 1 }
    ]
    expect(legPositions(legs, 25010, 50, 15, 65, EXPIRY)).toEqual([
      { strike: 25100, optionType: "CE", quantity: -2 * 15 * 65, expiry: EXPIRY },
      { strike: 24850, optionType: "PE", quantity: -15 * 65, expiry: EXPIRY },
      { strike: 25600, optionType: "CE", quantity: 15 * 65, expiry: EXPIRY }
    ])
  })

  it("uses the index's strike step (SENSEX, 100)", () => {
    const legs: ReadonlyArray<LegSpec> = [{ side: "SELL", optionType: "PE", strikeOffset: -1, lotsPerBasket: 1 }]
    expect(legPositions(legs, 83149, 100, 3, 20, "2026-02-12")).toEqual([
      { strike: 83000, optionType: "PE", quantity: -60, expiry: "2026-02-12" }
    ])
  })

  it("puts ATM on the step grid, within half a step of spot, ties going lower (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4 * 10_000, max: 4 * 100_000 }).map((n) => n / 4), // spots in quarter points (exact)
        fc.constantFrom(50, 100),
        fc.integer({ min: -10, max: 10 }),
        (spot, step, offset) => {
          const [p] = legPositions([{ side: "SELL", optionType: "CE", strikeOffset: offset, lotsPerBasket: 1 }], spot, step, 1, 65, EXPIRY)
          const atm = p!.strike - offset * step
          expect(atm % step).toBe(0)
          expect(Math.abs(atm - spot)).toBeLessThanOrEqual(step / 2)
          if (Math.abs(atm - spot) === step / 2) expect(atm).toBeLessThan(spot)
        }
      ),
      { numRuns: 1000 }
    )
  })
})

describe("project", () => {
  const base = { at: 1_770_700_000_000, budget: 15_000_000, targetPct: 85 }

  it("projects the original design's example: 85 lakh in use plus a 55 lakh entry on a 1.5 Cr budget", () => {
    const p = project({ ...base, marginInUse: 8_500_000, heldModelMargin: 6_000_000, withEntriesModelMargin: 11_500_000 })
    expect(p).toEqual({
      at: base.at,
      budget: 15_000_000,
      marginInUse: 8_500_000,
      currentPct: 56.67,
      entryMargin: 5_500_000,
      projectedMargin: 14_000_000,
      projectedPct: 93.33,
      reductionNeeded: 1_250_000, // 14,000,000 - 85 % of 15,000,000 (12,750,000)
      entriesAtRisk: 1,
      marginAtEntry: 14_000_000
    })
  })

  it("buying ahead, keeps the margin at the deciding entry's own instant beside the one projected, and the entries it stands for", () => {
    const p = project({ ...base, marginInUse: 8_500_000, heldModelMargin: 6_000_000, withEntriesModelMargin: 14_500_000, atEntryModelMargin: 11_500_000, entriesAtRisk: 3 })
    expect([p.projectedMargin, p.marginAtEntry, p.entriesAtRisk]).toEqual([17_000_000, 14_000_000, 3])
  })

  it("takes the margin in use from the broker and only the increment from the model", () => {
    // the model thinks the held book is 9 lakh, the broker says 85 lakh: the broker wins
    const p = project({ ...base, marginInUse: 8_500_000, heldModelMargin: 900_000, withEntriesModelMargin: 6_400_000 })
    expect(p.entryMargin).toBe(5_500_000)
    expect(p.projectedMargin).toBe(14_000_000)
  })

  it("needs no reduction below or at the target", () => {
    const below = project({ ...base, marginInUse: 5_000_000, heldModelMargin: 0, withEntriesModelMargin: 5_000_000 })
    expect(below.projectedPct).toBe(66.67)
    expect(below.reductionNeeded).toBe(0)
    const at = project({ ...base, marginInUse: 7_000_000, heldModelMargin: 1_000_000, withEntriesModelMargin: 6_750_000 })
    expect(at.projectedMargin).toBe(12_750_000)
    expect(at.reductionNeeded).toBe(0)
    const justOver = project({ ...base, marginInUse: 7_000_000, heldModelMargin: 1_000_000, withEntriesModelMargin: 6_750_100 })
    expect(justOver.reductionNeeded).toBe(100)
  })

  it("never lets the increment go negative", () => {
    const p = project({ ...base, marginInUse: 8_500_000, heldModelMargin: 3_000_000, withEntriesModelMargin: 2_000_000 })
    expect(p.entryMargin).toBe(0)
    expect(p.projectedMargin).toBe(8_500_000)
    expect(p.projectedPct).toBe(56.67)
  })

  it("holds its invariants (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100_000, max: 100_000_000 }),
        fc.integer({ min: 1, max: 150 }),
        fc.integer({ min: 0, max: 100_000_000 }),
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 0, max: 50_000_000 }),
        (budget, targetPct, marginInUse, held, withEntries) => {
          const p = project({ at: 0, budget, targetPct, marginInUse, heldModelMargin: held, withEntriesModelMargin: withEntries })
          expect(p.entryMargin).toBeGreaterThanOrEqual(0)
          expect(p.entryMargin).toBe(Math.max(0, withEntries - held))
          expect(p.projectedMargin).toBe(marginInUse + p.entryMargin)
          expect(p.reductionNeeded).toBeGreaterThanOrEqual(0)
          const target = (targetPct / 100) * budget
          if (p.projectedMargin <= target) expect(p.reductionNeeded).toBe(0)
          else expect(Math.abs(p.reductionNeeded - (p.projectedMargin - target))).toBeLessThanOrEqual(0.5)
          expect(p.projectedPct).toBe(utilisationPct(p.projectedMargin, budget))
          expect(Math.abs(p.projectedPct - (100 * p.projectedMargin) / budget)).toBeLessThanOrEqual(0.005 + 1e-9)
        }
      ),
      { numRuns: 1000 }
    )
  })
})

describe("utilisationPct", () => {
  it("is a percentage rounded to two decimals", () => {
    expect(utilisationPct(14_000_000, 15_000_000)).toBe(93.33)
    expect(utilisationPct(10_500_000, 15_000_000)).toBe(70)
    expect(utilisationPct(0, 15_000_000)).toBe(0)
    expect(utilisationPct(2, 3)).toBe(66.67)
  })
})

describe("the portfolio at a coming instant", () => {
  const H = (h: number) => h * 3_600_000
  const striking = { strikeStep: 50, baskets: 15, lotSize: 65, expiry: EXPIRY }
  const entry = (id: string, entryAt: number, exitAt: number | null) => ({ id, entryAt, exitAt, legs: straddle })
  // Entry 4 went in at 10:00 struck at 25,000 and is timed out at 13:15; entry 5 comes at 13:53:30.
  const four = { ...entry("4", H(10), H(13.25)), struckSpot: 25_010 }
  const five = entry("5", H(13.9), H(15.25))
  const wing = { strike: 25_600, optionType: "CE" as const, quantity: 975, expiry: EXPIRY }
  const held = [...legPositions(straddle, 25_010, 50, 15, 65, EXPIRY), wing]

  it("takes out an entry whose timed exit comes before the instant, and puts in the entries to come", () => {
    const at5 = netPositions(portfolioAt({ at: five.entryAt, held, inNow: [four], coming: [five], spot: 25_240, striking }))
    expect(at5).toEqual(netPositions([...legPositions(straddle, 25_240, 50, 15, 65, EXPIRY), wing]))
    // Before its exit, entry 4 is still there.
    const at12 = netPositions(portfolioAt({ at: H(12), held, inNow: [four], coming: [five], spot: 25_240, striking }))
    expect(at12).toEqual(netPositions(held))
  })

  it("takes out an entry timed to exit at the very instant of an entry: exits come before entries", () => {
    const atOnce = { ...four, exitAt: five.entryAt }
    expect(netPositions(portfolioAt({ at: five.entryAt, held, inNow: [atOnce], coming: [five], spot: 25_240, striking }))).toEqual(
      netPositions([...legPositions(straddle, 25_240, 50, 15, 65, EXPIRY), wing])
    )
    expect(openEntriesAt(five.entryAt, [atOnce], [five])).toEqual(["5"])
    // A coming entry timed out at a later one's instant is not open there either.
    const six = entry("6", H(14.5), null)
    expect(openEntriesAt(six.entryAt, [], [{ ...five, exitAt: six.entryAt }, six])).toEqual(["6"])
  })

  it("keeps an entry in when the held portfolio is not short its legs in full (strike not known, or legs already gone)", () => {
    const elsewhere = { ...four, struckSpot: 25_300 }
    expect(netPositions(portfolioAt({ at: five.entryAt, held, inNow: [elsewhere], coming: [], spot: 25_240, striking }))).toEqual(netPositions(held))
    const unknown = { ...four, struckSpot: null }
    expect(netPositions(portfolioAt({ at: five.entryAt, held, inNow: [unknown], coming: [], spot: 25_240, striking }))).toEqual(netPositions(held))
    // Two entries struck alike but only one held: only one is taken out.
    const twin = { ...four, id: "4b" }
    const once = netPositions(portfolioAt({ at: five.entryAt, held, inNow: [four, twin], coming: [], spot: 25_240, striking }))
    expect(once).toEqual([wing])
  })

  it("projects only the instants whose open entries are not all open at another", () => {
    const six = entry("6", H(14.5), null)
    expect(openEntriesAt(six.entryAt, [four], [five, six])).toEqual(["5", "6"])
    // 13:53:30 (4 gone, 5 in) is within 14:30 (5 and 6 in); 10:00 (4) is not within either.
    expect(bindingInstants([H(10), five.entryAt, six.entryAt], [four], [five, six])).toEqual([H(10), six.entryAt])
    // The same open entries at two instants: the earlier one.
    expect(bindingInstants([H(11), H(12)], [four], [])).toEqual([H(11)])
  })
})
