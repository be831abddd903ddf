// Recommendation mode (the grid-hedging document's third mode) as a venue over another: the engine
// decides exactly as live, reads positions and margin from the real account, and places nothing. An
// order it would send is refused here with the order spelled out, so the engine's own order-failed
// alert carries the recommendation to the trader, and the audit shows the decision.
import { Effect, Layer } from "effect"
import { type Broker, OrderRejected } from "../../src/services/services.ts"
import { Venue } from "../../src/services/venue.ts"

export const recommendBroker = (account: Broker["Service"]): Broker["Service"] => ({
  ...account,
  placeOrder: (req) =>
    Effect.fail(
      new OrderRejected({
        clientOrderId: req.clientOrderId,
        message: `recommend mode, not placed: ${req.side} ${req.quantity} ${req.symbol} LIMIT ${req.limitPrice.toFixed(2)}`
      })
    ),
  // Nothing was ever sent: there is nothing to ask about or cancel.
  findOrder: () => Effect.succeed(null)
})

/** The venue below (its market, account and margin), with every order refused as a recommendation. */
export const recommendVenue: Layer.Layer<Venue, never, Venue> = Layer.effect(
  Venue,
  Effect.gen(function*() {
    const venue = yield* Venue
    return {
      ...venue,
      name: `recommend over ${venue.name}`,
      day: (p) =>
        Effect.map(venue.day(p), (day) => ({
          ...day,
          trading: (session) => Effect.map(day.trading(session), (real) => ({ ...real, broker: recommendBroker(real.broker) }))
        }))
    }
  })
)
