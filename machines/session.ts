// One trading day. Spawns an entry actor per scheduled entry and a hedge actor per hedge bought; holds
// the day's margin rules: the enabled flag, today's spend against the cap, the cooldown between hedge
// actions, and the decision turn (one entry decides at a time, in the order they asked).
import { and, assign, emit, enqueueActions, setup, stateIn, type ActorRefFrom, type SnapshotFrom } from "xstate"
import type { IndexName } from "../src/domain/market.ts"
import { optionSymbol } from "../src/domain/symbols.ts"
import { entryMachine, nextRecheckAt, type BuyHedgesRequest } from "./entry.ts"
import { hedgeMachine, hedgeWakeTimes, type HedgeInput } from "./hedge.ts"
import {
  boundByRuntime,
  type AlertEvent,
  type AssessExitsInput,
  type EntryPlan,
  type EntryRules,
  type ExitDecision,
  type HedgeOrderRules,
  type HedgeStatus,
  type HedgeUpdate,
  type Policy,
  stateNameHasTag
} from "./protocol.ts"

/**
 * Version of the machines' shape (states, context). A checkpoint of another version is not restored:
 * bump it with any change that makes an old snapshot meaningless.
 */
export const MACHINE_VERSION = "6"

export interface SessionInput {
  readonly date: string
  readonly index: IndexName
  readonly expiry: string
  readonly expiryDay: boolean
  readonly baskets: number
  readonly budget: number
  readonly policy: Policy
  readonly enabled: boolean
  readonly openAt: number
  readonly closeAt: number
  /** End-of-day summary time: the session is closed by then at the latest. */
  readonly eodAt: number
  readonly entries: ReadonlyArray<EntryPlan>
  readonly entryRules: EntryRules
  readonly hedgeRules: HedgeOrderRules
  readonly cooldownMs: number
  readonly exitBufferMs: number
  readonly spendCap: number
}

export interface HedgeRecord {
  readonly id: string
  readonly forEntry: string
  readonly symbol: string
  /** Why it was bought (PRE_STRATEGY:<portfolio>) and the utilisation then, percent. */
  readonly trigger: string
  readonly utilisationBefore: number
  readonly strike: number
  readonly optionType: "CE" | "PE"
  readonly quantity: number
  readonly held: number
  readonly otmDistance: number
  readonly status: HedgeStatus
  /** Spend reserved at the limit price while the buy is working. */
  readonly reserved: number
  readonly paid: number
  readonly received: number
  readonly openedAt: number | null
  readonly closedAt: number | null
  /** Bought by the trader's hand (MANUAL_BUY): the engine's exit review leaves it to the trader. */
  readonly manual: boolean
}

export interface SessionContext extends SessionInput {
  readonly now: number
  /**
   * False from an observation of the platform until the clock event of its instant (the runtime
   * observes first): a hedge started in between learns the time from that clock event.
   */
  readonly timeKnown: boolean
  readonly spot: number | null
  readonly turnHolder: string | null
  readonly turnQueue: ReadonlyArray<string>
  readonly lastActionAt: number | null
  readonly hedgeSeq: number
  readonly hedges: Readonly<Record<string, HedgeRecord>>
  /** Entries the platform was seen to leave, and entries that were missed: neither holds margin now. */
  readonly leftEntries: ReadonlyArray<string>
  /**
   * The index level when each entry was seen entered: where its legs were struck. The broker's net
   * positions do not say whose legs are whose; a projection that takes an entry's legs out at its
   * timed exit needs them.
   */
  readonly struckSpots: Readonly<Record<string, number>>
  readonly grossSpend: number
  readonly recovered: number
}

export type SessionEvent =
  | { readonly type: "CLOCK"; readonly at: number; readonly spot: number | null }
  | { readonly type: "ENTRY_SEEN"; readonly entryId: string; readonly at: number }
  | { readonly type: "ENTRY_EXITED"; readonly entryId: string; readonly at: number; readonly reason: string }
  | { readonly type: "ENTRY_MISSED"; readonly entryId: string }
  | { readonly type: "REQUEST_TURN"; readonly entryId: string }
  | { readonly type: "TURN_DONE"; readonly entryId: string }
  | BuyHedgesRequest
  | HedgeUpdate
  | { readonly type: "TOGGLE"; readonly enabled: boolean; readonly reason?: string }
  | { readonly type: "MANUAL_EXIT"; readonly hedgeId: string }
  | ManualBuyRequest

