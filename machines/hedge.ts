// One hedge position: bought with a LIMIT order that is re-priced a bounded number of times and
// cancelled by the entry's time, then held, then sold (or left to expire when worth too little).
// Safety rules of working an order, for the buy and the sell alike:
// - at most one live order: a re-price cancels first and sends anew only once the cancel is confirmed;
// - an order whose send outcome is unknown is looked up at the broker by its client id, never re-sent;
// - a send in flight is never abandoned: a deadline that passes meanwhile cancels the order once known;
// - a call to the broker that errors is asked again after a poll interval, never in a tight loop.
// Its timers are data: each deadline is a market instant in the context, armed on entering the state
// that waits and cleared on leaving it, and checked against the time the clock events bring. A
// restored hedge carries them in its snapshot; the runtime visits them (`hedgeWakeTimes`).
import { assign, emit, sendParent, setup } from "xstate"
import { toTick, type OptionType } from "../src/domain/market.ts"
import {
  boundByRuntime,
  type AlertEvent,
  type HedgeOrderRules,
  type HedgeStatus,
  type HedgeUpdate,
  type OrderRef,
  type OrderRequest,
  type OrderState,
  type PlaceResult,
  type Quote,
  type QuoteInput
} from "./protocol.ts"

export interface HedgeInput {
  readonly id: string
  readonly forEntry: string
  /** Trading date, part of every client order id. */
  readonly date: string
  readonly strike: number
  readonly optionType: OptionType
  readonly quantity: number
  readonly otmDistance: number
  /** The broker's trading symbol, for alerts and orders. */
  readonly symbol: string
  /** Why it was bought, e.g. PRE_STRATEGY:ITJ_NF_EXP 4 (the origin's trigger reason). */
  readonly trigger: string
  /** Utilisation when it was decided, percent. */
  readonly utilisationBefore: number
  /** A buy not filled by this instant is cancelled (the entry's time). */
  readonly buyDeadlineAt: number
  /**
   * The market instant it was started at; null when started before that instant's clock event (then
   * its first clock event tells the time).
   */
  readonly startedAt: number | null
  readonly rules: HedgeOrderRules
  /** A buy at the trader's own limit price instead of one from the last price (a manual buy). */
  readonly fixedLimitPrice?: number | null
  /**
   * Held since an earlier day (carried in at the open): the hedge starts `open` holding `quantity`
   * units, bought at `entryPrice` per unit, and nothing is bought today.
   */
  readonly carried?: { readonly entryPrice: number }
}

export interface HedgeContext extends HedgeInput {
  readonly phase: "buy" | "sell"
  /** Order attempts so far in the current phase (1 = the first send). */
  readonly attempt: number
  readonly limitPrice: number
  readonly clientOrderId: string | null
  readonly orderId: string | null
  /** The buy deadline passed while an order was being sent or looked up. */
  readonly deadlinePassed: boolean
  /** Units bought and still held. */
  readonly held: number
  /** Units the latest fill added (a buy) or took away (a sell). */
  readonly lastFill: number
  readonly entryPrice: number
  readonly exitPrice: number
  readonly lastMessage: string | null
  /** The market time of the latest clock event (at first, `startedAt`). */
  readonly now: number | null
  /**
   * When the state waiting now polls the order or asks the broker again; null when none waits. Armed
   * while `now` is null, it counts from the first clock event (and is moved there when that comes).
   */
  readonly nextPollAt: number | null
  /** When an order still unfilled is re-priced or cancelled; null when no order is working. */
  readonly fillDeadlineAt: number | null
}

export type HedgeEvent =
  | { readonly type: "CLOCK"; readonly at: number }
  | { readonly type: "EXIT"; readonly reason: string }
  | { readonly type: "SESSION_CLOSE"; readonly expiryDay: boolean; readonly spot: number }

/** Client order id: a pure function of day, hedge, phase and attempt, so a restart reproduces it. */
export const clientOrderIdOf = (c: Pick<HedgeContext, "date" | "id" | "phase" | "attempt">): string =>
  `AH-${c.date.replaceAll("-", "")}-${c.id}-${c.phase === "buy" ? "B" : "S"}${c.attempt}`

const update = (c: HedgeContext, status: HedgeStatus, cash: number, note?: string): HedgeUpdate => ({
  type: "HEDGE_UPDATE",
  hedgeId: c.id,
  forEntry: c.forEntry,
  status,
  quantity: c.held,
  cash,
  ...(note === undefined ? {} : { note })
})

