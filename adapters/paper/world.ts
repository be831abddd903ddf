// The paper world of one recorded day: the market as recorded, the external platform entering and
// exiting its strategies as the day says, and a paper broker that fills hedge orders against the
// recorded prices. Its margin in use comes from a "truth" margin model over the positions it holds.
import { Effect } from "effect"
import type { OrderRequest, OrderState } from "../../machines/protocol.ts"
import type { RecordedDay, TickRecord } from "../../src/domain/recorded-day.ts"
import { type MarginModel, netPositions } from "../../src/domain/margin.ts"
import { priceOf, type MarketSnapshot, type Position } from "../../src/domain/market.ts"
import { legPositions, utilisationPct } from "../../src/domain/projection.ts"
import { instantOf, MARKET_CLOSE } from "../../src/domain/time.ts"
import {
  BrokerUnavailable,
  MarginUnavailable,
  MarketDataUnavailable,
  OrderNotFound,
  OrderRejected,
  type Broker,
  type MarginMonitor,
  type MarketData,
  type StrategyEvent,
  type StrategyFeed
} from "../../src/services/services.ts"

export interface PaperOrder {
  readonly request: OrderRequest
  readonly orderId: string
  readonly placedAt: number
  state: OrderState
}

export interface ScheduledStrategyEvent {
  readonly at: number
  readonly kind: "entered" | "exited"
  readonly portfolio: string
  readonly reason: string
}

/**
 * The platform's entries and exits of the day, in the order it makes them: by time, and in one
 * instant exits (timed and stops) before entries, as the engine's projection assumes (exits before
 * entries, issue 18) — except a stop of a portfolio entered in that same instant, which follows its
 * own entry (it has nothing to close before).
 */
export const strategySchedule = (day: RecordedDay): ReadonlyArray<ScheduledStrategyEvent> => {
  const h = day.header
  const exitedEarly = new Map(day.exits.map((e) => [e.portfolio, e.at]))
  const enteredAt = new Map(h.entries.map((e) => [e.portfolio, instantOf(h.date, e.entryTime)]))
  const events: Array<ScheduledStrategyEvent> = []
  for (const e of h.entries) {
    events.push({ at: enteredAt.get(e.portfolio)!, kind: "entered", portfolio: e.portfolio, reason: "SCHEDULED" })
    const early = exitedEarly.get(e.portfolio)
    if (e.exitTime !== null) {
      const at = instantOf(h.date, e.exitTime)
      if (early === undefined || early > at) events.push({ at, kind: "exited", portfolio: e.portfolio, reason: "TIMED" })
    }
  }
  for (const x of day.exits) events.push({ at: x.at, kind: "exited", portfolio: x.portfolio, reason: x.reason })
  const rank = (e: ScheduledStrategyEvent) => (e.kind === "entered" ? 1 : enteredAt.get(e.portfolio) === e.at ? 2 : 0)
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || rank(a.e) - rank(b.e) || a.i - b.i)
    .map(({ e }) => e)
}

export interface Breach {
  readonly portfolio: string
  readonly at: number
  readonly utilisationPct: number
}

/** Everything the paper broker knows, as plain data (it outlives the engine's process). */
export interface PaperWorldState {
  readonly now: number
  readonly tickIndex: number
  readonly scheduleIndex: number
  readonly positions: ReadonlyArray<Position>
  readonly portfolios: ReadonlyArray<readonly [string, ReadonlyArray<Position>]>
  readonly orders: ReadonlyArray<PaperOrder>
  readonly observed: ReadonlyArray<StrategyEvent>
  readonly breaches: ReadonlyArray<Breach>
  readonly peakUtilisationPct: number
}

/** Where a durable paper broker keeps its state. */
export interface PaperBrokerStore<S> {
  readonly load: Effect.Effect<S | null>
  readonly save: (state: S) => Effect.Effect<void>
}

export type PaperWorldStore = PaperBrokerStore<PaperWorldState>

