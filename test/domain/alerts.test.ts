import { describe, expect, it } from "vitest"
import type { Alert } from "../../machines/protocol.ts"
import { formatAlert } from "../../src/domain/alerts.ts"

const at = Date.UTC(2026, 6, 7, 8, 30) // 14:00 IST
const decided = (kind: Alert["kind"], details: Alert["details"]): string =>
  formatAlert({ kind, severity: "info", actor: "entry:E9", details: { portfolio: "E9", triggerPct: 95, ...details } }, at)

describe("what the trader is told about a weighed decision", () => {
  it("a set bought says what it keeps the entry under", () => {
    expect(decided("HEDGES_CHOSEN", { hedgeCost: 3022.5, projectedPct: 120, projectedAfterPct: 84.5 })).toContain("bought: ₹3,023 of hedges keeps entry E9 under the trigger (84.5%)")
    expect(decided("HEDGES_CHOSEN", { hedgeCost: 3022.5, projectedPct: 120, projectedAfterPct: 97 })).toContain("keeps entry E9 under 100 % (97.0%, over the trigger)")
    expect(decided("HEDGES_CHOSEN", { hedgeCost: 3022.5, projectedPct: 140, projectedAfterPct: 118 })).toContain("leaves entry E9 at 118.0% (bought as configured")
  })

  it("a set not bought says why: the entry breaches anyway, or the set costs more than it averts", () => {
    expect(decided("BREACH_UNAVOIDABLE", { hedgeCost: 14_200, projectedPct: 130, projectedAfterPct: 118 })).toContain("not bought: the best set leaves entry E9 at 118.0% and costs ₹14,200")
    expect(decided("HEDGE_NOT_WORTH_IT", { hedgeCost: 14_200, breachCostAverted: 8000, projectedPct: 97, projectedAfterPct: 85 })).toContain(
      "not bought: the best set costs ₹14,200, more than the ₹8,000 of breach cost it averts for entry E9 (97.0% → 85.0%)"
    )
  })
})

describe("the delta band's recommendation", () => {
  it("names the band, not an entry, as what the wing is for", () => {
    const details = { entry: "DELTA_BAND", symbol: "NIFTY10FEB2625600CE", strike: 25_600, optionType: "CE", quantity: 1300, limitPrice: 3.1, trigger: "DELTA_BAND", utilisationBefore: 40 }
    const text = formatAlert({ kind: "HEDGE_ORDER_FAILED", severity: "critical", actor: "hedge-1", details }, at, { lotSize: 65, mode: "recommend" })
    expect(text).toContain("Buy 20 lots NIFTY 25600 CE at ≤ 3.10 for the delta band")
  })
})
