// The daemon's days from the calendar: the session to run next from any instant (today while its
// summary is ahead, a start mid-day included), holidays slept through, a special session woken for
// with its own hours (the Budget Sunday closes at 15:00, its summary at 15:05, and so does the engine's
// session); a calendar file with bad values is refused, every value named.
import { Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { dayTimes, nextTradingDay } from "../../src/daemon/calendar.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { scheduledSessionOn } from "../../src/domain/calendar.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { instantOf } from "../../src/domain/time.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { loadCalendarFile, parseCalendarFile } from "../../src/services/calendar.ts"

const calendar = Effect.runSync(parseCalendarFile(readFileSync("config/holidays.json", "utf8"), "config/holidays.json"))
const schedule = parseSchedule(readFileSync("config/schedule.json", "utf8"), "config/schedule.json")
const hoursOn = (date: string) => scheduledSessionOn(schedule, calendar, date)?.day.hours ?? undefined

describe("the day to run next", () => {
  it("today until its summary at 15:35, then the next session the schedule trades", () => {
    expect(nextTradingDay(instantOf("2026-03-30", "06:00:00"), hoursOn)).toEqual(dayTimes("2026-03-30"))
    // Started mid-day: the same day, to be resumed.
    expect(nextTradingDay(instantOf("2026-03-30", "11:42:00"), hoursOn).date).toBe("2026-03-30")
    // After the summary: Tuesday 31 is an NSE holiday, Wednesday has no schedule, Thursday SENSEX.
    expect(nextTradingDay(instantOf("2026-03-30", "15:35:00"), hoursOn).date).toBe("2026-04-02")
    const t = dayTimes("2026-04-06")
    expect([t.setupAt, t.openAt, t.closeAt, t.summaryAt]).toEqual(["09:00:00", "09:15:00", "15:30:00", "15:35:00"].map((w) => instantOf("2026-04-06", w)))
  })

  it("sleeps through holidays: Christmas Friday to Monday 28-Dec; Good Friday to Monday 6-Apr", () => {
    expect(nextTradingDay(instantOf("2026-12-24", "16:00:00"), hoursOn).date).toBe("2026-12-28")
    expect(nextTradingDay(instantOf("2026-04-02", "16:00:00"), hoursOn).date).toBe("2026-04-06")
    // Thursday 26-Mar is a BSE holiday: SENSEX does not trade, Friday's NIFTY does.
    expect(nextTradingDay(instantOf("2026-03-24", "16:00:00"), hoursOn).date).toBe("2026-03-27")
  })

  it("wakes for the Budget Sunday with its hours: set up 09:00, close 15:00, summary 15:05", () => {
    const day = nextTradingDay(instantOf("2026-01-30", "16:00:00"), hoursOn)
    expect(day.date).toBe("2026-02-01")
    expect([day.setupAt, day.openAt, day.closeAt, day.summaryAt]).toEqual(["09:00:00", "09:15:00", "15:00:00", "15:05:00"].map((w) => instantOf("2026-02-01", w)))
    // The engine's session closes then too: no hedge bought after 15:00, the summary at 15:05.
    const entries = scheduledSessionOn(schedule, calendar, "2026-02-01")!.scheduled.entries
    const plan = { date: "2026-02-01", index: "NIFTY" as const, expiry: "2026-02-03", lotSize: 65, strikeStep: 50, baskets: 1, budgetPerBasket: 1_000_000, entries, hours: day.hours }
    const setup = engineSetupFor({ day: plan, config: defaultConfig, policy: "engine", model: constantsMarginModel(defaultConfig.marginConstants) })
    expect([setup.session.openAt, setup.session.closeAt, setup.session.eodAt]).toEqual([day.openAt, day.closeAt, day.summaryAt])
    // Without hours, the regular day's (replays are unchanged).
    const regular = engineSetupFor({ day: { ...plan, date: "2026-02-02", hours: undefined }, config: defaultConfig, policy: "engine", model: constantsMarginModel(defaultConfig.marginConstants) })
    expect([regular.session.closeAt, regular.session.eodAt]).toEqual([instantOf("2026-02-02", "15:30:00"), instantOf("2026-02-02", "15:35:00")])
  })

  it("does not wake for Muhurat trading while its hours are not known, nor once they are if no scheduled entry falls in them", () => {
    expect(nextTradingDay(instantOf("2026-11-06", "16:00:00"), hoursOn).date).toBe("2026-11-09")
    const withHours = (open: string, close: string) => Effect.runSync(parseCalendarFile(readFileSync("config/holidays.json", "utf8").replace(
      '"open": null, "close": null}',
      `"open": "${open}", "close": "${close}", "schedule": "Monday"}`
    ), "h.json"))
    // The evening session: Monday's entries are all in the day.
    const evening = withHours("18:00:00", "19:15:00")
    expect(scheduledSessionOn(schedule, evening, "2026-11-08")).toBeUndefined()
    expect(nextTradingDay(instantOf("2026-11-06", "16:00:00"), (d) => scheduledSessionOn(schedule, evening, d)?.day.hours ?? undefined).date).toBe("2026-11-09")
  })

  it("a special session runs the entries of its schedule within its hours, exits brought to its close; set up 15 minutes before its open", () => {
    const midday = Effect.runSync(parseCalendarFile(readFileSync("config/holidays.json", "utf8").replace(
      '"open": null, "close": null}',
      '"open": "11:00:00", "close": "13:00:00", "schedule": "Monday"}'
    ), "h.json"))
    const planned = scheduledSessionOn(schedule, midday, "2026-11-08")!
    expect(planned.scheduled.entries.map((e) => [e.portfolio, e.entryTime, e.exitTime])).toEqual([["NF_MON_1DTE 5", "12:38:00", "13:00:00"]])
    expect(planned.outside.map((e) => e.entryTime)).toEqual(["09:19:00", "09:22:00", "09:52:00", "10:58:00", "13:52:00", "14:04:00"])
    const day = nextTradingDay(instantOf("2026-11-06", "16:00:00"), (d) => scheduledSessionOn(schedule, midday, d)?.day.hours ?? undefined)
    expect([day.date, day.setupAt, day.closeAt, day.summaryAt]).toEqual(["2026-11-08", instantOf("2026-11-08", "10:45:00"), instantOf("2026-11-08", "13:00:00"), instantOf("2026-11-08", "13:05:00")])
  })

  it("a schedule that never trades is named, not looped over forever", () => {
    expect(() => nextTradingDay(instantOf("2026-03-30", "06:00:00"), () => undefined)).toThrow(/no trading day within a year/)
  })
})

describe("a calendar file", () => {
  it("names every bad value with its key, and unknown keys", async () => {
    const text = JSON.stringify({
      NSE: { "2026": { holidays: [{ date: "2026-02-30", name: "x" }], specialSessions: [{ date: "2026-02-01", name: "b", open: "09:15:00", close: null }] } },
      BSE: { "2026": { holidays: [], specialSessions: [] } },
      MCX: {}
    })
    const exit = await Effect.runPromiseExit(parseCalendarFile(text, "h.json"))
    expect(Exit.isFailure(exit)).toBe(true)
    const message = JSON.stringify(exit)
    expect(message).toContain("h.json: NSE.2026.holidays[0].date")
    expect(message).toContain("2026-02-30")
    expect(message).toContain("both times or both null")
    expect(message).toContain("MCX")
  })

  it("refuses a date outside its year, and a close before the open", async () => {
    const year = (h: unknown, s: unknown = []) => JSON.stringify({ NSE: { "2026": { holidays: h, specialSessions: s } }, BSE: {} })
    expect(JSON.stringify(await Effect.runPromiseExit(parseCalendarFile(year([{ date: "2027-01-26", name: "x" }]), "h.json")))).toContain("h.json: NSE.2026: 2027-01-26 is not in 2026")
    expect(JSON.stringify(await Effect.runPromiseExit(parseCalendarFile(year([], [{ date: "2026-02-01", name: "b", open: "15:00:00", close: "09:15:00" }]), "h.json")))).toContain("must be after open (15:00:00)")
  })

  it("in the old format (a list of dates per exchange) says how to write it now", async () => {
    const exit = await Effect.runPromiseExit(parseCalendarFile('{"NSE": ["2026-01-26"], "BSE": []}', "h.json"))
    expect(JSON.stringify(exit)).toContain("h.json: NSE, BSE: a list of dates is the old format")
  })

  it("that is not JSON, or missing, says so with its name", async () => {
    expect(JSON.stringify(await Effect.runPromiseExit(parseCalendarFile("{", "h.json")))).toContain("h.json: not valid JSON")
    expect(JSON.stringify(await Effect.runPromiseExit(loadCalendarFile("/nonexistent/h.json")))).toContain("/nonexistent/h.json: cannot read")
  })
})
