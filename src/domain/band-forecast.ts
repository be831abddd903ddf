// Will there still be a hedge to buy later today? Far wings lose their time value by the hour on an
// expiry day, and by the afternoon none may be left in the premium band: an entry that comes then
// would find nothing. The forecast reprices today's chain at a later instant with each option's own
// implied volatility and the index where it is now (no view of the market, only of time passing).
import type { ChainRow, OptionType } from "./market.ts"
import { black76, impliedVol, yearFraction } from "./pricing.ts"
import type { HedgeBand } from "./selection.ts"

/**
 * True when some option within the distance band, on one of `sides`, is forecast to be priced inside
 * the premium band at `later` (it may be above the band now and decay into it).
 */
export const bandHoldsAt = (p: {
  readonly chain: ReadonlyArray<ChainRow>
  readonly spot: number
  readonly at: number
  readonly later: number
  readonly expiry: string
  readonly band: HedgeBand
  readonly sides: ReadonlyArray<OptionType>
}): boolean => {
  const now = yearFraction(p.at, p.expiry)
  const then = yearFraction(p.later, p.expiry)
  for (const row of p.chain) {
    for (const side of p.sides) {
      const distance = side === "CE" ? row.strike - p.spot : p.spot - row.strike
      if (distance < p.band.minOtmDistance || distance > p.band.maxOtmDistance) continue
      const price = side === "CE" ? row.ce : row.pe
      if (price === null || price < p.band.minPremium) continue // already below: it only falls further
      const vol = impliedVol(side, price, p.spot, row.strike, now)
      const forecast = vol === null ? price : black76(side, p.spot, row.strike, then, vol)
      if (forecast >= p.band.minPremium && forecast <= p.band.maxPremium) return true
    }
  }
  return false
}