/** The trader buys a hedge by hand: one contract, bought as the engine's hedges are. */
export interface ManualBuyRequest {
  readonly type: "MANUAL_BUY"
  readonly strike: number
  readonly optionType: "CE" | "PE"
  /** Units: lots × the lot size (the session does not know lot sizes). */
  readonly quantity: number
  /** A limit price of the trader's; null: priced from the last price as the engine prices its own. */
  readonly limitPrice: number | null
  /** Spend reserved against the day's cap while the buy works (quantity × the expected price). */
  readonly cost: number
  /** Utilisation when it was asked for, percent. */
  readonly utilisationBefore: number
}

const reservedTotal = (c: SessionContext) => Object.values(c.hedges).reduce((s, h) => s + h.reserved, 0)
export const spendLeftOf = (c: SessionContext): number => c.spendCap - c.grossSpend - reservedTotal(c)
export const cooldownUntilOf = (c: SessionContext): number =>
  c.lastActionAt === null ? Number.NEGATIVE_INFINITY : c.lastActionAt + c.cooldownMs
const openHedges = (c: SessionContext) => Object.values(c.hedges).filter((h) => h.status === "open")
/** The entries still to come or in: every one neither seen to leave nor missed. */
const entriesNotLeft = (c: SessionContext) => c.entries.filter((e) => !c.leftEntries.includes(e.id))
/** The hedges the engine's exit review may sell: its own, not the trader's. */
const reviewableHedges = (c: SessionContext) => openHedges(c).filter((h) => !h.manual)

/**
 * The instants the session must be woken at even if no market data arrives: market open and close,
 * the end-of-day summary, each entry's look-ahead, next re-check, entry and miss times, and the end of
 * the cooldown.
 * The daemon and the simulator schedule CLOCK events from this; timers are data, so a restored
 * session re-arms them from its context alone.
 */
export const wakeTimes = (c: SessionContext): ReadonlyArray<number> => {
  const times = [c.openAt, c.closeAt, c.eodAt, cooldownUntilOf(c)]
  for (const e of c.entries) times.push(e.lookaheadAt, e.entryAt, e.missAt, e.entryAt - c.exitBufferMs, nextRecheckAt(e, c.entryRules.recheckEveryMs, c.now) ?? Number.NaN)
  return [...new Set(times.filter((t) => Number.isFinite(t) && t > c.now))].sort((a, b) => a - b)
}

/**
 * `wakeTimes` and the deadlines of the hedges still working (their order polls and fill timeouts):
 * every instant the runtime must deliver a clock event at.
 */
export const wakeTimesOf = (snapshot: SnapshotFrom<typeof sessionMachine>): ReadonlyArray<number> => {
  const c = snapshot.context
  const times = [...wakeTimes(c)]
  for (const id of Object.keys(c.hedges)) {
    const hedge = snapshot.children[id] as ActorRefFrom<typeof hedgeMachine> | undefined
    if (hedge === undefined || hedge.getSnapshot().status !== "active") continue
    for (const t of hedgeWakeTimes(hedge.getSnapshot().context)) if (t > c.now && !times.includes(t)) times.push(t)
  }
  return times.sort((a, b) => a - b)
}

/** The entry and trigger of a hedge the trader bought by hand. */
export const MANUAL = "MANUAL"

const alert = (c: SessionContext, kind: AlertEvent["alert"]["kind"], severity: AlertEvent["alert"]["severity"], details: AlertEvent["alert"]["details"] = {}): AlertEvent => ({
  type: "alert",
  alert: { kind, severity, actor: "session", details: { date: c.date, index: c.index, ...details } }
})

