// The market as one held instant sees it (trading-day.ts): the first snapshot read in an instant is
// the one every reader of that instant gets (the engine's decisions, the operator API, the recorder),
// so decisions taken together agree, and a recording holds exactly what the engine decided on.
import { Effect, Exit } from "effect"
import type { MarketSnapshot } from "../domain/market.ts"
import type { MarketDataUnavailable } from "../services/services.ts"

export interface HeldMarket {
  readonly snapshot: Effect.Effect<MarketSnapshot, MarketDataUnavailable>
  /** The snapshot read at instant `at`, if any reader took one. */
  readonly seenAt: (at: number) => MarketSnapshot | undefined
}

export const holdPerInstant = (read: Effect.Effect<MarketSnapshot, MarketDataUnavailable>, instant: () => number): HeldMarket => {
  // Readers arriving while the read is in flight wait for it; a failed read is not held (the next reader asks again).
  interface Held { readonly at: number; read?: Promise<Exit.Exit<MarketSnapshot, MarketDataUnavailable>>; seen?: MarketSnapshot }
  let held: Held | undefined
  return {
    snapshot: Effect.suspend(() => {
      const at = instant()
      let entry = held
      if (entry === undefined || entry.at !== at) {
        const reading: Held = { at }
        // Held before the read starts: a read that fails at once must find itself held to let go.
        held = entry = reading
        reading.read = Effect.runPromise(Effect.exit(read.pipe(
          Effect.tap((s) => Effect.sync(() => void (reading.seen = s))),
          Effect.tapError(() => Effect.sync(() => void (held === reading && (held = undefined))))
        )))
      }
      const pending = entry.read!
      return Effect.flatMap(Effect.promise(() => pending), (exit) => exit)
    }),
    seenAt: (at) => (held?.at === at ? held.seen : undefined)
  }
}
