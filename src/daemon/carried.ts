// The next day's start: the engine's wings still held at the previous session's close (from the
// database) that the broker still holds are the session's hedges from the open, as a replay seeds
// them from a version-2 day file (docs/recorded-day-format.md, "Carried positions").
import type { Position } from "../domain/market.ts"
import type { OpeningPosition } from "../domain/recorded-day.ts"
import type { WingHeld } from "../../adapters/postgres/engine-store.ts"
import { CARRIED_AT_OPEN } from "./position-feed.ts"

/**
 * The wings carried in: each held at the previous close, not expired by `date`, and only as much of it
 * as the broker's long position in that contract still holds (a wing sold by hand overnight, or
 * expired, is not the engine's any more); two wings in one contract share what the broker holds, in order.
 */
export const carriedWingsAtOpen = (wings: ReadonlyArray<WingHeld>, positions: ReadonlyArray<Position>, date: string): ReadonlyArray<OpeningPosition> => {
  const long = new Map<string, number>()
  const key = (p: { strike: number; optionType: string; expiry: string }) => `${p.strike}|${p.optionType}|${p.expiry}`
  for (const p of positions) if (p.quantity > 0) long.set(key(p), (long.get(key(p)) ?? 0) + p.quantity)
  return wings.flatMap((w): ReadonlyArray<OpeningPosition> => {
    if (w.expiry < date) return []
    const left = long.get(key(w)) ?? 0
    const quantity = Math.min(w.quantity, left)
    if (quantity <= 0) return []
    long.set(key(w), left - quantity)
    return [{ strike: w.strike, optionType: w.optionType, quantity, avgPrice: w.entryPrice, expiry: w.expiry, origin: { kind: "hedge" } }]
  })
}

/**
 * The shorts of the day's expiry the account holds before the first entry, as the one carried portfolio
 * the position feed watches (CARRIED_AT_OPEN): a carried wing on their side is kept until it is exited.
 */
export const carriedShortsAtOpen = (positions: ReadonlyArray<Position>, expiry: string): ReadonlyArray<OpeningPosition> =>
  positions
    .filter((p) => p.quantity < 0 && p.expiry === expiry)
    .map((p) => ({ strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: p.expiry, avgPrice: 0.05, origin: { kind: "entry", portfolio: CARRIED_AT_OPEN } }))
