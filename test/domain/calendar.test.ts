// The market calendar as the bundled file gives it for 2026: every NSE holiday is no session, the two
// special sessions have their own hours (the Budget Sunday's known, Muhurat's not yet), weekly expiries
// on a holiday move to the previous regular session and the day type follows; a year no source covers
// is weekdays only and says so.
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  calendarYear,
  dayOn,
  dayTypeOf,
  differences,
  isRegularSession,
  listYear,
  mergeKnown,
  scheduledSessionOn,
  sessionOn,
  weeklyExpiryOn,
  type ExchangeYear
} from "../../src/domain/calendar.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { parseCalendarFile } from "../../src/services/calendar.ts"

const calendar = Effect.runSync(parseCalendarFile(readFileSync("config/holidays.json", "utf8"), "config/holidays.json"))
const schedule = parseSchedule(readFileSync("config/schedule.json", "utf8"), "config/schedule.json")

/** NSE's 2026 weekday holidays (the reference: market-calendar-2026.md). */
export const NSE_2026_HOLIDAYS: ReadonlyArray<readonly [string, string, string]> = [
  ["2026-01-15", "Thu", "Municipal Corporation election"],
  ["2026-01-26", "Mon", "Republic Day"],
  ["2026-03-03", "Tue", "Holi"],
  ["2026-03-26", "Thu", "Shri Ram Navami"],
  ["2026-03-31", "Tue", "Shri Mahavir Jayanti"],
  ["2026-04-03", "Fri", "Good Friday"],
  ["2026-04-14", "Tue", "Dr. Baba Saheb Ambedkar Jayanti"],
  ["2026-05-01", "Fri", "Maharashtra Day"],
  ["2026-05-28", "Thu", "Bakri Id"],
  ["2026-06-26", "Fri", "Muharram"],
  ["2026-09-14", "Mon", "Ganesh Chaturthi"],
  ["2026-10-02", "Fri", "Mahatma Gandhi Jayanti"],
  ["2026-10-20", "Tue", "Dussehra"],
  ["2026-11-10", "Tue", "Diwali"],
  ["2026-11-24", "Tue", "Prakash Gurpurb Sri Guru Nanak Dev"],
  ["2026-12-25", "Fri", "Christmas"]
]

