// The vocabulary between the machines and the runtime: events the actors exchange, the inputs and
// outputs of the services the runtime binds, and the alerts the machines raise. Pure data only.
import { fromPromise, type AnyStateMachine } from "xstate"
import type { HedgePick } from "../src/domain/selection.ts"
import type { Contract, OvernightShort } from "../src/domain/overnight.ts"
import type { LegSpec, OptionType } from "../src/domain/market.ts"

export type Policy = "engine" | "static" | "none"

/** The thresholds an entry decides by (percent of the day's budget). */
export interface EntryRules {
  readonly triggerPct: number
  readonly targetPct: number
  /** Projected utilisation above which a "no hedge needed" entry is still announced. */
  readonly infoPct: number
  /** While the entry is ahead, decide again this often (ms); 0: decide once. */
  readonly recheckEveryMs: number
  /**
   * Weigh a hedge set's cost against the breach cost it averts before buying (the engine does; the
   * reference policy bought whatever reached the target).
   */
  readonly weighCost: boolean
  /** What a breached entry costs beyond the shortfall penalty, rupees (config breachCostPerEntry). */
  readonly breachCostPerEntry: number
  /** Buy even when the set cannot bring the entry under 100 % (config buyWhenBreachUnavoidable). */
  readonly buyWhenBreachUnavoidable: boolean
}

export interface EntryPlan {
  readonly id: string
  readonly portfolio: string
  readonly entryAt: number
  readonly lookaheadAt: number
  readonly exitAt: number | null
  /** When an entry not yet seen counts as missed. */
  readonly missAt: number
  readonly legs: ReadonlyArray<LegSpec>
}

export interface HedgeOrderRules {
  readonly limitPriceBuffer: number
  readonly minExitPrice: number
  readonly fillTimeoutMs: number
  readonly orderPollMs: number
  readonly maxReprices: number
}

/** What the session grants an entry with its turn to decide. */
export interface TurnGrant {
  readonly enabled: boolean
  readonly policy: Policy
  readonly spendLeft: number
  readonly cooldownUntil: number
}

export interface Projection {
  readonly at: number
  readonly budget: number
  readonly marginInUse: number
  readonly currentPct: number
  /** Margin the entries up to and including this one add to the held portfolio. */
  readonly entryMargin: number
  readonly projectedMargin: number
  readonly projectedPct: number
  /** Margin to free to come back to the target, rupees (0 when under it). */
  readonly reductionNeeded: number
  /**
   * Entries the projection stands for: the deciding one and, buying ahead, each later one coming in
   * by the instant projected (what a breach there would cost is counted for each).
   */
  readonly entriesAtRisk: number
  /** Projected margin at the deciding entry's own instant (below projectedMargin only when buying ahead). */
  readonly marginAtEntry: number
}

export interface SelectionResult {
  readonly picks: ReadonlyArray<HedgePick>
  readonly cost: number
  readonly benefit: number
  readonly shortfall: number
  readonly limitedBy: "none" | "noCandidate" | "spendCap"
}

export type HedgeStatus = "ordering" | "open" | "exiting" | "closed" | "expired" | "cancelled" | "rejected"

export interface HedgeUpdate {
  readonly type: "HEDGE_UPDATE"
  readonly hedgeId: string
  readonly forEntry: string
  readonly status: HedgeStatus
  /** Units held after this update. */
  readonly quantity: number
  /** Rupees paid (buy fill) or received (sale / expiry) by this update. */
  readonly cash: number
  readonly note?: string
}

// ---- Alerts: what a trader is told. The runtime formats and sends them through the Notifier.
export type AlertKind =
  | "SESSION_STARTED"
  | "ENTRY_INFO"
  | "HEDGE_NEEDED_DISABLED"
  | "NO_CANDIDATE"
  | "SPEND_CAP_REACHED"
  | "COOLDOWN_BLOCKED"
  | "TARGET_NOT_REACHED"
  | "PROJECTION_FAILED"
  | "HEDGES_CHOSEN"
  | "BREACH_UNAVOIDABLE"
  | "HEDGE_NOT_WORTH_IT"
  | "HEDGE_BOUGHT"
  | "HEDGE_ORDER_FAILED"
  | "HEDGE_FILL_TIMEOUT"
  | "HEDGE_SOLD"
  /** An open hedge held to the expiry-day close instead of being sold: settled at its intrinsic value. */
  | "HEDGE_EXPIRED"
  | "HEDGE_EXIT_FAILED"
  | "ENTRY_MISSED"
  /** Raised by the day view, not the machines: an entry went in with utilisation over 100 %. */
  | "ENTRY_BREACHED"
  | "EXIT_REVIEW_FAILED"
  /** The delta band bought (or recommended) a wing: delta before and after, the band. */
  | "DELTA_BAND_WING"
  /** Delta outside the band and no wing bought (none fits, the cap, the check failed): once per spell. */
  | "DELTA_BAND_UNMET"
  | "EOD_SUMMARY"
  | "ENGINE_HALTED"
  | "WATCHDOG"
  /** The overnight guard could not cover a short held past the close (no price, rejection, cap): it tries again. */
  | "OVERNIGHT_UNCOVERED"
  /** Every short held past the close is covered by a wing held. */
  | "OVERNIGHT_COVERED"

