import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { objectiveOracleDay, oracleDay } from "../../simulations/oracle.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { simulate, truthModelOf } from "../../simulations/simulate.ts"
import { objectiveOf, protectionCostOf } from "../../src/domain/objective.ts"
import { shortfallPenalties } from "../../src/domain/penalty.ts"

const file = "simulations/days/2026-02-12-SENSEX.jsonl"
const day = parseRecordedDay(readFileSync(file, "utf8"), file)
const truth = truthModelOf("span", defaultConfig)

describe("the J oracles", () => {
  it("bound every policy's J from below with hindsight, and cost at least that knowing only the schedule", async () => {
    const options = { config: defaultConfig, truth }
    const hindsight = await Effect.runPromise(objectiveOracleDay(day, options, "hindsight"))
    const decisions = await Effect.runPromise(objectiveOracleDay(day, options, "decisions"))
    // The SENSEX expiry day of the bundled week is short of budget: entries are let go.
    expect(hindsight.objective.breaches).toBeGreaterThan(0)
    expect(hindsight.lowerBound).toBeLessThanOrEqual(hindsight.objective.objective)
    // Decision prices are among the prices hindsight may take: never a lower J.
    expect(decisions.objective.objective).toBeGreaterThanOrEqual(hindsight.lowerBound)
    const runs = await Effect.runPromise(simulate([{ file, day }], ["engine", "reference", "static", "none"], defaultConfig, undefined, undefined, truth))
    for (const run of runs) {
      const d = run.days[0]!
      const penalty = shortfallPenalties([{ date: d.date, available: d.budget, peakMargin: (d.peakUtilization / 100) * d.budget }])[0]!.penalty
      const j = objectiveOf({ protectionCost: protectionCostOf(d.hedges), breaches: d.breaches.length, shortfallPenalty: penalty }, defaultConfig.breachCostPerEntry)
      expect(j.objective, run.policy).toBeGreaterThanOrEqual(hindsight.lowerBound)
    }
  })

  it("spend nothing and count nothing on a day whose entries all fit unhedged", async () => {
    const roomy = { ...day, header: { ...day.header, budgetPerBasket: day.header.budgetPerBasket * 10 } }
    const options = { config: defaultConfig, truth }
    const j = await Effect.runPromise(objectiveOracleDay(roomy, options, "hindsight"))
    expect(j.objective.objective).toBe(0)
    expect((await Effect.runPromise(oracleDay(roomy, options))).breaches).toEqual([])
  })

  it("weigh a breached entry at breachCostPerEntry: with entries free, fewer are saved", async () => {
    const at = (breachCostPerEntry: number) => Effect.runPromise(objectiveOracleDay(day, { config: { ...defaultConfig, breachCostPerEntry }, truth }, "hindsight"))
    const [free, dear] = [await at(0), await at(1_000_000)]
    expect(free.objective.breaches).toBeGreaterThanOrEqual(dear.objective.breaches)
    expect(free.objective.protectionCost).toBeLessThanOrEqual(dear.objective.protectionCost + 0.01)
  })
})
