// The inline buttons an alert carries, and what a press of one asks the command layer for. A button's
// data is the action itself (Telegram gives it back on the press, at most 64 bytes), so a press after
// a restart still means what it said.
import type { Alert } from "../../machines/protocol.ts"
import type { OptionType } from "../../src/domain/market.ts"
import type { Button } from "./transport.ts"

export type ButtonAction =
  | { readonly type: "exit"; readonly hedgeId: string }
  | { readonly type: "autoHedge"; readonly enabled: boolean }
  | { readonly type: "buy"; readonly proposal: Proposal }

/** A hedge the engine meant to buy and did not (its order failed or went unfilled): what "Hedge now" buys. */
export interface Proposal {
  readonly strike: number
  readonly optionType: OptionType
  readonly lots: number
  /** The entry it was for ("entry:E4"). */
  readonly entry: string
}

const offForToday: Button = { text: "Off for today", data: "auto:off" }

/** The proposal an alert carries: a buy that failed or went unfilled, with a lot size to count lots by. */
export const proposalOf = (alert: Alert, lotSize: number | undefined, mode: string | undefined): Proposal | null => {
  const d = alert.details
  const buyFailed = alert.kind === "HEDGE_ORDER_FAILED" || (alert.kind === "HEDGE_FILL_TIMEOUT" && d.phase === "buy")
  // In recommend mode nothing is ever placed: a buy from here would only recommend again.
  if (!buyFailed || mode === "recommend" || lotSize === undefined) return null
  const lots = Math.round(Number(d.quantity) / lotSize)
  if (!(lots > 0) || (d.optionType !== "CE" && d.optionType !== "PE")) return null
  return { strike: Number(d.strike), optionType: d.optionType, lots, entry: String(d.entry) }
}

export const buttonsFor = (alert: Alert, proposal: Proposal | null): ReadonlyArray<Button> => {
  if (proposal !== null) return [{ text: "Hedge now", data: encode({ type: "buy", proposal }) }, offForToday]
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
    case "buy":
      // The entry's name stays out: the data must fit 64 bytes, and the buy does not need it.
      return `buy:${a.proposal.strike}:${a.proposal.optionType}:${a.proposal.lots}`
  }
}

/** The action of a button's data; null for data this bot never sent. */
export const decode = (data: string): ButtonAction | null => {
  const [type, ...rest] = data.split(":")
  if (type === "exit" && rest.length > 0) return { type: "exit", hedgeId: rest.join(":") }
  if (type === "auto" && (rest[0] === "on" || rest[0] === "off") && rest.length === 1) return { type: "autoHedge", enabled: rest[0] === "on" }
  if (type === "buy" && rest.length === 3) {
    const [strike, optionType, lots] = rest
    if ((optionType === "CE" || optionType === "PE") && Number(strike) > 0 && Number.isInteger(Number(lots)) && Number(lots) > 0) {
      return { type: "buy", proposal: { strike: Number(strike), optionType, lots: Number(lots), entry: "" } }
    }
  }
  return null
}
