// Every alert kind the engine raises, as the trader reads it in Telegram: each says what happened and
// why, in the facts the trader acts on. The table is typed by AlertKind, so a new kind fails to compile
// here until its text is checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Alert, AlertKind } from "../../../machines/protocol.ts"
import { formatAlert, type AlertContext } from "../../../src/domain/alerts.ts"
import { FakeBotApi } from "./fake-bot-api.ts"
import { alertOf, AT, harness, TOKEN } from "./support.ts"

const entry = { portfolio: "4", currentPct: 62.5, projectedPct: 112, reductionNeeded: 180_000, triggerPct: 95 }
const hedge = { entry: "entry:4", symbol: "NIFTY10FEB2625450CE", strike: 25450, optionType: "CE", quantity: 2700, trigger: "PRE_STRATEGY:4", utilisationBefore: 62.5, otmDistance: 350 }
const paper: AlertContext = { lotSize: 75, mode: "paper", decision: { projectedPct: 112, projectedAfterPct: 86.4 } }

const cases: Record<AlertKind, { readonly alert: Alert; readonly says: ReadonlyArray<string>; readonly context?: AlertContext }> = {
  SESSION_STARTED: { alert: alertOf("SESSION_STARTED", "info", "session", { index: "NIFTY", baskets: 2, budget: 4_000_000, policy: "engine", enabled: true }), says: ["Auto-Hedge Started", "Index: NIFTY", "Budget: ₹40,00,000"] },
  ENTRY_INFO: { alert: alertOf("ENTRY_INFO", "info", "entry:4", { ...entry, projectedPct: 80 }), says: ["Entry coming", "Portfolio: 4", "Projected: 80.0%", "Not required"] },
  HEDGE_NEEDED_DISABLED: { alert: alertOf("HEDGE_NEEDED_DISABLED", "warning", "entry:4", entry), says: ["auto-hedge disabled", "Projected util: 112.0%", "Reduction needed: ₹1,80,000", "unhedged"] },
  NO_CANDIDATE: { alert: alertOf("NO_CANDIDATE", "warning", "entry:4", entry), says: ["No suitable hedge found", "Portfolio: 4", "Reduction needed: ₹1,80,000"] },
  SPEND_CAP_REACHED: { alert: alertOf("SPEND_CAP_REACHED", "warning", "entry:4", entry), says: ["spend cap reached", "without the hedges it needs"] },
  COOLDOWN_BLOCKED: { alert: alertOf("COOLDOWN_BLOCKED", "warning", "entry:4", entry), says: ["blocked by the cooldown", "Projected util: 112.0%"] },
  TARGET_NOT_REACHED: { alert: alertOf("TARGET_NOT_REACHED", "warning", "entry:4", { ...entry, shortfall: 25_000 }), says: ["short of target", "Still missing: ₹25,000"] },
  PROJECTION_FAILED: { alert: alertOf("PROJECTION_FAILED", "critical", "entry:4", entry), says: ["Margin projection failed", "Portfolio: 4"] },
  HEDGES_CHOSEN: { alert: alertOf("HEDGES_CHOSEN", "info", "entry:4", { ...entry, hedgeCost: 8235, projectedAfterPct: 86.4 }), says: ["bought: ₹8,235 of hedges keeps entry 4 under the trigger (86.4%)", "without them: 112.0%"] },
  BREACH_UNAVOIDABLE: { alert: alertOf("BREACH_UNAVOIDABLE", "warning", "entry:4", { ...entry, hedgeCost: 14_200, projectedAfterPct: 118 }), says: ["not bought: the best set leaves entry 4 at 118.0% and costs ₹14,200"] },
  HEDGE_NOT_WORTH_IT: { alert: alertOf("HEDGE_NOT_WORTH_IT", "warning", "entry:4", { ...entry, hedgeCost: 14_200, breachCostAverted: 8000, projectedAfterPct: 90 }), says: ["costs ₹14,200, more than the ₹8,000 of breach cost it averts for entry 4 (112.0% → 90.0%)"] },
  HEDGE_BOUGHT: {
    alert: alertOf("HEDGE_BOUGHT", "info", "H1", { ...hedge, price: 3.05, filled: 2700, cost: 8235 }),
    context: paper,
    says: ["HEDGE BOUGHT", "`NIFTY10FEB2625450CE`", "*Strike:* 25450 CE", "*Lots:* 36 (2,700 units)", "*Price:* ₹3.05", "*Total Cost:* ₹8,235", "*Protects:* entry 4, projected 112.0% → 86.4% with the hedges", "*Utilization Before:* 62.5%"]
  },
  HEDGE_ORDER_FAILED: { alert: alertOf("HEDGE_ORDER_FAILED", "critical", "H1", { ...hedge, error: "RMS:Margin Exceeds, Required:81000, Available:12000", limitPrice: 3.05 }), context: paper, says: ["HEDGE ORDER FAILED", "*Error:* RMS:Margin Exceeds, Required:81000, Available:12000"] },
  HEDGE_FILL_TIMEOUT: { alert: alertOf("HEDGE_FILL_TIMEOUT", "warning", "H1", { ...hedge, phase: "buy", attempts: 3 }), says: ["NOT FILLED", "*Attempts:* 3", "being cancelled"] },
  HEDGE_SOLD: { alert: alertOf("HEDGE_SOLD", "info", "H1", { ...hedge, price: 1.2, filled: 2700, recovered: 3240 }), context: paper, says: ["HEDGE EXITED", "*Lots:* 36 (2,700 units)", "*Recovered:* ₹3,240"] },
  HEDGE_EXPIRED: {
    alert: alertOf("HEDGE_EXPIRED", "info", "H3", { ...hedge, held: 2700, spot: 25_120.35, value: 0, paid: 8235, minExitPrice: 0.5 }),
    context: paper,
    says: ["HEDGE LEFT TO EXPIRE", "`NIFTY10FEB2625450CE`", "*Lots:* 36 (2,700 units)", "*Paid:* ₹8,235", "expires worthless (spot 25120.35)", "*Net:* −₹8,235", "minimum exit price ₹0.50"]
  },
  HEDGE_EXIT_FAILED: { alert: alertOf("HEDGE_EXIT_FAILED", "warning", "H1", { ...hedge, error: "exchange closed" }), says: ["HEDGE EXIT FAILED", "*Error:* exchange closed", "still held"] },
  ENTRY_MISSED: { alert: alertOf("ENTRY_MISSED", "warning", "entry:4", entry), says: ["Entry not seen", "Portfolio: 4"] },
  ENTRY_BREACHED: { alert: alertOf("ENTRY_BREACHED", "critical", "entry:4", { entry: "entry:4", portfolio: "4", utilisationPct: 103.4, budget: 4_000_000 }), says: ["Entry breached", "Portfolio: 4", "Utilisation at entry: 103.4% of ₹40,00,000", "over the budget"] },
  DELTA_BAND_WING: {
    alert: alertOf("DELTA_BAND_WING", "info", "session", { strike: 25450, optionType: "CE", quantity: 1500, lots: 20, limitPrice: 3.1, cost: 4650, deltaPerPct: -160_000, deltaAfterPerPct: -95_000, limitPerPct: 100_000 }),
    context: paper,
    says: ["Delta band: wing bought", "Delta −₹1,60,000 per 1 % move is outside the band of ±₹1,00,000", "Buying 20 lots 25450 CE at ≤ 3.10 (≤ ₹4,650) brings it to −₹95,000", "second policy beside the margin engine"]
  },
  DELTA_BAND_UNMET: {
    alert: alertOf("DELTA_BAND_UNMET", "warning", "session", { deltaPerPct: 140_000, limitPerPct: 100_000, reason: "no PE in the hedge band" }),
    says: ["Delta outside the band, no wing bought", "+₹1,40,000 per 1 % move (band ±₹1,00,000)", "Why: no PE in the hedge band"]
  },
  EXIT_REVIEW_FAILED: { alert: alertOf("EXIT_REVIEW_FAILED", "warning", "session", {}), says: ["exit review failed", "kept until the next review"] },
  EOD_SUMMARY: {
    alert: alertOf("EOD_SUMMARY", "info", "session", { index: "NIFTY", hedges: 3, grossSpend: 20_000, recovered: 4500, netSpend: 15_500 }),
    context: { day: { entries: 5, peakPct: 91.2, breaches: 0, expired: ["H3 (NIFTY10FEB2625600CE)"] } },
    says: ["Day Summary", "Hedges: 3", "Spent: ₹20,000", "Recovered: ₹4,500", "Net cost: ₹15,500", "Entries: 5", "Peak utilisation: 91.2%", "Breaches: 0", "Left to expire: H3 (NIFTY10FEB2625600CE)"]
  },
  ENGINE_HALTED: { alert: alertOf("ENGINE_HALTED", "critical", "session", { reason: "audit write failed: connection lost" }), says: ["AUTO-HEDGE HALTED", "*Reason:* audit write failed: connection lost", "No further hedge decisions"] },
  OVERNIGHT_UNCOVERED: {
    alert: alertOf("OVERNIGHT_UNCOVERED", "critical", "session", { shorts: "25000 CE 2026-02-10 ×975: the day's spend cap: ₹1,200 left, the wing 25500 CE costs ₹4,875", retryAt: AT + 60_000 }),
    says: ["NAKED SHORT OVERNIGHT", "25000 CE 2026-02-10 ×975: the day's spend cap: ₹1,200 left", "Trying again at"]
  },
  OVERNIGHT_COVERED: { alert: alertOf("OVERNIGHT_COVERED", "info", "session", { shorts: "25000 CE 2026-02-10 ×975 ← 25500 CE ×975", count: 1 }), says: ["Overnight shorts covered", "25000 CE 2026-02-10 ×975 ← 25500 CE ×975"] },
  WATCHDOG: { alert: alertOf("WATCHDOG", "critical", "session", { problem: "the market instant is 95 s behind the wall clock", kind: "lag", halts: false }), says: ["FALLING BEHIND THE MARKET CLOCK", "95 s behind", "Decisions go on"] }
}

