import { describe, expect, it } from "vitest"
import { shortfallPenalties } from "../../src/domain/penalty.ts"

const day = (date: string, peakMargin: number, available = 1_000_000) => ({ date, peakMargin, available })

describe("shortfall penalties (the clearing corporations' slabs)", () => {
  it("charges nothing without a shortfall", () => {
    expect(shortfallPenalties([day("2026-02-09", 999_999)])).toEqual([{ date: "2026-02-09", shortfall: 0, ratePct: 0, penalty: 0 }])
  })

  it("charges 0.5 % of a shortfall under ₹1 lakh and under 10 % of the margin (Kotak's example: ₹10,000 costs ₹50)", () => {
    expect(shortfallPenalties([day("2026-02-09", 1_010_000)])[0]).toMatchObject({ shortfall: 10_000, ratePct: 0.5, penalty: 50 })
  })

  it("charges 1 % from ₹1 lakh, or from 10 % of the margin", () => {
    expect(shortfallPenalties([day("2026-02-09", 1_100_000)])[0]).toMatchObject({ ratePct: 1, penalty: 1_000 })
    // ₹60,000 short of ₹5.6 lakh required is over 10 % though under ₹1 lakh.
    expect(shortfallPenalties([day("2026-02-09", 560_000, 500_000)])[0]).toMatchObject({ shortfall: 60_000, ratePct: 1, penalty: 600 })
  })

  it("charges 5 % for each consecutive shortfall day beyond the 3rd, and the streak ends on a clean day", () => {
    const rates = shortfallPenalties(
      ["2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05"].map((d) => day(d, 1_010_000)).concat([day("2026-02-06", 900_000), day("2026-02-09", 1_010_000)])
    ).map((p) => p.ratePct)
    expect(rates).toEqual([0.5, 0.5, 0.5, 5, 0, 0.5])
  })

  it("charges 5 % for each shortfall day of a month beyond the 5th, even when not consecutive", () => {
    const dates = ["2026-03-02", "2026-03-04", "2026-03-06", "2026-03-10", "2026-03-12", "2026-03-16", "2026-04-01"]
    // A clean day after each, so no streak forms.
    const days = dates.flatMap((d) => [day(d, 1_010_000), day(`${d.slice(0, 8)}${String(Number(d.slice(8)) + 1).padStart(2, "0")}`, 900_000)])
    const rates = shortfallPenalties(days).filter((p) => p.shortfall > 0).map((p) => p.ratePct)
    expect(rates).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 5, 0.5])
  })
})
