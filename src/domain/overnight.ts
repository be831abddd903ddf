// The overnight guard's rules (docs/overnight-guard.md): which short options stay open past the close,
// whether each is covered by a long, and the wing that would cover one that is not. Pure: the decision
// service gathers the positions and the market, the session machine acts on the answer.
import { netPositions } from "./margin.ts"
import { toTick, type ChainRow, type OptionType, type Position } from "./market.ts"

/** A contract of one type and expiry at a strike, with a quantity in units (positive). */
export interface Contract {
  readonly strike: number
  readonly optionType: OptionType
  readonly expiry: string
  readonly quantity: number
}

/** How a wing is chosen for a short: at a distance beyond its strike, or in a premium band. */
export interface WingRules {
  readonly by: "distance" | "premium"
  /** Index points beyond the short's strike (further out of the money). */
  readonly distance: number
  /** Premium band, rupees per unit (by "premium"). */
  readonly minPremium: number
  readonly maxPremium: number
  /** The buy's limit price is the last price plus this; its cost is counted at the limit. */
  readonly limitPriceBuffer: number
}

/** A wing to buy: the contract, its last price and its cost at the limit price. */
export interface Wing extends Contract {
  readonly price: number
  readonly cost: number
}

/** The longs covering a short: strike and units of each. */
export type Cover = ReadonlyArray<{ readonly strike: number; readonly quantity: number }>

/** A short held overnight: how many of its units are covered and by which longs, and the wing (or why none) for the rest. */
export interface OvernightShort extends Contract {
  readonly covered: number
  readonly coveredBy: Cover
  readonly wing: Wing | null
  /** Why no wing covers the uncovered rest; null when nothing is uncovered or a wing is chosen. */
  readonly reason: string | null
}

const key = (p: { readonly strike: number; readonly optionType: OptionType; readonly expiry: string }) => `${p.expiry}|${p.optionType}|${p.strike}`

/**
 * The positions held after the close: `held` less the legs of entries timed to exit before it. Each
 * leg (signed, as `held`) is taken out at the strike it was struck at, or else at the nearest held
 * position of its type, expiry and sign within `tolerance` points with at least its quantity: the spot
 * the engine saw when the entry went in may be a tick older than the platform's. A leg not found is
 * kept: the guard errs on the side of covering.
 */
export const heldAfterClose = (
  held: ReadonlyArray<Position>,
  leaving: ReadonlyArray<{ readonly legs: ReadonlyArray<Position>; readonly tolerance: number }>
): ReadonlyArray<Position> => {
  const left = new Map<string, Position>()
  for (const p of netPositions(held)) left.set(key(p), p)
  for (const entry of leaving) {
    for (const leg of entry.legs) {
      const sign = Math.sign(leg.quantity)
      const found = [...left.values()]
        .filter((p) => p.optionType === leg.optionType && p.expiry === leg.expiry && Math.sign(p.quantity) === sign && Math.abs(p.quantity) >= Math.abs(leg.quantity))
        .filter((p) => Math.abs(p.strike - leg.strike) <= entry.tolerance)
        .sort((a, b) => Math.abs(a.strike - leg.strike) - Math.abs(b.strike - leg.strike) || a.strike - b.strike)[0]
      if (found === undefined) continue
      const quantity = found.quantity - leg.quantity
      if (quantity === 0) left.delete(key(found))
      else left.set(key(found), { ...found, quantity })
    }
  }
  return [...left.values()]
}

/** The short options that stay open past the close of `date`: net shorts not expiring on it. */
export const shortsPastClose = (positions: ReadonlyArray<Position>, date: string): ReadonlyArray<Contract> =>
  netPositions(positions)
    .filter((p) => p.quantity < 0 && p.expiry > date)
    .map((p) => ({ strike: p.strike, optionType: p.optionType, expiry: p.expiry, quantity: -p.quantity }))