describe("every alert kind, as the trader reads it", () => {
  it.each(Object.entries(cases))("%s says what happened and why", (_, c) => {
    const text = formatAlert(c.alert, AT, c.context)
    for (const fact of c.says) expect(text).toContain(fact)
    // The day's opening and closing messages are about the day; every other one says when.
    if (c.alert.kind !== "SESSION_STARTED" && c.alert.kind !== "EOD_SUMMARY") expect(text).toContain("*Time:* 11:30:00")
  })

  it("a hedge left to expire in the money says what it settles at", () => {
    const text = formatAlert(alertOf("HEDGE_EXPIRED", "info", "H3", { ...hedge, held: 2700, spot: 25_460, value: 27_000, paid: 8235, minExitPrice: 0.5 }), AT, paper)
    expect(text).toContain("settles in the money at spot 25460.00: ₹27,000")
    expect(text).toContain("*Net:* +₹18,765")
  })

  it("recommend mode sends a recommendation, not a failed order", () => {
    const text = formatAlert(cases.HEDGE_ORDER_FAILED.alert, AT, { lotSize: 75, mode: "recommend", decision: { projectedPct: 112, projectedAfterPct: 86.4 } })
    expect(text).toContain("Buy 36 lots NIFTY 25450 CE at ≤ 3.05 for entry 4")
    expect(text).toContain("RECOMMENDATION")
    expect(text).not.toContain("FAILED")
    expect(text).not.toContain("RMS")
  })

  it("without a context, the text is the log's, as before (the day reports and replay digests keep theirs)", () => {
    const bought = formatAlert(cases.HEDGE_BOUGHT.alert, AT)
    expect(bought).not.toContain("*Lots:*")
    expect(bought).not.toContain("*Protects:*")
    expect(formatAlert(cases.HEDGE_ORDER_FAILED.alert, AT)).toContain("HEDGE ORDER FAILED")
  })
})

