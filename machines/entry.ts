// One scheduled strategy entry. At its look-ahead time it asks the session for the turn to decide
// (decisions are taken one at a time, in entry order), projects utilisation after the entry, and
// only when that crosses the trigger selects hedges and asks the session to buy them. Every failure
// is a state the entry still proceeds from: the external platform enters at its time regardless.
import { and, assign, enqueueActions, sendParent, setup } from "xstate"
import { shortSidesOf } from "../src/domain/market.ts"
import { avertedBreachCost } from "../src/domain/objective.ts"
import { utilisationPct } from "../src/domain/projection.ts"
import {
  boundByRuntime,
  type AlertEvent,
  type EntryPlan,
  type EntryRules,
  type HedgeUpdate,
  type ProjectEntryInput,
  type Projection,
  type SelectHedgesInput,
  type SelectionResult,
  stateNameHasTag,
  type TaggedSnapshot,
  type TurnGrant
} from "./protocol.ts"

export interface EntryInput extends EntryPlan {
  readonly rules: EntryRules
}

export interface EntryContext extends EntryInput {
  readonly grant: TurnGrant | null
  readonly projection: Projection | null
  readonly selection: SelectionResult | null
  /** Hedge orders this entry asked for and that have not settled yet. */
  readonly pendingHedges: number
  readonly hedgesFilled: number
  readonly hedgesFailed: number
  /** Rounds of hedge buying done for this entry (at most MAX_HEDGE_ROUNDS, re-checks included). */
  readonly hedgeRounds: number
  readonly exitReason: string | null
  /** When the latest decision for this entry began (its look-ahead, then each re-check). */
  readonly checkedAt: number
  /** Alerts already sent for this entry: a decision taken again does not repeat them. */
  readonly alerted: ReadonlyArray<AlertKind>
}

type AlertKind = AlertEvent["alert"]["kind"]

export type EntryEvent =
  | { readonly type: "CLOCK"; readonly at: number }
  | ({ readonly type: "TURN_GRANTED" } & TurnGrant)
  | HedgeUpdate
  | { readonly type: "ENTRY_SEEN"; readonly at: number }
  | { readonly type: "ENTRY_EXITED"; readonly at: number; readonly reason: string }
  | { readonly type: "SESSION_CLOSE"; readonly expiryDay: boolean; readonly spot: number }
  /** The trader asks for this entry's decision now (forwarded by the session), whatever its look-ahead time. */
  | { readonly type: "HEDGE_NOW"; readonly at: number }

export interface BuyHedgesRequest {
  readonly type: "BUY_HEDGES"
  readonly entryId: string
  readonly portfolio: string
  /** Utilisation when the hedges were decided, percent. */
  readonly utilisationBefore: number
  readonly selection: SelectionResult
}

/** Rounds of hedge buying an entry does at most: a round after failed fills or a re-check is one. */
export const MAX_HEDGE_ROUNDS = 2

/**
 * What an entry's state means for the rest of the day. `toCome`: the platform has neither entered it
 * nor let its chance pass (its margin is still ahead). `entered`: the platform entered it and has not
 * left it (its margin is held now).
 */
export type EntryTag = "toCome" | "entered"


/** Projected margin at the entry's own instant once the selected hedges are in, rupees. */
const marginAfter = (p: Projection, s: SelectionResult): number => p.marginAtEntry - s.benefit

/** The expected breach cost a selection averts for this entry (src/domain/objective.ts). */
const avertedBy = (c: EntryContext, s: SelectionResult): number =>
  c.projection === null
    ? 0
    : avertedBreachCost({
        margin: c.projection.projectedMargin,
        benefit: s.benefit,
        budget: c.projection.budget,
        triggerPct: c.rules.triggerPct,
        breachCostPerEntry: c.rules.breachCostPerEntry * c.projection.entriesAtRisk
      })

/** Only the engine weighs what it buys, and only where its rules say so (not the reference policy). */
const weighs = (c: EntryContext) => c.grant?.policy === "engine" && c.rules.weighCost

