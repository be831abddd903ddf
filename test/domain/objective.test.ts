import { describe, expect, it } from "vitest"
import { objectiveOf, objectivesOfDays, protectionCostOf, sumObjectives } from "../../src/domain/objective.ts"

describe("the objective J", () => {
  it("counts protection per hedge, a resale gain as nothing", () => {
    expect(protectionCostOf([{ paid: 1000, received: 400 }, { paid: 500, received: 900 }])).toBe(600)
  })

  it("is protection cost + shortfall penalty + the value of each breached entry", () => {
    expect(objectiveOf({ protectionCost: 12_000, breaches: 2, shortfallPenalty: 3_500 }, 20_000)).toEqual({
      protectionCost: 12_000,
      breaches: 2,
      shortfallPenalty: 3_500,
      breachValue: 40_000,
      breachCost: 43_500,
      objective: 55_500
    })
  })

  it("prices each day's shortfall in date order (a fourth day running pays 5 %), answering in the days' own order", () => {
    const day = (date: string, over: number) => ({ date, budget: 10_000_000, peakMargin: 10_000_000 + over, protectionCost: 0, breaches: over > 0 ? 1 : 0 })
    const days = [day("2026-07-09", 50_000), day("2026-07-06", 50_000), day("2026-07-08", 50_000), day("2026-07-07", 50_000), day("2026-07-10", 0)]
    const parts = objectivesOfDays(days, 1_000)
    // Given out of order: 07-09 is the fourth shortfall day running (5 %), the others 0.5 %.
    expect(parts.map((p) => p.shortfallPenalty)).toEqual([2_500, 250, 250, 250, 0])
    expect(parts.map((p) => p.objective)).toEqual([3_500, 1_250, 1_250, 1_250, 0])
    expect(sumObjectives(parts)).toMatchObject({ breaches: 4, shortfallPenalty: 3_250, breachValue: 4_000, objective: 7_250 })
  })
})