export class PaperWorld {
  private tickIndex = -1
  private positions: Array<Position> = []
  private readonly portfolios = new Map<string, ReadonlyArray<Position>>()
  private readonly orders = new Map<string, PaperOrder>()
  private readonly byClientId = new Map<string, string>()
  private readonly schedule: Array<ScheduledStrategyEvent>
  private scheduleIndex = 0
  private readonly observed: Array<StrategyEvent> = []
  private now: number
  private readonly expiryAt: number
  readonly budget: number
  readonly breaches: Array<Breach> = []
  peakUtilisationPct = 0

  constructor(
    readonly day: RecordedDay,
    private readonly truth: MarginModel,
    /** A broker outlives the engine: with a store, every change is kept before it is answered. */
    private readonly store?: PaperWorldStore
  ) {
    const h = day.header
    this.budget = h.baskets * h.budgetPerBasket
    this.positions = [...h.openingPositions]
    // A portfolio carried in is held from the open: an exit record of the day closes its legs.
    for (const p of h.openingPositions) {
      if (p.origin?.kind !== "entry") continue
      const leg: Position = { strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: p.expiry }
      this.portfolios.set(p.origin.portfolio, [...(this.portfolios.get(p.origin.portfolio) ?? []), leg])
    }
    this.now = day.ticks[0]?.at ?? instantOf(h.date, "09:15:00")
    this.expiryAt = h.expiry === h.date ? instantOf(h.date, MARKET_CLOSE) : Number.POSITIVE_INFINITY
    this.schedule = [...strategySchedule(day)]
  }

  state(): PaperWorldState {
    return {
      now: this.now,
      tickIndex: this.tickIndex,
      scheduleIndex: this.scheduleIndex,
      positions: this.positions,
      portfolios: [...this.portfolios.entries()],
      orders: [...this.orders.values()].map((o) => ({ ...o })),
      observed: [...this.observed],
      breaches: [...this.breaches],
      peakUtilisationPct: this.peakUtilisationPct
    }
  }

  /** Carry on from a kept state (the broker after the engine's process died). */
  restore(state: PaperWorldState): void {
    this.now = state.now
    this.tickIndex = state.tickIndex
    this.scheduleIndex = state.scheduleIndex
    this.positions = [...state.positions]
    this.portfolios.clear()
    for (const [k, v] of state.portfolios) this.portfolios.set(k, v)
    this.orders.clear()
    this.byClientId.clear()
    for (const o of state.orders) {
      this.orders.set(o.orderId, { ...o })
      this.byClientId.set(o.request.clientOrderId, o.orderId)
    }
    this.observed.splice(0, this.observed.length, ...state.observed)
    this.breaches.splice(0, this.breaches.length, ...state.breaches)
    this.peakUtilisationPct = state.peakUtilisationPct
  }

  /** The instant the world stands at. */
  get at(): number {
    return this.now
  }

  /** Something a restart could not work out again from the day itself: an order, a fill, an event. */
  private changed = false