const alert = (c: HedgeContext, kind: AlertEvent["alert"]["kind"], severity: AlertEvent["alert"]["severity"], extra: Record<string, string | number | boolean | null> = {}): AlertEvent => ({
  type: "alert",
  alert: {
    kind,
    severity,
    actor: c.id,
    details: {
      entry: c.forEntry,
      symbol: c.symbol,
      strike: c.strike,
      optionType: c.optionType,
      quantity: c.quantity,
      trigger: c.trigger,
      utilisationBefore: c.utilisationBefore,
      otmDistance: c.otmDistance,
      ...extra
    }
  }
})

const intrinsic = (c: HedgeContext, spot: number): number =>
  Math.max(0, c.optionType === "CE" ? spot - c.strike : c.strike - spot)

const orderRequest = (c: HedgeContext): OrderRequest => ({
  clientOrderId: c.clientOrderId ?? clientOrderIdOf(c),
  hedgeId: c.id,
  symbol: c.symbol,
  side: c.phase === "buy" ? "BUY" : "SELL",
  strike: c.strike,
  optionType: c.optionType,
  quantity: c.phase === "buy" ? c.quantity : c.held,
  limitPrice: c.limitPrice
})

const orderRef = (c: HedgeContext): OrderRef => ({ orderId: c.orderId ?? "", clientOrderId: c.clientOrderId ?? "" })

/** A deadline that has come: the hedge knows the time and it is at or past the deadline. */
const reached = (c: HedgeContext, deadline: number | null): boolean => c.now !== null && deadline !== null && c.now >= deadline

/** The instants this hedge waits for (the runtime must deliver a clock event at each). */
export const hedgeWakeTimes = (c: HedgeContext): ReadonlyArray<number> =>
  c.now === null ? [] : [c.nextPollAt, c.fillDeadlineAt].filter((t): t is number => t !== null)

