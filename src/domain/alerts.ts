// What a trader reads: each alert kind as the original design's Telegram message (Markdown), built from the
// structured alert the machines raise. The Notifier sends this text; tests read the structure. A
// messenger that knows more than the alert carries (the lot size, the mode, the decision behind a
// hedge) passes it as an AlertContext and the text says more; without one, the text is the log's.
import type { Alert } from "../../machines/protocol.ts"
import { wallTimeOf } from "./time.ts"

/** What a sender knows beyond the alert: each part, when given, makes the text one a trader can act on. */
export interface AlertContext {
  /** Units in one lot of the day's index: quantities are said in lots too. */
  readonly lotSize?: number
  /** In recommend mode an order the engine "failed" to send is its recommendation. */
  readonly mode?: "live" | "paper" | "recommend"
  /** The decision of the entry a hedge protects: its projected utilisation without and with the set, percent. */
  readonly decision?: { readonly projectedPct: unknown; readonly projectedAfterPct: unknown }
  /** The day's facts the session does not hold, for the end-of-day summary. */
  readonly day?: { readonly entries?: number; readonly peakPct?: number | null; readonly breaches?: number; readonly expired?: ReadonlyArray<string> }
}

const lotsOf = (quantity: unknown, lotSize: number | undefined) =>
  lotSize === undefined || !(lotSize > 0) ? null : Math.round(Number(quantity) / lotSize)
/** "NIFTY" of NIFTY09DEC2525450CE: the index a broker symbol is of. */
const indexOf = (symbol: unknown) => /^[A-Z]+?(?=\d)/.exec(String(symbol))?.[0] ?? String(symbol)
const lotsLine = (d: Alert["details"], c: AlertContext) => {
  const lots = lotsOf(d.filled ?? d.quantity, c.lotSize)
  return lots === null ? "" : `*Lots:* ${lots} (${Number(d.filled ?? d.quantity).toLocaleString("en-IN")} units)\n`
}
const protectsLine = (d: Alert["details"], c: AlertContext) =>
  c.decision === undefined ? "" : `*Protects:* entry ${portfolioOf(d)}, projected ${pct(c.decision.projectedPct)} → ${pct(c.decision.projectedAfterPct)} with the hedges\n`

/** The order the engine would have sent, as the trader places it: "Buy 36 lots NIFTY 25450 CE at ≤ 3.05 for entry 4". */
export const recommendationOf = (d: Alert["details"], lotSize: number | undefined): string => {
  const lots = lotsOf(d.quantity, lotSize)
  const size = lots === null ? `${d.quantity} units` : `${lots} lot${lots === 1 ? "" : "s"}`
  const limit = d.limitPrice === undefined || d.limitPrice === null ? "" : ` at ≤ ${Number(d.limitPrice).toFixed(2)}`
  const purpose = d.entry === "DELTA_BAND" ? "for the delta band" : `for entry ${portfolioOf(d)}`
  return `Buy ${size} ${indexOf(d.symbol)} ${d.strike} ${d.optionType}${limit} ${purpose}`
}

const rupees = (x: unknown) => `₹${Math.round(Number(x ?? 0)).toLocaleString("en-IN")}`
const signedRupees = (x: unknown) => `${Number(x) < 0 ? "−" : "+"}${rupees(Math.abs(Number(x ?? 0)))}`
const pct = (x: unknown) => (x === null || x === undefined ? "n/a" : `${Number(x).toFixed(1)}%`)
const portfolioOf = (d: Alert["details"]) => String(d.portfolio ?? String(d.entry ?? "").replace(/^entry:/, ""))