export const sessionMachine = setup({
  types: {
    input: {} as SessionInput,
    context: {} as SessionContext,
    events: {} as SessionEvent,
    emitted: {} as AlertEvent,
    tags: {} as "marketOpen"
  },
  actors: {
    entry: entryMachine,
    hedge: hedgeMachine,
    assessExits: boundByRuntime<ExitDecision, AssessExitsInput>("assessExits")
  },
  guards: {
    marketOpen: ({ context, event }) => event.type === "CLOCK" && event.at >= context.openAt,
    marketClosed: ({ context, event }) => event.type === "CLOCK" && event.at >= context.closeAt,
    eodReached: ({ context, event }) => event.type === "CLOCK" && event.at >= context.eodAt,
    /**
     * Hedges may be reviewed for exit only when no entry is deciding, none is in its look-ahead (it may
     * decide at this very clock, after the review started, and buy back what the review sells: exits
     * come before entries) and none is due within the buffer.
     */
    exitReviewDue: ({ context, event }) => {
      // Judged at the tick's own instant, not the previous tick's: a restored session has not seen the
      // quiet ticks a killed process never wrote, and must review exactly when an uninterrupted one does.
      const now = event.type === "CLOCK" ? event.at : context.now
      if (context.policy === "none" || context.turnHolder !== null || context.turnQueue.length > 0) return false
      if (reviewableHedges(context).length === 0) return false
      if (context.policy === "static") return true
      // The cooldown guards against churn while hedges protect something; once every entry has left,
      // they protect nothing and all go before the close (carried, they would be worth nothing to the day).
      const notLeft = entriesNotLeft(context)
      if (notLeft.length > 0 && now < cooldownUntilOf(context)) return false
      return !notLeft.some((e) => e.entryAt > now - 1 && (e.entryAt <= now + context.exitBufferMs || e.lookaheadAt <= now))
    },
    /**
     * The review named a hedge that is still open and the engine's: the trader may have exited it (or
     * it may have been sold) while the review was deciding, and a hedge is told to exit once.
     */
    exitChosenStillReviewable: ({ context }, d: ExitDecision) => d.hedgeId !== null && reviewableHedges(context).some((h) => h.id === d.hedgeId),
    hedgeIsOpen: ({ context, event }) => event.type === "MANUAL_EXIT" && context.hedges[event.hedgeId]?.status === "open",
    /** A manual buy is held to the day's spend cap like any other (what is left after reservations). */
    manualBuyAffordable: ({ context, event }) => event.type === "MANUAL_BUY" && event.cost > 0 && event.cost <= spendLeftOf(context)
  },
  actions: {
    keepTime: assign(({ event }) => (event.type === "CLOCK" ? { now: event.at, spot: event.spot, timeKnown: true } : {})),
    awaitClock: assign({ timeKnown: false }),
    spawnEntries: enqueueActions(({ context, enqueue }) => {
      for (const plan of context.entries) {
        enqueue.spawnChild("entry", { id: plan.id, systemId: plan.id, input: { ...plan, rules: context.entryRules } })
      }
    }),
    /** Every live child sees the clock (deadlines are compared with it, never with a wall clock). */
    forwardToChildren: enqueueActions(({ event, self, enqueue }) => {
      for (const child of Object.values(self.getSnapshot().children)) {
        if (child !== undefined && child.getSnapshot().status === "active") enqueue.sendTo(child, event)
      }
    }),
    forwardToEntry: enqueueActions(({ event, self, enqueue }) => {
      const entryId = "entryId" in event ? event.entryId : "forEntry" in event ? event.forEntry : undefined
      const child = entryId === undefined ? undefined : self.getSnapshot().children[entryId]
      if (child !== undefined && child.getSnapshot().status === "active") enqueue.sendTo(child, event)
    }),
    noteStruck: assign(({ context, event }) =>
      event.type === "ENTRY_SEEN" && context.spot !== null && !(event.entryId in context.struckSpots)
        ? { struckSpots: { ...context.struckSpots, [event.entryId]: context.spot } }
        : {}
    ),
    noteLeft: assign(({ context, event }) =>
      (event.type === "ENTRY_EXITED" || event.type === "ENTRY_MISSED") && !context.leftEntries.includes(event.entryId)
        ? { leftEntries: [...context.leftEntries, event.entryId] }
        : {}
    ),
    queueTurn: assign(({ context, event }) =>
      event.type === "REQUEST_TURN" && !context.turnQueue.includes(event.entryId) && context.turnHolder !== event.entryId
        ? { turnQueue: [...context.turnQueue, event.entryId] }
        : {}
    ),
    endTurn: assign(({ context, event }) => {
      if (event.type !== "TURN_DONE") return {}
      return {
        turnHolder: context.turnHolder === event.entryId ? null : context.turnHolder,
        turnQueue: context.turnQueue.filter((id) => id !== event.entryId)
      }
    }),
    grantNextTurn: enqueueActions(({ context, enqueue }) => {
      const next = context.turnQueue[0]
      if (context.turnHolder !== null || next === undefined) return
      enqueue.assign({ turnHolder: next, turnQueue: context.turnQueue.slice(1) })
      enqueue.sendTo(next, {
        type: "TURN_GRANTED",
        enabled: context.enabled,
        policy: context.policy,
        spendLeft: spendLeftOf(context),
        cooldownUntil: cooldownUntilOf(context)
      })
    }),
    spawnHedges: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "BUY_HEDGES") return
      const entry = context.entries.find((e) => e.id === event.entryId)
      const hedges = { ...context.hedges }
      let seq = context.hedgeSeq
      for (const pick of event.selection.picks) {
        const id = `hedge-${++seq}`
        const symbol = optionSymbol(context.index, context.expiry, pick.strike, pick.optionType)
        const trigger = `PRE_STRATEGY:${event.portfolio}`
        const input: HedgeInput = {
          id,
          forEntry: event.entryId,
          date: context.date,
          strike: pick.strike,
          optionType: pick.optionType,
          quantity: pick.quantity,
          otmDistance: pick.otmDistance,
          symbol,
          trigger,
          utilisationBefore: event.utilisationBefore,
          buyDeadlineAt: entry?.entryAt ?? context.now,
          startedAt: context.timeKnown ? context.now : null,
          rules: context.hedgeRules
        }
        hedges[id] = {
          id,
          forEntry: event.entryId,
          symbol,
          trigger,
          utilisationBefore: event.utilisationBefore,
          strike: pick.strike,
          optionType: pick.optionType,
          quantity: pick.quantity,
          held: 0,
          otmDistance: pick.otmDistance,
          status: "ordering",
          reserved: pick.cost,
          paid: 0,
          received: 0,
          openedAt: null,
          closedAt: null,
          manual: false
        }
        enqueue.spawnChild("hedge", { id, systemId: id, input })
      }
      enqueue.assign({ hedges, hedgeSeq: seq, lastActionAt: context.now })
    }),
    spawnManualHedge: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "MANUAL_BUY") return
      const id = `hedge-${context.hedgeSeq + 1}`
      const symbol = optionSymbol(context.index, context.expiry, event.strike, event.optionType)
      const otmDistance = context.spot === null ? 0 : Math.abs(event.strike - context.spot)
      const input: HedgeInput = {
        id,
        forEntry: MANUAL,
        date: context.date,
        strike: event.strike,
        optionType: event.optionType,
        quantity: event.quantity,
        otmDistance,
        symbol,
        trigger: MANUAL,
        utilisationBefore: event.utilisationBefore,
        // Worked until the close; a price of the trader's own is not re-priced (it would be sent again as is).
        buyDeadlineAt: context.closeAt,
        startedAt: context.timeKnown ? context.now : null,
        rules: event.limitPrice === null ? context.hedgeRules : { ...context.hedgeRules, maxReprices: 0 },
        fixedLimitPrice: event.limitPrice
      }
      const record: HedgeRecord = {
        id,
        forEntry: MANUAL,
        symbol,
        trigger: MANUAL,
        utilisationBefore: event.utilisationBefore,
        strike: event.strike,
        optionType: event.optionType,
        quantity: event.quantity,
        held: 0,
        otmDistance,
        status: "ordering",
        reserved: event.cost,
        paid: 0,
        received: 0,
        openedAt: null,
        closedAt: null,
        manual: true
      }
      // The trader's own action: it does not start the engine's cooldown.
      enqueue.assign({ hedges: { ...context.hedges, [id]: record }, hedgeSeq: context.hedgeSeq + 1 })
      enqueue.spawnChild("hedge", { id, systemId: id, input })
    }),
    recordHedgeUpdate: assign(({ context, event }) => {
      if (event.type !== "HEDGE_UPDATE") return {}
      const prev = context.hedges[event.hedgeId]
      if (prev === undefined) return {}
      const buying = prev.status === "ordering"
      const next: HedgeRecord = {
        ...prev,
        status: event.status,
        held: event.quantity,
        reserved: 0,
        paid: prev.paid + (buying ? event.cash : 0),
        received: prev.received + (buying ? 0 : event.cash),
        openedAt: buying && event.status === "open" ? context.now : prev.openedAt,
        closedAt: event.status === "closed" || event.status === "expired" ? context.now : prev.closedAt
      }
      return {
        hedges: { ...context.hedges, [event.hedgeId]: next },
        grossSpend: context.grossSpend + (buying ? event.cash : 0),
        recovered: context.recovered + (buying ? 0 : event.cash)
      }
    }),
    exitHedge: enqueueActions(({ context, enqueue }, p: { hedgeId: string; reason: string; manual: boolean }) => {
      const hedge = context.hedges[p.hedgeId]
      if (hedge === undefined) return
      enqueue.assign({
        hedges: { ...context.hedges, [p.hedgeId]: { ...hedge, status: "exiting" } },
        // Manual exits are the trader's own action and do not start the engine's cooldown.
        lastActionAt: p.manual || context.policy !== "engine" ? context.lastActionAt : context.now
      })
      enqueue.sendTo(p.hedgeId, { type: "EXIT", reason: p.reason })
    }),
    setEnabled: assign(({ event }) => (event.type === "TOGGLE" ? { enabled: event.enabled } : {})),
    closeChildren: enqueueActions(({ context, self, enqueue }) => {
      const close = { type: "SESSION_CLOSE" as const, expiryDay: context.expiryDay, spot: context.spot ?? 0 }
      for (const child of Object.values(self.getSnapshot().children)) {
        if (child !== undefined && child.getSnapshot().status === "active") enqueue.sendTo(child, close)
      }
    }),
    alertStarted: emit(({ context }) => alert(context, "SESSION_STARTED", "info", { baskets: context.baskets, budget: context.budget, policy: context.policy, enabled: context.enabled })),
    alertExitReviewFailed: emit(({ context }) => alert(context, "EXIT_REVIEW_FAILED", "warning")),
    alertSummary: emit(({ context }) =>
      alert(context, "EOD_SUMMARY", "info", {
        hedges: Object.keys(context.hedges).length,
        grossSpend: context.grossSpend,
        recovered: context.recovered,
        netSpend: context.grossSpend - context.recovered
      })
    )
  }
}).createMachine({
  id: "session",
  context: ({ input }) => ({
    ...input,
    now: input.openAt,
    timeKnown: true,
    spot: null,
    turnHolder: null,
    turnQueue: [],
    lastActionAt: null,
    hedgeSeq: 0,
    hedges: {},
    leftEntries: [],
    struckSpots: {},
    grossSpend: 0,
    recovered: 0
  }),
  initial: "preOpen",
  on: {
    TOGGLE: { actions: "setEnabled" },
    HEDGE_UPDATE: { actions: ["recordHedgeUpdate", "forwardToEntry"] },
    ENTRY_SEEN: { actions: ["awaitClock", "noteStruck", "forwardToEntry"] },
    ENTRY_EXITED: { actions: ["awaitClock", "noteLeft", "forwardToEntry"] },
    ENTRY_MISSED: { actions: "noteLeft" }
  },
  states: {
    preOpen: {
      entry: "spawnEntries",
      on: {
        CLOCK: [
          { guard: "marketOpen", target: "trading", actions: ["keepTime", "forwardToChildren"] },
          { actions: ["keepTime", "forwardToChildren"] }
        ]
      }
    },
    trading: {
      tags: ["marketOpen"],
      entry: "alertStarted",
      initial: "watching",
      on: {
        CLOCK: [
          { guard: "marketClosed", target: "closing", actions: ["keepTime", "forwardToChildren"] },
          { guard: and([stateIn("#session.trading.watching"), "exitReviewDue"]), target: ".reviewingExits", actions: ["keepTime", "forwardToChildren"] },
          { actions: ["keepTime", "forwardToChildren"] }
        ],
        REQUEST_TURN: { actions: ["queueTurn", "grantNextTurn"] },
        TURN_DONE: { actions: ["endTurn", "grantNextTurn"] },
        BUY_HEDGES: { actions: "spawnHedges" },
        MANUAL_EXIT: {
          guard: "hedgeIsOpen",
          actions: { type: "exitHedge", params: ({ event }) => ({ hedgeId: event.hedgeId, reason: "MANUAL", manual: true }) }
        },
        MANUAL_BUY: { guard: "manualBuyAffordable", actions: "spawnManualHedge" }
      },
      states: {
        watching: {},
        reviewingExits: {
          invoke: {
            id: "assessExits",
            src: "assessExits",
            input: ({ context }) => ({
              policy: context.policy,
              hedges: reviewableHedges(context)
                .sort((a, b) => b.otmDistance - a.otmDistance || a.id.localeCompare(b.id))
                .map((h) => ({ hedgeId: h.id, forEntry: h.forEntry, strike: h.strike, optionType: h.optionType, quantity: h.held })),
              liveEntries: entriesNotLeft(context).map((e) => e.id)
            }),
            onDone: [
              {
                guard: { type: "exitChosenStillReviewable", params: ({ event }) => event.output },
                target: "watching",
                actions: { type: "exitHedge", params: ({ event }) => ({ hedgeId: event.output.hedgeId!, reason: event.output.reason, manual: false }) }
              },
              { target: "watching" }
            ],
            onError: { target: "watching", actions: "alertExitReviewFailed" }
          }
        }
      }
    },
    // Positions expire or carry; orders still working finish; the day closes at the summary time.
    closing: {
      entry: "closeChildren",
      on: {
        CLOCK: [
          { guard: "eodReached", target: "closed", actions: "keepTime" },
          { actions: ["keepTime", "forwardToChildren"] }
        ]
      }
    },
    closed: { type: "final", entry: "alertSummary" }
  }
})

/** The session is trading, the market open (manual buys and exits are taken), for a state named as the audit names it. */
export const isMarketOpenState = (name: string): boolean => stateNameHasTag(sessionMachine, name, "marketOpen")
