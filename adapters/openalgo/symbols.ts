// OpenAlgo's symbology and date formats, both ways: option symbols (NIFTY30DEC2525800PE — built by
// optionSymbol in src/domain/symbols.ts, read back here), the DDMMMYY expiry of requests, the
// DD-MMM-YY expiries of /expiry and /symbol, and the order timestamps of the order book.
import { DateTime } from "luxon"
import type { IndexName, OptionType } from "../../src/domain/market.ts"
import { MARKET_ZONE } from "../../src/domain/time.ts"

export interface ParsedOptionSymbol {
  readonly underlying: string
  /** "YYYY-MM-DD" */
  readonly expiry: string
  readonly strike: number
  readonly optionType: OptionType
}

const MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
// The underlying may itself hold digits (NIFTYNXT50): the lazy match tries the shortest base first.
const OPTION_SYMBOL = new RegExp(`^([A-Z][A-Z0-9&-]*?)(\\d{2})(${MONTHS})(\\d{2})(\\d+(?:\\.\\d+)?)(CE|PE)$`)

/** `NIFTY30DEC2525800PE` -> NIFTY, 2025-12-30, 25800, PE; null when it is not an option symbol. */
export const parseOptionSymbol = (symbol: string): ParsedOptionSymbol | null => {
  const m = OPTION_SYMBOL.exec(symbol)
  if (m === null) return null
  const expiry = isoFromDayMonthYear(m[2]!, m[3]!, m[4]!)
  if (expiry === null) return null
  return { underlying: m[1]!, expiry, strike: Number(m[5]), optionType: m[6] as OptionType }
}

const isoFromDayMonthYear = (day: string, month: string, year: string): string | null => {
  const dt = DateTime.fromFormat(`${day}${month}${year}`, "ddLLLyy", { locale: "en", zone: MARKET_ZONE })
  return dt.isValid ? dt.toISODate() : null
}

/** "2026-02-10" -> "10FEB26", the `expiry_date` of /optionchain. */
export const expiryParam = (isoDate: string): string =>
  DateTime.fromISO(isoDate).setLocale("en").toFormat("ddLLLyy").toUpperCase()

/** "10-FEB-26" (as /expiry and /symbol answer) -> "2026-02-10"; null when it is not such a date. */
export const expiryFromListing = (listed: string): string | null => {
  const m = /^(\d{2})-([A-Za-z]{3})-(\d{2})$/.exec(listed.trim())
  return m === null ? null : isoFromDayMonthYear(m[1]!, m[2]!.toUpperCase(), m[3]!)
}

/** The exchange an index's options trade on, and the one its spot is quoted on. */
export const optionsExchange = (index: IndexName): "NFO" | "BFO" => (index === "NIFTY" ? "NFO" : "BFO")
export const spotExchange = (index: IndexName): "NSE_INDEX" | "BSE_INDEX" => (index === "NIFTY" ? "NSE_INDEX" : "BSE_INDEX")

// Order book timestamps are broker-dependent: "08-Apr-2025 13:58:03" (live docs),
// "2025-04-08 13:58:03" (sandbox), sometimes ISO. All are Indian wall-clock times unless they say otherwise.
const TIMESTAMP_FORMATS = ["dd-LLL-yyyy HH:mm:ss", "yyyy-MM-dd HH:mm:ss", "dd-MM-yyyy HH:mm:ss"]

/** Epoch ms of an order timestamp, null when it cannot be read. */
export const parseOrderTimestamp = (text: string): number | null => {
  const t = text.trim()
  for (const format of TIMESTAMP_FORMATS) {
    const dt = DateTime.fromFormat(t, format, { locale: "en", zone: MARKET_ZONE })
    if (dt.isValid) return dt.toMillis()
  }
  const iso = DateTime.fromISO(t, { zone: MARKET_ZONE })
  return iso.isValid ? iso.toMillis() : null
}