const alert = (c: EntryContext, kind: AlertKind, severity: AlertEvent["alert"]["severity"]): AlertEvent => ({
  type: "alert",
  alert: {
    kind,
    severity,
    actor: c.id,
    details: {
      portfolio: c.portfolio,
      currentPct: c.projection?.currentPct ?? null,
      projectedPct: c.projection?.projectedPct ?? null,
      reductionNeeded: c.projection?.reductionNeeded ?? null,
      hedgeCost: c.selection?.cost ?? null,
      shortfall: c.selection?.shortfall ?? null,
      projectedAfterPct: c.projection === null || c.selection === null ? null : utilisationPct(marginAfter(c.projection, c.selection), c.projection.budget),
      breachCostAverted: c.selection === null ? null : Math.round(avertedBy(c, c.selection)),
      triggerPct: c.rules.triggerPct
    }
  }
})

/**
 * The first re-check instant after `after` (and after the look-ahead): whole multiples of the interval
 * on the clock (11:38:00, 11:38:30 for 30 s), so re-checks meet the market's minute ticks, and the
 * daemon and a replay of its day take them at the same instants. Null when re-checking is off or none
 * is left before the entry.
 */
export const nextRecheckAt = (plan: Pick<EntryPlan, "lookaheadAt" | "entryAt">, everyMs: number, after: number): number | null => {
  if (everyMs <= 0) return null
  const at = (Math.floor(Math.max(after, plan.lookaheadAt) / everyMs) + 1) * everyMs
  return at < plan.entryAt ? at : null
}

/** Each kind of alert is sent once per entry, however often its decision is taken again. */
const alertOnce = (kind: AlertKind, severity: AlertEvent["alert"]["severity"]) =>
  enqueueActions<EntryContext, EntryEvent, undefined, EntryEvent, never, never, never, never, AlertEvent>(({ context, enqueue }) => {
    if (context.alerted.includes(kind)) return
    enqueue.assign({ alerted: [...context.alerted, kind] })
    enqueue.emit(alert(context, kind, severity))
  })

/** An outcome the entry may still improve on: while it is ahead, the decision is taken again. */
const recheckedWhileAhead = { on: { CLOCK: { guard: "recheckDue", target: "#entry.lookahead", actions: "noteCheck" } } } as const

