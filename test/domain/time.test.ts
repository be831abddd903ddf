// Trading days between two dates: counted by whole weeks, equal to stepping day by day.
import fc from "fast-check"
import { DateTime } from "luxon"
import { describe, expect, it } from "vitest"
import { MARKET_ZONE, tradingDaysBetween } from "../../src/domain/time.ts"

/** The definition: step a day at a time, count the weekdays after `date` up to `expiry`. */
const stepping = (date: string, expiry: string, holidays: ReadonlySet<string> = new Set()): number => {
  let d = DateTime.fromISO(date, { zone: MARKET_ZONE })
  const end = DateTime.fromISO(expiry, { zone: MARKET_ZONE })
  let n = 0
  while (d < end) {
    d = d.plus({ days: 1 })
    if (d.weekday <= 5 && !holidays.has(d.toISODate()!)) n++
  }
  return n
}

const isoDay = (base: string, days: number) => DateTime.fromISO(base, { zone: MARKET_ZONE }).plus({ days }).toISODate()!

describe("tradingDaysBetween", () => {
  it("counts the weekdays after the date up to the expiry, as stepping day by day does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: -10, max: 800 }), (from, span) => {
        const date = isoDay("2000-01-01", from)
        const expiry = isoDay(date, span)
        expect(tradingDaysBetween(date, expiry)).toBe(stepping(date, expiry))
      })
    )
  })

  it("leaves out the holidays after the date up to the expiry, weekend ones and ones outside the range changing nothing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: -3, max: 60 }), fc.array(fc.integer({ min: -5, max: 65 }), { maxLength: 8 }), (from, span, offsets) => {
        const date = isoDay("2020-01-01", from)
        const holidays = new Set(offsets.map((k) => isoDay(date, k)))
        expect(tradingDaysBetween(date, isoDay(date, span), holidays)).toBe(stepping(date, isoDay(date, span), holidays))
      })
    )
    expect(tradingDaysBetween("2026-03-30", "2026-04-02", new Set(["2026-03-31"]))).toBe(2) // Mahavir Jayanti
  })

  it("is 0 on the day itself and for an expiry before the date", () => {
    expect(tradingDaysBetween("2026-02-10", "2026-02-10")).toBe(0)
    expect(tradingDaysBetween("2026-02-10", "2026-02-09")).toBe(0)
    expect(tradingDaysBetween("2026-02-13", "2026-02-16")).toBe(1) // Friday to Monday
  })

  it("counts whole weeks over any range (five trading days each)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400_000 }), (weeks) => {
        expect(tradingDaysBetween("2026-01-05", isoDay("2026-01-05", weeks * 7))).toBe(weeks * 5)
      }),
      { numRuns: 50 }
    )
    expect(tradingDaysBetween("2026-01-05", "9999-12-31")).toBeGreaterThan(2_000_000)
  })
})
