// The inline buttons an alert carries, and what a press of one asks the command layer for. A button's
// data is the action itself (Telegram gives it back on the press, at most 64 bytes), so a press after
// a restart still means what it said.
import type { Alert } from "../../machines/protocol.ts"
import type { Button } from "./transport.ts"

export type ButtonAction =
  | { readonly type: "exit"; readonly hedgeId: string }
  | { readonly type: "autoHedge"; readonly enabled: boolean }
  /** The next entry still to come decides now (what /hedge_now asks). */
  | { readonly type: "hedgeNow" }

const offForToday: Button = { text: "Off for today", data: "auto:off" }
const hedgeNow: Button = { text: "Hedge now", data: "now" }

/** A buy the engine decided and did not get: its order failed, went unfilled, or fell short of the target. */
const buyFellThrough = (alert: Alert): boolean =>
  alert.kind === "HEDGE_ORDER_FAILED" || alert.kind === "TARGET_NOT_REACHED" || alert.kind === "NO_CANDIDATE" || (alert.kind === "HEDGE_FILL_TIMEOUT" && alert.details.phase === "buy")

export const buttonsFor = (alert: Alert, mode: string | undefined): ReadonlyArray<Button> => {
  // In recommend mode nothing is ever placed: a failed "order" is the recommendation itself.
  if (buyFellThrough(alert)) return mode === "recommend" ? [] : [hedgeNow, offForToday]
  switch (alert.kind) {
    case "HEDGE_BOUGHT":
      return [{ text: "Exit hedge", data: encode({ type: "exit", hedgeId: alert.actor }) }, offForToday]
    case "HEDGE_EXIT_FAILED":
      return [{ text: "Exit hedge", data: encode({ type: "exit", hedgeId: alert.actor }) }]
    case "HEDGE_NEEDED_DISABLED":
      return [{ text: "Auto-hedge on", data: "auto:on" }]
    case "SESSION_STARTED":
      return alert.details.enabled === false ? [{ text: "Auto-hedge on", data: "auto:on" }] : [offForToday]
    case "HEDGES_CHOSEN":
    case "ENTRY_INFO":
      return [offForToday]
    default:
      return []
  }
}

export const encode = (a: ButtonAction): string => {
  switch (a.type) {
    case "exit":
      return `exit:${a.hedgeId}`
    case "autoHedge":
      return `auto:${a.enabled ? "on" : "off"}`
    case "hedgeNow":
      return "now"
  }
}

/** The action of a button's data; null for data this bot never sent (or no longer understands). */
export const decode = (data: string): ButtonAction | null => {
  const [type, ...rest] = data.split(":")
  if (type === "exit" && rest.length > 0) return { type: "exit", hedgeId: rest.join(":") }
  if (type === "auto" && (rest[0] === "on" || rest[0] === "off") && rest.length === 1) return { type: "autoHedge", enabled: rest[0] === "on" }
  if (type === "now" && rest.length === 0) return { type: "hedgeNow" }
  return null
}
