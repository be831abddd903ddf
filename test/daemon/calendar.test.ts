// The daemon's calendar: weekdays that are not the exchange's holidays; the day to run next from any
// instant (today while its summary is ahead, a start mid-day included); holiday files checked.
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { dayTimes, isTradingDay, loadHolidaysFile, nextTradingDay, parseHolidays, type TradingCalendar } from "../../src/daemon/calendar.ts"
import { instantOf } from "../../src/domain/time.ts"

const calendar: TradingCalendar = { holidays: { NSE: new Set(["2026-03-31"]), BSE: new Set(["2026-03-26"]) } }

describe("trading days", () => {
  it("are weekdays that are not the exchange's holidays", () => {
    expect(isTradingDay(calendar, "NSE", "2026-03-30")).toBe(true) // Monday
    expect(isTradingDay(calendar, "NSE", "2026-03-31")).toBe(false) // NSE holiday
    expect(isTradingDay(calendar, "BSE", "2026-03-31")).toBe(true) // not BSE's
    expect(isTradingDay(calendar, "BSE", "2026-03-26")).toBe(false)
    expect(isTradingDay(calendar, "NSE", "2026-03-28")).toBe(false) // Saturday
    expect(isTradingDay(calendar, "NSE", "2026-03-29")).toBe(false) // Sunday
  })

  it("the next day to run: today until its summary at 15:35, then the next trading day", () => {
    const nse = (date: string) => isTradingDay(calendar, "NSE", date)
    expect(nextTradingDay(instantOf("2026-03-30", "06:00:00"), nse)).toEqual(dayTimes("2026-03-30"))
    // Started mid-day: the same day, to be resumed.
    expect(nextTradingDay(instantOf("2026-03-30", "11:42:00"), nse).date).toBe("2026-03-30")
    // After the summary: skips the holiday on Tuesday.
    expect(nextTradingDay(instantOf("2026-03-30", "15:35:00"), nse).date).toBe("2026-04-01")
    // Friday evening: Monday.
    expect(nextTradingDay(instantOf("2026-04-03", "20:00:00"), nse).date).toBe("2026-04-06")
    const t = dayTimes("2026-04-06")
    expect([t.setupAt, t.openAt, t.closeAt, t.summaryAt]).toEqual(["09:00:00", "09:15:00", "15:30:00", "15:35:00"].map((w) => instantOf("2026-04-06", w)))
  })

  it("a schedule that never trades is named, not looped over forever", () => {
    expect(() => nextTradingDay(instantOf("2026-03-30", "06:00:00"), () => false)).toThrow(/no trading day within a year/)
  })
})

describe("a holiday file", () => {
  it("reads per exchange", async () => {
    const c = await Effect.runPromise(parseHolidays('{"NSE":["2026-01-26"],"BSE":[]}', "h.json"))
    expect([...c.holidays.NSE]).toEqual(["2026-01-26"])
    expect(c.holidays.BSE.size).toBe(0)
  })

  it("names every bad value with its key, and unknown keys", async () => {
    const exit = await Effect.runPromiseExit(parseHolidays('{"NSE":["2026-02-30", "26-01-2026"],"BSE":[],"MCX":[]}', "h.json"))
    expect(Exit.isFailure(exit)).toBe(true)
    const message = JSON.stringify(exit)
    expect(message).toContain("h.json: NSE[0]")
    expect(message).toContain("2026-02-30")
    expect(message).toContain("MCX")
  })

  it("that is not JSON, or missing, says so with its name", async () => {
    expect(JSON.stringify(await Effect.runPromiseExit(parseHolidays("{", "h.json")))).toContain("h.json: not valid JSON")
    expect(JSON.stringify(await Effect.runPromiseExit(loadHolidaysFile("/nonexistent/h.json")))).toContain("/nonexistent/h.json: cannot read")
  })

  it("the bundled one reads", async () => {
    const c = await Effect.runPromise(loadHolidaysFile("config/holidays.json"))
    expect(c.holidays.NSE.size).toBeGreaterThan(0)
  })
})
