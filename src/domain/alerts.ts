// What a trader reads: each alert kind as the original design's Telegram message (Markdown), built from the
// structured alert the machines raise. The Notifier sends this text; tests read the structure.
import type { Alert } from "../../machines/protocol.ts"
import { wallTimeOf } from "./time.ts"

const rupees = (x: unknown) => `₹${Math.round(Number(x ?? 0)).toLocaleString("en-IN")}`
const pct = (x: unknown) => (x === null || x === undefined ? "n/a" : `${Number(x).toFixed(1)}%`)
const portfolioOf = (d: Alert["details"]) => String(d.portfolio ?? String(d.entry ?? "").replace(/^entry:/, ""))

export const formatAlert = (alert: Alert, at: number): string => {
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
      return `🛡️ *HEDGE BOUGHT*\n\n*Symbol:* \`${d.symbol}\`\n*Strike:* ${d.strike} ${d.optionType}\n*Quantity:* ${d.filled ?? d.quantity}\n*Price:* ₹${d.price}\n*Total Cost:* ${rupees(d.cost)}\n\n*Trigger:* ${d.trigger}\n*Utilization Before:* ${pct(d.utilisationBefore)}\n*OTM Distance:* ${Math.round(Number(d.otmDistance))} points\n\n${time}`
    case "HEDGE_ORDER_FAILED":
      return `❌ *HEDGE ORDER FAILED*\n\n*Symbol:* \`${d.symbol}\`\n*Trigger:* ${d.trigger}\n*Error:* ${d.error}\n\n${time}\n\n⚠️ Manual intervention may be required!`
    case "HEDGE_FILL_TIMEOUT":
      return `⏱️ *HEDGE ORDER NOT FILLED*\n\n*Symbol:* \`${d.symbol}\`\n*Trigger:* ${d.trigger}\n*Attempts:* ${d.attempts}\n\n${time}\n\nThe order is being cancelled.`
    case "HEDGE_SOLD":
      return `✅ *HEDGE EXITED*\n\n*Symbol:* \`${d.symbol}\`\n*Quantity:* ${d.filled ?? d.quantity}\n*Price:* ₹${d.price}\n*Recovered:* ${rupees(d.recovered)}\n\n${time}`
    case "HEDGE_EXIT_FAILED":
      return `⚠️ *HEDGE EXIT FAILED*\n\n*Symbol:* \`${d.symbol}\`\n*Error:* ${d.error}\n\n${time}\n\nThe hedge is still held.`
    case "ENTRY_MISSED":
      return `⚠️ *Entry not seen*\n\nPortfolio: ${portfolioOf(d)}\n\n${time}\n\nCheck the execution platform.`
    case "EXIT_REVIEW_FAILED":
      return `❌ *Hedge exit review failed*\n\n${time}\n\nHedges are kept until the next review.`
    case "ENGINE_HALTED":
      return `🛑 *AUTO-HEDGE HALTED*\n\n*Reason:* ${d.reason}\n\n${time}\n\n⚠️ No further hedge decisions are taken. Manual intervention required!`
    case "WATCHDOG":
      return `🚨 *AUTO-HEDGE WATCHDOG*\n\n*Problem:* ${d.problem}\n\n${time}\n\n⚠️ ${d.halts === true ? "No further hedge decisions are taken." : "Decisions go on with what the engine can see; check the connection."} Manual intervention may be required!`
    case "EOD_SUMMARY":
      return `📊 *Auto-Hedge Day Summary*\n\nIndex: ${d.index}\nHedges: ${d.hedges}\nSpent: ${rupees(d.grossSpend)}\nRecovered: ${rupees(d.recovered)}\nNet cost: ${rupees(d.netSpend)}`
  }
}
