// One trading day. Spawns an entry actor per scheduled entry and a hedge actor per hedge bought; holds
// the day's margin rules: the enabled flag, today's spend against the cap, the cooldown between hedge
// actions, and the decision turn (one entry decides at a time, in the order they asked).
// The overnight guard (docs/overnight-guard.md) is the session's too. Its invariants:
// - from its first check (minutes before the close) until the close, while a short option held past the
//   close is not covered by a wing held, it checks again every retry interval; a check that covers
//   every short with wings held ends it (one info alert names them);
// - a short it cannot cover (no price, rejection, the spend cap, auto-hedge off, the check failed) is a
//   critical alert with the reason, every check until it is covered;
// - its wings are bought as hedges (trigger and entry OVERNIGHT), within the day's spend cap unless the
//   trader lets it exceed it, in the short's expiry; a wing working or held counts as covering, so a
//   restored session never buys a wing twice; an entry seen after its first check makes it check again;
// - it takes no cooldown and starts none; the policy "none" has no guard.
import { and, assign, emit, enqueueActions, setup, stateIn, type ActorRefFrom, type SnapshotFrom } from "xstate"
import type { IndexName } from "../src/domain/market.ts"
import { optionSymbol } from "../src/domain/symbols.ts"
import { wingsWithinCap, type Contract, type OvernightShort } from "../src/domain/overnight.ts"
import { entryMachine, isToCome, nextRecheckAt, type BuyHedgesRequest } from "./entry.ts"
import { carriedHedgeMachine, hedgeMachine, hedgeWakeTimes, type HedgeInput } from "./hedge.ts"
import {
  boundByRuntime,
  type AlertEvent,
  type AssessDeltaInput,
  type AssessExitsInput,
  type DeltaDecision,
  type AssessOvernightInput,
  type EntryPlan,
  type EntryRules,
  type ExitDecision,
  type HedgeOrderRules,
  type HedgeStatus,
  type HedgeUpdate,
  type OvernightAssessment,
  type OvernightGuardRules,
  type Policy,
  stateNameHasTag
} from "./protocol.ts"

/**
 * Version of the machines' shape (states, context). A checkpoint of another version is not restored:
 * bump it with any change that makes an old snapshot meaningless.
 */
export const MACHINE_VERSION = "7"

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
  /** The delta band (docs/delta-band.md), a second policy beside the margin engine: absent when off. */
  readonly deltaBand?: DeltaBandRules
  /** Wings the engine holds since an earlier day (the overnight guard's), seeded as open hedges. Default none. */
  readonly carriedHedges?: ReadonlyArray<CarriedHedge>
  /** Entry ids (`entry:<portfolio>`) of the portfolios whose legs are held since an earlier day. Default none. */
  readonly carriedEntries?: ReadonlyArray<string>
  /** The overnight guard; null (or absent, in trails older than it): off. */
  readonly overnightGuard?: OvernightGuardRules | null
}

export interface DeltaBandRules {
  /** How often the portfolio delta is checked. */
  readonly checkEveryMs: number
  /** Most the band's wings may cost a day, rupees (within the day's spend cap). */
  readonly spendCap: number
}

