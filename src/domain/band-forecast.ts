// Will there still be a hedge to buy later today? Far wings lose their time value by the hour on an
// expiry day, and by the afternoon none may be left in the premium band: an entry that comes then
// would find nothing. The forecast reprices today's chain at a later instant with each option's own
// implied volatility and the index where it is now (no view of the market, only of time passing).
import type { ChainRow, OptionType } from "./market.ts"
import { black76, impliedVol, yearFraction } from "./pricing.ts"
import type { HedgeBand } from "./selection.ts"

/**
 * True when, on every one of `sides`, some option within the distance band is forecast to be priced
 * inside the premium band at `later` (it may be above the band now and decay into it). One side with
 * nothing left is enough to be the last chance: a wing on the other side does not cap its risk.
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
  const holdsOn = (side: OptionType) =>
    p.chain.some((row) => {
      const distance = side === "CE" ? row.strike - p.spot : p.spot - row.strike
      if (distance < p.band.minOtmDistance || distance > p.band.maxOtmDistance) return false
      const price = side === "CE" ? row.ce : row.pe
      if (price === null || price < p.band.minPremium) return false // already below: it only falls further
      const vol = impliedVol(side, price, p.spot, row.strike, now)
      const forecast = vol === null ? price : black76(side, p.spot, row.strike, then, vol)
      return forecast >= p.band.minPremium && forecast <= p.band.maxPremium
    })
  return p.sides.every(holdsOn)
}
