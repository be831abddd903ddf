// The machines' states as a trader reads them: "waiting for the fill", not `ordering.awaitingFill.working`.
// A state without words of its own takes its parent's (`ordering.quoteRetry` reads as `ordering`).
import type { TransitionRow } from "../services/services.ts"

const WORDS: Readonly<Record<TransitionRow["kind"], Readonly<Record<string, string>>>> = {
  session: {
    preOpen: "before the open",
    trading: "trading",
    "trading.reviewingExits": "trading, reviewing the hedges for exit",
    closing: "closing",
    closed: "closed"
  },
  entry: {
    idle: "scheduled",
    lookahead: "looking ahead",
    projecting: "projecting its margin",
    "projecting.coolingDown": "waiting for the cooldown",
    hedging: "buying hedges",
    "hedging.selecting": "choosing hedges",
    awaitingEntry: "waiting for the entry",
    "awaitingEntry.clear": "no hedge needed, waiting for the entry",
    "awaitingEntry.hedged": "hedged, waiting for the entry",
    "awaitingEntry.disabled": "hedge needed but auto-hedge is off",
    "awaitingEntry.capReached": "hedge needed but the spend cap is reached",
    "awaitingEntry.cooldownBlocked": "hedge needed but blocked by the cooldown",
    "awaitingEntry.noCandidate": "hedge needed but no strike fits",
    "awaitingEntry.declined": "hedge not bought (not worth it, or the breach is unavoidable)",
    "awaitingEntry.orderFailed": "hedge order failed",
    "awaitingEntry.shortOfTarget": "hedged short of the target",
    "awaitingEntry.unprojected": "margin could not be projected",
    entered: "entered",
    exited: "exited",
    missed: "missed"
  },
  hedge: {
    ordering: "buying",
    "ordering.awaitingFill": "waiting for the fill",
    "ordering.fillTimedOut": "fill timed out",
    "ordering.repricing": "repricing the buy",
    "ordering.cancelling": "cancelling the buy",
    open: "held",
    exiting: "selling",
    "exiting.awaitingFill": "waiting for the sell to fill",
    "exiting.repricing": "repricing the sell",
    "exiting.cancelling": "cancelling the sell",
    sold: "sold",
    closed: "sold",
    expired: "expired",
    cancelled: "not bought (cancelled)",
    rejected: "not bought (rejected)"
  }
}

export const stateInWords = (kind: TransitionRow["kind"], state: string): string => {
  const words = WORDS[kind]
  for (let s = state; s !== ""; s = s.slice(0, Math.max(0, s.lastIndexOf(".")))) {
    const w = words[s]
    if (w !== undefined) return w
  }
  return state
}
