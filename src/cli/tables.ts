// Plain-text tables for the terminal, and the `analytics` command's.
import type { AnalyticsRow } from "../../adapters/postgres/engine-store.ts"

export const rupees = (x: number) => `₹${Math.round(x).toLocaleString("en-IN")}`

export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

/** The analytics rows as a table. */
export const formatAnalytics = (rows: ReadonlyArray<AnalyticsRow>): string =>
  rows.length === 0
    ? "no sessions on record"
    : table(
        ["date", "day", "index", "mode", "policy", "hedges", "cost", "recovered", "net", "peak util", "breaches"],
        rows.map((r) => [
          r.sessionDate,
          r.dayOfWeek,
          r.index,
          r.mode,
          r.policy,
          String(r.hedgeCount),
          rupees(r.totalCost),
          rupees(r.totalRecovered),
          rupees(r.netCost),
          r.peakUtilization === null ? "" : `${r.peakUtilization.toFixed(1)}%`,
          r.breaches === null ? "" : String(r.breaches)
        ])
      )