const hedgeSetup = setup({
  types: {
    input: {} as HedgeInput,
    context: {} as HedgeContext,
    events: {} as HedgeEvent,
    emitted: {} as AlertEvent
  },
  actors: {
    quoteOption: boundByRuntime<Quote, QuoteInput>("quoteOption"),
    placeOrder: boundByRuntime<PlaceResult, OrderRequest>("placeOrder"),
    findOrder: boundByRuntime<OrderState | null, { clientOrderId: string }>("findOrder"),
    orderStatus: boundByRuntime<OrderState, OrderRef>("orderStatus"),
    cancelOrder: boundByRuntime<OrderState, OrderRef>("cancelOrder")
  },
  guards: {
    /** A price worth acting on: any price to buy at; to sell, at least the minimum exit price. */
    quoteUsable: ({ context }, q: Quote) =>
      q.ltp !== null && q.ltp > 0 && (context.phase === "buy" || q.ltp >= context.rules.minExitPrice),
    accepted: (_, r: PlaceResult) => r.outcome === "accepted",
    outcomeUnknown: (_, r: PlaceResult) => r.outcome === "unknown",
    orderFound: (_, o: OrderState | null) => o !== null,
    filled: (_, o: OrderState) => o.status === "filled",
    /** Cancelled or rejected by the broker with nothing filled: the order is dead. */
    orderDead: (_, o: OrderState) => (o.status === "cancelled" || o.status === "rejected") && o.filledQuantity === 0,
    somethingFilled: (_, o: OrderState) => o.filledQuantity > 0,
    canReprice: ({ context }) => context.attempt <= context.rules.maxReprices && !context.deadlinePassed,
    buyDeadlinePassed: ({ context, event }) => context.phase === "buy" && event.type === "CLOCK" && event.at >= context.buyDeadlineAt,
    deadlineNoted: ({ context }) => context.deadlinePassed,
    pollDue: ({ context }) => reached(context, context.nextPollAt),
    fillTimedOut: ({ context }) => reached(context, context.fillDeadlineAt),
    nothingHeld: ({ context }) => context.held === 0,
    expiryDay: ({ event }) => event.type === "SESSION_CLOSE" && event.expiryDay
  },
  actions: {
    /** Take the clock event's time; deadlines armed before the hedge knew the time count from it. */
    keepTime: assign(({ context, event }) => {
      if (event.type !== "CLOCK") return {}
      if (context.now !== null) return { now: event.at }
      const from = (t: number | null) => (t === null ? null : t + event.at)
      return { now: event.at, nextPollAt: from(context.nextPollAt), fillDeadlineAt: from(context.fillDeadlineAt) }
    }),
    armPoll: assign(({ context }) => ({ nextPollAt: (context.now ?? 0) + context.rules.orderPollMs })),
    disarmPoll: assign({ nextPollAt: null }),
    armFillTimeout: assign(({ context }) => ({ fillDeadlineAt: (context.now ?? 0) + context.rules.fillTimeoutMs })),
    disarmFillTimeout: assign({ fillDeadlineAt: null }),
    setLimitFromQuote: assign(({ context }, q: Quote) => {
      const ltp = q.ltp ?? 0
      const buffer = context.rules.limitPriceBuffer
      // Buy above the last price (or at the trader's own price), sell below it, never below one tick.
      const fixed = context.phase === "buy" ? context.fixedLimitPrice ?? null : null
      const limitPrice = fixed ?? toTick(Math.max(0.05, context.phase === "buy" ? ltp + buffer : ltp - buffer))
      return { limitPrice, clientOrderId: clientOrderIdOf(context) }
    }),
    recordOrder: assign((_, p: { orderId: string }) => ({ orderId: p.orderId })),
    noteDeadline: assign({ deadlinePassed: true }),
    noteMessage: assign((_, p: { message: string }) => ({ lastMessage: p.message })),
    nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1, orderId: null })),
    // A broker's fill is never taken for more than the order asked for.
    recordFill: assign(({ context }, o: OrderState) => {
      const units = Math.min(o.filledQuantity, context.phase === "buy" ? context.quantity : context.held)
      return context.phase === "buy"
        ? { held: context.held + units, entryPrice: o.averagePrice, lastFill: units }
        : { held: context.held - units, exitPrice: o.averagePrice, lastFill: units }
    }),
    startSelling: assign({ phase: "sell" as const, attempt: 1, orderId: null, clientOrderId: null }),
    /** Tell the session what a fill did: bought (open), sold out (closed) or sold in part (still open). */
    reportFill: sendParent(({ context }) =>
      update(context, context.phase === "buy" || context.held > 0 ? "open" : "closed", context.lastFill * (context.phase === "buy" ? context.entryPrice : context.exitPrice))
    ),
    /** An order that ended with nothing done: a buy ends the hedge, a sell leaves it held. */
    reportNothingDone: sendParent(({ context }, p: { note: string }) =>
      update(context, context.phase === "buy" ? (context.lastMessage === null ? "cancelled" : "rejected") : "open", 0, p.note)
    ),
    reportExpired: sendParent(({ context, event }) =>
      update(context, "expired", event.type === "SESSION_CLOSE" ? intrinsic(context, event.spot) * context.held : 0)
    ),
    alertFill: emit(({ context }) =>
      context.phase === "buy"
        ? alert(context, "HEDGE_BOUGHT", "info", { price: context.entryPrice, filled: context.lastFill, cost: context.entryPrice * context.lastFill })
        : alert(context, "HEDGE_SOLD", "info", { price: context.exitPrice, filled: context.lastFill, recovered: context.exitPrice * context.lastFill })
    ),
    alertOrderFailed: emit(({ context }) =>
      alert(context, context.phase === "buy" ? "HEDGE_ORDER_FAILED" : "HEDGE_EXIT_FAILED", context.phase === "buy" ? "critical" : "warning", {
        error: context.lastMessage,
        // What a recommendation tells the trader to place it at.
        limitPrice: context.limitPrice
      })
    ),
    /** Left to expire, said with what it settles at and what it cost. */
    alertExpired: emit(({ context, event }) => {
      const spot = event.type === "SESSION_CLOSE" ? event.spot : 0
      return alert(context, "HEDGE_EXPIRED", "info", { held: context.held, spot, value: intrinsic(context, spot) * context.held, paid: context.entryPrice * context.held, minExitPrice: context.rules.minExitPrice })
    }),
    alertFillTimeout: emit(({ context }) => alert(context, "HEDGE_FILL_TIMEOUT", "warning", { phase: context.phase, attempts: context.attempt }))
  }
})

