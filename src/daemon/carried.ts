// The next day's start: the engine's wings still held at the previous session's close (from the
// database) that the broker still holds are the session's hedges from the open, as a replay seeds
// them from a version-2 day file (docs/recorded-day-format.md, "Carried positions").
import { Effect } from "effect"
import type { Position } from "../domain/market.ts"
import type { OpeningPosition } from "../domain/recorded-day.ts"
import { carriedShortsOf, recordCarriedShorts, type WingHeld } from "../../adapters/postgres/engine-store.ts"
import type { DaemonLog } from "./log.ts"
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

/**
 * The shorts of the day's expiry held at the open: the position feed's baseline (CARRIED_AT_OPEN).
 * Only a start before the first entry can see them apart from the day's entries, so the first such
 * start records them on the day's session row, and every later start of the day (a restart, before
 * or after the entries) uses what was recorded. Null when they are not known: a day first started
 * after its first entry, or before they were recorded (then a warning says what the trader should
 * check), or positions that could not be read (nothing is recorded; the next start looks again).
 */
export const shortsAtOpen = (
  sessionId: number,
  start: { readonly beforeEntries: boolean; readonly positions: ReadonlyArray<Position> | null; readonly expiry: string },
  log: DaemonLog
) =>
  Effect.gen(function*() {
    const recorded = yield* carriedShortsOf(sessionId)
    if (recorded.shorts !== null) return recorded.shorts
    if (start.beforeEntries && start.positions !== null) {
      const shorts = start.positions.filter((p) => p.quantity < 0 && p.expiry === start.expiry).map(({ strike, optionType, quantity, expiry }) => ({ strike, optionType, quantity, expiry }))
      yield* recordCarriedShorts(sessionId, shorts)
      return shorts
    }
    if (start.beforeEntries) {
      log.write("warn", "daemon", "the account's positions could not be read at the start: shorts carried from an earlier day are not known yet (the next start before the first entry looks again)")
      return null
    }
    const why = recorded.started
      ? "restarted after the first entry, and the shorts held at the open were not recorded when the day started (a version that did not keep them)"
      : "started after the first entry: the shorts held at the open were never seen"
    log.write(
      "warn",
      "daemon",
      `${why}. Every short of expiry ${start.expiry} the account holds is taken for one of the day's entries: if any was carried from an earlier day, the feed may report an entry that never came and, when the carried short is closed, an exit of an entry still in, so the entries to come may be under-hedged and wings covering the carried shorts are kept only by the overnight guard. Check the account's shorts against the entries due so far (the day's page or /status), and hedge the entries to come by hand if they do not match`
    )
    return null
  })
