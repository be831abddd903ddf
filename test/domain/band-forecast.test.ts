import { describe, expect, it } from "vitest"
import { bandHoldsAt } from "../../src/domain/band-forecast.ts"
import { toTick, type ChainRow } from "../../src/domain/market.ts"
import { black76 } from "../../src/domain/pricing.ts"
import { instantOf } from "../../src/domain/time.ts"

const EXPIRY = "2026-02-10"
const SPOT = 25_000
const band = { minPremium: 2, maxPremium: 6, minOtmDistance: 200, maxOtmDistance: 1000, limitPriceBuffer: 0.1 }
/** Calls and puts priced at their own volatilities (a skew makes far puts dearer than far calls). */
const chainAt = (time: string, vol: number, putVol = vol): ReadonlyArray<ChainRow> => {
  const years = (instantOf(EXPIRY, "15:30:00") - instantOf(EXPIRY, time)) / (365 * 24 * 3600 * 1000)
  const rows: Array<ChainRow> = []
  for (let k = 23_500; k <= 26_500; k += 50) rows.push({ strike: k, ce: toTick(Math.max(0.05, black76("CE", SPOT, k, years, vol))), pe: toTick(Math.max(0.05, black76("PE", SPOT, k, years, putVol))) })
  return rows
}
const holds = (chain: ReadonlyArray<ChainRow>, later: string, b = band, sides: ReadonlyArray<"CE" | "PE"> = ["CE", "PE"]) =>
  bandHoldsAt({ chain, spot: SPOT, at: instantOf(EXPIRY, "09:20:00"), later: instantOf(EXPIRY, later), expiry: EXPIRY, band: b, sides })

describe("the premium band, forecast by time decay", () => {
  it("holds through an expiry day's morning and empties by its afternoon", () => {
    const chain = chainAt("09:20:00", 0.2)
    expect(chain.some((r) => r.strike - SPOT >= 200 && r.strike - SPOT <= 1000 && r.ce !== null && r.ce >= 2 && r.ce <= 6)).toBe(true)
    expect(holds(chain, "09:40:00")).toBe(true)
    expect(holds(chain, "14:45:00")).toBe(false)
  })

  it("counts an option that is dearer than the band now and decays into it", () => {
    // At 30 % the 200–250-point wings cost ₹10–17 at 09:20 and come into the band by midday.
    const chain = chainAt("09:20:00", 0.3)
    const near = { ...band, maxOtmDistance: 250 }
    expect(chain.filter((r) => r.strike - SPOT >= 200 && r.strike - SPOT <= 250 && r.ce !== null && r.ce >= 2 && r.ce <= 6)).toEqual([])
    expect(holds(chain, "12:00:00", near)).toBe(true)
    expect(holds(chain, "15:00:00", near)).toBe(false)
  })

  it("does not hold when one side empties, though the other still has wings in the band", () => {
    // Puts at 30 %, calls at 20 %: by 13:00 the calls' band is empty and the puts' is not.
    const chain = chainAt("09:20:00", 0.2, 0.3)
    expect(holds(chain, "13:00:00", band, ["PE"])).toBe(true)
    expect(holds(chain, "13:00:00", band, ["CE"])).toBe(false)
    expect(holds(chain, "13:00:00")).toBe(false)
  })

  it("never holds with nothing in the distance band", () => {
    expect(holds([], "09:21:00")).toBe(false)
  })
})
