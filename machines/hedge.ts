// One hedge position: bought with a LIMIT order that is re-priced a bounded number of times and
// cancelled by the entry's time, then held, then sold (or left to expire when worth too little).
// An order whose send outcome is unknown is reconciled with the broker, never sent again blind.
import { assign, emit, sendParent, setup } from "xstate"
import { toTick, type OptionType } from "../src/domain/market.ts"
import {
  boundByRuntime,
  type AlertEvent,
  type HedgeOrderRules,
  type HedgeStatus,
  type HedgeUpdate,
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
  /** A buy not filled by this instant is cancelled (the entry's time). */
  readonly buyDeadlineAt: number
  readonly rules: HedgeOrderRules
}

export interface HedgeContext extends HedgeInput {
  readonly phase: "buy" | "sell"
  /** Order attempts so far in the current phase (1 = the first send). */
  readonly attempt: number
  readonly limitPrice: number
  readonly clientOrderId: string | null
  readonly orderId: string | null
  /** Units bought and still held. */
  readonly held: number
  readonly entryPrice: number
  readonly exitPrice: number
  readonly lastMessage: string | null
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
    details: { entry: c.forEntry, strike: c.strike, optionType: c.optionType, quantity: c.quantity, ...extra }
  }
})

const intrinsic = (c: HedgeContext, spot: number): number =>
  Math.max(0, c.optionType === "CE" ? spot - c.strike : c.strike - spot)

