// Taking an entry's decision again while it is ahead (config recheckSeconds), on a real day of the
// 4-week set: 2026-07-31, a 2DTE Friday whose last entry (11:38:10) finds no put wing in the premium
// band at its look-ahead (11:33:10); one comes into the band at 11:38:00.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultConfig, type HedgeConfig } from "../../src/domain/config.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { replayOptionsFor, truthModelOf } from "../../simulations/simulate.ts"

const file = "simulations/four-weeks/2026-07-31-NIFTY.jsonl"
const day = parseRecordedDay(readFileSync(file, "utf8"), file)
const run = (config: HedgeConfig) => replayDay(day, replayOptionsFor(policyPlan("engine", config), config, truthModelOf("span", config)))

describe("re-checking an entry's decision until it is entered", () => {
  it("deciding once, the last entry finds no hedge and breaches; re-checking, it buys the wing that comes into the band and does not", async () => {
    const once = await run({ ...defaultConfig, recheckSeconds: 0 })
    const rechecked = await run(defaultConfig)
    expect(defaultConfig.recheckSeconds).toBe(30)
    const last = "entry:NIFTY_FRI 6"
    expect(once.report.breaches.map((b) => b.portfolio)).toContain("NIFTY_FRI 6")
    expect(once.report.hedges.filter((h) => h.forEntry === last)).toEqual([])
    expect(rechecked.report.breaches).toEqual([])
    const bought = rechecked.report.hedges.filter((h) => h.forEntry === last)
    expect(bought.length).toBeGreaterThan(0)
    // Bought on a re-check after the look-ahead found nothing, before the entry, within the band.
    for (const h of bought) {
      expect(h.boughtAt! > "11:33:10" && h.boughtAt! < "11:38:10", h.boughtAt!).toBe(true)
      expect(h.buyPrice).toBeLessThanOrEqual(defaultConfig.maxPremium + defaultConfig.limitPriceBuffer)
    }
    // The trader was told once that nothing was found, however often the entry looked again.
    expect(rechecked.alerts.filter((a) => a.alert.kind === "NO_CANDIDATE" && a.alert.actor === last)).toHaveLength(1)
  })
})
