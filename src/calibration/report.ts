// The calibration reports as a person reads them (tables) and as a machine does (JSON, rupees to the
// paisa, percentages to 0.01).
import type { Position } from "../domain/market.ts"
import type { DayCalibration } from "./day.ts"
import type { PortfolioCalibration } from "./portfolio.ts"
import type { ModelSummary } from "./stats.ts"

const rupees = (x: number | null) => (x === null ? "n/a" : `${x < 0 ? "-" : ""}₹${Math.round(Math.abs(x)).toLocaleString("en-IN")}`)
const pct = (x: number | null) => (x === null ? "n/a" : `${x > 0 ? "+" : ""}${x.toFixed(2)}%`)
const absPct = (x: number | null) => (x === null ? "n/a" : `${x.toFixed(2)}%`)
const round2 = (x: number) => Math.round(x * 100) / 100
const round2OrNull = (x: number | null) => (x === null ? null : round2(x))

/** Columns: the first `leftAligned` padded right, the rest padded left. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>, leftAligned = 1): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)))
  return rows.map((r) => r.map((c, i) => (i < leftAligned ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd()).join("\n")
}

const summaryTable = (summary: ReadonlyArray<ModelSummary>): string =>
  table([
    ["model", "compared", "mean |error|", "worst", "at", "bias"],
    ...summary.map((s) => [s.model, String(s.compared), absPct(s.meanAbsErrorPct), pct(s.worst?.errorPct ?? null), s.worst?.time ?? "", pct(s.biasPct)])
  ])

export const formatDayCalibration = (c: DayCalibration): string => {
  const models = c.summary.map((s) => s.model)
  const lines = [
    `Margin calibration: ${c.index} ${c.date} (expiry ${c.expiry}), ${c.file}`,
    `${c.rows.length} margin record(s); error % = (model - broker) / broker; positions rebuilt from the day's entries and exits.`,
    "",
    table([
      ["time", "broker used", ...models.flatMap((m) => [m, "error %"])],
      ...c.rows.map((r) => [r.time, rupees(r.brokerUsed), ...r.models.flatMap((m) => [rupees(m.margin), pct(m.errorPct)])])
    ]),
    "",
    summaryTable(c.summary)
  ]
  if (c.skipped.length > 0) lines.push("", `Skipped: ${c.skipped.map((s) => `${s.time} (${s.reason})`).join("; ")}`)
  const problems = new Map<string, string>()
  for (const r of c.rows) for (const m of r.models) if (m.problem !== undefined && !problems.has(m.model)) problems.set(m.model, m.problem)
  for (const [model, problem] of problems) lines.push(`${model} could not price some records: ${problem}`)
  return lines.join("\n")
}

const positionJson = (p: Position) => ({ strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: p.expiry })

export const dayCalibrationJson = (c: DayCalibration) => ({
  file: c.file,
  date: c.date,
  index: c.index,
  expiry: c.expiry,
  rows: c.rows.map((r) => ({
    time: r.time,
    brokerUsed: r.brokerUsed,
    tickTime: r.tickTime,
    spot: r.spot,
    positions: r.positions.map(positionJson),
    models: Object.fromEntries(r.models.map((m) => [m.model, { margin: round2OrNull(m.margin), errorPct: round2OrNull(m.errorPct), ...(m.problem === undefined ? {} : { problem: m.problem }) }]))
  })),
  skipped: c.skipped,
  summary: Object.fromEntries(
    c.summary.map((s) => [
      s.model,
      { compared: s.compared, meanAbsErrorPct: round2OrNull(s.meanAbsErrorPct), biasPct: round2OrNull(s.biasPct), worst: s.worst === null ? null : { time: s.worst.time, errorPct: round2(s.worst.errorPct) } }
    ])
  )
})

const describePosition = (p: Position) => `${p.quantity < 0 ? "SELL" : "BUY"} ${Math.abs(p.quantity)} ${p.strike} ${p.optionType} ${p.expiry}`

export const formatPortfolioCalibration = (c: PortfolioCalibration): string => {
  const q = c.query
  const s = c.span
  const b = c.broker
  const lines = [
    `Margin calibration: ${q.index} expiry ${q.expiry}, ${q.date}, spot ${q.spot}; ${q.positions.length} position(s)`,
    ...q.positions.map((p) => `  ${describePosition(p)}`),
    ""
  ]
  if (q.positions.length === 0) lines.push("Nothing held: both margins are 0.", "")
  lines.push(
    table([
      ["", "span", "exposure", "span + exposure", "option premium", "total"],
      ["SPAN model", rupees(s.span), rupees(s.exposure), rupees(s.total), "", rupees(s.total)],
      [`broker (${b.source})`, rupees(b.span), rupees(b.exposure), b.span === null || b.exposure === null ? "n/a" : rupees(b.span + b.exposure), rupees(b.optionPremium), rupees(b.total)]
    ]),
    "",
    `Error: ${pct(c.errorPct)} (SPAN model vs the broker's ${c.compared.basis === "exchange" ? "span + exposure" : "total: it gives no span/exposure split"}, ${rupees(c.compared.value)})`
  )
  if (s.legs.length > 0) {
    lines.push(
      "",
      `SPAN: price scan range ${s.psrPct.toFixed(2)}% (${rupees(s.psr)}), scan risk ${rupees(s.scanRisk)}, short option minimum ${rupees(s.somc)}`,
      ...s.groups.filter((g) => g.scanRisk > 0 || g.somc > 0).map((g) => `  ${g.group}: scan risk ${rupees(g.scanRisk)} (worst scenario ${g.worstScenario}), SPAN ${rupees(g.span)}`),
      table([
        ["leg", "quantity", "vol", "vol source", "vol scan", "exposure"],
        ...s.legs.map((l) => [`${l.strike} ${l.optionType} ${l.expiry}`, String(l.quantity), `${(l.vol * 100).toFixed(2)}%`, l.volSource, `${(l.vsr * 100).toFixed(2)}%`, rupees(l.exposure)])
      ])
    )
  }
  if (b.orders.length > 0) {
    lines.push(
      "",
      `Broker per order (${b.source}, before the basket's spread benefit):`,
      table([["symbol", "span", "exposure", "option premium", "total"], ...b.orders.map((o) => [o.symbol, rupees(o.span), rupees(o.exposure), rupees(o.optionPremium), rupees(o.total)])])
    )
  }
  return lines.join("\n")
}

export const portfolioCalibrationJson = (c: PortfolioCalibration) => ({
  index: c.query.index,
  date: c.query.date,
  expiry: c.query.expiry,
  at: new Date(c.query.at).toISOString(),
  spot: c.query.spot,
  positions: c.query.positions.map(positionJson),
  span: {
    psrPct: round2(c.span.psrPct),
    scanRisk: round2(c.span.scanRisk),
    somc: round2(c.span.somc),
    span: round2(c.span.span),
    exposure: round2(c.span.exposure),
    total: round2(c.span.total),
    groups: c.span.groups.map((g) => ({ group: g.group, scanRisk: round2(g.scanRisk), worstScenario: g.worstScenario, somc: round2(g.somc), span: round2(g.span) })),
    legs: c.span.legs.map((l) => ({ strike: l.strike, optionType: l.optionType, expiry: l.expiry, quantity: l.quantity, vol: l.vol, volSource: l.volSource, vsr: l.vsr, exposure: round2(l.exposure) }))
  },
  broker: {
    source: c.broker.source,
    span: round2OrNull(c.broker.span),
    exposure: round2OrNull(c.broker.exposure),
    optionPremium: round2OrNull(c.broker.optionPremium),
    total: round2(c.broker.total),
    orders: c.broker.orders
  },
  compared: { basis: c.compared.basis, value: round2(c.compared.value) },
  errorPct: round2OrNull(c.errorPct)
})
