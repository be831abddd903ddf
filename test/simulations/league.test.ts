import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { leagueJson, leagueMarkdown, leaguePlans, runLeague } from "../../simulations/league.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { simulate, truthModelOf } from "../../simulations/simulate.ts"

const file = "simulations/days/2026-02-10-NIFTY.jsonl"
const day = parseRecordedDay(readFileSync(file, "utf8"), file)
const totalsFields = ["days", "entries", "missedEntries", "hedges", "grossSpend", "recovered", "netSpend", "breaches", "peakUtilization", "alerts"]

describe("the policy league table", () => {
  it("runs the engine on every margin estimate, the engine with the delta band, the reference behaviour, static, none and the oracle", () => {
    expect(leaguePlans(defaultConfig).map((p) => p.name)).toEqual(["engine", "engine-constants", "engine-broker", "engine+delta-band", "reference", "static", "none"])
    expect(leaguePlans(defaultConfig).find((p) => p.name === "engine+delta-band")).toMatchObject({ policy: "engine", deltaBand: true })
    // With the band switched on in the config, it still runs in its own contender only.
    const bandOn = { ...defaultConfig, deltaBand: { ...defaultConfig.deltaBand, enabled: true } }
    expect(leaguePlans(bandOn).filter((p) => p.deltaBand !== false).map((p) => p.name)).toEqual(["engine+delta-band"])
    const reference = leaguePlans(defaultConfig).find((p) => p.name === "reference")!
    expect(reference).toMatchObject({ policy: "engine", estimate: "constants", selection: "greedy", foresight: false, polling: { everyMs: 30_000 } })
  })

  it("reports each policy with the plain simulate totals, J and its parts, measured against the oracles", async () => {
    const league = await Effect.runPromise(runLeague([{ name: "simulations/days", files: [file] }], defaultConfig, "span", { threads: 1 }))
    const json = leagueJson(league) as {
      policies: Record<string, { days: Array<unknown>; total: Record<string, number | null> }>
      bounds: Record<string, { total: Record<string, number> }>
      sets: Record<string, { policies: Record<string, { byBudgetLevel: Record<string, { objective: number }> }> }>
    }
    expect(Object.keys(json.policies)).toEqual(["engine", "engine-constants", "engine-broker", "engine+delta-band", "reference", "static", "none", "oracle"])
    const oracle = json.policies.oracle!.total
    const bound = json.bounds.hindsight!.total
    for (const [name, p] of Object.entries(json.policies)) {
      expect(p.days).toHaveLength(1)
      for (const field of [...totalsFields, "protectionCost", "spendVsOracle", "avoidableBreaches"]) expect(p.total, `${name}.${field}`).toHaveProperty(field)
      if (name === "oracle") continue
      // The oracle breaches least of every policy that keeps to the spend cap and the candidates.
      if (name.startsWith("engine") || name === "reference") expect(p.total.breaches!).toBeGreaterThanOrEqual(oracle.breaches!)
      // J and its parts add up; no policy's J is below the hindsight bound.
      const t = p.total as Record<string, number>
      expect(t.breachValue).toBe(t.breaches! * defaultConfig.breachCostPerEntry)
      expect(t.breachCost).toBeCloseTo(t.shortfallPenalty! + t.breachValue!, 2)
      expect(t.objective).toBeCloseTo(t.protectionCost! + t.breachCost!, 2)
      expect(t.objective, name).toBeGreaterThanOrEqual(bound.lowerBound!)
      expect(t.needlessCost).toBeLessThanOrEqual(t.protectionCost! + 0.01)
      // One day, one budget level: its J is the total's.
      const levels = Object.values(json.sets["simulations/days"]!.policies[name]!.byBudgetLevel)
      expect(levels).toHaveLength(1)
      expect(levels[0]!.objective).toBe(t.objective)
    }
    // In the simulator the broker's basket margin is the simulated broker's: the same decisions as SPAN.
    expect(json.policies["engine-broker"]!.total).toEqual(json.policies.engine!.total)
    expect(json.policies.none!.total.hedges).toBe(0)
    expect(json.policies.none!.total.objective).toBe(json.policies.none!.total.breachCost)
    const text = leagueMarkdown(league)
    expect(text).toMatch(/^### simulations\/days: 1 days/)
    expect(text).toContain("| policy | J | protection cost | breach cost | breaches |")
    expect(text).toContain("| 2026-02-10 NIFTY |")
  })
})

describe("buying ahead at the last chance (config anticipateBandExhaustion)", () => {
  const runOn = (f: string) => {
    const d = parseRecordedDay(readFileSync(f, "utf8"), f)
    return (anticipateBandExhaustion: boolean, maxHedgeCostPerDay = defaultConfig.maxHedgeCostPerDay) => {
      const config = { ...defaultConfig, anticipateBandExhaustion, maxHedgeCostPerDay }
      return Effect.runPromise(simulate([{ file: f, day: d }], ["engine"], config, undefined, undefined, truthModelOf("span", config)))
    }
  }

  it("saves an expiry afternoon's entries that found no wing in the band, by buying while there were some", async () => {
    // 2026-07-21, a NIFTY expiry with a volatility spike: by 14:20 no wing is left in the ₹2–6 band.
    const run = runOn("simulations/four-weeks/2026-07-21-NIFTY.jsonl")
    const [plain] = await run(false)
    const [ahead] = await run(true)
    expect(plain!.total.breaches).toBeGreaterThan(0)
    expect(ahead!.total.breaches).toBe(0)
    // The hedges come earlier: the first is bought before any of the plain run's.
    const firstBuy = (r: typeof plain) => r!.days[0]!.hedges.map((h) => h.boughtAt ?? "99").sort()[0]
    expect(firstBuy(ahead)! <= firstBuy(plain)!).toBe(true)
    expect(ahead!.total.grossSpend).toBeGreaterThan(plain!.total.grossSpend)
  })

  it("takes one short side's empty band for the last chance, though the other side's still holds", async () => {
    // 2026-07-07: at 10:11 puts are forecast to stay in the band until the next look-ahead (13:48:30),
    // calls are not; by then both are empty. With room under the spend cap, no entry breaches.
    const run = runOn("simulations/four-weeks/2026-07-07-NIFTY.jsonl")
    const [plain] = await run(false, 100_000)
    const [ahead] = await run(true, 100_000)
    expect(plain!.days[0]!.breaches.map((b) => b.time)).toEqual(["14:28:00", "14:35:00"])
    expect(ahead!.days[0]!.breaches).toEqual([])
    expect(ahead!.days[0]!.hedges.every((h) => h.boughtAt! < "10:20:00")).toBe(true)
  })
})