export interface Alert {
  readonly kind: AlertKind
  readonly severity: "info" | "warning" | "critical"
  readonly actor: string
  readonly details: Readonly<Record<string, string | number | boolean | null>>
}

export interface AlertEvent {
  readonly type: "alert"
  readonly alert: Alert
}

// ---- Service inputs / outputs (bound by the runtime to Effect services).
export interface ProjectEntryInput {
  readonly entryId: string
}

export interface SelectHedgesInput {
  readonly entryId: string
  readonly policy: Policy
  readonly projection: Projection
  readonly spendLeft: number
}

export interface OrderRequest {
  readonly clientOrderId: string
  readonly hedgeId: string
  /** The broker's trading symbol. */
  readonly symbol: string
  readonly side: "BUY" | "SELL"
  readonly strike: number
  readonly optionType: OptionType
  readonly quantity: number
  readonly limitPrice: number
}

export type PlaceResult =
  | { readonly outcome: "accepted"; readonly orderId: string }
  | { readonly outcome: "rejected"; readonly message: string }
  /** The send timed out or the connection broke: the order may or may not exist at the broker. */
  | { readonly outcome: "unknown"; readonly message: string }

export interface OrderState {
  readonly orderId: string
  readonly status: "open" | "filled" | "cancelled" | "rejected"
  readonly filledQuantity: number
  readonly averagePrice: number
  readonly message?: string
}

/** Which order a status or cancel call is about: the broker's id and the client id it was sent with. */
export interface OrderRef {
  readonly orderId: string
  readonly clientOrderId: string
}

export interface QuoteInput {
  readonly strike: number
  readonly optionType: OptionType
}

export interface Quote {
  readonly ltp: number | null
  readonly at: number
}

export interface ExitCandidate {
  readonly hedgeId: string
  readonly forEntry: string
  readonly strike: number
  readonly optionType: OptionType
  readonly quantity: number
  /** Its expiry when not the day's (an overnight wing). */
  readonly expiry?: string
}

export interface AssessExitsInput {
  readonly policy: Policy
  readonly hedges: ReadonlyArray<ExitCandidate>
  /** Entries whose short legs are still open or still to come (for the static policy's pairing). */
  readonly liveEntries: ReadonlyArray<string>
}

export interface ExitDecision {
  readonly hedgeId: string | null
  readonly reason: string
  readonly utilisationPct: number
}

export interface AssessDeltaInput {
  /** What the band may still spend today: its own cap, within what the day's cap leaves, rupees. */
  readonly spendLeft: number
}

/** The delta band's answer: deltas in rupees per 1 % index move; a wing only when delta is outside the band. */
export interface DeltaDecision {
  readonly deltaPerPct: number
  readonly limitPerPct: number
  readonly outside: boolean
  readonly wing: {
    readonly strike: number
    readonly optionType: OptionType
    readonly quantity: number
    readonly lots: number
    readonly limitPrice: number
    readonly cost: number
    readonly otmDistance: number
    readonly deltaAfterPerPct: number
  } | null
  /** Why no wing, when outside with none. */
  readonly reason: string
  readonly utilisationPct: number
}

/** The overnight guard's settings, as the session is given them (docs/overnight-guard.md). */
export interface OvernightGuardRules {
  /** The first check, a market instant (config overnightGuard.minutesBeforeClose before the close). */
  readonly firstCheckAt: number
  /** While a short is uncovered or its wing is being bought, check again this often (ms), until the close. */
  readonly retryMs: number
  /** The trader lets the guard's wings exceed the day's spend cap. */
  readonly mayExceedSpendCap: boolean
}

export interface AssessOvernightInput {
  /** Wings being bought (orders working): they count as covering. */
  readonly beingBought: ReadonlyArray<Contract>
}

export interface OvernightAssessment {
  /** Every short option held past the close and not expiring today, with what covers it. */
  readonly shorts: ReadonlyArray<OvernightShort>
  /** The index level now (a wing's distance from it is kept with its hedge). */
  readonly spot: number
  /** Utilisation now, percent (kept with each wing bought, as with every hedge). */
  readonly utilisationPct: number
}

/**
 * Service actors are declared in the machines with their types and bound by the runtime
 * (machine.provide): until bound, invoking one fails loudly instead of doing anything silently.
 */
export const boundByRuntime = <TOutput, TInput>(name: string) =>
  fromPromise<TOutput, TInput>(() => Promise.reject(new Error(`service "${name}" is not bound to the runtime`)))

/**
 * Whether a state, named as the audit names it ("trading.watching"), carries a tag, its own or a
 * parent's: a machine's fact for those who read its rows rather than its actors.
 */
export const stateNameHasTag = (machine: AnyStateMachine, name: string, tag: string): boolean => {
  let states = machine.root.states
  for (const key of name.split(".")) {
    const node = states[key]
    if (node === undefined) return false
    if (node.tags.includes(tag)) return true
    states = node.states
  }
  return false
}

/** What a running actor's snapshot tells of its tags (a child's, read through its parent). */
export interface TaggedSnapshot {
  readonly status: string
  hasTag(tag: string): boolean
}