describe("the 2026 calendar from the bundled file", () => {
  it.each(NSE_2026_HOLIDAYS)("%s (%s) is an NSE holiday, no session: %s", (date, _day, name) => {
    const day = dayOn(calendar, "NSE", date)
    expect(day).toMatchObject({ kind: "holiday", source: "file", hours: null })
    expect(day.name).toContain(name)
    expect(sessionOn(calendar, "NSE", date)).toBeUndefined()
    expect(isRegularSession(calendar, "NSE", date)).toBe(false)
  })

  it("has exactly those weekday holidays, and every other weekday is a regular session 09:15-15:30", () => {
    const listed = listYear(calendar, "NSE", 2026)
    expect(listed.days.filter((d) => d.what === "holiday").map((d) => [d.date, d.weekday])).toEqual(NSE_2026_HOLIDAYS.map(([d, w]) => [d, w]))
    expect(listed.regularSessions).toBe(261 - NSE_2026_HOLIDAYS.length)
    expect(sessionOn(calendar, "NSE", "2026-12-24")).toMatchObject({ kind: "regular", hours: { open: "09:15:00", close: "15:30:00" } })
    // Weekend holidays change nothing: 15-Aug is a Saturday.
    expect(dayOn(calendar, "NSE", "2026-08-15").kind).toBe("weekend")
  })

  it("the Budget Sunday is a session 09:15-15:00 that runs Friday's schedule", () => {
    const day = sessionOn(calendar, "NSE", "2026-02-01")
    expect(day).toMatchObject({ kind: "special", name: "Union Budget", hours: { open: "09:15:00", close: "15:00:00" }, schedule: "Friday" })
    const planned = scheduledSessionOn(schedule, calendar, "2026-02-01")
    expect(planned?.scheduled.index).toBe("NIFTY")
    // Friday's entries, their 15:25 exits brought to the 15:00 close.
    const friday = scheduledSessionOn(schedule, calendar, "2026-01-30")!.scheduled.entries
    expect(friday.every((e) => e.exitTime === "15:25:00")).toBe(true)
    expect(planned?.scheduled.entries).toEqual(friday.map((e) => ({ ...e, exitTime: "15:00:00" })))
    // An ordinary Sunday trades nothing.
    expect(scheduledSessionOn(schedule, calendar, "2026-02-08")).toBeUndefined()
  })

  it("Muhurat trading is a known session whose hours are not announced: not tradeable until they are", () => {
    expect(dayOn(calendar, "NSE", "2026-11-08")).toMatchObject({ kind: "special", hours: null })
    expect(sessionOn(calendar, "NSE", "2026-11-08")).toBeUndefined()
    const withHours: ExchangeYear = { holidays: [], specialSessions: [{ date: "2026-11-08", name: "Muhurat trading", hours: { open: "18:00:00", close: "19:15:00" } }] }
    const merged = { years: [{ exchange: "NSE" as const, year: 2026, source: "broker" as const, days: mergeKnown(withHours, calendarYear(calendar, "NSE", 2026).days) }] }
    expect(sessionOn(merged, "NSE", "2026-11-08")?.hours).toEqual({ open: "18:00:00", close: "19:15:00" })
  })

  it("a weekly expiry on a holiday moves to the previous regular session, and the day type follows", () => {
    // NIFTY Tuesday 31-Mar (Mahavir Jayanti) expires on Monday 30-Mar.
    expect(weeklyExpiryOn(calendar, "NIFTY", "2026-03-25")).toBe("2026-03-30")
    expect(weeklyExpiryOn(calendar, "NIFTY", "2026-03-30")).toBe("2026-03-30")
    expect(dayTypeOf(calendar, "NSE", "2026-03-30", "2026-03-30")).toBe("0DTE") // Monday, 1DTE in the schedule
    expect(dayTypeOf(calendar, "NSE", "2026-03-27", "2026-03-30")).toBe("1DTE") // Friday, 2DTE in the schedule
    // SENSEX Thursday 26-Mar (Ram Navami) expires on Wednesday 25-Mar.
    expect(weeklyExpiryOn(calendar, "SENSEX", "2026-03-20")).toBe("2026-03-25")
    // Holi on Tuesday 3-Mar: Monday 2-Mar; Diwali Balipratipada 10-Nov: Monday 9-Nov.
    expect(weeklyExpiryOn(calendar, "NIFTY", "2026-02-27")).toBe("2026-03-02")
    expect(weeklyExpiryOn(calendar, "NIFTY", "2026-11-05")).toBe("2026-11-09")
    // A holiday between the day and its expiry counts out: Friday 23-Jan to Tuesday 27-Jan over Republic Day.
    expect(dayTypeOf(calendar, "NSE", "2026-01-23", "2026-01-27")).toBe("1DTE")
    const moved = listYear(calendar, "NSE", 2026).days.filter((d) => d.what === "expiry moved").map((d) => d.date)
    expect(moved).toEqual(["2026-03-02", "2026-03-30", "2026-04-13", "2026-10-19", "2026-11-09", "2026-11-23"])
  })

  it("a year no source covers is weekdays only, and says so", () => {
    expect(dayOn(calendar, "NSE", "2027-01-26")).toMatchObject({ kind: "regular", source: "weekdays" })
    expect(listYear(calendar, "BSE", 2027).source).toBe("weekdays")
  })
})

describe("the broker's list against the file", () => {
  const file = calendarYear(calendar, "NSE", 2026).days
  it("names each date they differ on; the same list has none", () => {
    expect(differences("NSE", 2026, file, file)).toEqual([])
    const broker: ExchangeYear = { holidays: [...file.holidays.filter((h) => h.date !== "2026-03-03"), { date: "2026-03-10", name: "Holi" }], specialSessions: [] }
    expect(differences("NSE", 2026, broker, file)).toEqual([
      "NSE 2026-03-03: the broker says a regular session, the file holiday (Holi)",
      "NSE 2026-03-10: the broker says holiday (Holi), the file a regular session"
    ])
  })

  it("keeps the file's weekend special sessions the broker does not list, and is silent on them", () => {
    const broker: ExchangeYear = { holidays: file.holidays, specialSessions: [] }
    expect(differences("NSE", 2026, broker, file)).toEqual([])
    expect(mergeKnown(broker, file).specialSessions.map((s) => s.date)).toEqual(["2026-02-01", "2026-11-08"])
  })
})
