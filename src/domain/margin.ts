// Margin models: positions in, rupees out. The engine never asks "is this hedged?" itself; it asks a
// model for margin(portfolio) and compares portfolios. The constants model below is the original design's
// per-basket table; a SPAN-style model and the broker's basket margin plug in behind the same interface.
import { Effect, Schema } from "effect"
import type { MarginConstantsTable, StraddleMarginRow } from "./config.ts"
import type { ChainRow, ExpiryType, IndexName, OptionType, Position } from "./market.ts"
import { tradingDaysBetween } from "./time.ts"

export interface MarginQuery {
  readonly index: IndexName
  /** The trading date being priced ("YYYY-MM-DD"). */
  readonly date: string
  /** Expiry of the day's options; positions of other expiries are priced as this one. */
  readonly expiry: string
  readonly lotSize: number
  readonly spot: number
  /** Instant of the valuation (epoch ms). */
  readonly at: number
  readonly positions: ReadonlyArray<Position>
  /**
   * The option chain at `at`, when known: models that price options (SPAN) take each leg's implied
   * volatility from its price here.
   */
  readonly chain?: ReadonlyArray<ChainRow>
}

/** An option contract of the query's index. */
export interface Contract {
  readonly strike: number
  readonly optionType: OptionType
  readonly expiry: string
}

/**
 * A model's margin, exactly, as a function of long quantities added to the query's portfolio:
 *
 *   margin(positions + Σ_c n_c·c) = fixed + Σ_g max(floor_g, max_s(base[g][s] + Σ_c n_c·perUnit[c][g][s]))
 *
 * for n_c ≥ 0 units of the contracts asked about (a piecewise-linear convex function, so minimum-cost
 * hedging over it is a MILP). A contract the form cannot represent exactly has `perUnit` null.
 */
export interface LinearMargin {
  readonly fixed: number
  readonly groups: ReadonlyArray<{ readonly floor: number; readonly base: ReadonlyArray<number> }>
  /** Per contract asked about (same order): per group, per scenario, the change per unit bought. */
  readonly perUnit: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>> | null>
}

/** Evaluate a linear form at quantities `n` (units per contract, same order as `perUnit`). */
export const evaluateLinear = (form: LinearMargin, n: ReadonlyArray<number>): number =>
  form.fixed +
  form.groups.reduce((sum, g, gi) => {
    let worst = g.floor
    g.base.forEach((b, s) => {
      let v = b
      form.perUnit.forEach((c, ci) => {
        if (c !== null && n[ci] !== 0) v += (n[ci] ?? 0) * c[gi]![s]!
      })
      if (v > worst) worst = v
    })
    return sum + worst
  }, 0)

export class MarginModelError extends Schema.TaggedError<MarginModelError>()("MarginModelError", {
  model: Schema.String,
  message: Schema.String
}) {}

export interface MarginModel {
  readonly name: string
  readonly margin: (query: MarginQuery) => Effect.Effect<number, MarginModelError>
  /** The margin's exact linear form around the query's portfolio, for models that have one. */
  readonly linear?: (query: MarginQuery, contracts: ReadonlyArray<Contract>) => Effect.Effect<LinearMargin, MarginModelError>
}

const expiryTypes = new Map<string, ExpiryType>()

/** 0DTE / 1DTE / 2DTE from the trading days left; anything further out prices as 2DTE. */
export const expiryTypeOf = (date: string, expiry: string): ExpiryType => {
  // Asked on every margin call; calendar arithmetic is the costly part, and its answer never changes.
  const key = `${date}|${expiry}`
  let type = expiryTypes.get(key)
  if (type === undefined) {
    const days = tradingDaysBetween(date, expiry)
    type = days === 0 ? "0DTE" : days === 1 ? "1DTE" : "2DTE"
    expiryTypes.set(key, type)
  }
  return type
}

/** The constants row for an index and expiry type; a missing 2DTE row falls back to 1DTE (the original design's rule). */
export const straddleMarginFor = (
  table: MarginConstantsTable,
  index: IndexName,
  expiryType: ExpiryType
): StraddleMarginRow | undefined => {
  const rows = table[index]
  if (rows === undefined) return undefined
  return rows[expiryType] ?? (expiryType === "2DTE" ? rows["1DTE"] : undefined)
}