/** A wing held since an earlier day: it was paid for then, today it is only held and sold. */
export interface CarriedHedge {
  readonly strike: number
  readonly optionType: "CE" | "PE"
  /** Units held. */
  readonly quantity: number
  readonly expiry: string
  /** What it was bought at, per unit. */
  readonly avgPrice: number
  /** Entry ids of the carried portfolios whose shorts it covers (none: it covers no carried short). */
  readonly covers: ReadonlyArray<string>
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
  /** Its expiry when not the day's (an overnight wing in its short's expiry). */
  readonly expiry?: string
  /** Carried in from an earlier day: the entry ids of the carried portfolios whose shorts it covers. */
  readonly carriedFor?: ReadonlyArray<string>
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
  /** The delta band's last check (null: none yet today); the next is due checkEveryMs after it. */
  readonly deltaCheckedAt: number | null
  /** The last check found delta outside the band with no wing: its alert is raised once per spell. */
  readonly deltaUnmet: boolean
  /** When the overnight guard checks next; null once every short is covered, or when it is off. */
  readonly overnightCheckAt: number | null
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
  /** The trader asks the next entry still to come to decide now (src/commands/operator.ts hedgeNow). */
  | { readonly type: "HEDGE_NOW" }

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
/** The trigger and entry of the overnight guard's wings: the next day's exit rules know them by it. */
export const OVERNIGHT = "OVERNIGHT"
/** Wings being bought (orders working): the guard counts them as covering. */
const wingsBeingBought = (c: SessionContext): ReadonlyArray<Contract> =>
  Object.values(c.hedges)
    .filter((h) => h.status === "ordering")
    .map((h) => ({ strike: h.strike, optionType: h.optionType, expiry: h.expiry ?? c.expiry, quantity: h.quantity - h.held }))
/** The guard's next check after one now: none at or after the close (nor when it is not configured: it never ran). */
const overnightRetryAt = (c: SessionContext): number | null => {
  const next = c.overnightGuard == null ? null : c.now + c.overnightGuard.retryMs
  return next !== null && next < c.closeAt ? next : null
}
const shortText = (s: OvernightShort) => `${s.strike} ${s.optionType} ${s.expiry} ×${s.quantity}`
/** A carried wing one of whose carried shorts is still held: selling it would leave that short naked. */
const coversCarriedShort = (c: SessionContext, h: HedgeRecord) =>
  (h.carriedFor ?? []).some((id) => (c.carriedEntries ?? []).includes(id) && !c.leftEntries.includes(id))
/** The hedges the engine's exit review may sell: its own, not the trader's, nor a carried wing still covering. */
const reviewableHedges = (c: SessionContext) => openHedges(c).filter((h) => !h.manual && !coversCarriedShort(c, h))

/** A hedge one of the session's buyers (an entry, the trader, the delta band, the overnight guard) asks for. */
interface HedgeToBuy {
  readonly id: string
  readonly forEntry: string
  readonly trigger: string
  readonly strike: number
  readonly optionType: "CE" | "PE"
  readonly quantity: number
  readonly otmDistance: number
  readonly utilisationBefore: number
  /** Spend reserved against the day's cap while the buy works. */
  readonly cost: number
  readonly buyDeadlineAt: number
  readonly manual: boolean
  /** The contract's expiry (default: the day's). */
  readonly expiry?: string
  /** Order rules of its own (default: the day's). */
  readonly rules?: HedgeOrderRules
  /** A limit price of the trader's own (MANUAL_BUY only). */
  readonly fixedLimitPrice?: number | null
}

/** The hedge actor's input and the session's record of a hedge about to be bought: one shape for every buyer. */
const hedgeBuyOf = (c: SessionContext, b: HedgeToBuy): { readonly input: HedgeInput; readonly record: HedgeRecord } => {
  const expiry = b.expiry ?? c.expiry
  const symbol = optionSymbol(c.index, expiry, b.strike, b.optionType)
  const input: HedgeInput = {
    id: b.id,
    forEntry: b.forEntry,
    date: c.date,
    strike: b.strike,
    optionType: b.optionType,
    quantity: b.quantity,
    otmDistance: b.otmDistance,
    symbol,
    trigger: b.trigger,
    utilisationBefore: b.utilisationBefore,
    buyDeadlineAt: b.buyDeadlineAt,
    startedAt: c.timeKnown ? c.now : null,
    rules: b.rules ?? c.hedgeRules,
    ...(b.fixedLimitPrice === undefined ? {} : { fixedLimitPrice: b.fixedLimitPrice })
  }
  const record: HedgeRecord = {
    id: b.id,
    forEntry: b.forEntry,
    symbol,
    trigger: b.trigger,
    utilisationBefore: b.utilisationBefore,
    strike: b.strike,
    optionType: b.optionType,
    quantity: b.quantity,
    held: 0,
    otmDistance: b.otmDistance,
    status: "ordering",
    reserved: b.cost,
    paid: 0,
    received: 0,
    openedAt: null,
    closedAt: null,
    manual: b.manual,
    ...(expiry === c.expiry ? {} : { expiry })
  }
  return { input, record }
}

/** The entry and trigger of a wing the delta band bought: its own marker, sold by the normal exit rules. */
export const DELTA_BAND = "DELTA_BAND"
/** What the band's wings have cost today, paid or reserved (sales do not give it back: a cap on spend, as the day's). */
const deltaSpentOf = (c: SessionContext): number =>
  Object.values(c.hedges).reduce((s, h) => s + (h.forEntry === DELTA_BAND ? h.paid + h.reserved : 0), 0)
/** What the band may still spend today: its own cap, within what the day's cap leaves. */
export const deltaSpendLeftOf = (c: SessionContext): number =>
  c.deltaBand === undefined ? 0 : Math.min(spendLeftOf(c), c.deltaBand.spendCap - deltaSpentOf(c))
/** When the delta band's next check is due (null when the band is off). */
export const deltaCheckDueAt = (c: SessionContext): number | null =>
  c.deltaBand === undefined ? null : (c.deltaCheckedAt ?? c.openAt) + c.deltaBand.checkEveryMs

/**
 * The instants the session must be woken at even if no market data arrives: market open and close,
 * the end-of-day summary, each entry's look-ahead, next re-check, entry and miss times, the end of
 * the cooldown, and the overnight guard's next check.
 * The daemon and the simulator schedule CLOCK events from this; timers are data, so a restored
 * session re-arms them from its context alone.
 */
export const wakeTimes = (c: SessionContext): ReadonlyArray<number> => {
  const times = [c.openAt, c.closeAt, c.eodAt, cooldownUntilOf(c), deltaCheckDueAt(c) ?? Number.NaN, c.overnightCheckAt ?? Number.NaN]
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

/** The id of the `i`th carried wing: "hedge-" like every hedge (the audit knows hedges by it), apart from the day's numbered ones. */
export const carriedHedgeId = (i: number): string => `hedge-carried-${i + 1}`

/** The carried wings as the day's hedge records (open, paid for on an earlier day) and the hedges' inputs. */
const carriedHedgesOf = (input: SessionInput): ReadonlyArray<{ readonly record: HedgeRecord; readonly input: HedgeInput }> =>
  (input.carriedHedges ?? []).map((w, i) => {
    const id = carriedHedgeId(i)
    const symbol = optionSymbol(input.index, w.expiry, w.strike, w.optionType)
    const record: HedgeRecord = {
      id,
      forEntry: OVERNIGHT,
      symbol,
      trigger: OVERNIGHT,
      utilisationBefore: 0,
      strike: w.strike,
      optionType: w.optionType,
      quantity: w.quantity,
      held: w.quantity,
      otmDistance: 0,
      status: "open",
      reserved: 0,
      paid: 0,
      received: 0,
      openedAt: input.openAt,
      closedAt: null,
      manual: false,
      carriedFor: w.covers,
      ...(w.expiry === input.expiry ? {} : { expiry: w.expiry })
    }
    return {
      record,
      input: {
        id,
        forEntry: OVERNIGHT,
        date: input.date,
        strike: w.strike,
        optionType: w.optionType,
        quantity: w.quantity,
        otmDistance: 0,
        symbol,
        trigger: OVERNIGHT,
        utilisationBefore: 0,
        buyDeadlineAt: input.openAt,
        startedAt: null,
        rules: input.hedgeRules,
        carried: { entryPrice: w.avgPrice }
      }
    }
  })

/** The decision turn to the first entry waiting for it, with the spend left and the cooldown now. */
const grantTurn = (
  context: SessionContext,
  enqueue: { assign: (a: Partial<SessionContext>) => void; sendTo: (to: string, e: { type: "TURN_GRANTED"; enabled: boolean; policy: Policy; spendLeft: number; cooldownUntil: number }) => void }
) => {
  const next = context.turnQueue[0]
  if (context.turnHolder !== null || next === undefined) return
  enqueue.assign({ turnHolder: next, turnQueue: context.turnQueue.slice(1) })
  enqueue.sendTo(next, { type: "TURN_GRANTED", enabled: context.enabled, policy: context.policy, spendLeft: spendLeftOf(context), cooldownUntil: cooldownUntilOf(context) })
}

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
    carriedHedge: carriedHedgeMachine,
    assessExits: boundByRuntime<ExitDecision, AssessExitsInput>("assessExits"),
    assessDelta: boundByRuntime<DeltaDecision, AssessDeltaInput>("assessDelta"),
    assessOvernight: boundByRuntime<OvernightAssessment, AssessOvernightInput>("assessOvernight")
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
      // they protect nothing and all go before the close (carried, they would be worth nothing to the
      // day) — but for those covering a short held overnight, which the decision never sells.
      const notLeft = entriesNotLeft(context)
      if (notLeft.length > 0 && now < cooldownUntilOf(context)) return false
      return !notLeft.some((e) => e.entryAt > now - 1 && (e.entryAt <= now + context.exitBufferMs || e.lookaheadAt <= now))
    },
    /**
     * The review named a hedge that is still open and the engine's: the trader may have exited it (or
     * it may have been sold) while the review was deciding, and a hedge is told to exit once.
     */
    exitChosenStillReviewable: ({ context }, d: ExitDecision) => d.hedgeId !== null && reviewableHedges(context).some((h) => h.id === d.hedgeId),
    /**
     * The delta band checks on its own clock, only when it is on, auto-hedge is enabled, the engine
     * trades, no entry holds or waits for the decision turn (the margin engine goes first) and the
     * cooldown has passed. Judged at the tick's own instant, as the exit review is.
     */
    deltaCheckDue: ({ context, event }) => {
      const due = deltaCheckDueAt(context)
      if (due === null || event.type !== "CLOCK" || event.at < due) return false
      if (!context.enabled || context.policy !== "engine") return false
      if (context.turnHolder !== null || context.turnQueue.length > 0) return false
      return event.at >= cooldownUntilOf(context)
    },
    deltaWingChosen: (_, d: DeltaDecision) => d.wing !== null,
    deltaNewlyUnmet: ({ context }, d: DeltaDecision) => d.outside && d.wing === null && !context.deltaUnmet,
    /** The overnight guard's check is due: its time has come, before the close. */
    overnightCheckDue: ({ context }) =>
      context.overnightCheckAt !== null && context.now >= context.overnightCheckAt && context.now < context.closeAt &&
      // An entry deciding was granted the spend left before the guard's wings: it decides first.
      context.turnHolder === null && context.turnQueue.length === 0,
    hedgeIsOpen: ({ context, event }) => event.type === "MANUAL_EXIT" && context.hedges[event.hedgeId]?.status === "open",
    /**
     * "Hedge now" is taken when the engine would decide at all (its policy, auto-hedge on), no entry is
     * deciding or waiting for the turn, and an entry is still ahead.
     */
    hedgeNowAllowed: ({ context }) =>
      context.policy === "engine" && context.enabled && context.turnHolder === null && context.turnQueue.length === 0 && entriesNotLeft(context).some((e) => e.entryAt > context.now),
    /**
     * A manual buy is held to the day's spend cap like any other (what is left after reservations), and
     * is not taken while an entry decides: the entry was granted the spend left, and buys against it.
     */
    manualBuyAffordable: ({ context, event }) =>
      event.type === "MANUAL_BUY" && event.cost > 0 && event.cost <= spendLeftOf(context) && context.turnHolder === null && context.turnQueue.length === 0
  },
  actions: {
    keepTime: assign(({ event }) => (event.type === "CLOCK" ? { now: event.at, spot: event.spot, timeKnown: true } : {})),
    awaitClock: assign({ timeKnown: false }),
    spawnEntries: enqueueActions(({ context, enqueue }) => {
      for (const plan of context.entries) {
        enqueue.spawnChild("entry", { id: plan.id, systemId: plan.id, input: { ...plan, rules: context.entryRules } })
      }
    }),
    /** The carried wings' actors: each starts open, holding what it held at the close. */
    spawnCarriedHedges: enqueueActions(({ context, enqueue }) => {
      for (const { input } of carriedHedgesOf(context)) enqueue.spawnChild("carriedHedge", { id: input.id, systemId: input.id, input })
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
    /** To the next entry still to come (in entry order, its entry time ahead); its own guard may still refuse it. */
    forwardHedgeNow: enqueueActions(({ context, self, enqueue }) => {
      for (const plan of [...context.entries].sort((a, b) => a.entryAt - b.entryAt)) {
        if (plan.entryAt <= context.now) continue
        const child = self.getSnapshot().children[plan.id] as ActorRefFrom<typeof entryMachine> | undefined
        if (!isToCome(child?.getSnapshot())) continue
        enqueue.sendTo(child!, { type: "HEDGE_NOW", at: context.now })
        return
      }
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
    /**
     * Not while the delta band or the overnight guard is deciding: the spend left granted would not
     * count the wing it is about to reserve, and both would spend it. Their answer grants the turn.
     */
    grantNextTurn: enqueueActions(({ context, self, enqueue }) => {
      const s = self.getSnapshot()
      if (s.matches({ trading: "checkingDelta" }) || s.matches({ trading: "guardingOvernight" })) return
      grantTurn(context, enqueue)
    }),
    grantTurnAfterCheck: enqueueActions(({ context, enqueue }) => grantTurn(context, enqueue)),
    spawnHedges: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "BUY_HEDGES") return
      const entry = context.entries.find((e) => e.id === event.entryId)
      const hedges = { ...context.hedges }
      let seq = context.hedgeSeq
      for (const pick of event.selection.picks) {
        const { input, record } = hedgeBuyOf(context, {
          id: `hedge-${++seq}`,
          forEntry: event.entryId,
          trigger: `PRE_STRATEGY:${event.portfolio}`,
          strike: pick.strike,
          optionType: pick.optionType,
          quantity: pick.quantity,
          otmDistance: pick.otmDistance,
          utilisationBefore: event.utilisationBefore,
          cost: pick.cost,
          buyDeadlineAt: entry?.entryAt ?? context.now,
          manual: false
        })
        hedges[record.id] = record
        enqueue.spawnChild("hedge", { id: record.id, systemId: record.id, input })
      }
      enqueue.assign({ hedges, hedgeSeq: seq, lastActionAt: context.now })
    }),
    spawnManualHedge: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "MANUAL_BUY") return
      const { input, record } = hedgeBuyOf(context, {
        id: `hedge-${context.hedgeSeq + 1}`,
        forEntry: MANUAL,
        trigger: MANUAL,
        strike: event.strike,
        optionType: event.optionType,
        quantity: event.quantity,
        otmDistance: context.spot === null ? 0 : Math.abs(event.strike - context.spot),
        utilisationBefore: event.utilisationBefore,
        cost: event.cost,
        // Worked until the close; a price of the trader's own is not re-priced (it would be sent again as is).
        buyDeadlineAt: context.closeAt,
        manual: true,
        rules: event.limitPrice === null ? context.hedgeRules : { ...context.hedgeRules, maxReprices: 0 },
        fixedLimitPrice: event.limitPrice
      })
      // The trader's own action: it does not start the engine's cooldown.
      enqueue.assign({ hedges: { ...context.hedges, [record.id]: record }, hedgeSeq: context.hedgeSeq + 1 })
      enqueue.spawnChild("hedge", { id: record.id, systemId: record.id, input })
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
    noteDeltaCheck: assign(({ event }) => (event.type === "CLOCK" ? { deltaCheckedAt: event.at } : {})),
    noteDeltaAnswer: assign((_, d: DeltaDecision) => ({ deltaUnmet: d.outside && d.wing === null })),
    /** One wing through the normal hedge path: spend reserved, cooldown started, sold by the exit rules. */
    spawnDeltaWing: enqueueActions(({ context, enqueue }, d: DeltaDecision) => {
      const wing = d.wing
      if (wing === null || context.deltaBand === undefined) return
      const { input, record } = hedgeBuyOf(context, {
        id: `hedge-${context.hedgeSeq + 1}`,
        forEntry: DELTA_BAND,
        trigger: DELTA_BAND,
        strike: wing.strike,
        optionType: wing.optionType,
        quantity: wing.quantity,
        otmDistance: wing.otmDistance,
        utilisationBefore: d.utilisationPct,
        cost: wing.cost,
        // Not bought by the next check: that check decides afresh on the market then.
        buyDeadlineAt: Math.min(context.closeAt, context.now + context.deltaBand.checkEveryMs),
        manual: false
      })
      enqueue.assign({ hedges: { ...context.hedges, [record.id]: record }, hedgeSeq: context.hedgeSeq + 1, lastActionAt: context.now })
      enqueue.spawnChild("hedge", { id: record.id, systemId: record.id, input })
    }),
    alertDeltaWing: emit(({ context }, d: DeltaDecision) =>
      alert(context, "DELTA_BAND_WING", "info", {
        strike: d.wing?.strike ?? null,
        optionType: d.wing?.optionType ?? null,
        quantity: d.wing?.quantity ?? null,
        lots: d.wing?.lots ?? null,
        limitPrice: d.wing?.limitPrice ?? null,
        cost: d.wing?.cost ?? null,
        deltaPerPct: d.deltaPerPct,
        deltaAfterPerPct: d.wing?.deltaAfterPerPct ?? null,
        limitPerPct: d.limitPerPct
      })
    ),
    alertDeltaUnmet: emit(({ context }, d: DeltaDecision) =>
      alert(context, "DELTA_BAND_UNMET", "warning", { deltaPerPct: d.deltaPerPct, limitPerPct: d.limitPerPct, reason: d.reason })
    ),
    alertDeltaCheckFailed: emit(({ context }) =>
      alert(context, "DELTA_BAND_UNMET", "warning", { deltaPerPct: null, limitPerPct: null, reason: "the delta check failed; it is tried again at the next check" })
    ),
    /**
     * Act on the guard's check: buy a wing for each uncovered short, within the spend left unless the
     * trader lets the guard exceed it; alert every short left uncovered (critical, with the reason) and
     * check again after the retry interval, or, every short covered by wings held, say so and stop.
     */
    coverOvernight: enqueueActions(({ context, enqueue }, a: OvernightAssessment) => {
      const uncovered = a.shorts.filter((s) => s.covered < s.quantity)
      const switchedOff = "auto-hedge is switched off: nothing is bought (buy the wing by hand, or switch auto-hedge on)"
      const { buy, refused } = context.enabled
        ? wingsWithinCap(uncovered, context.overnightGuard?.mayExceedSpendCap === true ? null : spendLeftOf(context))
        : { buy: [], refused: uncovered.filter((s) => s.wing !== null).map((short) => ({ short, reason: switchedOff })) }
      const hedges = { ...context.hedges }
      let seq = context.hedgeSeq
      for (const wing of buy) {
        const { input, record } = hedgeBuyOf(context, {
          id: `hedge-${++seq}`,
          forEntry: OVERNIGHT,
          trigger: OVERNIGHT,
          strike: wing.strike,
          optionType: wing.optionType,
          quantity: wing.quantity,
          otmDistance: Math.abs(wing.strike - a.spot),
          utilisationBefore: a.utilisationPct,
          cost: wing.cost,
          // Worked until the close: the guard's retries pick again once a buy has ended unfilled.
          buyDeadlineAt: context.closeAt,
          manual: false,
          expiry: wing.expiry
        })
        hedges[record.id] = record
        enqueue.spawnChild("hedge", { id: record.id, systemId: record.id, input })
      }
      const reasons = [
        ...uncovered.filter((s) => s.wing === null).map((s) => `${shortText(s)}: ${s.reason ?? "no wing"}`),
        ...refused.map((r) => `${shortText(r.short)}: ${r.reason}`)
      ]
      const done = uncovered.length === 0 && wingsBeingBought(context).length === 0
      const retryAt = done ? null : overnightRetryAt(context)
      enqueue.assign({ hedges, hedgeSeq: seq, overnightCheckAt: retryAt })
      if (reasons.length > 0) {
        enqueue.emit(alert(context, "OVERNIGHT_UNCOVERED", "critical", { shorts: reasons.join("; "), retryAt: retryAt ?? null }))
      }
      if (done && a.shorts.length > 0) {
        // Every short and the longs that cover it, as the guard found them.
        const covers = (s: OvernightShort) => s.coveredBy.map((l) => `${l.strike} ${s.optionType} ×${l.quantity}`).join(" + ")
        enqueue.emit(alert(context, "OVERNIGHT_COVERED", "info", { shorts: a.shorts.map((s) => `${shortText(s)} ← ${covers(s)}`).join("; "), count: a.shorts.length }))
      }
    }),
    /** An entry seen after the guard's first check (before the close) may leave a new short: check again at its instant. */
    recheckOvernightOnEntry: assign(({ context, event }) => {
      const guard = context.policy === "none" ? null : context.overnightGuard
      if (event.type !== "ENTRY_SEEN" || guard == null || event.at < guard.firstCheckAt || event.at >= context.closeAt) return {}
      return { overnightCheckAt: Math.min(context.overnightCheckAt ?? event.at, event.at) }
    }),
    /** The check itself failed (the positions or the market could not be read): a critical alert, and again later. */
    overnightCheckFailed: enqueueActions(({ context, event, enqueue }) => {
      const error = "error" in event && event.error instanceof Error ? event.error.message : String("error" in event ? event.error : "unknown")
      const retryAt = overnightRetryAt(context)
      enqueue.assign({ overnightCheckAt: retryAt })
      enqueue.emit(alert(context, "OVERNIGHT_UNCOVERED", "critical", { shorts: `not known: the guard could not check the positions (${error})`, retryAt }))
    }),
    /** A wing's buy ended with nothing bought (rejected, or not filled): critical; the next check picks again. */
    alertOvernightWingFailed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "HEDGE_UPDATE" || (event.status !== "rejected" && event.status !== "cancelled")) return
      const hedge = context.hedges[event.hedgeId]
      if (hedge === undefined || hedge.trigger !== OVERNIGHT) return
      enqueue.emit(
        alert(context, "OVERNIGHT_UNCOVERED", "critical", {
          shorts: `the wing ${hedge.symbol} ×${hedge.quantity} was ${event.status === "rejected" ? "rejected" : "not filled"}${event.note === undefined ? "" : ` (${event.note})`}`,
          retryAt: context.overnightCheckAt
        })
      )
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
    hedges: Object.fromEntries(carriedHedgesOf(input).map(({ record }) => [record.id, record])),
    leftEntries: [],
    struckSpots: {},
    grossSpend: 0,
    recovered: 0,
    deltaCheckedAt: null,
    deltaUnmet: false,
    overnightCheckAt: input.policy === "none" ? null : input.overnightGuard?.firstCheckAt ?? null
  }),
  initial: "preOpen",
  on: {
    TOGGLE: { actions: "setEnabled" },
    HEDGE_UPDATE: { actions: ["recordHedgeUpdate", "forwardToEntry", "alertOvernightWingFailed"] },
    ENTRY_SEEN: { actions: ["awaitClock", "noteStruck", "forwardToEntry", "recheckOvernightOnEntry"] },
    ENTRY_EXITED: { actions: ["awaitClock", "noteLeft", "forwardToEntry"] },
    ENTRY_MISSED: { actions: "noteLeft" }
  },
  states: {
    preOpen: {
      entry: ["spawnEntries", "spawnCarriedHedges"],
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
          // Before the exit review, which is due on most ticks while hedges are open: the band's check comes once a period.
          { guard: and([stateIn("#session.trading.watching"), "deltaCheckDue"]), target: ".checkingDelta", actions: ["keepTime", "noteDeltaCheck", "forwardToChildren"] },
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
        MANUAL_BUY: { guard: "manualBuyAffordable", actions: "spawnManualHedge" },
        HEDGE_NOW: { guard: "hedgeNowAllowed", actions: "forwardHedgeNow" }
      },
      states: {
        // The overnight guard's check comes when its time has come and no exit review is under way.
        watching: { always: { guard: "overnightCheckDue", target: "guardingOvernight" } },
        guardingOvernight: {
          invoke: {
            id: "assessOvernight",
            src: "assessOvernight",
            input: ({ context }) => ({ beingBought: wingsBeingBought(context) }),
            onDone: { target: "watching", actions: [{ type: "coverOvernight", params: ({ event }) => event.output }, "grantTurnAfterCheck"] },
            onError: { target: "watching", actions: ["overnightCheckFailed", "grantTurnAfterCheck"] }
          }
        },
        reviewingExits: {
          invoke: {
            id: "assessExits",
            src: "assessExits",
            input: ({ context }) => ({
              policy: context.policy,
              hedges: reviewableHedges(context)
                .sort((a, b) => b.otmDistance - a.otmDistance || a.id.localeCompare(b.id))
                .map((h) => ({ hedgeId: h.id, forEntry: h.forEntry, strike: h.strike, optionType: h.optionType, quantity: h.held, ...(h.expiry === undefined ? {} : { expiry: h.expiry }) })),
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
        },
        // The delta band: a second policy beside the margin engine (docs/delta-band.md).
        checkingDelta: {
          invoke: {
            id: "assessDelta",
            src: "assessDelta",
            input: ({ context }) => ({ spendLeft: deltaSpendLeftOf(context) }),
            onDone: [
              {
                guard: { type: "deltaWingChosen", params: ({ event }) => event.output },
                target: "watching",
                actions: [
                  { type: "spawnDeltaWing", params: ({ event }) => event.output },
                  { type: "alertDeltaWing", params: ({ event }) => event.output },
                  { type: "noteDeltaAnswer", params: ({ event }) => event.output },
                  "grantTurnAfterCheck"
                ]
              },
              {
                guard: { type: "deltaNewlyUnmet", params: ({ event }) => event.output },
                target: "watching",
                actions: [
                  { type: "alertDeltaUnmet", params: ({ event }) => event.output },
                  { type: "noteDeltaAnswer", params: ({ event }) => event.output },
                  "grantTurnAfterCheck"
                ]
              },
              { target: "watching", actions: [{ type: "noteDeltaAnswer", params: ({ event }) => event.output }, "grantTurnAfterCheck"] }
            ],
            onError: { target: "watching", actions: ["alertDeltaCheckFailed", "grantTurnAfterCheck"] }
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
