// The market calendar: for an exchange and a date, is there a trading session, and with which hours?
// Pure: the calendar is built from per-year data (the broker's holiday list, its cached copy, the
// bundled file) by the calendar service (src/services/calendar.ts); a year none of them covers is
// weekdays only, and says so. Each answer carries its source.
//
// Rules:
// - a regular session is a weekday that is not a holiday, 09:15-15:30 IST;
// - a special session (the Budget Sunday, Muhurat trading) is a day with hours of its own; one whose
//   hours are not yet announced is known but not tradeable;
// - a weekly expiry on a holiday moves to the previous regular session (specials never hold an expiry),
//   and the day type (0/1/2 DTE) counts regular sessions.
import { DateTime } from "luxon"
import type { EntrySpec, ExpiryType, IndexName } from "./market.ts"
import { dayScheduleFor, WEEKDAYS, weeklyExpiryOf, WEEKLY_EXPIRY_WEEKDAY, type Schedule, type ScheduledDay, type Weekday } from "./schedule.ts"
import { MARKET_CLOSE, MARKET_OPEN, MARKET_ZONE } from "./time.ts"

export const EXCHANGES = ["NSE", "BSE"] as const
export type Exchange = (typeof EXCHANGES)[number]

/** Where a year's calendar came from, best first. */
export type CalendarSource = "broker" | "cache" | "file" | "weekdays"

export interface SessionHours {
  /** "HH:MM:SS" IST */
  readonly open: string
  readonly close: string
}

export const REGULAR_HOURS: SessionHours = { open: MARKET_OPEN, close: MARKET_CLOSE }

export interface Holiday {
  readonly date: string
  readonly name: string
}

export interface SpecialSession {
  readonly date: string
  readonly name: string
  /** null: announced as a session, hours not known yet (Muhurat trading's come by circular). */
  readonly hours: SessionHours | null
  /** The weekday whose scheduled entries the trader's platform runs in it (a Sunday has none of its own). */
  readonly schedule?: Weekday | undefined
}

/** One exchange's year: its weekday holidays and its special sessions. */
export interface ExchangeYear {
  readonly holidays: ReadonlyArray<Holiday>
  readonly specialSessions: ReadonlyArray<SpecialSession>
}

export interface CalendarYear {
  readonly exchange: Exchange
  readonly year: number
  readonly source: CalendarSource
  readonly days: ExchangeYear
}

export interface MarketCalendar {
  readonly years: ReadonlyArray<CalendarYear>
}

const EMPTY_YEAR: ExchangeYear = { holidays: [], specialSessions: [] }

export const exchangeOfIndex = (index: IndexName): Exchange => (index === "NIFTY" ? "NSE" : "BSE")

const yearOfDate = (date: string): number => Number(date.slice(0, 4))
const isWeekend = (date: string): boolean => DateTime.fromISO(date, { zone: MARKET_ZONE }).weekday > 5

/** The year's data and where it came from; a year no source covers is weekdays only. */
export const calendarYear = (calendar: MarketCalendar, exchange: Exchange, year: number): CalendarYear =>
  calendar.years.find((y) => y.exchange === exchange && y.year === year) ?? { exchange, year, source: "weekdays", days: EMPTY_YEAR }

export type DayKind = "regular" | "special" | "holiday" | "weekend"

/** What the calendar says of one date. */
export interface CalendarDay {
  readonly date: string
  readonly exchange: Exchange
  readonly kind: DayKind
  readonly source: CalendarSource
  /** The holiday's or the special session's name. */
  readonly name?: string | undefined
  /** A session's hours; null for a holiday, a weekend, or a special session whose hours are not known. */
  readonly hours: SessionHours | null
  /** A special session: the weekday whose schedule it runs, if known. */
  readonly schedule?: Weekday | undefined
}

export const dayOn = (calendar: MarketCalendar, exchange: Exchange, date: string): CalendarDay => {
  const year = calendarYear(calendar, exchange, yearOfDate(date))
  const base = { date, exchange, source: year.source }
  const special = year.days.specialSessions.find((s) => s.date === date)
  if (special !== undefined) return { ...base, kind: "special", name: special.name, hours: special.hours, schedule: special.schedule }
  const holiday = year.days.holidays.find((h) => h.date === date)
  if (holiday !== undefined) return { ...base, kind: "holiday", name: holiday.name, hours: null }
  if (isWeekend(date)) return { ...base, kind: "weekend", hours: null }
  return { ...base, kind: "regular", hours: REGULAR_HOURS }
}

/** A tradeable session (known hours) on `date`, or undefined. */
export const sessionOn = (calendar: MarketCalendar, exchange: Exchange, date: string): CalendarDay | undefined => {
  const day = dayOn(calendar, exchange, date)
  return day.hours === null ? undefined : day
}

