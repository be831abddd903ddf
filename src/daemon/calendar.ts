// The trading calendar the daemon lives by: weekdays that are not exchange holidays, each with its
// set-up (09:00), market (09:15–15:30) and end-of-day summary (15:35), all in India's time. Holidays
// come from configuration (config/holidays.json, or AUTOHEDGE_HOLIDAYS_FILE), per exchange: NSE for
// NIFTY days, BSE for SENSEX days. Expiries are not derived here: the broker's instrument data says
// them (a holiday-shifted expiry is simply what it lists).
import { readFile } from "node:fs/promises"
import { DateTime } from "luxon"
import { Effect, Result, Schema } from "effect"
import { keyPath, schemaProblems } from "../domain/schema-issues.ts"
import { instantOf, isIsoDate, MARKET_CLOSE, MARKET_OPEN, MARKET_ZONE } from "../domain/time.ts"
import { EOD_SUMMARY_TIME } from "../runtime/session-plan.ts"
import { parseBoundedJson } from "../domain/bounded-json.ts"

export type Exchange = "NSE" | "BSE"

/** When the day's session is set up: the schedule read, the expiry asked, the engine started. */
export const SETUP_TIME = "09:00:00"

export interface TradingCalendar {
  readonly holidays: Readonly<Record<Exchange, ReadonlySet<string>>>
}

const IsoDate = Schema.String.check(Schema.makeFilter(isIsoDate, { expected: 'a date "YYYY-MM-DD"' }))
const HolidaysSchema = Schema.Struct({ NSE: Schema.Array(IsoDate), BSE: Schema.Array(IsoDate) })

export class CalendarError extends Schema.TaggedError<CalendarError>()("CalendarError", {
  message: Schema.String
}) {}

export const BUNDLED_HOLIDAYS_FILE = "config/holidays.json"

/** Read a holidays file: `{"NSE": ["YYYY-MM-DD", ...], "BSE": [...]}`; every bad value named. */
export const parseHolidays = (text: string, fileName: string): Effect.Effect<TradingCalendar, CalendarError> =>
  Effect.gen(function*() {
    let json: unknown
    try {
      json = parseBoundedJson(text)
    } catch (e) {
      return yield* new CalendarError({ message: `${fileName}: not valid JSON (${(e as Error).message})` })
    }
    const decoded = Schema.decodeUnknownResult(HolidaysSchema)(json, { errors: "all", onExcessProperty: "error" })
    if (Result.isFailure(decoded)) {
      const problems = schemaProblems(decoded.failure.issue, json).map((p) =>
        `${fileName}: ${p.path.length === 0 ? "(root)" : keyPath(p.path)}: ${p.problem} (got ${JSON.stringify(p.value) ?? "nothing"})`
      )
      return yield* new CalendarError({ message: problems.join("\n") })
    }
    return { holidays: { NSE: new Set(decoded.success.NSE), BSE: new Set(decoded.success.BSE) } }
  })

export const loadHolidaysFile = (path: string): Effect.Effect<TradingCalendar, CalendarError> =>
  Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: (e) => new CalendarError({ message: `${path}: cannot read (${(e as Error).message})` }) }).pipe(
    Effect.flatMap((text) => parseHolidays(text, path))
  )

export const isTradingDay = (calendar: TradingCalendar, exchange: Exchange, date: string): boolean =>
  DateTime.fromISO(date, { zone: MARKET_ZONE }).weekday <= 5 && !calendar.holidays[exchange].has(date)

/** The instants of one trading day's phases. */
export interface DayTimes {
  readonly date: string
  readonly setupAt: number
  readonly openAt: number
  readonly closeAt: number
  readonly summaryAt: number
}

export const dayTimes = (date: string): DayTimes => ({
  date,
  setupAt: instantOf(date, SETUP_TIME),
  openAt: instantOf(date, MARKET_OPEN),
  closeAt: instantOf(date, MARKET_CLOSE),
  summaryAt: instantOf(date, EOD_SUMMARY_TIME)
})

/**
 * The trading day to run next from `now`: today while its summary is still ahead (a start mid-day
 * resumes it), else the next date that `trades` says is a trading day. `trades` decides per date
 * (the exchange depends on which index that weekday trades).
 */
export const nextTradingDay = (now: number, trades: (date: string) => boolean): DayTimes => {
  let date = DateTime.fromMillis(now, { zone: MARKET_ZONE }).startOf("day")
  for (let i = 0; i < 370; i++, date = date.plus({ days: 1 })) {
    const iso = date.toISODate()!
    if (!trades(iso)) continue
    const times = dayTimes(iso)
    if (now < times.summaryAt) return times
  }
  throw new RangeError("no trading day within a year: check the schedule and the holiday list")
}