// What ends an order's life, the same for both phases; the actions say how the phase differs.
const filledTo = <G extends "filled" | "somethingFilled">(target: string, when: G) => ({
  guard: { type: when, params: ({ event }: { event: { output: OrderState } }) => event.output },
  target,
  actions: [
    { type: "recordFill" as const, params: ({ event }: { event: { output: OrderState } }) => event.output },
    "reportFill" as const,
    "alertFill" as const
  ]
})

/** A state that waits a poll interval (for the next poll, or to ask the broker again). */
const polling = { entry: "armPoll", exit: "disarmPoll" } as const

/** While an order is being sent or looked up, a buy deadline that passes is noted, never acted on. */
const noteBuyDeadline = { CLOCK: { guard: "buyDeadlinePassed", actions: ["keepTime", "noteDeadline"] } } as const

/**
 * Working one order to its end: quote, send, wait for the fill (polling), re-price a bounded number of
 * times, cancel. A deadline is acted on by the clock event that reaches it, after what that clock
 * event does itself (the buy deadline first). `done` names where the phase goes: filled; nothing
 * done (a buy: cancelled; a sell: back to open); rejected (a buy: rejected; a sell: back to open).
 */
const workingAnOrder = (done: { filled: string; nothing: string; rejected: string }) =>
  hedgeSetup.createStateConfig({
    initial: "quoting",
    states: {
      quoting: {
        on: { CLOCK: { guard: "buyDeadlinePassed", target: done.nothing, actions: ["keepTime", { type: "reportNothingDone", params: { note: "not sent before the entry time" } }] } },
        invoke: {
          id: "quoteOption",
          src: "quoteOption",
          input: ({ context }) => ({ strike: context.strike, optionType: context.optionType }),
          onDone: [
            { guard: { type: "quoteUsable", params: ({ event }) => event.output }, target: "placing", actions: { type: "setLimitFromQuote", params: ({ event }) => event.output } },
            { target: done.nothing, actions: { type: "reportNothingDone", params: { note: "no usable price (a sell below the minimum exit price is left to expire)" } } }
          ],
          onError: { target: "quoteRetry" }
        }
      },
      quoteRetry: {
        ...polling,
        on: { CLOCK: { guard: "buyDeadlinePassed", target: done.nothing, actions: ["keepTime", { type: "reportNothingDone", params: { note: "no quote before the entry time" } }] } },
        always: { guard: "pollDue", target: "quoting" }
      },
      placing: {
        on: noteBuyDeadline,
        invoke: {
          id: "placeOrder",
          src: "placeOrder",
          input: ({ context }) => orderRequest(context),
          onDone: [
            { guard: { type: "accepted", params: ({ event }) => event.output }, target: "awaitingFill", actions: { type: "recordOrder", params: ({ event }) => event.output as { orderId: string } } },
            { guard: { type: "outcomeUnknown", params: ({ event }) => event.output }, target: "reconciling" },
            {
              target: done.rejected,
              actions: [
                { type: "noteMessage", params: ({ event }) => ({ message: (event.output as { message: string }).message }) },
                "alertOrderFailed",
                { type: "reportNothingDone", params: { note: "order rejected" } }
              ]
            }
          ],
          // The runtime turns every send failure into an outcome; an error here is treated as unknown.
          onError: { target: "reconciling" }
        }
      },
      // The send's fate is unknown: ask the broker for the order by its client id, never send again.
      reconciling: {
        on: noteBuyDeadline,
        invoke: {
          id: "findOrder",
          src: "findOrder",
          input: ({ context }) => ({ clientOrderId: context.clientOrderId ?? "" }),
          onDone: [
            { guard: { type: "orderFound", params: ({ event }) => event.output }, target: "awaitingFill", actions: { type: "recordOrder", params: ({ event }) => event.output! } },
            {
              target: done.rejected,
              actions: [{ type: "noteMessage", params: { message: "the order never reached the broker" } }, "alertOrderFailed", { type: "reportNothingDone", params: { note: "order not found at the broker" } }]
            }
          ],
          onError: { target: "reconcileRetry" }
        }
      },
      reconcileRetry: {
        ...polling,
        on: noteBuyDeadline,
        always: { guard: "pollDue", target: "reconciling" }
      },
      awaitingFill: {
        initial: "working",
        entry: "armFillTimeout",
        exit: "disarmFillTimeout",
        on: { CLOCK: { guard: "buyDeadlinePassed", target: "cancelling", actions: "keepTime" } },
        // The fill timeout before the poll due at the same instant: an order is given its time, no more.
        always: [
          { guard: "deadlineNoted", target: "cancelling" },
          { guard: "fillTimedOut", target: "fillTimedOut" },
          { guard: "pollDue", target: ".checking" }
        ],
        states: {
          working: polling,
          checking: {
            invoke: {
              id: "orderStatus",
              src: "orderStatus",
              input: ({ context }) => orderRef(context),
              onDone: [
                filledTo(done.filled, "filled"),
                {
                  guard: { type: "orderDead", params: ({ event }) => event.output },
                  target: done.rejected,
                  actions: [
                    { type: "noteMessage", params: ({ event }) => ({ message: event.output.message ?? event.output.status }) },
                    "alertOrderFailed",
                    { type: "reportNothingDone", params: { note: "the order died at the broker" } }
                  ]
                },
                { target: "working" }
              ],
              onError: { target: "working" }
            }
          }
        }
      },
      fillTimedOut: {
        always: [{ guard: "canReprice", target: "repricing" }, { target: "cancelling", actions: "alertFillTimeout" }]
      },
      // Cancel, then send again at a fresh price: never two live orders for one hedge.
      repricing: {
        invoke: {
          id: "cancelOrder",
          src: "cancelOrder",
          input: ({ context }) => orderRef(context),
          onDone: [
            // Filled, or part filled, before the cancel: keep what was bought (a buy) or sold (a sell).
            filledTo(done.filled, "somethingFilled"),
            { guard: "deadlineNoted", target: done.nothing, actions: { type: "reportNothingDone", params: { note: "not filled by the entry time" } } },
            { target: "quoting", actions: "nextAttempt" }
          ],
          onError: { target: "cancelRetry" }
        }
      },
      cancelling: {
        invoke: {
          id: "cancelOrder",
          src: "cancelOrder",
          input: ({ context }) => orderRef(context),
          onDone: [filledTo(done.filled, "somethingFilled"), { target: done.nothing, actions: { type: "reportNothingDone", params: { note: "not filled in time; cancelled" } } }],
          onError: { target: "cancelRetry" }
        }
      },
      cancelRetry: { ...polling, always: { guard: "pollDue", target: "cancelling" } }
    }
  })

