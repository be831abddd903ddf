// When a hedge may be sold. The engine sells only when utilisation is below the exit threshold, and
// only a hedge whose sale keeps projected utilisation (with the next entry) at or under the trigger;
// the farthest out of the money goes first, and nothing is sold below the minimum exit price.
import type { ExitDecision, Policy } from "../../machines/protocol.ts"
import { utilisationPct } from "./projection.ts"

export interface ExitOption {
  readonly hedgeId: string
  readonly forEntry: string
  /** Last price of the hedge, null when it has none. */
  readonly price: number | null
  /** Projected margin (held portfolio plus the next entry) if this hedge were sold, rupees. */
  readonly projectedMarginWithout: number
}

export interface ExitRules {
  readonly exitTriggerPct: number
  readonly triggerPct: number
  readonly minExitPrice: number
}

/** Options are in preference order (farthest OTM first); the first acceptable one is sold. */
export const chooseExit = (p: {
  readonly policy: Policy
  readonly options: ReadonlyArray<ExitOption>
  readonly liveEntries: ReadonlyArray<string>
  readonly marginInUse: number
  readonly budget: number
  readonly rules: ExitRules
}): ExitDecision => {
  const utilisation = utilisationPct(p.marginInUse, p.budget)
  const none = (reason: string): ExitDecision => ({ hedgeId: null, reason, utilisationPct: utilisation })
  const sellable = p.options.filter((o) => o.price !== null && o.price >= p.rules.minExitPrice)
  if (p.policy === "none") return none("policy never hedges")
  if (p.policy === "static") {
    // Static hedges live and die with the entry they were bought for.
    const done = sellable.find((o) => !p.liveEntries.includes(o.forEntry))
    return done === undefined ? none("every static hedge's entry is still open") : { hedgeId: done.hedgeId, reason: "ENTRY_EXITED", utilisationPct: utilisation }
  }
  if (utilisation >= p.rules.exitTriggerPct) return none(`utilisation ${utilisation}% is not below the exit threshold`)
  const safe = sellable.find((o) => utilisationPct(o.projectedMarginWithout, p.budget) <= p.rules.triggerPct)
  return safe === undefined
    ? none("no hedge can be sold without pushing projected utilisation over the trigger (or each is worth too little)")
    : { hedgeId: safe.hedgeId, reason: "EXCESS_MARGIN", utilisationPct: utilisation }
}
