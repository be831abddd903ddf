// Plausible ranges of the quantities every input shares: settings, recorded days, API bodies. A value
// outside them is a typo or a unit mistake, and some (a recheck every microsecond, thirty million
// baskets, a budget of 1e-300) would stall a day or silently distort its report; each reader rejects
// them, naming the key and the value.
import { Schema } from "effect"

export const between = (minimum: number, maximum: number) => Schema.Finite.check(Schema.isBetween({ minimum, maximum }))
/** More than `minimum`, at most `maximum`. */
export const above = (minimum: number, maximum: number) =>
  Schema.Finite.check(Schema.isBetween({ minimum, maximum, exclusiveMinimum: true }))
export const wholeBetween = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

/** A trading session is 09:15-15:30: 375 minutes, 22,500 seconds. */
export const SESSION_MINUTES = 375
export const SESSION_SECONDS = SESSION_MINUTES * 60
/** Rupees: ₹100 crore is beyond any day's hedge spend, basket budget or margin figure. */
export const MAX_RUPEES = 1e9

export const Baskets = wholeBetween(1, 10_000)
/** A basket holds at least one straddle lot, whose margin is lakhs of rupees. */
export const BudgetPerBasket = between(1000, MAX_RUPEES)
export const LotsPerBasket = wholeBetween(1, 1000)
/** Units per lot (NIFTY 65-75, SENSEX 20; never near 10,000). */
export const LotSize = wholeBetween(1, 10_000)
/** Points between listed strikes (NIFTY 50, SENSEX 100). */
export const StrikeStep = above(0, 10_000)
/** An index level or a strike, points. */
export const IndexLevel = above(0, 10_000_000)
/** Strike steps from the at-the-money strike. */
export const StrikeOffset = wholeBetween(-1000, 1000)
/** An option's price per unit, rupees. */
export const OptionPrice = between(0, 1_000_000)
/** Days from a trading date to its options' expiry: weeklies and monthlies, never years. */
export const MAX_DAYS_TO_EXPIRY = 366
