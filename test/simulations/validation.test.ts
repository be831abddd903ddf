import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { FOUR_WEEKS, SAMPLE_WEEK } from "../../simulations/generate-week.ts"
import { REGIMES } from "../../simulations/generator.ts"
import { VALIDATION, VALIDATION_DIR, validationDays } from "../../simulations/write-validation.ts"

describe("the validation set (simulations/validation)", () => {
  const set = validationDays()

  it("is what write-validation.ts makes, byte for byte inside the gzip", () => {
    const files = readdirSync(VALIDATION_DIR).filter((f) => f.endsWith(".jsonl.gz")).sort()
    expect(files).toEqual(set.map((d) => `${d.file}.gz`))
    for (const day of set) expect(gunzipSync(readFileSync(join(VALIDATION_DIR, `${day.file}.gz`))).toString("utf8") === day.text, `${day.file} is stale`).toBe(true)
  })

  it("has at least 40 days from a seed the development sets do not use", () => {
    expect(set.length).toBeGreaterThanOrEqual(40)
    expect([FOUR_WEEKS.seed, SAMPLE_WEEK.seed]).not.toContain(VALIDATION.seed)
  })

  it("takes every day type through every regime, and every budget level through every regime", () => {
    // The schedule's day type is its weekday's entries; a holiday moving an expiry changes a day's DTE
    // (a Friday before a Monday expiry is 1DTE), which the calendar's tests cover.
    const dayType = (d: (typeof set)[number]) => `${d.weekday} ${d.index}`
    const types = [...new Set(set.map(dayType))].sort()
    expect(types).toEqual(["Friday NIFTY", "Monday NIFTY", "Thursday SENSEX", "Tuesday NIFTY", "Wednesday NIFTY"])
    const regularDte = new Set(set.map((d) => `${dayType(d)} ${d.dte}DTE`))
    for (const t of ["Friday NIFTY 2DTE", "Monday NIFTY 1DTE", "Thursday SENSEX 0DTE", "Tuesday NIFTY 0DTE", "Wednesday NIFTY 4DTE"]) expect(regularDte.has(t), t).toBe(true)
    for (const t of types) for (const r of REGIMES) expect(set.some((d) => dayType(d) === t && d.regime === r), `${t} ${r}`).toBe(true)
    for (const b of ["comfortable", "standard", "lean", "short"]) {
      for (const r of REGIMES) expect(set.some((d) => d.budget === b && d.regime === r), `${b} ${r}`).toBe(true)
      for (const t of types) expect(set.some((d) => d.budget === b && dayType(d) === t), `${b} ${t}`).toBe(true)
    }
    // The level is the budget in the header: 15 baskets × ₹10 lakh × its factor.
    const short = set.find((d) => d.budget === "short")!
    expect(JSON.parse(short.text.slice(0, short.text.indexOf("\n"))).budgetPerBasket).toBe(550_000)
  })
})