describe("the notifier fills in what an alert alone does not say", () => {
  let fake: FakeBotApi
  beforeAll(async () => {
    fake = await FakeBotApi.start(TOKEN)
  })
  afterAll(() => fake.close())

  it("a hedge bought says the entry it protects and that entry's utilisation without and with the set; its buttons exit it or switch off", async () => {
    const h = harness(fake)
    await h.notify(cases.HEDGES_CHOSEN.alert)
    await h.notify(cases.HEDGE_BOUGHT.alert)
    await h.delivery.idle()
    const bought = fake.sent().at(-1)!
    expect(bought.text).toContain("*Protects:* entry 4, projected 112.0% → 86.4% with the hedges")
    expect(bought.text).toContain("*Lots:* 36 (2,700 units)")
    expect(bought.reply_markup).toEqual({ inline_keyboard: [[{ text: "Exit hedge", callback_data: "exit:H1" }, { text: "Off for today", callback_data: "auto:off" }]] })
  })

  it("a buy that fell through offers Hedge now (the next entry decides afresh); recommend mode offers none (nothing is ever placed)", async () => {
    const h = harness(fake)
    for (const kind of ["HEDGE_ORDER_FAILED", "TARGET_NOT_REACHED", "NO_CANDIDATE", "HEDGE_FILL_TIMEOUT"] as const) {
      await h.notify(cases[kind].alert)
      await h.delivery.idle()
      expect(fake.sent().at(-1)!.reply_markup, kind).toEqual({ inline_keyboard: [[{ text: "Hedge now", callback_data: "now" }, { text: "Off for today", callback_data: "auto:off" }]] })
    }
    const r = harness(fake, {}, { lotSize: 75, mode: "recommend" })
    await r.notify(cases.HEDGE_ORDER_FAILED.alert)
    await r.delivery.idle()
    expect(fake.sent().at(-1)!.text).toContain("Buy 36 lots NIFTY 25450 CE at ≤ 3.05 for entry 4")
    expect(fake.sent().at(-1)!.reply_markup).toBeUndefined()
  })
})
