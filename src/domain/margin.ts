// Margin models: positions in, rupees out. The engine never asks "is this hedged?" itself; it asks a
// model for margin(portfolio) and compares portfolios. The constants model below is the origin's
// per-basket table; a SPAN-style model and the broker's basket margin plug in behind the same interface.
import { Effect, Schema } from "effect"
import type { MarginConstantsTable, StraddleMarginRow } from "./config.ts"
import type { ExpiryType, IndexName, OptionType, Position } from "./market.ts"
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
}

export class MarginModelError extends Schema.TaggedError<MarginModelError>()("MarginModelError", {
  model: Schema.String,
  message: Schema.String
}) {}

export interface MarginModel {
  readonly name: string
  readonly margin: (query: MarginQuery) => Effect.Effect<number, MarginModelError>
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

/** The constants row for an index and expiry type; a missing 2DTE row falls back to 1DTE (origin rule). */
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
 * The origin's constants model, defined precisely:
 * - A table row gives the margin of one basket holding a one-lot short straddle (one short CE lot and one
 *   short PE lot), without and with a hedge pair (one long wing on each side).
 * - Each short lot of a side therefore costs half a row: `withoutHedge / 2` when naked, `withHedge / 2`
 *   when a long wing of the same side covers it (see coveredShortLots). A wing on one side thus gives
 *   half the benefit of a pair, and a wing beyond the shorts it can cover adds nothing.
 * - Long options carry no margin (their premium is paid, not blocked).
 * - The expiry type comes from the trading days between the date and the expiry.
 */
export const constantsMarginModel = (table: MarginConstantsTable): MarginModel => ({
  name: "constants",
  margin: (q) => {
    const expiryType = expiryTypeOf(q.date, q.expiry)
    const row = straddleMarginFor(table, q.index, expiryType)
    if (row === undefined) {
      return Effect.fail(
        new MarginModelError({
          model: "constants",
          message: `no margin constants for ${q.index} ${expiryType} (add marginConstants.${q.index}.${expiryType} to the config)`
        })
      )
    }
    // A long and a short of the same contract offset each other before anything else.
    const positions = netPositions(q.positions)
    let total = 0
    for (const optionType of ["CE", "PE"] as const) {
      const { shortLots, coveredLots } = coveredShortLots(positions, optionType, q.lotSize)
      total += coveredLots * (row.withHedge / 2) + (shortLots - coveredLots) * (row.withoutHedge / 2)
    }
    return Effect.succeed(Math.round(total * 100) / 100)
  }
})

/** Merge positions of the same contract into one signed quantity; zero quantities disappear. */
export const netPositions = (positions: ReadonlyArray<Position>): ReadonlyArray<Position> => {
  const byKey = new Map<string, Position>()
  for (const p of positions) {
    const key = `${p.expiry}|${p.strike}|${p.optionType}`
    const prev = byKey.get(key)
    byKey.set(key, prev === undefined ? p : { ...prev, quantity: prev.quantity + p.quantity })
  }
  return [...byKey.values()].filter((p) => p.quantity !== 0)
}
