// /risk's text: the risk view (src/domain/risk.ts) of a short straddle with wings, as a phone shows it.
import { describe, expect, it } from "vitest"
import { riskText } from "../../../adapters/telegram/risk-text.ts"
import { straddleRisk } from "./risk-fixture.ts"

const inr = (x: number) => `${x < 0 ? "-" : ""}₹${Math.abs(Math.round(x)).toLocaleString("en-IN")}`

describe("/risk as the trader reads it on a phone", () => {
  it("says the margin, the greeks in rupees, the VaR, the worst stress point, the P&L down the spot moves and the legs", () => {
    const v = straddleRisk()
    const text = riskText(v)
    const worst = [...v.stress].sort((a, b) => a.pnl - b.pnl)[0]!
    expect(text).toContain("NIFTY 2026-02-09 10:00 IST · spot 25000.00")
    expect(text).toContain(`Margin now ${inr(v.margin)} (SPAN + exposure)`)
    expect(text).toContain("4 legs")
    expect(text).toContain(`1-day VaR 99 %: ${inr(v.valueAtRisk.parametric.value)} (delta-gamma)`)
    expect(text).toContain(`Worst stress: spot ${worst.spotShiftPct > 0 ? "+" : ""}${worst.spotShiftPct} %, IV ${worst.ivShiftPct > 0 ? "+" : ""}${worst.ivShiftPct} %\n  P&L ${inr(worst.pnl)}, margin ${inr(worst.margin)}`)
    // The short straddle loses on a big move either way: the P&L at -3 % and +3 % (IV as now) are losses.
    for (const s of [-3, 3]) expect(text).toContain(`${s > 0 ? "+" : ""}${s} %  ${inr(v.stress.find((p) => p.spotShiftPct === s && p.ivShiftPct === 0)!.pnl)}`)
    expect(v.stress.find((p) => p.spotShiftPct === 3 && p.ivShiftPct === 0)!.pnl).toBeLessThan(0)
    expect(text).toContain("SELL 15 × 25000 CE")
    expect(text).toContain("BUY 16 × 25500 CE")
    // A phone's width: no table, no line a narrow screen must wrap more than once.
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(60)
  })

  it("an account with nothing open says so", () => {
    const text = riskText(straddleRisk([]))
    expect(text).toContain("No open positions.")
    expect(text).not.toContain("Legs:")
  })
})
