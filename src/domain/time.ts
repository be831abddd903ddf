// Market time: every instant in the engine is epoch milliseconds; this module is the only place
// that turns dates and "HH:MM:SS" wall-clock times of the Indian market into instants and back.
import { DateTime } from "luxon"

export const MARKET_ZONE = "Asia/Kolkata"
export const MARKET_OPEN = "09:15:00"
export const MARKET_CLOSE = "15:30:00"

const TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$/
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/

export const isWallTime = (s: string): boolean => TIME_PATTERN.test(s)
export const isIsoDate = (s: string): boolean =>
  DATE_PATTERN.test(s) && DateTime.fromISO(s, { zone: MARKET_ZONE }).isValid

// Instants already worked out: every margin call asks for its expiry's close, and luxon's zone
// arithmetic is far dearer than a lookup. Bounded, as a long-running daemon meets new dates.
const INSTANTS_KEPT = 10_000
const instants = new Map<string, number>()

/** The instant of a wall-clock time on a trading date in India. */
export const instantOf = (date: string, wallTime: string): number => {
  const key = `${date}T${wallTime}`
  const known = instants.get(key)
  if (known !== undefined) return known
  const dt = DateTime.fromISO(key, { zone: MARKET_ZONE })
  if (!dt.isValid) throw new RangeError(`invalid market time ${date} ${wallTime}`)
  const at = dt.toMillis()
  if (instants.size >= INSTANTS_KEPT) instants.clear()
  instants.set(key, at)
  return at
}

/** "HH:MM:SS" in India of an instant. */
export const wallTimeOf = (at: number): string => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toFormat("HH:mm:ss")

/** "YYYY-MM-DD" in India of an instant. */
export const dateOf = (at: number): string => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toISODate() ?? ""

/** Weekday name ("Monday" ...) of a trading date. */
export const weekdayOf = (date: string): string => DateTime.fromISO(date, { zone: MARKET_ZONE }).setLocale("en").toFormat("cccc")

/**
 * Trading days (weekdays not in `holidays`) after `date` up to `expiry`, 0 when they are the same day.
 * Weekdays are counted by whole weeks, so any range is instant; only the holidays inside it are stepped.
 */
export const tradingDaysBetween = (date: string, expiry: string, holidays: ReadonlySet<string> = new Set()): number => {
  const start = DateTime.fromISO(date, { zone: MARKET_ZONE })
  const days = Math.round(DateTime.fromISO(expiry, { zone: MARKET_ZONE }).diff(start, "days").days)
  if (!(days > 0)) return 0
  let n = Math.floor(days / 7) * 5
  let weekday = start.weekday // 1 Monday ... 7 Sunday
  for (let i = 0; i < days % 7; i++) {
    weekday = (weekday % 7) + 1
    if (weekday <= 5) n++
  }
  for (const holiday of holidays) {
    if (holiday > date && holiday <= expiry && DateTime.fromISO(holiday, { zone: MARKET_ZONE }).weekday <= 5) n--
  }
  return n
}

export const addMinutes = (at: number, minutes: number): number => at + minutes * 60_000