/** The long options among `positions` (any expiry), as contracts. */
export const longsOf = (positions: ReadonlyArray<Position>): ReadonlyArray<Contract> =>
  netPositions(positions)
    .filter((p) => p.quantity > 0)
    .map((p) => ({ strike: p.strike, optionType: p.optionType, expiry: p.expiry, quantity: p.quantity }))

/** A long is further out of the money than a short of its type: a higher call, a lower put. */
const beyond = (long: number, short: number, optionType: OptionType) => (optionType === "CE" ? long > short : long < short)

/**
 * How many units of each short are covered. A short is covered by longs of the same type and expiry
 * struck further out of the money, unit for unit; each long unit covers one short unit. Longs are
 * shared out so as to cover as many units as can be: the farthest-out short first (only the longs
 * beyond it can cover it), each taking the nearest long beyond it. Answers per short, in the order given.
 */
export const coverOf = (shorts: ReadonlyArray<Contract>, longs: ReadonlyArray<Contract>): ReadonlyArray<Cover> => {
  const remaining = longs.map((l) => ({ ...l }))
  const covers = shorts.map((): Array<{ strike: number; quantity: number }> => [])
  // Farthest out first: the highest call, the lowest put.
  const order = shorts.map((s, i) => ({ s, i })).sort((a, b) => a.s.optionType.localeCompare(b.s.optionType) || (a.s.optionType === "CE" ? b.s.strike - a.s.strike : a.s.strike - b.s.strike))
  for (const { s, i } of order) {
    const candidates = remaining
      .filter((l) => l.optionType === s.optionType && l.expiry === s.expiry && l.quantity > 0 && beyond(l.strike, s.strike, s.optionType))
      .sort((a, b) => Math.abs(a.strike - s.strike) - Math.abs(b.strike - s.strike))
    let covered = 0
    for (const l of candidates) {
      const take = Math.min(l.quantity, s.quantity - covered)
      if (take <= 0) break
      l.quantity -= take
      covered += take
      covers[i]!.push({ strike: l.strike, quantity: take })
    }
  }
  return covers
}

/** Units of each short covered (see coverOf). */
export const coveredUnits = (shorts: ReadonlyArray<Contract>, longs: ReadonlyArray<Contract>): ReadonlyArray<number> =>
  coverOf(shorts, longs).map((c) => c.reduce((t, l) => t + l.quantity, 0))

/** Units of `shorts` no long covers. */
export const uncoveredTotal = (shorts: ReadonlyArray<Contract>, longs: ReadonlyArray<Contract>): number =>
  coveredUnits(shorts, longs).reduce((t, c, i) => t + shorts[i]!.quantity - c, 0)

/**
 * Would selling `quantity` units of this long uncover a short held overnight? Then it must be kept:
 * sold, it would leave that short naked (and raise margin at once).
 */
export const coversAShort = (shorts: ReadonlyArray<Contract>, longs: ReadonlyArray<Contract>, sold: Contract): boolean => {
  if (shorts.length === 0) return false
  const without = longs.map((l) => (key(l) === key(sold) ? { ...l, quantity: l.quantity - sold.quantity } : l)).filter((l) => l.quantity > 0)
  return uncoveredTotal(shorts, without) > uncoveredTotal(shorts, longs)
}

const points = (n: number) => `${n.toLocaleString("en-IN")} points`

/**
 * The wing for `quantity` units of a short, from the chain of its expiry: by distance, the listed
 * strike with a price nearest to `distance` points beyond the short's strike, at or beyond it and
 * no more than twice as far; by premium, the strike nearest the short, beyond it, whose last price is
 * in the band. A wing or the reason there is none, in words.
 */