export const hedgeMachine = setup({
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
    orderStatus: boundByRuntime<OrderState, { orderId: string }>("orderStatus"),
    cancelOrder: boundByRuntime<OrderState, { orderId: string }>("cancelOrder")
  },
  delays: {
    fillTimeout: ({ context }) => context.rules.fillTimeoutMs,
    orderPoll: ({ context }) => context.rules.orderPollMs
  },
  guards: {
    isBuying: ({ context }) => context.phase === "buy",
    quoteUsable: (_, q: Quote) => q.ltp !== null && q.ltp > 0,
    accepted: (_, r: PlaceResult) => r.outcome === "accepted",
    outcomeUnknown: (_, r: PlaceResult) => r.outcome === "unknown",
    orderFound: (_, o: OrderState | null) => o !== null,
    filled: (_, o: OrderState | null) => o !== null && o.status === "filled",
    /** Cancelled or rejected by the broker with nothing filled: the order is dead. */
    orderDead: (_, o: OrderState) => (o.status === "cancelled" || o.status === "rejected") && o.filledQuantity === 0,
    partlyFilled: (_, o: OrderState) => o.filledQuantity > 0,
    canReprice: ({ context }) => context.attempt <= context.rules.maxReprices,
    buyDeadlinePassed: ({ context, event }) => context.phase === "buy" && event.type === "CLOCK" && event.at >= context.buyDeadlineAt,
    worthSelling: ({ context }, q: Quote) => q.ltp !== null && q.ltp >= context.rules.minExitPrice,
    expiryDay: ({ event }) => event.type === "SESSION_CLOSE" && event.expiryDay
  },
  actions: {
    setLimitFromQuote: assign(({ context }, q: Quote) => {
      const ltp = q.ltp ?? 0
      const buffer = context.rules.limitPriceBuffer
      // Buy above the last price, sell below it, never below one tick.
      const limitPrice = toTick(Math.max(0.05, context.phase === "buy" ? ltp + buffer : ltp - buffer))
      return { limitPrice, clientOrderId: clientOrderIdOf(context) }
    }),
    recordOrder: assign((_, p: { orderId: string }) => ({ orderId: p.orderId })),
    noteMessage: assign((_, p: { message: string }) => ({ lastMessage: p.message })),
    nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1, orderId: null })),
    recordBuyFill: assign(({ context }, o: OrderState) => ({
      held: context.held + o.filledQuantity,
      entryPrice: o.averagePrice
    })),
    recordSellFill: assign(({ context }, o: OrderState) => ({
      held: context.held - o.filledQuantity,
      exitPrice: o.averagePrice
    })),
    startSelling: assign({ phase: "sell" as const, attempt: 1, orderId: null, clientOrderId: null }),
    reportBought: sendParent(({ context }) => update(context, "open", context.held * context.entryPrice)),
    reportSold: sendParent(({ context }) => update(context, "closed", context.quantity * context.exitPrice)),
    reportFinal: sendParent(({ context }, p: { status: HedgeStatus; note: string }) => update(context, p.status, 0, p.note)),
    reportExpired: sendParent(({ context, event }) =>
      update(context, "expired", event.type === "SESSION_CLOSE" ? intrinsic(context, event.spot) * context.held : 0)
    ),
    reportStillOpen: sendParent(({ context }, p: { note: string }) => update(context, "open", 0, p.note)),
    alertBought: emit(({ context }) => alert(context, "HEDGE_BOUGHT", "info", { price: context.entryPrice, cost: context.entryPrice * context.held })),
    alertSold: emit(({ context }) => alert(context, "HEDGE_SOLD", "info", { price: context.exitPrice, recovered: context.exitPrice * context.quantity })),
    alertOrderFailed: emit(({ context }) => alert(context, "HEDGE_ORDER_FAILED", "critical", { phase: context.phase, error: context.lastMessage })),
    alertFillTimeout: emit(({ context }) => alert(context, "HEDGE_FILL_TIMEOUT", "warning", { phase: context.phase, attempts: context.attempt })),
    alertExitFailed: emit(({ context }) => alert(context, "HEDGE_EXIT_FAILED", "warning", { error: context.lastMessage }))
  }
}).createMachine({
  id: "hedge",
  context: ({ input }) => ({
    ...input,
    phase: "buy",
    attempt: 1,
    limitPrice: 0,
    clientOrderId: null,
    orderId: null,
    held: 0,
    entryPrice: 0,
    exitPrice: 0,
    lastMessage: null
  }),
  initial: "ordering",
  states: {
    // ---- Working an order. `ordering` buys; `exiting` sells through the same steps (see orderSteps).
    ordering: {
      initial: "quoting",
      on: { CLOCK: { guard: "buyDeadlinePassed", target: ".cancelling" } },
      states: {
        quoting: {
          invoke: {
            src: "quoteOption",
            input: ({ context }) => ({ strike: context.strike, optionType: context.optionType }),
            onDone: [
              { guard: { type: "quoteUsable", params: ({ event }) => event.output }, target: "placing", actions: { type: "setLimitFromQuote", params: ({ event }) => event.output } },
              { target: "#hedge.cancelled", actions: [{ type: "reportFinal", params: { status: "cancelled", note: "no price for the option" } }] }
            ],
            onError: { target: "#hedge.cancelled", actions: [{ type: "reportFinal", params: { status: "cancelled", note: "quote failed" } }] }
          }
        },
        placing: {
          invoke: {
            src: "placeOrder",
            input: ({ context }) => orderRequest(context),
            onDone: [
              { guard: { type: "accepted", params: ({ event }) => event.output }, target: "awaitingFill", actions: { type: "recordOrder", params: ({ event }) => event.output as { orderId: string } } },
              { guard: { type: "outcomeUnknown", params: ({ event }) => event.output }, target: "reconciling" },
              {
                target: "#hedge.rejected",
                actions: [
                  { type: "noteMessage", params: ({ event }) => ({ message: (event.output as { message: string }).message }) },
                  "alertOrderFailed",
                  { type: "reportFinal", params: { status: "rejected", note: "order rejected" } }
                ]
              }
            ],
            onError: { target: "reconciling" }
          }
        },
        // The send's fate is unknown: ask the broker for the order by its client id before anything else.
        reconciling: {
          invoke: {
            src: "findOrder",
            input: ({ context }) => ({ clientOrderId: context.clientOrderId ?? "" }),
            onDone: [
              { guard: { type: "orderFound", params: ({ event }) => event.output }, target: "awaitingFill", actions: { type: "recordOrder", params: ({ event }) => event.output as OrderState } },
              {
                target: "#hedge.rejected",
                actions: [
                  { type: "noteMessage", params: { message: "order never reached the broker" } },
                  "alertOrderFailed",
                  { type: "reportFinal", params: { status: "rejected", note: "order not found at the broker" } }
                ]
              }
            ],
            onError: { target: "reconciling", reenter: true }
          }
        },
        awaitingFill: {
          initial: "working",
          after: { fillTimeout: "fillTimedOut" },
          states: {
            working: { after: { orderPoll: "checking" } },
            checking: {
              invoke: {
                src: "orderStatus",
                input: ({ context }) => ({ orderId: context.orderId ?? "" }),
                onDone: [
                  {
                    guard: { type: "filled", params: ({ event }) => event.output },
                    target: "#hedge.open",
                    actions: [{ type: "recordBuyFill", params: ({ event }) => event.output }, "reportBought", "alertBought"]
                  },
                  {
                    guard: { type: "orderDead", params: ({ event }) => event.output },
                    target: "#hedge.rejected",
                    actions: [
                      { type: "noteMessage", params: ({ event }) => ({ message: event.output.message ?? event.output.status }) },
                      "alertOrderFailed",
                      { type: "reportFinal", params: { status: "rejected", note: "order died at the broker" } }
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
          always: [
            { guard: "canReprice", target: "repricing" },
            { target: "cancelling", actions: "alertFillTimeout" }
          ]
        },
        // Cancel, then send again at a fresh price: never two live orders for one hedge.
        repricing: {
          invoke: {
            src: "cancelOrder",
            input: ({ context }) => ({ orderId: context.orderId ?? "" }),
            onDone: [
              {
                guard: { type: "partlyFilled", params: ({ event }) => event.output },
                target: "#hedge.open",
                actions: [{ type: "recordBuyFill", params: ({ event }) => event.output }, "reportBought", "alertBought"]
              },
              { target: "quoting", actions: "nextAttempt" }
            ],
            onError: { target: "awaitingFill" }
          }
        },
        cancelling: {
          invoke: {
            src: "cancelOrder",
            input: ({ context }) => ({ orderId: context.orderId ?? "" }),
            onDone: [
              {
                guard: { type: "partlyFilled", params: ({ event }) => event.output },
                target: "#hedge.open",
                actions: [{ type: "recordBuyFill", params: ({ event }) => event.output }, "reportBought", "alertBought"]
              },
              { target: "#hedge.cancelled", actions: [{ type: "reportFinal", params: { status: "cancelled", note: "not filled by the entry time" } }] }
            ],
            onError: { target: "cancelling", reenter: true }
          }
        }
      }
    },
    open: {
      on: {
        EXIT: { target: "exiting", actions: "startSelling" },
        SESSION_CLOSE: { guard: "expiryDay", target: "expired" }
      }
    },
    exiting: {
      initial: "quoting",
      states: {
        quoting: {
          invoke: {
            src: "quoteOption",
            input: ({ context }) => ({ strike: context.strike, optionType: context.optionType }),
            onDone: [
              { guard: { type: "worthSelling", params: ({ event }) => event.output }, target: "placing", actions: { type: "setLimitFromQuote", params: ({ event }) => event.output } },
              { target: "#hedge.open", actions: { type: "reportStillOpen", params: { note: "worth less than the minimum exit price; left to expire" } } }
            ],
            onError: { target: "#hedge.open", actions: { type: "reportStillOpen", params: { note: "quote failed" } } }
          }
        },
        placing: {
          invoke: {
            src: "placeOrder",
            input: ({ context }) => orderRequest(context),
            onDone: [
              { guard: { type: "accepted", params: ({ event }) => event.output }, target: "awaitingFill", actions: { type: "recordOrder", params: ({ event }) => event.output as { orderId: string } } },
              { guard: { type: "outcomeUnknown", params: ({ event }) => event.output }, target: "reconciling" },
              {
                target: "#hedge.open",
                actions: [
                  { type: "noteMessage", params: ({ event }) => ({ message: (event.output as { message: string }).message }) },
                  "alertExitFailed",
                  { type: "reportStillOpen", params: { note: "sell rejected" } }
                ]
              }
            ],
            onError: { target: "reconciling" }
          }
        },
        reconciling: {
          invoke: {
            src: "findOrder",
            input: ({ context }) => ({ clientOrderId: context.clientOrderId ?? "" }),
            onDone: [
              { guard: { type: "orderFound", params: ({ event }) => event.output }, target: "awaitingFill", actions: { type: "recordOrder", params: ({ event }) => event.output as OrderState } },
              { target: "#hedge.open", actions: [{ type: "noteMessage", params: { message: "sell never reached the broker" } }, "alertExitFailed", { type: "reportStillOpen", params: { note: "sell not found at the broker" } }] }
            ],
            onError: { target: "reconciling", reenter: true }
          }
        },
        awaitingFill: {
          initial: "working",
          after: { fillTimeout: "fillTimedOut" },
          states: {
            working: { after: { orderPoll: "checking" } },
            checking: {
              invoke: {
                src: "orderStatus",
                input: ({ context }) => ({ orderId: context.orderId ?? "" }),
                onDone: [
                  {
                    guard: { type: "filled", params: ({ event }) => event.output },
                    target: "#hedge.closed",
                    actions: [{ type: "recordSellFill", params: ({ event }) => event.output }, "reportSold", "alertSold"]
                  },
                  {
                    guard: { type: "orderDead", params: ({ event }) => event.output },
                    target: "#hedge.open",
                    actions: [{ type: "noteMessage", params: ({ event }) => ({ message: event.output.message ?? event.output.status }) }, "alertExitFailed", { type: "reportStillOpen", params: { note: "sell died at the broker" } }]
                  },
                  { target: "working" }
                ],
                onError: { target: "working" }
              }
            }
          }
        },
        fillTimedOut: {
          always: [
            { guard: "canReprice", target: "repricing" },
            { target: "cancelling", actions: "alertFillTimeout" }
          ]
        },
        repricing: {
          invoke: {
            src: "cancelOrder",
            input: ({ context }) => ({ orderId: context.orderId ?? "" }),
            onDone: [
              {
                guard: { type: "filled", params: ({ event }) => event.output },
                target: "#hedge.closed",
                actions: [{ type: "recordSellFill", params: ({ event }) => event.output }, "reportSold", "alertSold"]
              },
              { target: "quoting", actions: "nextAttempt" }
            ],
            onError: { target: "awaitingFill" }
          }
        },
        cancelling: {
          invoke: {
            src: "cancelOrder",
            input: ({ context }) => ({ orderId: context.orderId ?? "" }),
            onDone: [
              {
                guard: { type: "filled", params: ({ event }) => event.output },
                target: "#hedge.closed",
                actions: [{ type: "recordSellFill", params: ({ event }) => event.output }, "reportSold", "alertSold"]
              },
              { target: "#hedge.open", actions: { type: "reportStillOpen", params: { note: "sell not filled; still held" } } }
            ],
            onError: { target: "cancelling", reenter: true }
          }
        }
      }
    },
    closed: { type: "final" },
    expired: { type: "final", entry: "reportExpired" },
    cancelled: { type: "final" },
    rejected: { type: "final" }
  }
})

function orderRequest(c: HedgeContext): OrderRequest {
  return {
    clientOrderId: c.clientOrderId ?? clientOrderIdOf(c),
    hedgeId: c.id,
    side: c.phase === "buy" ? "BUY" : "SELL",
    strike: c.strike,
    optionType: c.optionType,
    quantity: c.phase === "buy" ? c.quantity : c.held,
    limitPrice: c.limitPrice
  }
}