/**
 * Short lots of one side that are covered by long wings of the same side: a long call covers a short
 * call of a lower strike, a long put a short put of a higher strike. Each long lot covers at most one
 * short lot (maximum matching, greedy from the wings nearest the money).
 */
export const coveredShortLots = (positions: ReadonlyArray<Position>, optionType: OptionType, lotSize: number): {
  readonly shortLots: number
  readonly coveredLots: number
} => {
  // Orient strikes so that "further out of the money" is always "larger".
  const sign = optionType === "CE" ? 1 : -1
  const side = positions.filter((p) => p.optionType === optionType && p.quantity !== 0)
  const shorts = side.filter((p) => p.quantity < 0).map((p) => ({ k: sign * p.strike, lots: -p.quantity / lotSize }))
  const longs = side.filter((p) => p.quantity > 0).map((p) => ({ k: sign * p.strike, lots: p.quantity / lotSize }))
  shorts.sort((a, b) => a.k - b.k)
  longs.sort((a, b) => a.k - b.k)
  let covered = 0
  let available = 0 // short lots strictly inside the current wing, not yet covered
  let i = 0
  for (const wing of longs) {
    while (i < shorts.length && shorts[i]!.k < wing.k) available += shorts[i++]!.lots
    const used = Math.min(available, wing.lots)
    covered += used
    available -= used
  }
  const shortLots = shorts.reduce((s, x) => s + x.lots, 0)
  return { shortLots, coveredLots: covered }
}

/**
 * The original design's constants model, defined precisely:
 * - A table row gives the margin of one basket holding a one-lot short straddle (one short CE lot and one
 *   short PE lot), without and with a hedge pair (one long wing on each side).
 * - Each short lot of a side therefore costs half a row: `withoutHedge / 2` when naked, `withHedge / 2`
 *   when a long wing of the same side covers it (see coveredShortLots). A wing on one side thus gives
 *   half the benefit of a pair, and a wing beyond the shorts it can cover adds nothing.
 * - Long options carry no margin (their premium is paid, not blocked).
 * - The expiry type comes from the trading days between the date and the expiry.
 */
/** The table's row for the query's index and expiry type, or an error that says which row to add. */
const constantsRowFor = (table: MarginConstantsTable, q: MarginQuery): Effect.Effect<StraddleMarginRow, MarginModelError> => {
  const expiryType = expiryTypeOf(q.date, q.expiry)
  const row = straddleMarginFor(table, q.index, expiryType)
  return row !== undefined
    ? Effect.succeed(row)
    : Effect.fail(
        new MarginModelError({
          model: "constants",
          message: `no margin constants for ${q.index} ${expiryType} (add marginConstants.${q.index}.${expiryType} to the config)`
        })
      )
}

export const constantsMarginModel = (table: MarginConstantsTable): MarginModel => ({
  name: "constants",
  margin: (q) => Effect.map(constantsRowFor(table, q), (row) => {
    // A long and a short of the same contract offset each other before anything else.
    const positions = netPositions(q.positions)
    let total = 0
    for (const optionType of ["CE", "PE"] as const) {
      const { shortLots, coveredLots } = coveredShortLots(positions, optionType, q.lotSize)
      total += coveredLots * (row.withHedge / 2) + (shortLots - coveredLots) * (row.withoutHedge / 2)
    }
    return Math.round(total * 100) / 100
  }),
  linear: (q, contracts) => Effect.map(constantsRowFor(table, q), (row) => constantsLinearForm(row, netPositions(q.positions), q.lotSize, contracts))
})

/**
 * The constants model's exact linear form. Per side, margin = W/2·S − D·covered with D = (W − H)/2 and
 * S the side's short lots. A long wing beyond every short of its side can cover any short lot, and
 * wings further out are matched last, so n such lots raise the side's coverage from M to
 * M + min(U, n), U = S − M the lots still uncovered:
 *
 *   margin_side = (W/2·S − D·M) + max(−D·U, −D·Σn_lots)
 *
 * one group per side, two scenarios, no floor. A wing at or inside a short of its side would change
 * which shorts the others cover, which this form cannot express: its perUnit is null. So is every
 * contract's when a hedge would raise margin (D < 0), since that is concave, not a maximum.
 */
