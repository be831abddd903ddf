// Kite's trading symbols of NFO / BFO index options (the strings of Kite's instrument dump), both ways:
//   weekly  <UNDERLYING><YY><M><DD><STRIKE><CE|PE>   NIFTY20D1713600CE  (M = 1-9 for Jan-Sep, O N D)
//   monthly <UNDERLYING><YY><MMM><STRIKE><CE|PE>     NIFTY25DEC25900CE
// A month's last expiry (the monthly contract) exists only in the monthly form, so building a symbol
// needs to know whether an expiry is the monthly one. Two ways, in order of trust:
// - the listed expiries (the broker's instrument data, e.g. OpenAlgo /expiry): the last one listed in
//   a month is that month's monthly;
// - the calendar: the exchange's expiry weekday for the index at the time (NIFTY Thursday until
//   Aug-2025, then Tuesday; SENSEX Friday until Dec-2024, Tuesday Jan-Aug 2025, then Thursday). An
//   expiry on a holiday moves to the previous trading day, so the contract's scheduled day is the first
//   expiry weekday on or after the expiry date; it is the monthly when a week later is another month.
import { DateTime } from "luxon"
import type { IndexName, OptionType } from "../../src/domain/market.ts"
import { MARKET_ZONE } from "../../src/domain/time.ts"

export type KiteExchange = "NFO" | "BFO"

/** Where an index's options trade on Kite. */
export const kiteExchange = (index: IndexName): KiteExchange => (index === "NIFTY" ? "NFO" : "BFO")

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const
const WEEKLY_MONTH_CODES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "O", "N", "D"] as const

const dateOf = (iso: string): DateTime => {
  const d = DateTime.fromISO(iso, { zone: MARKET_ZONE })
  if (!d.isValid || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) throw new Error(`expiry ${JSON.stringify(iso)}: expected a date "YYYY-MM-DD"`)
  return d
}

/** Luxon weekday (1 = Monday) of an index's expiries on a date, by the exchanges' schedule changes. */
export const expiryWeekday = (index: IndexName, date: string): number => {
  if (index === "NIFTY") return date < "2025-09-01" ? 4 : 2
  if (date < "2025-01-01") return 5
  return date < "2025-09-01" ? 2 : 4
}

/** The monthly contract by the calendar rule (see the head of this file). */
export const isMonthlyByCalendar = (index: IndexName, expiry: string): boolean => {
  const d = dateOf(expiry)
  const weekday = expiryWeekday(index, expiry)
  const scheduled = d.plus({ days: (weekday - d.weekday + 7) % 7 })
  return scheduled.plus({ days: 7 }).month !== scheduled.month
}

/** The last listed expiry of each month: the monthly contracts among listed expiries ("YYYY-MM-DD"). */
export const monthlyExpiriesOf = (listed: ReadonlyArray<string>): ReadonlySet<string> => {
  const lastOfMonth = new Map<string, string>()
  for (const e of listed) {
    const month = e.slice(0, 7)
    const seen = lastOfMonth.get(month)
    if (seen === undefined || e > seen) lastOfMonth.set(month, e)
  }
  return new Set(lastOfMonth.values())
}

/** Is this expiry a monthly contract? */
export type MonthlyRule = (index: IndexName, expiry: string) => boolean

/**
 * The listed expiries decide where they can: a listed expiry with a later one in its month is a weekly;
 * one followed only by expiries of later months is its month's monthly. The last listed expiry, and any
 * expiry not listed, go to the calendar (a listing that stops there says nothing of the rest of its month).
 */
export const monthlyRuleFrom = (listed: ReadonlyArray<string>): MonthlyRule => {
  const sorted = [...new Set(listed)].sort()
  return (index, expiry) => {
    const i = sorted.indexOf(expiry)
    const next = i === -1 ? undefined : sorted[i + 1]
    return next === undefined ? isMonthlyByCalendar(index, expiry) : next.slice(0, 7) !== expiry.slice(0, 7)
  }
}

/** The Kite trading symbol of an index option. */
export const kiteOptionSymbol = (
  index: IndexName,
  expiry: string,
  strike: number,
  optionType: OptionType,
  monthly: boolean
): string => {
  if (!(Number.isFinite(strike) && strike > 0)) throw new Error(`strike ${strike}: expected a number above 0`)
  const d = dateOf(expiry)
  const yy = String(d.year % 100).padStart(2, "0")
  const when = monthly ? `${yy}${MONTHS[d.month - 1]}` : `${yy}${WEEKLY_MONTH_CODES[d.month - 1]}${String(d.day).padStart(2, "0")}`
  return `${index}${when}${strike}${optionType}`
}

export interface ParsedKiteSymbol {
  readonly strike: number
  readonly optionType: OptionType
  /** A weekly names its date; a monthly only its month ("YYYY-MM"): its date is that month's last expiry. */
  readonly expiry: { readonly kind: "weekly"; readonly date: string } | { readonly kind: "monthly"; readonly month: string }
}

const WEEKLY = /^(\d{2})([1-9OND])(\d{2})(\d+(?:\.\d+)?)(CE|PE)$/
const MONTHLY = new RegExp(`^(\\d{2})(${MONTHS.join("|")})(\\d+(?:\\.\\d+)?)(CE|PE)$`)

/** A Kite option symbol of `index` read back; null when it is not one (another underlying, a future, …). */
export const parseKiteOptionSymbol = (index: IndexName, symbol: string): ParsedKiteSymbol | null => {
  if (!symbol.startsWith(index)) return null
  const rest = symbol.slice(index.length)
  const monthly = MONTHLY.exec(rest)
  if (monthly !== null) {
    const month = MONTHS.indexOf(monthly[2] as (typeof MONTHS)[number]) + 1
    return {
      strike: Number(monthly[3]),
      optionType: monthly[4] as OptionType,
      expiry: { kind: "monthly", month: `20${monthly[1]}-${String(month).padStart(2, "0")}` }
    }
  }
  const weekly = WEEKLY.exec(rest)
  if (weekly === null) return null
  const month = WEEKLY_MONTH_CODES.indexOf(weekly[2] as (typeof WEEKLY_MONTH_CODES)[number]) + 1
  const date = DateTime.fromObject({ year: 2000 + Number(weekly[1]), month, day: Number(weekly[3]) }, { zone: MARKET_ZONE })
  if (!date.isValid) return null
  return { strike: Number(weekly[4]), optionType: weekly[5] as OptionType, expiry: { kind: "weekly", date: date.toISODate()! } }
}

/**
 * The date of a parsed symbol's expiry: a weekly's own; a monthly's from the listed expiries (the last
 * one listed in its month), else from the calendar (the month's last expiry weekday; a holiday moves
 * it a day or two earlier, which only the listing knows).
 */
export const expiryOfParsed = (index: IndexName, parsed: ParsedKiteSymbol, listed: ReadonlyArray<string> = []): string => {
  if (parsed.expiry.kind === "weekly") return parsed.expiry.date
  const month = parsed.expiry.month
  const inMonth = listed.filter((e) => e.startsWith(`${month}-`)).sort()
  if (inMonth.length > 0) return inMonth[inMonth.length - 1]!
  let d = DateTime.fromISO(`${month}-01`, { zone: MARKET_ZONE }).endOf("month").startOf("day")
  const weekday = expiryWeekday(index, `${month}-01`)
  while (d.weekday !== weekday) d = d.minus({ days: 1 })
  return d.toISODate()!
}
