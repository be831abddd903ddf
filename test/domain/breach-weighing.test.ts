import { describe, expect, it } from "vitest"
import { avertedBreachCost, breachLikelihood, dayPenaltyOf, expectedBreachCost } from "../../src/domain/objective.ts"

const budget = 10_000_000

describe("what the engine weighs before it buys", () => {
  it("a day's penalty follows the slabs: 0.5 % of a small shortfall, 1 % of one of ₹1 lakh or more", () => {
    expect(dayPenaltyOf(budget, budget)).toBe(0)
    expect(dayPenaltyOf(budget + 50_000, budget)).toBe(250)
    expect(dayPenaltyOf(budget + 200_000, budget)).toBe(2000)
  })

  it("an entry is taken to breach with no chance at the trigger, for certain at 100 %, linearly between", () => {
    expect(breachLikelihood(95, 95)).toBe(0)
    expect(breachLikelihood(97, 95)).toBeCloseTo(0.4)
    expect(breachLikelihood(100, 95)).toBe(1)
    expect(breachLikelihood(130, 95)).toBe(1)
  })

  it("what hedges avert: the expected breach cost before less after", () => {
    const p = { budget, triggerPct: 95, breachCostPerEntry: 20_000 }
    // 120 % → 85 %: the entry (₹20,000) and the 1 % penalty on ₹20 lakh (₹20,000).
    expect(avertedBreachCost({ ...p, margin: 12_000_000, benefit: 3_500_000 })).toBe(40_000)
    // 120 % → 102 %: still a breach; only the penalty's part on the shortfall removed.
    expect(avertedBreachCost({ ...p, margin: 12_000_000, benefit: 1_800_000 })).toBe(18_000)
    // 97 % → 85 %: 40 % of an entry.
    expect(avertedBreachCost({ ...p, margin: 9_700_000, benefit: 1_200_000 })).toBeCloseTo(8000)
    expect(expectedBreachCost({ ...p, margin: 9_000_000 })).toBe(0)
  })
})
