// Recommendation mode (the grid-hedging document's third mode): the engine decides exactly as live,
// reads positions and margin from the real account, and places nothing. An order it would send is
// refused here with the order spelled out, so the engine's own order-failed alert carries the
// recommendation to the trader, and the audit shows the decision.
import { Effect } from "effect"
import { Broker, OrderRejected } from "../services/services.ts"

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
