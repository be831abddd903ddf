// The overnight guard's rules: which shorts stay open past the close, when a long covers one, and the
// wing that would cover one that is not.
import { describe, expect, it } from "vitest"
import {
  assessShorts,
  chooseWing,
  coverOf,
  coveredUnits,
  coversAShort,
  heldAfterClose,
  shortsPastClose,
  wingsWithinCap,
  type Contract,
  type WingRules
} from "../../src/domain/overnight.ts"
import type { ChainRow, OptionType, Position } from "../../src/domain/market.ts"

const TODAY = "2026-02-09"
const TOMORROW = "2026-02-10"
const pos = (strike: number, optionType: OptionType, quantity: number, expiry = TOMORROW): Position => ({ strike, optionType, quantity, expiry })
const con = (strike: number, optionType: OptionType, quantity: number, expiry = TOMORROW): Contract => ({ strike, optionType, quantity, expiry })

describe("shortsPastClose", () => {
  it("is the net shorts not expiring today; longs and today's expiry are not", () => {
    const held = [pos(25000, "CE", -975), pos(25000, "CE", 325), pos(25000, "PE", -975, TODAY), pos(25500, "CE", 975), pos(24000, "PE", -65, "2026-02-17")]
    expect(shortsPastClose(held, TODAY)).toEqual([con(25000, "CE", 650), con(24000, "PE", 65, "2026-02-17")])
  })
})

describe("heldAfterClose", () => {
  const held = [pos(25000, "CE", -975), pos(25000, "PE", -975), pos(25100, "CE", -975), pos(25100, "PE", -975)]
  it("takes a leaving entry's legs out where they were struck", () => {
    const left = heldAfterClose(held, [{ legs: [pos(25000, "CE", -975), pos(25000, "PE", -975)], tolerance: 100 }])
    expect(left).toEqual([pos(25100, "CE", -975), pos(25100, "PE", -975)])
  })

  it("finds a leg struck a strike away (the spot noted a tick old) within the tolerance, and keeps one not found", () => {
    // Struck at 25050 by the noted spot, held at 25000 (the nearest, 50 away) — and a leg 300 away is kept.
    const left = heldAfterClose(held, [{ legs: [pos(25050, "CE", -975), pos(25400, "PE", -975)], tolerance: 100 }])
    expect(left).toContainEqual(pos(25000, "PE", -975))
    expect(left).not.toContainEqual(pos(25000, "CE", -975))
    expect(left).toHaveLength(3)
  })

  it("never takes out more than is held of a contract", () => {
    expect(heldAfterClose([pos(25000, "CE", -325)], [{ legs: [pos(25000, "CE", -975)], tolerance: 100 }])).toEqual([pos(25000, "CE", -325)])
  })
})

describe("coverOf: a short is covered by longs of its type and expiry further out of the money, unit for unit", () => {
  it("a call above, a put below; not one on the wrong side, of the other type or another expiry", () => {
    const shorts = [con(25000, "CE", 975), con(25000, "PE", 975)]
    expect(coveredUnits(shorts, [con(25500, "CE", 975), con(24500, "PE", 975)])).toEqual([975, 975])
    expect(coveredUnits(shorts, [con(24500, "CE", 975), con(25500, "PE", 975)])).toEqual([0, 0])
    expect(coveredUnits(shorts, [con(25500, "PE", 975), con(24500, "CE", 975)])).toEqual([0, 0])
    expect(coveredUnits(shorts, [con(25500, "CE", 975, "2026-02-17"), con(25000, "CE", 975)])).toEqual([0, 0])
  })

  it("counts quantity: a long smaller than the short covers part of it", () => {
    expect(coveredUnits([con(25000, "CE", 975)], [con(25500, "CE", 650)])).toEqual([650])
  })

  it("shares the longs out so that each is used where it covers: a long between two shorts goes to the nearer one", () => {
    // 25050 is beyond the 25000 short only; 25150 is beyond both: the 25100 short must have it.
    const shorts = [con(25000, "CE", 65), con(25100, "CE", 65)]
    expect(coverOf(shorts, [con(25150, "CE", 65), con(25050, "CE", 65)])).toEqual([[{ strike: 25050, quantity: 65 }], [{ strike: 25150, quantity: 65 }]])
    // The same for puts, mirrored; one long shared by two shorts covers one of them.
    expect(coveredUnits([con(25000, "PE", 65), con(24900, "PE", 65)], [con(24950, "PE", 65), con(24400, "PE", 65)])).toEqual([65, 65])
    expect(coveredUnits([con(25000, "PE", 65), con(24900, "PE", 65)], [con(24400, "PE", 65)])).toEqual([0, 65])
  })
})