/** A weekday that is not a holiday: the days expiries fall on and day types count. */
export const isRegularSession = (calendar: MarketCalendar, exchange: Exchange, date: string): boolean =>
  dayOn(calendar, exchange, date).kind === "regular"

/** Every weekday holiday the calendar knows for an exchange (for weeklyExpiryOf and the generator). */
export const holidaysOf = (calendar: MarketCalendar, exchange: Exchange): ReadonlySet<string> =>
  new Set(calendar.years.filter((y) => y.exchange === exchange).flatMap((y) => y.days.holidays.map((h) => h.date)))

/** The weekly expiry current on `date`, moved back over the exchange's holidays. */
export const weeklyExpiryOn = (calendar: MarketCalendar, index: IndexName, date: string): string =>
  weeklyExpiryOf(index, date, holidaysOf(calendar, exchangeOfIndex(index)))

/** Regular sessions after `date` up to `expiry`: 0 on expiry day. */
export const sessionsToExpiry = (calendar: MarketCalendar, exchange: Exchange, date: string, expiry: string): number => {
  let n = 0
  for (let d = DateTime.fromISO(date, { zone: MARKET_ZONE }).plus({ days: 1 }); (d.toISODate() ?? "") <= expiry; d = d.plus({ days: 1 })) {
    if (isRegularSession(calendar, exchange, d.toISODate()!)) n++
  }
  return n
}

export const dayTypeOf = (calendar: MarketCalendar, exchange: Exchange, date: string, expiry: string): ExpiryType => {
  const n = sessionsToExpiry(calendar, exchange, date, expiry)
  return n === 0 ? "0DTE" : n === 1 ? "1DTE" : "2DTE"
}

/** The weekday whose schedule a session runs: its own, or the one a special session names. */
export const scheduleWeekdayOf = (day: CalendarDay): Weekday | undefined => {
  if (day.schedule !== undefined) return day.schedule
  const name = DateTime.fromISO(day.date, { zone: MARKET_ZONE }).setLocale("en").toFormat("cccc")
  return (WEEKDAYS as ReadonlyArray<string>).includes(name) ? (name as Weekday) : undefined
}

/**
 * What the calendar and the schedule make of a date: the session's day (its exchange is that of the
 * index the schedule trades then) and the schedule's entries that fall within its hours (those outside
 * in `outside`); undefined when no entry does. A special session runs the schedule of the weekday it
 * names (a Sunday has none of its own); exits after its close are brought to the close.
 */
