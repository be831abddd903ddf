// Trading symbols of index options in OpenAlgo's format: NIFTY30DEC2525800PE (index, expiry DDMMMYY,
// strike, CE|PE). The broker adapter checks them against the instrument master.
import { DateTime } from "luxon"
import type { IndexName, OptionType } from "./market.ts"

export const optionSymbol = (index: IndexName, expiry: string, strike: number, optionType: OptionType): string =>
  `${index}${DateTime.fromISO(expiry).setLocale("en").toFormat("ddLLLyy").toUpperCase()}${strike}${optionType}`