export const chooseWing = (chain: ReadonlyArray<ChainRow>, short: Contract, quantity: number, rules: WingRules): Wing | { readonly reason: string } => {
  const side = short.optionType === "CE" ? 1 : -1
  const priced = chain
    .map((r) => ({ strike: r.strike, price: short.optionType === "CE" ? r.ce : r.pe }))
    .filter((r): r is { strike: number; price: number } => r.price !== null && r.price > 0 && beyond(r.strike, short.strike, short.optionType))
  const wingOf = (r: { strike: number; price: number }): Wing => {
    const limit = toTick(r.price + rules.limitPriceBuffer)
    return { strike: r.strike, optionType: short.optionType, expiry: short.expiry, quantity, price: r.price, cost: Math.round(limit * quantity * 100) / 100 }
  }
  if (rules.by === "distance") {
    const target = short.strike + side * rules.distance
    const found = priced
      .filter((r) => side * (r.strike - target) >= 0 && side * (r.strike - target) <= rules.distance)
      .sort((a, b) => Math.abs(a.strike - target) - Math.abs(b.strike - target))[0]
    return found === undefined
      ? { reason: `no ${short.optionType} strike ${points(rules.distance)} to ${points(2 * rules.distance)} beyond ${short.strike} has a price` }
      : wingOf(found)
  }
  const found = priced
    .filter((r) => r.price >= rules.minPremium && r.price <= rules.maxPremium)
    .sort((a, b) => Math.abs(a.strike - short.strike) - Math.abs(b.strike - short.strike))[0]
  return found === undefined ? { reason: `no ${short.optionType} strike beyond ${short.strike} is priced between ₹${rules.minPremium} and ₹${rules.maxPremium}` } : wingOf(found)
}

/**
 * The shorts held overnight, each with what covers it and, for an uncovered rest, the wing to buy (or
 * why none): `longs` are the longs held and those being bought; `chainOf` gives the chain of an
 * expiry, or null when the market data has none for it.
 */
export const assessShorts = (p: {
  readonly shorts: ReadonlyArray<Contract>
  readonly longs: ReadonlyArray<Contract>
  readonly chainOf: (expiry: string) => ReadonlyArray<ChainRow> | null
  readonly rules: WingRules
}): ReadonlyArray<OvernightShort> => {
  const covers = coverOf(p.shorts, p.longs)
  return p.shorts.map((s, i) => {
    const coveredBy = covers[i]!
    const covered = coveredBy.reduce((t, l) => t + l.quantity, 0)
    const rest = s.quantity - covered
    if (rest === 0) return { ...s, covered, coveredBy, wing: null, reason: null }
    const chain = p.chainOf(s.expiry)
    if (chain === null) return { ...s, covered, coveredBy, wing: null, reason: `no prices for the ${s.expiry} expiry (the market data carries the day's expiry only)` }
    const wing = chooseWing(chain, s, rest, p.rules)
    return "reason" in wing ? { ...s, covered, coveredBy, wing: null, reason: wing.reason } : { ...s, covered, coveredBy, wing, reason: null }
  })
}

/**
 * The wings of `shorts` that fit in the spend left (all of them when `spendLeft` is null: the trader
 * lets the guard exceed the day's cap), in order; the rest refused, with the reason in words.
 */
export const wingsWithinCap = (
  shorts: ReadonlyArray<OvernightShort>,
  spendLeft: number | null
): { readonly buy: ReadonlyArray<Wing>; readonly refused: ReadonlyArray<{ readonly short: OvernightShort; readonly reason: string }> } => {
  const buy: Array<Wing> = []
  const refused: Array<{ short: OvernightShort; reason: string }> = []
  let left = spendLeft ?? Number.POSITIVE_INFINITY
  for (const s of shorts) {
    if (s.wing === null) continue
    if (s.wing.cost <= left) {
      buy.push(s.wing)
      left -= s.wing.cost
    } else {
      refused.push({ short: s, reason: `the day's spend cap: ₹${Math.max(0, Math.round(left)).toLocaleString("en-IN")} left, the wing ${s.wing.strike} ${s.wing.optionType} costs ₹${Math.round(s.wing.cost).toLocaleString("en-IN")}` })
    }
  }
  return { buy, refused }
}