describe("coversAShort", () => {
  const shorts = [con(25000, "CE", 975)]
  it("a long whose sale would uncover a short held overnight must be kept; a spare one need not", () => {
    const longs = [con(25500, "CE", 975), con(25800, "CE", 975)]
    // Either one alone covers the short: selling one leaves it covered.
    expect(coversAShort(shorts, longs, con(25800, "CE", 975))).toBe(false)
    expect(coversAShort(shorts, [con(25500, "CE", 975)], con(25500, "CE", 975))).toBe(true)
    expect(coversAShort(shorts, [con(25500, "CE", 975)], con(25500, "CE", 325))).toBe(true)
    expect(coversAShort([], [con(25500, "CE", 975)], con(25500, "CE", 975))).toBe(false)
  })
})

const chain: ReadonlyArray<ChainRow> = [
  { strike: 25000, ce: 65, pe: 85 },
  { strike: 25450, ce: 1.7, pe: 470 },
  { strike: 25500, ce: null, pe: 520 },
  { strike: 25550, ce: 0.7, pe: 570 },
  { strike: 25600, ce: 0.45, pe: 620 },
  { strike: 24500, ce: 480, pe: 2.8 },
  { strike: 24750, ce: 250, pe: 15.9 }
]
const byDistance: WingRules = { by: "distance", distance: 500, minPremium: 1, maxPremium: 15, limitPriceBuffer: 0.1 }

describe("chooseWing", () => {
  it("by distance: the priced strike nearest the distance beyond the short, never nearer than it", () => {
    expect(chooseWing(chain, con(25000, "PE", 975), 975, byDistance)).toEqual({ strike: 24500, optionType: "PE", expiry: TOMORROW, quantity: 975, price: 2.8, cost: 2827.5 })
    // 25500 has no price: 25550 (not 25450, which is nearer the short than the distance).
    expect(chooseWing(chain, con(25000, "CE", 975), 975, byDistance)).toMatchObject({ strike: 25550, price: 0.7 })
    expect(chooseWing(chain, con(25000, "CE", 975), 975, { ...byDistance, distance: 1200 })).toEqual({ reason: "no CE strike 1,200 points to 2,400 points beyond 25000 has a price" })
  })

  it("by premium: the strike nearest the short, beyond it, priced in the band", () => {
    const byPremium: WingRules = { ...byDistance, by: "premium" }
    expect(chooseWing(chain, con(25000, "PE", 975), 975, byPremium)).toMatchObject({ strike: 24500, price: 2.8 })
    expect(chooseWing(chain, con(25000, "CE", 975), 975, byPremium)).toMatchObject({ strike: 25450, price: 1.7 })
    expect(chooseWing(chain, con(25000, "CE", 975), 975, { ...byPremium, minPremium: 3 })).toEqual({ reason: "no CE strike beyond 25000 is priced between ₹3 and ₹15" })
  })
})

describe("assessShorts and wingsWithinCap", () => {
  const shorts = [con(25000, "CE", 975), con(25000, "PE", 975), con(24000, "PE", 65, "2026-02-17")]
  const assessed = assessShorts({ shorts, longs: [con(25600, "CE", 650)], chainOf: (e) => (e === TOMORROW ? chain : null), rules: byDistance })

  it("wings only the uncovered rest; a short of an expiry without prices gets the reason", () => {
    expect(assessed.map((s) => [s.covered, s.wing?.quantity ?? null, s.reason])).toEqual([
      [650, 325, null],
      [0, 975, null],
      [0, null, "no prices for the 2026-02-17 expiry (the market data carries the day's expiry only)"]
    ])
    expect(assessed[0]!.coveredBy).toEqual([{ strike: 25600, quantity: 650 }])
  })

  it("buys what fits in the spend left, in order, and says why the rest is not bought; null: no cap", () => {
    const { buy, refused } = wingsWithinCap(assessed, 1000)
    // The call wing costs 325 × 0.80 = ₹260; the put wing ₹2,827.50 does not fit in the ₹740 left.
    expect(buy.map((w) => [w.strike, w.cost])).toEqual([[25550, 260]])
    expect(refused.map((r) => r.reason)).toEqual(["the day's spend cap: ₹740 left, the wing 24500 PE costs ₹2,828"])
    expect(wingsWithinCap(assessed, null).buy).toHaveLength(2)
  })
})