export const hedgeMachine = hedgeSetup.createMachine({
  id: "hedge",
  context: ({ input }) => ({
    ...input,
    phase: "buy",
    attempt: 1,
    limitPrice: 0,
    clientOrderId: null,
    orderId: null,
    deadlinePassed: false,
    held: input.carried === undefined ? 0 : input.quantity,
    lastFill: 0,
    entryPrice: input.carried?.entryPrice ?? 0,
    exitPrice: 0,
    lastMessage: null,
    now: input.startedAt,
    nextPollAt: null,
    fillDeadlineAt: null
  }),
  initial: "ordering",
  // Every clock event's time is kept (the states that act on one keep it themselves).
  on: { CLOCK: { actions: "keepTime" } },
  states: {
    ordering: workingAnOrder({ filled: "#hedge.open", nothing: "#hedge.cancelled", rejected: "#hedge.rejected" }),
    open: {
      on: {
        EXIT: { target: "exiting", actions: "startSelling" },
        SESSION_CLOSE: { guard: "expiryDay", target: "expired", actions: "alertExpired" }
      }
    },
    exiting: workingAnOrder({ filled: "#hedge.sold", nothing: "#hedge.open", rejected: "#hedge.open" }),
    // A sell fill leaves the hedge closed when nothing is held any more, open when part is.
    sold: {
      always: [{ guard: "nothingHeld", target: "closed" }, { target: "open" }]
    },
    closed: { type: "final" },
    expired: { type: "final", entry: "reportExpired" },
    cancelled: { type: "final" },
    rejected: { type: "final" }
  }
})

/**
 * A hedge held since an earlier day (input `carried`): the same machine, started open, so it is sold
 * by the exit rules like any other and nothing is bought (a machine of its own rather than an eventless
 * start: every hedge's first audit row is its start, made where the session spawned it).
 */
export const carriedHedgeMachine = hedgeSetup.createMachine({ ...(hedgeMachine.config as Parameters<typeof hedgeSetup.createMachine>[0]), initial: "open" })
