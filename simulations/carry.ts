// Consecutive days in one run: what day N holds after its close is what day N+1 opens holding.
//
// The rule (docs/recorded-day-format.md, "Carried positions in the simulator"), for `simulate --carry`:
// - day N+1 follows day N when it is the next day of the same index in the run;
// - the trader's positions at N+1's open are the file's own opening positions (of kind `entry` or
//   `unknown`) when it has any: they are what the platform held, as recorded. A file without any
//   takes day N's portfolios still held after the close (kind `entry`) and its positions of unknown
//   origin;
// - the engine's wings at N+1's open are always those the replay of day N still held after the close
//   (under the same policy: another policy holds other wings), never the file's;
// - only positions on N+1's own expiry carry (the day's chain prices that expiry alone): a position
//   that expired, or of another expiry, is not carried.
import type { HedgeRecord } from "../machines/session.ts"
import { priceOf as lastPriceOf, type Position } from "../src/domain/market.ts"
import { type OpeningPosition, type RecordedDay, versionFor } from "../src/domain/recorded-day.ts"
import { entryIdOf } from "../src/runtime/session-plan.ts"

/** Day N's positions after its close: its portfolios still held, its unknown ones, and the engine's open wings. */
export const closingPositions = (
  day: RecordedDay,
  portfolios: ReadonlyArray<readonly [string, ReadonlyArray<Position>]>,
  hedges: ReadonlyArray<HedgeRecord>
): ReadonlyArray<OpeningPosition> => {
  const h = day.header
  const held = new Set(portfolios.map(([name]) => name))
  /** What a leg was entered at: the carried position's price, or the last price at its entry's time. */
  const priceOf = (portfolio: string, leg: Position): number => {
    const carried = h.openingPositions.find((p) => p.origin?.kind === "entry" && p.origin.portfolio === portfolio && p.strike === leg.strike && p.optionType === leg.optionType)
    if (carried !== undefined) return carried.avgPrice
    const entryTime = h.entries.find((e) => e.portfolio === portfolio)?.entryTime
    const tick = entryTime === undefined ? undefined : day.ticks.filter((t) => t.time <= entryTime).at(-1)
    return (tick === undefined ? null : lastPriceOf(tick.chain, leg.strike, leg.optionType)) ?? 0.05
  }
  const trader = portfolios.flatMap(([portfolio, legs]) =>
    legs.map((leg): OpeningPosition => ({ ...leg, avgPrice: priceOf(portfolio, leg), origin: { kind: "entry", portfolio } }))
  )
  // Positions of unknown origin are never closed by the day (no exit names them): they stand until they expire.
  const unknown = h.openingPositions.filter((p) => (p.origin === undefined || p.origin.kind === "unknown") && p.expiry > h.date)
  /**
   * The portfolio held after the close that a wing was bought for, when it was bought for one (the
   * overnight guard's wings are bought for a short, not a portfolio: the next day each covers every
   * carried portfolio short on its side).
   */
  const covered = (w: HedgeRecord): string | undefined => {
    const ids = w.carriedFor ?? [w.forEntry]
    return ids.length === 1 ? [...held].find((name) => entryIdOf(name) === ids[0]) : undefined
  }
  const wings = hedges
    .filter((w) => w.status === "open" && w.held > 0 && h.expiry > h.date)
    .map((w): OpeningPosition => {
      const portfolio = covered(w)
      const carriedPrice = h.openingPositions.find((p) => p.origin?.kind === "hedge" && p.strike === w.strike && p.optionType === w.optionType)?.avgPrice
      return {
        strike: w.strike,
        optionType: w.optionType,
        quantity: w.held,
        avgPrice: w.paid > 0 ? w.paid / w.held : carriedPrice ?? 0.05,
        expiry: h.expiry,
        origin: portfolio === undefined ? { kind: "hedge" } : { kind: "hedge", portfolio }
      }
    })
  return [...trader, ...unknown, ...wings]
}

/**
 * Day N+1 as it opens after day N (the rule above). A carried portfolio named as one of N+1's own
 * entries is named with N's date: a day's portfolios must be told apart.
 */
export const carryInto = (next: RecordedDay, previousDate: string, closing: ReadonlyArray<OpeningPosition>): RecordedDay => {
  const h = next.header
  const fromFile = h.openingPositions.filter((p) => p.origin?.kind !== "hedge")
  const today = new Set(h.entries.map((e) => e.portfolio))
  const rename = (p: OpeningPosition): OpeningPosition => {
    const portfolio = p.origin?.kind === "entry" || p.origin?.kind === "hedge" ? p.origin.portfolio : undefined
    if (portfolio === undefined || !today.has(portfolio)) return p
    const renamed = `${portfolio} (${previousDate})`
    return { ...p, origin: p.origin?.kind === "entry" ? { kind: "entry", portfolio: renamed } : { kind: "hedge", portfolio: renamed } }
  }
  const trader = fromFile.length > 0 ? fromFile : closing.filter((p) => p.origin?.kind !== "hedge").map(rename)
  const wings = closing.filter((p) => p.origin?.kind === "hedge").map(rename)
  const openingPositions = [...trader, ...wings].filter((p) => p.expiry === h.expiry)
  return { ...next, header: { ...h, version: versionFor(openingPositions), openingPositions } }
}