export const entryMachine = setup({
  types: {
    input: {} as EntryInput,
    context: {} as EntryContext,
    events: {} as EntryEvent,
    emitted: {} as AlertEvent,
    tags: {} as EntryTag
  },
  actors: {
    projectEntry: boundByRuntime<Projection, ProjectEntryInput>("projectEntry"),
    selectHedges: boundByRuntime<SelectionResult, SelectHedgesInput>("selectHedges")
  },
  guards: {
    lookaheadReached: ({ context, event }) => event.type === "CLOCK" && event.at >= context.lookaheadAt,
    /**
     * The trader's "hedge now": taken while the entry is still ahead, decided or not (it decides
     * afresh), with a round of buying left (the trader's asks count against MAX_HEDGE_ROUNDS as the
     * engine's re-checks do: a broker failing every buy is not asked again and again).
     */
    mayDecideNow: ({ context, event }) => event.type === "HEDGE_NOW" && event.at < context.entryAt && context.hedgeRounds < MAX_HEDGE_ROUNDS,
    /**
     * Decided early at the trader's ask, the entry still takes its decision at its look-ahead: the
     * market the early decision saw may have moved by then.
     */
    lookaheadAfterEarlyDecision: ({ context, event }) =>
      event.type === "CLOCK" && context.checkedAt < context.lookaheadAt && event.at >= context.lookaheadAt && event.at < context.entryAt && context.hedgeRounds < MAX_HEDGE_ROUNDS,
    entryTimeReached: ({ context, event }) => event.type === "CLOCK" && event.at >= context.entryAt,
    entryOverdue: ({ context, event }) => event.type === "CLOCK" && event.at >= context.missAt,
    /**
     * The engine's entry is still ahead, has rounds of buying left, and its decision is old enough to
     * take again (the static baseline buys its one pair per entry; none buys nothing).
     */
    recheckDue: ({ context, event }) => {
      if (event.type !== "CLOCK" || context.grant?.policy !== "engine" || context.hedgeRounds >= MAX_HEDGE_ROUNDS) return false
      const due = nextRecheckAt(context, context.rules.recheckEveryMs, context.checkedAt)
      return due !== null && event.at >= due && event.at < context.entryAt
    },
    /** The policy decides whether this entry gets hedges at all. */
    hedgeNotNeeded: ({ context }) => {
      const policy = context.grant?.policy ?? "engine"
      if (policy === "none") return true
      if (policy === "static") return shortSidesOf(context.legs).length === 0
      return (context.projection?.projectedPct ?? 0) <= context.rules.triggerPct
    },
    autoHedgeDisabled: ({ context }) => context.grant?.enabled === false,
    // The static baseline stands for platforms without a budget: it ignores the cap and cooldown.
    spendCapReached: ({ context }) => context.grant?.policy === "engine" && context.grant.spendLeft <= 0,
    coolingDown: ({ context }) =>
      context.grant?.policy === "engine" && (context.projection?.at ?? 0) < context.grant.cooldownUntil,
    cooldownOver: ({ context, event }) => event.type === "CLOCK" && event.at >= (context.grant?.cooldownUntil ?? 0),
    /** Nothing affordable was found, or (defence in depth) the selection costs more than the spend left. */
    nothingToBuyForCap: ({ context }, s: SelectionResult) =>
      (s.picks.length === 0 && s.limitedBy === "spendCap") || (context.grant?.policy === "engine" && s.cost > context.grant.spendLeft),
    nothingToBuy: (_, s: SelectionResult) => s.picks.length === 0,
    /**
     * The best set within the spend left still leaves the entry over 100 % of the budget: the spend
     * would save no entry, so it is not made unless the trader configured it.
     */
    breachUnavoidable: ({ context }, s: SelectionResult) =>
      weighs(context) && !context.rules.buyWhenBreachUnavoidable && context.projection !== null && marginAfter(context.projection, s) > context.projection.budget,
    /** The set costs more than the expected breach cost it averts for this entry. */
    costsMoreThanItAverts: ({ context }, s: SelectionResult) => weighs(context) && s.cost > avertedBy(context, s),
    allHedgesSettled: ({ context }) => context.pendingHedges === 0,
    targetReached: ({ context }) => context.hedgesFailed === 0 && (context.selection?.shortfall ?? 0) === 0,
    someHedgeFilled: ({ context }) => context.hedgesFilled > 0,
    /** Orders failed to fill: measure again and select afresh, once, while the entry is still ahead. */
    mayTryAgain: ({ context }) => context.hedgesFailed > 0 && context.hedgeRounds < MAX_HEDGE_ROUNDS,
    nearTrigger: ({ context }) => (context.projection?.projectedPct ?? 0) > context.rules.infoPct
  },
  actions: {
    requestTurn: sendParent(({ context }) => ({ type: "REQUEST_TURN", entryId: context.id })),
    releaseTurn: sendParent(({ context }) => ({ type: "TURN_DONE", entryId: context.id })),
    /** A missed entry holds no margin: the session stops keeping hedges for it. */
    reportMissed: sendParent(({ context }) => ({ type: "ENTRY_MISSED", entryId: context.id })),
    noteCheck: assign(({ event }) => (event.type === "CLOCK" ? { checkedAt: event.at } : {})),
    /** A decision the trader asked for: its outcome is told again, even a kind already told for this entry. */
    noteDecideNow: assign(({ event }) => (event.type === "HEDGE_NOW" ? { checkedAt: event.at, alerted: [] } : {})),
    keepGrant: assign(({ event }) => (event.type === "TURN_GRANTED" ? { grant: { enabled: event.enabled, policy: event.policy, spendLeft: event.spendLeft, cooldownUntil: event.cooldownUntil } } : {})),
    keepProjection: assign((_, p: Projection) => ({ projection: p })),
    /** A selection not bought: kept for what the trader is told, no order counted. */
    keepDeclined: assign((_, s: SelectionResult) => ({ selection: s })),
    keepSelection: assign(({ context }, s: SelectionResult) => ({
      selection: s,
      pendingHedges: s.picks.length,
      hedgesFilled: 0,
      hedgesFailed: 0,
      hedgeRounds: context.hedgeRounds + (s.picks.length > 0 ? 1 : 0)
    })),
    askToBuy: sendParent(({ context }): BuyHedgesRequest => ({
      type: "BUY_HEDGES",
      entryId: context.id,
      portfolio: context.portfolio,
      utilisationBefore: context.projection?.currentPct ?? 0,
      selection: context.selection!
    })),
    countHedgeOutcome: assign(({ context, event }) => {
      if (event.type !== "HEDGE_UPDATE") return {}
      if (event.status === "open") return { pendingHedges: context.pendingHedges - 1, hedgesFilled: context.hedgesFilled + 1 }
      if (event.status === "cancelled" || event.status === "rejected") return { pendingHedges: context.pendingHedges - 1, hedgesFailed: context.hedgesFailed + 1 }
      return {}
    }),
    keepExitReason: assign(({ event }) => ({
      exitReason: event.type === "ENTRY_EXITED" ? event.reason : event.type === "SESSION_CLOSE" ? (event.expiryDay ? "EXPIRED" : "CARRIED") : null
    })),
    alertInfo: alertOnce("ENTRY_INFO", "info"),
    alertDisabled: alertOnce("HEDGE_NEEDED_DISABLED", "warning"),
    alertNoCandidate: alertOnce("NO_CANDIDATE", "critical"),
    alertSpendCap: alertOnce("SPEND_CAP_REACHED", "critical"),
    alertCooldownBlocked: alertOnce("COOLDOWN_BLOCKED", "critical"),
    alertTargetNotReached: alertOnce("TARGET_NOT_REACHED", "critical"),
    alertProjectionFailed: alertOnce("PROJECTION_FAILED", "critical"),
    alertChosen: alertOnce("HEDGES_CHOSEN", "info"),
    alertUnavoidable: alertOnce("BREACH_UNAVOIDABLE", "critical"),
    alertNotWorthIt: alertOnce("HEDGE_NOT_WORTH_IT", "warning"),
    alertMissed: alertOnce("ENTRY_MISSED", "warning")
  }
}).createMachine({
  id: "entry",
  context: ({ input }) => ({
    ...input,
    grant: null,
    projection: null,
    selection: null,
    pendingHedges: 0,
    hedgesFilled: 0,
    hedgesFailed: 0,
    hedgeRounds: 0,
    exitReason: null,
    checkedAt: input.lookaheadAt,
    alerted: []
  }),
  initial: "idle",
  on: {
    SESSION_CLOSE: { target: ".missed", actions: ["releaseTurn", "alertMissed"] }
  },
  states: {
    idle: {
      tags: ["toCome"],
      on: {
        CLOCK: { guard: "lookaheadReached", target: "lookahead", actions: "noteCheck" },
        HEDGE_NOW: { guard: "mayDecideNow", target: "lookahead", actions: "noteDecideNow" },
        ENTRY_SEEN: "entered"
      }
    },
    // Waiting for the session's turn: only one entry decides at a time.
    lookahead: {
      tags: ["toCome"],
      entry: "requestTurn",
      on: {
        TURN_GRANTED: { target: "projecting", actions: "keepGrant" },
        ENTRY_SEEN: { target: "entered", actions: "releaseTurn" }
      }
    },
    projecting: {
      tags: ["toCome"],
      initial: "measuring",
      on: { ENTRY_SEEN: { target: "entered", actions: "releaseTurn" } },
      states: {
        measuring: {
          invoke: {
            id: "projectEntry",
            src: "projectEntry",
            input: ({ context }) => ({ entryId: context.id }),
            onDone: { target: "deciding", actions: { type: "keepProjection", params: ({ event }) => event.output } },
            onError: { target: "#entry.awaitingEntry.unprojected", actions: "alertProjectionFailed" }
          }
        },
        deciding: {
          always: [
            { guard: and(["hedgeNotNeeded", "nearTrigger"]), target: "#entry.awaitingEntry.clear", actions: "alertInfo" },
            { guard: "hedgeNotNeeded", target: "#entry.awaitingEntry.clear" },
            { guard: "autoHedgeDisabled", target: "#entry.awaitingEntry.disabled", actions: "alertDisabled" },
            { guard: "spendCapReached", target: "#entry.awaitingEntry.capReached", actions: "alertSpendCap" },
            { guard: "coolingDown", target: "coolingDown" },
            { target: "#entry.hedging" }
          ]
        },
        // A hedge action happened within the cooldown: wait it out, then measure again.
        coolingDown: {
          on: {
            CLOCK: [
              { guard: "entryTimeReached", target: "#entry.awaitingEntry.cooldownBlocked", actions: "alertCooldownBlocked" },
              { guard: "cooldownOver", target: "measuring" }
            ]
          }
        }
      }
    },
    hedging: {
      tags: ["toCome"],
      initial: "selecting",
      on: { ENTRY_SEEN: { target: "entered", actions: "releaseTurn" } },
      states: {
        selecting: {
          invoke: {
            id: "selectHedges",
            src: "selectHedges",
            input: ({ context }) => ({
              entryId: context.id,
              policy: context.grant?.policy ?? "engine",
              projection: context.projection!,
              spendLeft: context.grant?.spendLeft ?? 0
            }),
            onDone: [
              {
                guard: { type: "nothingToBuyForCap", params: ({ event }) => event.output },
                target: "#entry.awaitingEntry.capReached",
                actions: [{ type: "keepSelection", params: ({ event }) => ({ ...event.output, picks: [] }) }, "alertSpendCap"]
              },
              { guard: { type: "nothingToBuy", params: ({ event }) => event.output }, target: "#entry.awaitingEntry.noCandidate", actions: [{ type: "keepSelection", params: ({ event }) => event.output }, "alertNoCandidate"] },
              {
                guard: { type: "breachUnavoidable", params: ({ event }) => event.output },
                target: "#entry.awaitingEntry.declined",
                actions: [{ type: "keepDeclined", params: ({ event }) => event.output }, "alertUnavoidable"]
              },
              {
                guard: { type: "costsMoreThanItAverts", params: ({ event }) => event.output },
                target: "#entry.awaitingEntry.declined",
                actions: [{ type: "keepDeclined", params: ({ event }) => event.output }, "alertNotWorthIt"]
              },
              { target: "ordering", actions: [{ type: "keepSelection", params: ({ event }) => event.output }, "askToBuy", "alertChosen"] }
            ],
            onError: { target: "#entry.awaitingEntry.noCandidate", actions: "alertNoCandidate" }
          }
        },
        // The session spawned one hedge actor per pick; wait until each is filled or has failed.
        ordering: {
          on: { HEDGE_UPDATE: { actions: "countHedgeOutcome" } },
          always: [
            { guard: "allHedgesSettled", target: "settled" }
          ]
        },
        settled: {
          always: [
            { guard: "targetReached", target: "#entry.awaitingEntry.hedged" },
            { guard: "mayTryAgain", target: "#entry.lookahead", actions: "releaseTurn" },
            { guard: "someHedgeFilled", target: "#entry.awaitingEntry.shortOfTarget", actions: "alertTargetNotReached" },
            { target: "#entry.awaitingEntry.orderFailed", actions: "alertTargetNotReached" }
          ]
        }
      }
    },
    // The decision is taken (with its outcome as the sub-state); the platform enters at its time.
    awaitingEntry: {
      tags: ["toCome"],
      entry: "releaseTurn",
      initial: "clear",
      on: {
        ENTRY_SEEN: "entered",
        CLOCK: [
          { guard: "entryOverdue", target: "missed", actions: "alertMissed" },
          { guard: "lookaheadAfterEarlyDecision", target: "#entry.lookahead", actions: "noteCheck" }
        ],
        HEDGE_NOW: { guard: "mayDecideNow", target: "#entry.lookahead", actions: "noteDecideNow" }
      },
      states: {
        clear: recheckedWhileAhead,
        hedged: recheckedWhileAhead,
        disabled: recheckedWhileAhead,
        capReached: {},
        cooldownBlocked: {},
        noCandidate: recheckedWhileAhead,
        /** The set was weighed and not bought (it saves no entry, or costs more than it averts). */
        declined: recheckedWhileAhead,
        orderFailed: {},
        shortOfTarget: recheckedWhileAhead,
        unprojected: recheckedWhileAhead
      }
    },
    entered: {
      tags: ["entered"],
      on: {
        ENTRY_EXITED: { target: "exited", actions: "keepExitReason" },
        SESSION_CLOSE: { target: "exited", actions: "keepExitReason" }
      }
    },
    exited: { type: "final" },
    missed: { type: "final", entry: "reportMissed" }
  }
})

/** The entry is still to come (see EntryTag); a stopped or unknown actor is not. */
export const isToCome = (entry: TaggedSnapshot | undefined): boolean => entry?.status === "active" && entry.hasTag("toCome")
/** The entry is in: entered by the platform and not left (see EntryTag). */
export const isEntered = (entry: TaggedSnapshot | undefined): boolean => entry?.status === "active" && entry.hasTag("entered")
/** `isToCome` for an entry state named as the audit names it (`projecting.asking`). */
export const isToComeState = (name: string): boolean => stateNameHasTag(entryMachine, name, "toCome")
