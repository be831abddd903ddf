// Reports of simulated days: totals per policy, a readable table for people and JSON for machines.
import type { DayReport } from "../src/runtime/day-report.ts"
import { rupees, table } from "../src/cli/tables.ts"

export interface Totals {
  readonly days: number
  readonly entries: number
  readonly missedEntries: number
  readonly hedges: number
  readonly grossSpend: number
  readonly recovered: number
  readonly netSpend: number
  readonly breaches: number
  readonly peakUtilization: number
  readonly alerts: number
}

export interface PolicyRun {
  /** The policy's name ("engine", "reference", "engine-constants", ...). */
  readonly policy: string
  readonly days: ReadonlyArray<DayReport>
  readonly total: Totals
}

const round2 = (x: number) => Math.round(x * 100) / 100

/** Hedges that were actually bought (orders that never filled cost nothing and count for nothing). */
export const boughtHedges = (day: DayReport) => day.hedges.filter((h) => h.boughtAt !== null)

export const totalsOf = (days: ReadonlyArray<DayReport>): Totals => ({
  days: days.length,
  entries: days.reduce((s, d) => s + d.entries.entered, 0),
  missedEntries: days.reduce((s, d) => s + d.entries.missed, 0),
  hedges: days.reduce((s, d) => s + boughtHedges(d).length, 0),
  grossSpend: round2(days.reduce((s, d) => s + d.grossSpend, 0)),
  recovered: round2(days.reduce((s, d) => s + d.recovered, 0)),
  netSpend: round2(days.reduce((s, d) => s + d.netSpend, 0)),
  breaches: days.reduce((s, d) => s + d.breaches.length, 0),
  peakUtilization: days.reduce((m, d) => Math.max(m, d.peakUtilization), 0),
  alerts: days.reduce((s, d) => s + d.alerts.length, 0)
})

const dayJson = (d: DayReport) => ({ ...d, hedges: d.hedges, hedgeCount: boughtHedges(d).length })

/**
 * JSON for machines: `days` and `total` of the first policy run (the engine when it ran), and every
 * policy under `policies`, each with the same `days` / `total` shape.
 */
export const toJson = (runs: ReadonlyArray<PolicyRun>): unknown => {
  const primary = runs[0]
  const shape = (r: PolicyRun) => ({ days: r.days.map(dayJson), total: { ...r.total } })
  return {
    policy: primary?.policy ?? null,
    ...(primary === undefined ? { days: [], total: totalsOf([]) } : shape(primary)),
    policies: Object.fromEntries(runs.map((r) => [r.policy, shape(r)]))
  }
}

/**
 * The readable report: per day and policy, the hedges each policy bought, and the totals side by side;
 * with `alerts`, every alert each policy raised, as the trader would have read it.
 */
export const toText = (runs: ReadonlyArray<PolicyRun>, options: { readonly alerts?: boolean } = {}): string => {
  const out: Array<string> = []
  const header = ["day", "policy", "entries", "hedges", "gross", "recovered", "net", "peak util", "breaches", "alerts"]
  const rows: Array<Array<string>> = []
  const days = runs[0]?.days ?? []
  days.forEach((_, i) => {
    for (const run of runs) {
      const d = run.days[i]!
      rows.push([
        `${d.date} ${d.index}`,
        run.policy,
        `${d.entries.entered}/${d.entries.scheduled}`,
        String(boughtHedges(d).length),
        rupees(d.grossSpend),
        rupees(d.recovered),
        rupees(d.netSpend),
        `${d.peakUtilization.toFixed(1)}%`,
        String(d.breaches.length),
        String(d.alerts.length)
      ])
    }
  })
  out.push(table(header, rows))
  for (const run of runs) {
    for (const d of run.days) {
      if (d.finished === true) out.push("", `${d.date} ${d.index} ${run.policy}: finished in the database (audit digest ${d.auditDigest}); --resume did not run it again`)
    }
  }
  for (const run of runs) {
    const bought = run.days.flatMap((d) => boughtHedges(d).map((h) => ({ d, h })))
    if (bought.length === 0) continue
    out.push("", `Hedges bought by ${run.policy}:`)
    out.push(
      table(
        ["day", "entry", "strike", "lots", "bought", "price", "paid", "closed", "received"],
        bought.map(({ d, h }) => [
          d.date,
          h.forEntry.replace(/^entry:/, ""),
          `${h.strike} ${h.optionType}`,
          String(h.lots),
          h.boughtAt ?? "",
          (h.buyPrice ?? 0).toFixed(2),
          rupees(h.paid),
          h.closedAt === null ? (h.status === "open" ? "held" : h.status) : `${h.closedAt} ${h.status}`,
          rupees(h.received)
        ])
      )
    )
  }
  if (options.alerts === true) {
    for (const run of runs) {
      for (const d of run.days) {
        out.push("", `Alerts, ${run.policy}, ${d.date} ${d.index}:`)
        for (const a of d.alerts) out.push("", a.text)
      }
    }
  }
  out.push("", "Totals:")
  out.push(
    table(
      ["policy", "days", "entries", "hedges", "gross", "recovered", "net", "peak util", "breaches", "missed"],
      runs.map((r) => [
        r.policy,
        String(r.total.days),
        String(r.total.entries),
        String(r.total.hedges),
        rupees(r.total.grossSpend),
        rupees(r.total.recovered),
        rupees(r.total.netSpend),
        `${r.total.peakUtilization.toFixed(1)}%`,
        String(r.total.breaches),
        String(r.total.missedEntries)
      ])
    )
  )
  return out.join("\n")
}
