// The portfolio's risk view (src/domain/risk.ts) as /risk answers it: a phone's width, the figures a
// trader acts on first (margin, greeks, VaR, the worst stress point), then the stress P&L down the spot
// shifts at today's IV and the legs. `autohedge risk --live` prints the full tables.
import type { RiskView } from "../../src/domain/risk.ts"
import { wallTimeOf } from "../../src/domain/time.ts"

const rupees = (x: number) => `${x < 0 ? "-" : ""}₹${Math.abs(Math.round(x)).toLocaleString("en-IN")}`
const signed = (x: number, digits = 0) => {
  // Signed as shown: a delta of -0.3 is "0", not "-0".
  const shown = Math.round(x * 10 ** digits) / 10 ** digits
  return `${shown > 0 ? "+" : shown < 0 ? "-" : ""}${Math.abs(shown).toLocaleString("en-IN", { maximumFractionDigits: digits, minimumFractionDigits: digits })}`
}
const shift = (x: number) => `${x > 0 ? "+" : ""}${x} %`

export const riskText = (v: RiskView): string => {
  const t = v.total
  const worst = v.stress.reduce((w, p) => (p.pnl < w.pnl ? p : w), v.stress[0]!)
  const peakMargin = v.stress.reduce((m, p) => Math.max(m, p.margin), v.margin)
  const level = v.valueAtRisk
  const h = level.historical
  const atIv = v.stress.filter((p) => p.ivShiftPct === 0).sort((a, b) => a.spotShiftPct - b.spotShiftPct)
  return [
    `${v.index} ${v.date} ${wallTimeOf(v.at).slice(0, 5)} IST · spot ${v.spot.toFixed(2)}`,
    `Margin now ${rupees(v.margin)} (SPAN + exposure)`,
    `Margin under stress: up to ${rupees(peakMargin)}`,
    v.legs.length === 0 ? "No open positions." : `${v.legs.length} leg${v.legs.length === 1 ? "" : "s"}, worth ${rupees(t.value)}`,
    "",
    "Greeks (₹):",
    `Δ ${signed(t.delta)} per point · Γ ${signed(t.gamma, 2)} per point²`,
    `Θ ${signed(t.theta)} per day · vega ${signed(t.vega)} per vol point`,
    "",
    `1-day VaR ${Math.round(level.confidence * 1000) / 10} %: ${rupees(level.parametric.value)} (delta-gamma)${h.value === null ? "" : `, ${rupees(h.value)} historical`}`,
    `Worst stress: spot ${shift(worst.spotShiftPct)}, IV ${shift(worst.ivShiftPct)}`,
    `  P&L ${rupees(worst.pnl)}, margin ${rupees(worst.margin)}`,
    "",
    "P&L by spot move (IV as now):",
    ...atIv.map((p) => `${shift(p.spotShiftPct).padStart(5)}  ${rupees(p.pnl)}`),
    ...(v.legs.length === 0 ? [] : ["", "Legs:", ...v.legs.map((l) => `${l.side} ${l.lots} × ${l.strike} ${l.optionType} · Δ ${signed(l.delta)}`)])
  ].join("\n")
}
