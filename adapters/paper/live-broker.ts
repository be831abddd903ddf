// The internal paper broker over live market data (`daemon --mode paper --paper-broker internal`):
// the strategies are real (their positions and margin are the account's), the hedges are paper. A
// hedge order fills when a market snapshot taken after it was placed shows the option's last price
// at or inside its limit, at that price. Margin in use is the broker's, moved by what the margin model
// says the paper hedges change. Its state is kept in a store, so a restarted daemon finds its orders.
import { Effect } from "effect"
import type { OrderRequest, OrderState } from "../../machines/protocol.ts"
import { netPositions, type MarginModel } from "../../src/domain/margin.ts"
import { priceOf, type IndexName, type Position } from "../../src/domain/market.ts"
import {
  type Broker,
  BrokerUnavailable,
  type MarginMonitor,
  MarginUnavailable,
  type MarketData,
  OrderNotFound,
  OrderRejected
} from "../../src/services/services.ts"
import type { PaperBrokerStore } from "./world.ts"

interface PaperOrder {
  readonly request: OrderRequest
  readonly orderId: string
  readonly placedAt: number
  state: OrderState
}

export interface LivePaperState {
  readonly orders: ReadonlyArray<PaperOrder>
}


export interface LivePaperOptions {
  /** The real account: positions and funds of the strategies. */
  readonly account: Broker["Service"]
  readonly accountMargin: MarginMonitor["Service"]
  readonly market: MarketData["Service"]
  readonly model: MarginModel
  readonly session: { readonly index: IndexName; readonly date: string; readonly expiry: string; readonly lotSize: number }
  readonly store?: PaperBrokerStore<LivePaperState>
}

export const livePaperBroker = (o: LivePaperOptions) =>
  Effect.gen(function*() {
    const orders = new Map<string, PaperOrder>((((yield* o.store?.load ?? Effect.succeed(null))?.orders) ?? []).map((x) => [x.orderId, { ...x }]))
    const keep = o.store === undefined ? Effect.void : Effect.suspend(() => o.store!.save({ orders: [...orders.values()] }))
    const unavailable = (operation: string) => (e: { message: string }) => new BrokerUnavailable({ operation, message: e.message })

    /** Fill what the market now allows: a snapshot taken after the order, its price at or inside the limit. */
    const fillFromMarket = Effect.gen(function*() {
      const open = [...orders.values()].filter((x) => x.state.status === "open")
      if (open.length === 0) return
      const snapshot = yield* o.market.snapshot
      let changed = false
      for (const order of open) {
        const price = priceOf(snapshot.chain, order.request.strike, order.request.optionType)
        if (price === null || snapshot.at <= order.placedAt) continue
        const fills = order.request.side === "BUY" ? price <= order.request.limitPrice : price >= order.request.limitPrice
        if (!fills) continue
        order.state = { orderId: order.orderId, status: "filled", filledQuantity: order.request.quantity, averagePrice: price }
        changed = true
      }
      if (changed) yield* keep
    }).pipe(Effect.mapError(unavailable("market data for paper fills")))

    const paperPositions = (): ReadonlyArray<Position> =>
      [...orders.values()]
        .filter((x) => x.state.filledQuantity > 0)
        .map((x) => ({
          strike: x.request.strike,
          optionType: x.request.optionType,
          quantity: x.request.side === "BUY" ? x.state.filledQuantity : -x.state.filledQuantity,
          expiry: o.session.expiry
        }))

    const stateOf = (orderId: string) =>
      Effect.flatMap(fillFromMarket, () => {
        const order = orders.get(orderId)
        return order === undefined ? Effect.fail(new OrderNotFound({ orderId })) : Effect.succeed(order.state)
      })

    /** What the paper hedges change in the account's margin, by the model. */
    const hedgeMarginDelta = Effect.gen(function*() {
      const account = yield* o.account.positions
      const snapshot = yield* o.market.snapshot
      const query = { ...o.session, spot: snapshot.spot, at: snapshot.at, chain: snapshot.chain }
      const without = yield* o.model.margin({ ...query, positions: netPositions(account) })
      const withHedges = yield* o.model.margin({ ...query, positions: netPositions([...account, ...paperPositions()]) })
      return withHedges - without
    })

    const broker: Broker["Service"] = {
      placeOrder: (request) =>
        Effect.gen(function*() {
          if ([...orders.values()].some((x) => x.request.clientOrderId === request.clientOrderId)) {
            return yield* new OrderRejected({ clientOrderId: request.clientOrderId, message: "duplicate client order id" })
          }
          const snapshot = yield* o.market.snapshot.pipe(Effect.orElseSucceed(() => null))
          const orderId = `LP${orders.size + 1}`
          orders.set(orderId, { request, orderId, placedAt: snapshot?.at ?? 0, state: { orderId, status: "open", filledQuantity: 0, averagePrice: 0 } })
          yield* keep
          return { orderId }
        }),
      orderStatus: stateOf,
      cancelOrder: (orderId) =>
        Effect.flatMap(stateOf(orderId), (state) => {
          if (state.status !== "open") return Effect.succeed(state)
          const cancelled: OrderState = { ...state, status: "cancelled" }
          orders.get(orderId)!.state = cancelled
          return Effect.as(keep, cancelled)
        }),
      findOrder: (clientOrderId) =>
        Effect.flatMap(fillFromMarket, () => Effect.succeed([...orders.values()].find((x) => x.request.clientOrderId === clientOrderId)?.state ?? null)),
      positions: Effect.flatMap(fillFromMarket, () => Effect.map(o.account.positions, (account) => [...account, ...paperPositions()])),
      funds: Effect.gen(function*() {
        const real = yield* o.account.funds
        const delta = yield* hedgeMarginDelta.pipe(Effect.mapError(unavailable("funds")))
        return { usedMargin: real.usedMargin + delta, availableMargin: real.availableMargin - delta }
      })
    }
    const marginMonitor: MarginMonitor["Service"] = {
      marginInUse: Effect.gen(function*() {
        const real = yield* o.accountMargin.marginInUse
        const delta = yield* hedgeMarginDelta.pipe(Effect.mapError((e) => new MarginUnavailable({ message: e.message })))
        return real + delta
      })
    }
    return { broker, marginMonitor }
  })
