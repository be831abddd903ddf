// Core market vocabulary shared by the engine, the simulator and the adapters.
export type IndexName = "NIFTY" | "SENSEX"
export type OptionType = "CE" | "PE"
export type Side = "BUY" | "SELL"
export type ExpiryType = "0DTE" | "1DTE" | "2DTE"

/** One leg of a strategy entry, as scheduled: strike given in steps from ATM at entry. */
export interface LegSpec {
  readonly side: Side
  readonly optionType: OptionType
  readonly strikeOffset: number
  readonly lotsPerBasket: number
}

/** The sides an entry sells (CE, PE or both): where its risk is, and which wings can hedge it. */
export const shortSidesOf = (legs: ReadonlyArray<LegSpec>): ReadonlyArray<OptionType> => [...new Set(legs.filter((l) => l.side === "SELL").map((l) => l.optionType))]

/** A scheduled strategy entry of one day (times are "HH:MM:SS" IST). */
export interface EntrySpec {
  readonly portfolio: string
  readonly entryTime: string
  readonly exitTime: string | null
  readonly legs: ReadonlyArray<LegSpec>
}

/** An option position: quantity is signed units (negative = short). */
export interface Position {
  readonly strike: number
  readonly optionType: OptionType
  readonly quantity: number
  readonly expiry: string
}

/** One row of an option chain: last prices per unit, null where not traded / not listed. */
export interface ChainRow {
  readonly strike: number
  readonly ce: number | null
  readonly pe: number | null
}

/** The market at one instant. `at` is epoch milliseconds. */
export interface MarketSnapshot {
  readonly at: number
  readonly spot: number
  readonly chain: ReadonlyArray<ChainRow>
}

export const priceOf = (chain: ReadonlyArray<ChainRow>, strike: number, optionType: OptionType): number | null => {
  const row = chain.find((r) => r.strike === strike)
  if (row === undefined) return null
  return optionType === "CE" ? row.ce : row.pe
}

/** The listed strike nearest to spot; a tie goes to the lower strike (recorded-day spec). */
export const atmStrike = (spot: number, strikeStep: number): number => {
  const below = Math.floor(spot / strikeStep) * strikeStep
  const above = below + strikeStep
  return above - spot < spot - below ? above : below
}

/** Round a price to the exchange's 0.05 tick. */
export const toTick = (price: number): number => Math.round(price * 20) / 20