export const scheduledSessionOn = (
  schedule: Schedule,
  calendar: MarketCalendar,
  date: string
): { readonly day: CalendarDay; readonly scheduled: ScheduledDay; readonly outside: ReadonlyArray<EntrySpec> } | undefined => {
  const plain = dayScheduleFor(schedule, date)
  // The exchange is known from the index; a weekend special session's comes from the weekday it runs.
  for (const exchange of plain === undefined ? EXCHANGES : [exchangeOfIndex(plain.index)]) {
    const day = dayOn(calendar, exchange, date)
    const hours = day.hours
    if (hours === null) continue
    const weekday = scheduleWeekdayOf(day)
    const scheduled = weekday === undefined ? undefined : schedule.days[weekday]
    if (scheduled === undefined || exchangeOfIndex(scheduled.index) !== exchange) continue
    const sorted = [...scheduled.entries].sort((a, b) => a.entryTime.localeCompare(b.entryTime))
    const within = (e: EntrySpec) => e.entryTime >= hours.open && e.entryTime <= hours.close
    const entries = sorted.filter(within).map((e) => (e.exitTime !== null && e.exitTime > hours.close ? { ...e, exitTime: hours.close } : e))
    if (entries.length === 0) continue
    return { day, scheduled: { ...scheduled, weekday: weekday!, entries }, outside: sorted.filter((e) => !within(e)) }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// The broker against the file

/** What differs between two lists of one exchange's year, one line per date ("" when they agree). */
export const differences = (exchange: Exchange, year: number, broker: ExchangeYear, file: ExchangeYear): ReadonlyArray<string> => {
  const lines: Array<string> = []
  const describe = (y: ExchangeYear, date: string): string => {
    const h = y.holidays.find((x) => x.date === date)
    if (h !== undefined) return `holiday (${h.name})`
    const s = y.specialSessions.find((x) => x.date === date)
    if (s !== undefined) return `special session ${s.hours === null ? "(hours not known)" : `${s.hours.open.slice(0, 5)}-${s.hours.close.slice(0, 5)}`} (${s.name})`
    return isWeekend(date) ? "nothing (a weekend day)" : "a regular session"
  }
  const key = (y: ExchangeYear, date: string): string => {
    const s = y.specialSessions.find((x) => x.date === date)
    if (s !== undefined) return `S${s.hours === null ? "?" : `${s.hours.open}-${s.hours.close}`}`
    return y.holidays.some((x) => x.date === date) ? "H" : "R"
  }
  const dates = [...new Set([...broker.holidays, ...broker.specialSessions, ...file.holidays, ...file.specialSessions].map((d) => d.date))].sort()
  for (const date of dates) {
    if (yearOfDate(date) !== year) continue
    const b = key(broker, date)
    const f = key(file, date)
    // The broker's list is of exceptions: a weekend day it does not list is not a statement.
    if (b === "R" && isWeekend(date)) continue
    // A special session whose hours only one side knows is not a disagreement.
    if (b === f || (b.startsWith("S") && f.startsWith("S") && (b === "S?" || f === "S?"))) continue
    lines.push(`${exchange} ${date}: the broker says ${describe(broker, date)}, the file ${describe(file, date)}`)
  }
  return lines
}

/**
 * The broker's year completed by the file's: a special session keeps the hours and schedule the file
 * knows when the broker's has none, and a weekend special session only the file lists is kept (the
 * broker lists exceptions; OpenAlgo's list has Muhurat trading but not the Budget Sunday).
 */
export const mergeKnown = (winner: ExchangeYear, other: ExchangeYear): ExchangeYear => {
  const listed = new Set([...winner.holidays, ...winner.specialSessions].map((d) => d.date))
  const specials = winner.specialSessions.map((s) => {
    const o = other.specialSessions.find((x) => x.date === s.date)
    return o === undefined ? s : { ...s, hours: s.hours ?? o.hours, schedule: s.schedule ?? o.schedule }
  })
  const weekendOnly = other.specialSessions.filter((s) => !listed.has(s.date) && isWeekend(s.date))
  return { holidays: winner.holidays, specialSessions: [...specials, ...weekendOnly].sort((a, b) => a.date.localeCompare(b.date)) }
}

// ---------------------------------------------------------------------------------------------
// A year listed (`autohedge calendar`)

export interface ListedDay {
  readonly date: string
  readonly weekday: string
  readonly what: "holiday" | "special session" | "expiry" | "expiry moved"
  readonly detail: string
  readonly source: CalendarSource
}

export interface YearListing {
  readonly exchange: Exchange
  readonly year: number
  readonly source: CalendarSource
  readonly regularSessions: number
  readonly days: ReadonlyArray<ListedDay>
}

const weekdayShort = (date: string): string => DateTime.fromISO(date, { zone: MARKET_ZONE }).setLocale("en").toFormat("ccc")

/** A year of one exchange: its holidays, special sessions and the weekly expiries of its index. */
export const listYear = (calendar: MarketCalendar, exchange: Exchange, year: number): YearListing => {
  const y = calendarYear(calendar, exchange, year)
  const index: IndexName = exchange === "NSE" ? "NIFTY" : "SENSEX"
  const days: Array<ListedDay> = []
  let regular = 0
  const start = DateTime.fromObject({ year, month: 1, day: 1 }, { zone: MARKET_ZONE })
  for (let d = start; d.year === year; d = d.plus({ days: 1 })) {
    const date = d.toISODate()!
    const day = dayOn(calendar, exchange, date)
    const weekday = weekdayShort(date)
    if (day.kind === "regular") regular++
    if (day.kind === "holiday") days.push({ date, weekday, what: "holiday", detail: day.name ?? "", source: y.source })
    if (day.kind === "special") {
      const hours = day.hours === null ? "hours not known" : `${day.hours.open.slice(0, 5)}-${day.hours.close.slice(0, 5)}`
      days.push({ date, weekday, what: "special session", detail: `${day.name ?? ""}, ${hours}${day.schedule === undefined ? "" : `, runs ${day.schedule}'s schedule`}`, source: y.source })
    }
    // The nominal weekly expiry day: where the calendar puts that week's expiry.
    if (d.weekday === WEEKLY_EXPIRY_WEEKDAY[index]) {
      const expiry = weeklyExpiryOn(calendar, index, d.minus({ days: 6 }).toISODate()!)
      const moved = expiry !== date
      if (yearOfDate(expiry) === year)
        days.push({ date: expiry, weekday: weekdayShort(expiry), what: moved ? "expiry moved" : "expiry", detail: moved ? `${index} weekly (from ${weekdayShort(date)} ${date})` : `${index} weekly`, source: y.source })
    }
  }
  days.sort((a, b) => a.date.localeCompare(b.date) || a.what.localeCompare(b.what))
  return { exchange, year, source: y.source, regularSessions: regular, days }
}