  private get keep(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.store === undefined || !this.changed) return Effect.void
      this.changed = false
      return this.store.save(this.state())
    })
  }

  get tick(): TickRecord | undefined {
    return this.day.ticks[this.tickIndex]
  }

  /** The next instant at which the world itself changes (a tick or a strategy event). */
  nextEventAt(): number | undefined {
    const nextTick = this.day.ticks[this.tickIndex + 1]?.at
    const nextStrategy = this.schedule[this.scheduleIndex]?.at
    const candidates = [nextTick, nextStrategy, this.expiryAt > this.now ? this.expiryAt : undefined].filter(
      (t): t is number => t !== undefined && Number.isFinite(t)
    )
    return candidates.length === 0 ? undefined : Math.min(...candidates)
  }

  /** Move the world to `at`: new ticks (and the fills they bring) first, then strategy events. */
  advanceTo(at: number): Effect.Effect<void, never> {
    return Effect.gen({ self: this }, function*() {
      this.now = at
      while ((this.day.ticks[this.tickIndex + 1]?.at ?? Number.POSITIVE_INFINITY) <= at) {
        this.tickIndex++
        this.fillWorkingOrders()
      }
      while ((this.schedule[this.scheduleIndex]?.at ?? Number.POSITIVE_INFINITY) <= at) {
        const ev = this.schedule[this.scheduleIndex++]!
        if (ev.kind === "entered") this.enter(ev.portfolio)
        else if (this.portfolios.has(ev.portfolio)) this.exit(ev.portfolio)
        else continue
        this.observed.push({ kind: ev.kind, portfolio: ev.portfolio, at: ev.at, reason: ev.reason })
        this.changed = true
        const pct = yield* this.utilisation()
        if (ev.kind === "entered" && pct > 100) this.breaches.push({ portfolio: ev.portfolio, at: ev.at, utilisationPct: pct })
      }
      if (at >= this.expiryAt && this.positions.length > 0) this.expire()
      yield* this.utilisation()
      yield* this.keep
    })
  }

  private utilisation(): Effect.Effect<number> {
    return this.truthMargin().pipe(
      Effect.map((m) => {
        const pct = utilisationPct(m, this.budget)
        if (pct > this.peakUtilisationPct) {
          this.peakUtilisationPct = pct
          this.changed = true
        }
        return pct
      }),
      Effect.orElseSucceed(() => this.peakUtilisationPct)
    )
  }

  /** The last margin worked out, and what it was worked out on (a margin model is a pure function). */
  private lastTruth: { readonly positions: ReadonlyArray<Position>; readonly at: number; readonly tickIndex: number; readonly margin: number } | null = null

  private truthMargin() {
    return Effect.suspend(() => {
      const positions = this.positions
      const at = this.now
      const tickIndex = this.tickIndex
      const last = this.lastTruth
      // Asked several times an instant (the world's utilisation, the engine's margin in use and funds).
      if (last !== null && last.positions === positions && last.at === at && last.tickIndex === tickIndex) return Effect.succeed(last.margin)
      const h = this.day.header
      const tick = this.tick
      return Effect.tap(
        this.truth.margin({ index: h.index, date: h.date, expiry: h.expiry, lotSize: h.lotSize, spot: tick?.spot ?? 0, at, positions, chain: tick?.chain ?? [] }),
        (margin) => Effect.sync(() => (this.lastTruth = { positions, at, tickIndex, margin }))
      )
    })
  }

  private price(strike: number, optionType: "CE" | "PE"): number | null {
    return this.tick === undefined ? null : priceOf(this.tick.chain, strike, optionType)
  }

  private hold(change: ReadonlyArray<Position>): void {
    this.changed = true
    this.positions = [...netPositions([...this.positions, ...change])]
  }

  private enter(portfolio: string): void {
    const h = this.day.header
    const entry = h.entries.find((e) => e.portfolio === portfolio)!
    const legs = legPositions(entry.legs, this.tick?.spot ?? 0, h.strikeStep, h.baskets, h.lotSize, h.expiry)
    this.portfolios.set(portfolio, legs)
    this.hold(legs)
  }

  private exit(portfolio: string): void {
    const legs = this.portfolios.get(portfolio) ?? []
    this.portfolios.delete(portfolio)
    this.hold(legs.map((p) => ({ ...p, quantity: -p.quantity })))
  }

  private expire(): void {
    for (const p of this.portfolios.keys()) this.observed.push({ kind: "exited", portfolio: p, at: this.now, reason: "EXPIRED" })
    this.portfolios.clear()
    this.positions = []
    this.changed = true
  }

  /** A working order fills at a later tick's price once that price reaches its limit. */
  private fillWorkingOrders(): void {
    const tick = this.tick!
    for (const order of this.orders.values()) {
      if (order.state.status !== "open" || order.placedAt >= tick.at) continue
      this.fillIfMarketable(order, priceOf(tick.chain, order.request.strike, order.request.optionType))
    }
  }

  /** As a broker fills a limit order: at the price, when the price is at or inside the limit. */
  private fillIfMarketable(order: PaperOrder, price: number | null): void {
    if (price === null) return
    const r = order.request
    if (r.side === "BUY" ? price <= r.limitPrice : price >= r.limitPrice) this.fill(order, price)
  }

  private fill(order: PaperOrder, price: number): void {
    const r = order.request
    order.state = { orderId: order.orderId, status: "filled", filledQuantity: r.quantity, averagePrice: price }
    this.hold([{ strike: r.strike, optionType: r.optionType, quantity: r.side === "BUY" ? r.quantity : -r.quantity, expiry: this.day.header.expiry }])
  }

  // ---- the services this world provides

  readonly marketData: MarketData["Service"] = {
    snapshot: Effect.suspend(() => {
      const tick = this.tick
      if (tick === undefined) return Effect.fail(new MarketDataUnavailable({ message: "no tick recorded yet" }))
      return Effect.succeed<MarketSnapshot>({ at: tick.at, spot: tick.spot, chain: tick.chain })
    })
  }

  readonly broker: Broker["Service"] = {
    placeOrder: (request) =>
      Effect.suspend(() => {
        if (this.byClientId.has(request.clientOrderId)) {
          return Effect.fail(new OrderRejected({ clientOrderId: request.clientOrderId, message: "duplicate client order id" }))
        }
        if (request.quantity <= 0 || request.limitPrice <= 0) {
          return Effect.fail(new OrderRejected({ clientOrderId: request.clientOrderId, message: `invalid quantity ${request.quantity} or price ${request.limitPrice}` }))
        }
        const orderId = `P${this.orders.size + 1}`
        const order: PaperOrder = {
          request,
          orderId,
          placedAt: this.now,
          state: { orderId, status: "open", filledQuantity: 0, averagePrice: 0 }
        }
        this.orders.set(orderId, order)
        this.byClientId.set(request.clientOrderId, orderId)
        this.changed = true
        // A marketable order fills at once, at the tick's price (the recorded day has last prices only).
        this.fillIfMarketable(order, this.price(request.strike, request.optionType))
        return Effect.as(this.keep, { orderId })
      }),
    orderStatus: (orderId) => this.order(orderId),
    cancelOrder: (orderId) =>
      Effect.flatMap(this.order(orderId), (state) => {
        if (state.status !== "open") return Effect.succeed(state)
        const cancelled: OrderState = { ...state, status: "cancelled" }
        this.orders.get(orderId)!.state = cancelled
        this.changed = true
        return Effect.as(this.keep, cancelled)
      }),
    findOrder: (clientOrderId) =>
      Effect.sync(() => {
        const id = this.byClientId.get(clientOrderId)
        return id === undefined ? null : this.orders.get(id)!.state
      }),
    positions: Effect.sync(() => this.positions),
    // The paper account holds exactly the day's budget.
    funds: Effect.suspend(() => this.truthMargin()).pipe(
      Effect.map((used) => ({ usedMargin: used, availableMargin: this.budget - used })),
      Effect.mapError((e) => new BrokerUnavailable({ operation: "funds", message: e.message }))
    )
  }

  /** The portfolios held now (the day's entries in, and those carried in), each with its legs. */
  heldPortfolios(): ReadonlyArray<readonly [string, ReadonlyArray<Position>]> {
    return [...this.portfolios.entries()]
  }

  /** Every order received, in order. */
  orderLog(): ReadonlyArray<OrderRequest> {
    return [...this.orders.values()].map((o) => o.request)
  }

  private order(orderId: string): Effect.Effect<OrderState, OrderNotFound | BrokerUnavailable> {
    return Effect.suspend(() => {
      const order = this.orders.get(orderId)
      return order === undefined ? Effect.fail(new OrderNotFound({ orderId })) : Effect.succeed(order.state)
    })
  }

  readonly marginMonitor: MarginMonitor["Service"] = {
    marginInUse: Effect.suspend(() => this.truthMargin()).pipe(
      Effect.mapError((e) => new MarginUnavailable({ message: e.message }))
    )
  }

  readonly strategyFeed: StrategyFeed["Service"] = {
    seen: Effect.sync(() => [...this.observed])
  }
}