const constantsLinearForm = (
  row: StraddleMarginRow,
  positions: ReadonlyArray<Position>,
  lotSize: number,
  contracts: ReadonlyArray<Contract>
): LinearMargin => {
  const sides = ["CE", "PE"] as const
  const d = (row.withoutHedge - row.withHedge) / 2
  let fixed = 0
  const groups: Array<{ floor: number; base: ReadonlyArray<number> }> = []
  const outermostShort = new Map<OptionType, number>()
  for (const optionType of sides) {
    const { shortLots, coveredLots } = coveredShortLots(positions, optionType, lotSize)
    fixed += coveredLots * (row.withHedge / 2) + (shortLots - coveredLots) * (row.withoutHedge / 2)
    groups.push({ floor: -Infinity, base: [-d * (shortLots - coveredLots), 0] })
    // Strikes oriented so that further out of the money is larger, as in coveredShortLots.
    const sign = optionType === "CE" ? 1 : -1
    const shorts = positions.filter((p) => p.optionType === optionType && p.quantity < 0).map((p) => sign * p.strike)
    outermostShort.set(optionType, shorts.length === 0 ? -Infinity : Math.max(...shorts))
  }
  if (d < 0) return { fixed, groups: [], perUnit: contracts.map(() => null) }
  const perUnit = contracts.map((c) => {
    const sign = c.optionType === "CE" ? 1 : -1
    if (!(sign * c.strike > outermostShort.get(c.optionType)!)) return null
    return sides.map((side) => (side === c.optionType ? [0, -d / lotSize] : [0, 0]))
  })
  return { fixed, groups, perUnit }
}

/**
 * The canonical order of contracts: expiry, strike, then option type. Expiries are "YYYY-MM-DD", so
 * comparing their characters orders them as dates (and as `localeCompare` did, at a fraction of its cost).
 */
const byContract = (a: Position, b: Position): number =>
  (a.expiry < b.expiry ? -1 : a.expiry > b.expiry ? 1 : 0) || a.strike - b.strike || (a.optionType < b.optionType ? -1 : a.optionType > b.optionType ? 1 : 0)

/** Already netted: no zero quantity, every contract once, in canonical order. */
const isNetted = (positions: ReadonlyArray<Position>): boolean => {
  for (let i = 0; i < positions.length; i++) {
    if (positions[i]!.quantity === 0) return false
    if (i > 0 && !(byContract(positions[i - 1]!, positions[i]!) < 0)) return false
  }
  return true
}

/**
 * A stably sorted copy, by binary insertion (a portfolio is tens of legs; Array.prototype.sort's
 * workspace cost more than its comparisons). Each position goes after every one equal to it.
 */
const sortedByContract = (positions: ReadonlyArray<Position>): Array<Position> => {
  const sorted: Array<Position> = []
  for (const p of positions) {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (byContract(p, sorted[mid]!) < 0) hi = mid
      else lo = mid + 1
    }
    sorted.splice(lo, 0, p)
  }
  return sorted
}

/** Merge positions of the same contract into one signed quantity; zero quantities disappear. */
export const netPositions = (positions: ReadonlyArray<Position>): ReadonlyArray<Position> => {
  // Most portfolios asked about were netted already (a margin call nets what the engine netted).
  if (isNetted(positions)) return positions
  // In one order whatever order the positions came in (the broker's list, the simulator's): the margin
  // sums over them, and floating-point sums in another order differ in the last bits, which can tip a
  // whole-lot choice made at the target's edge, so a replay would decide otherwise than the live day.
  // The sort is stable: a contract's positions stay in the order they came, and merge into the first.
  const sorted = sortedByContract(positions)
  const netted: Array<Position> = []
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i]!
    let quantity = first.quantity
    let j = i + 1
    for (; j < sorted.length && byContract(first, sorted[j]!) === 0; j++) quantity += sorted[j]!.quantity
    if (quantity !== 0) netted.push(j === i + 1 ? first : { ...first, quantity })
    i = j
  }
  return netted
}