export const formatAlert = (alert: Alert, at: number, c: AlertContext = {}): string => {
  const d = alert.details
  const time = `*Time:* ${wallTimeOf(at)}`
  switch (alert.kind) {
    case "SESSION_STARTED":
      return `🚀 *Auto-Hedge Started*\n\nIndex: ${d.index}\nBaskets: ${d.baskets}\nBudget: ${rupees(d.budget)}\nPolicy: ${d.policy}${d.enabled === false ? "\n⚠️ Auto-hedge is disabled for today's session" : ""}`
    case "ENTRY_INFO":
      return `ℹ️ *Entry coming*\n\nPortfolio: ${portfolioOf(d)}\nCurrent: ${pct(d.currentPct)}\nProjected: ${pct(d.projectedPct)}\nHedge: Not required ✓\n\n${time}`
    case "HEDGE_NEEDED_DISABLED":
      return `⚠️ *Hedge needed, auto-hedge disabled*\n\nPortfolio: ${portfolioOf(d)}\nProjected util: ${pct(d.projectedPct)}\nReduction needed: ${rupees(d.reductionNeeded)}\n\n${time}\n\n⚠️ The entry will go in unhedged.`
    case "NO_CANDIDATE":
      return `⚠️ *No suitable hedge found!*\n\nPortfolio: ${portfolioOf(d)}\nProjected util: ${pct(d.projectedPct)}\nReduction needed: ${rupees(d.reductionNeeded)}\n\n${time}`
    case "SPEND_CAP_REACHED":
      return `⛔ *Daily hedge spend cap reached*\n\nPortfolio: ${portfolioOf(d)}\nProjected util: ${pct(d.projectedPct)}\nReduction needed: ${rupees(d.reductionNeeded)}\n\n${time}\n\n⚠️ The entry will go in without the hedges it needs.`
    case "COOLDOWN_BLOCKED":
      return `⏳ *Hedge blocked by the cooldown*\n\nPortfolio: ${portfolioOf(d)}\nProjected util: ${pct(d.projectedPct)}\n\n${time}`
    case "TARGET_NOT_REACHED":
      return `⚠️ *Hedges short of target*\n\nPortfolio: ${portfolioOf(d)}\nProjected util: ${pct(d.projectedPct)}\nReduction needed: ${rupees(d.reductionNeeded)}\nStill missing: ${rupees(d.shortfall)}\n\n${time}`
    case "HEDGES_CHOSEN": {
      const after = Number(d.projectedAfterPct)
      const outcome =
        after <= Number(d.triggerPct)
          ? `keeps entry ${portfolioOf(d)} under the trigger (${pct(after)})`
          : after <= 100
            ? `keeps entry ${portfolioOf(d)} under 100 % (${pct(after)}, over the trigger)`
            : `leaves entry ${portfolioOf(d)} at ${pct(after)} (bought as configured: buyWhenBreachUnavoidable)`
      return `🛡️ *Hedges chosen*\n\nbought: ${rupees(d.hedgeCost)} of hedges ${outcome}\nProjected util without them: ${pct(d.projectedPct)}\n\n${time}`
    }
    case "BREACH_UNAVOIDABLE":
      return `⛔ *Hedges not bought: the entry breaches anyway*\n\nnot bought: the best set leaves entry ${portfolioOf(d)} at ${pct(d.projectedAfterPct)} and costs ${rupees(d.hedgeCost)}\nProjected util without it: ${pct(d.projectedPct)}\n\n${time}\n\n⚠️ The entry will go in over the budget.`
    case "HEDGE_NOT_WORTH_IT":
      return `⚠️ *Hedges not bought: they cost more than they avert*\n\nnot bought: the best set costs ${rupees(d.hedgeCost)}, more than the ${rupees(d.breachCostAverted)} of breach cost it averts for entry ${portfolioOf(d)} (${pct(d.projectedPct)} → ${pct(d.projectedAfterPct)})\n\n${time}`
    case "PROJECTION_FAILED":
      return `❌ *Margin projection failed*\n\nPortfolio: ${portfolioOf(d)}\n\n${time}\n\n⚠️ Manual intervention may be required!`
    case "HEDGE_BOUGHT":
      return `🛡️ *HEDGE BOUGHT*\n\n*Symbol:* \`${d.symbol}\`\n*Strike:* ${d.strike} ${d.optionType}\n${lotsLine(d, c)}*Quantity:* ${d.filled ?? d.quantity}\n*Price:* ₹${d.price}\n*Total Cost:* ${rupees(d.cost)}\n\n${protectsLine(d, c)}*Trigger:* ${d.trigger}\n*Utilization Before:* ${pct(d.utilisationBefore)}\n*OTM Distance:* ${Math.round(Number(d.otmDistance))} points\n\n${time}`
    case "HEDGE_ORDER_FAILED":
      if (c.mode === "recommend") {
        return `💡 *RECOMMENDATION*\n\n${recommendationOf(d, c.lotSize)}\n\n*Symbol:* \`${d.symbol}\`\n${protectsLine(d, c)}*Utilization now:* ${pct(d.utilisationBefore)}\n\n${time}\n\nRecommend mode: nothing was placed; place it yourself if you agree.`
      }
      return `❌ *HEDGE ORDER FAILED*\n\n*Symbol:* \`${d.symbol}\`\n*Trigger:* ${d.trigger}\n*Error:* ${d.error}\n\n${time}\n\n⚠️ Manual intervention may be required!`
    case "HEDGE_FILL_TIMEOUT":
      return `⏱️ *HEDGE ORDER NOT FILLED*\n\n*Symbol:* \`${d.symbol}\`\n*Trigger:* ${d.trigger}\n*Attempts:* ${d.attempts}\n\n${time}\n\nThe order is being cancelled.`
    case "HEDGE_SOLD":
      return `✅ *HEDGE EXITED*\n\n*Symbol:* \`${d.symbol}\`\n${lotsLine(d, c)}*Quantity:* ${d.filled ?? d.quantity}\n*Price:* ₹${d.price}\n*Recovered:* ${rupees(d.recovered)}\n\n${time}`
    case "HEDGE_EXPIRED": {
      const value = Number(d.value)
      const settles = value > 0 ? `settles in the money at spot ${Number(d.spot).toFixed(2)}: ${rupees(value)}` : `expires worthless (spot ${Number(d.spot).toFixed(2)})`
      return `⌛ *HEDGE LEFT TO EXPIRE*\n\n*Symbol:* \`${d.symbol}\`\n${lotsLine({ ...d, quantity: d.held ?? null }, c)}*Quantity:* ${d.held}\n*Paid:* ${rupees(d.paid)}\n*At expiry:* ${settles}\n*Net:* ${signedRupees(value - Number(d.paid))}\n\n${time}\n\nNot sold before the close: the exit review kept it for an entry, or its price stayed under the minimum exit price ₹${Number(d.minExitPrice).toFixed(2)} (a sale would have recovered less than the brokerage).`
    }
    case "HEDGE_EXIT_FAILED":
      return `⚠️ *HEDGE EXIT FAILED*\n\n*Symbol:* \`${d.symbol}\`\n*Error:* ${d.error}\n\n${time}\n\nThe hedge is still held.`
    case "ENTRY_MISSED":
      return `⚠️ *Entry not seen*\n\nPortfolio: ${portfolioOf(d)}\n\n${time}\n\nCheck the execution platform.`
    case "ENTRY_BREACHED":
      return `🚨 *Entry breached*\n\nPortfolio: ${portfolioOf(d)}\nUtilisation at entry: ${pct(d.utilisationPct)} of ${rupees(d.budget)}\n\n${time}\n\n⚠️ The margin in use is over the budget: manual intervention may be required.`
    case "EXIT_REVIEW_FAILED":
      return `❌ *Hedge exit review failed*\n\n${time}\n\nHedges are kept until the next review.`
    case "DELTA_BAND_WING":
      return `📐 *Delta band: wing ${c.mode === "recommend" ? "recommended" : "bought"}*\n\nDelta ${signedRupees(d.deltaPerPct)} per 1 % move is outside the band of ±${rupees(d.limitPerPct)}\n${c.mode === "recommend" ? "Buy" : "Buying"} ${lotsOf(d.quantity, c.lotSize) ?? d.quantity} ${c.lotSize === undefined ? "units" : "lots"} ${d.strike} ${d.optionType} at ≤ ${Number(d.limitPrice).toFixed(2)} (≤ ${rupees(d.cost)}) brings it to ${signedRupees(d.deltaAfterPerPct)}\n\n${time}\n\nThe delta band is a second policy beside the margin engine; its wings are sold by the normal exit rules.`
    case "DELTA_BAND_UNMET":
      return `⚠️ *Delta outside the band, no wing bought*\n\nDelta: ${d.deltaPerPct === null ? "n/a" : `${signedRupees(d.deltaPerPct)} per 1 % move`} (band ±${d.limitPerPct === null ? "n/a" : rupees(d.limitPerPct)})\nWhy: ${d.reason}\n\n${time}`
    case "ENGINE_HALTED":
      return `🛑 *AUTO-HEDGE HALTED*\n\n*Reason:* ${d.reason}\n\n${time}\n\n⚠️ No further hedge decisions are taken. Manual intervention required!`
    case "WATCHDOG":
      return `🚨 *AUTO-HEDGE WATCHDOG${d.kind === "lag" ? ": FALLING BEHIND THE MARKET CLOCK" : ""}*\n\n*Problem:* ${d.problem}\n\n${time}\n\n⚠️ ${d.halts === true ? "No further hedge decisions are taken." : "Decisions go on with what the engine can see; check the connection."} Manual intervention may be required!`
    case "OVERNIGHT_UNCOVERED":
      return `🚨 *NAKED SHORT OVERNIGHT*\n\nThe overnight guard could not cover:\n${String(d.shorts).split("; ").map((l) => `• ${l}`).join("\n")}\n\n${time}\n\n⚠️ ${typeof d.retryAt === "number" ? `Trying again at ${wallTimeOf(d.retryAt)}, until the close.` : "Nothing more is tried before the close."} Buy the wing by hand if it cannot be bought.`
    case "OVERNIGHT_COVERED":
      return `🌙 *Overnight shorts covered*\n\nEvery short held past the close has its wing (short ← wings):\n${String(d.shorts).split("; ").map((l) => `• ${l}`).join("\n")}\n\n${time}`
    case "EOD_SUMMARY": {
      const day = c.day ?? {}
      const extra = [
        day.entries === undefined ? null : `Entries: ${day.entries}`,
        day.peakPct === undefined ? null : `Peak utilisation: ${pct(day.peakPct)}`,
        day.breaches === undefined ? null : `Breaches: ${day.breaches}`,
        day.expired === undefined || day.expired.length === 0 ? null : `Left to expire: ${day.expired.join(", ")}`
      ].filter((l) => l !== null)
      return `📊 *Auto-Hedge Day Summary*\n\nIndex: ${d.index}\nHedges: ${d.hedges}\nSpent: ${rupees(d.grossSpend)}\nRecovered: ${rupees(d.recovered)}\nNet cost: ${rupees(d.netSpend)}${extra.map((l) => `\n${l}`).join("")}`
    }
  }
}
