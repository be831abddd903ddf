// The market as one held instant sees it (trading-day.ts): the first snapshot read in an instant is
// the one every reader of that instant gets (the engine's decisions, the operator API, the recorder),
// so decisions taken together agree, and a recording holds exactly what the engine decided on.
import { Effect, Exit } from "effect"
import type { MarketSnapshot } from "../domain/market.ts"
import type { Broker, MarginMonitor, MarketDataUnavailable } from "../services/services.ts"

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

/**
 * The account as one held instant sees it: the positions and the funds are read once per instant and
 * shared by every reader of it (what the platform did, each decision, the peak tracker, the recorder),
 * as the market is; anything that may have changed the account (an order sent, cancelled or looked at:
 * a fill is learnt that way) lets go of what was held, so a reader after it reads again. A failed read
 * is not held. Against OpenAlgo's 10 reads a second per route, this is what lets a sped-up day keep pace.
 */
export const holdAccountPerInstant = <B extends Broker["Service"], M extends MarginMonitor["Service"]>(broker: B, monitor: M, instant: () => number): { readonly broker: B; readonly monitor: M } => {
  let changes = 0
  const holdRead = <A, E>(read: Effect.Effect<A, E>): Effect.Effect<A, E> => {
    let held: { readonly at: number; readonly changes: number; readonly read: Promise<Exit.Exit<A, E>> } | undefined
    return Effect.suspend(() => {
      const at = instant()
      if (held === undefined || held.at !== at || held.changes !== changes) {
        const reading = { at, changes, read: Effect.runPromise(Effect.exit(read)) }
        held = reading
        void reading.read.then((exit) => void (Exit.isFailure(exit) && held === reading && (held = undefined)))
      }
      const pending = held.read
      return Effect.flatMap(Effect.promise(() => pending), (exit) => exit)
    })
  }
  const changing = <A, E>(call: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      changes++
      return Effect.ensuring(call, Effect.sync(() => void changes++))
    })
  return {
    broker: {
      ...broker,
      placeOrder: (req) => changing(broker.placeOrder(req)),
      orderStatus: (orderId) => changing(broker.orderStatus(orderId)),
      cancelOrder: (orderId) => changing(broker.cancelOrder(orderId)),
      findOrder: (clientOrderId, sent) => changing(broker.findOrder(clientOrderId, sent)),
      positions: holdRead(broker.positions),
      funds: holdRead(broker.funds)
    },
    monitor: { ...monitor, marginInUse: holdRead(monitor.marginInUse) }
  }
}
