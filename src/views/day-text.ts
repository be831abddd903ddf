// The day as plain text, a few lines per part: what `autohedge status` prints and what a chat command
// (/status, /hedges, /summary) answers. Times in IST, money in rupees, states in words.
import { wallTimeOf } from "../domain/time.ts"
import type { Day, DayHedge, DaySummary, EntryView, Status } from "./schemas.ts"

const rupees = (x: number) => `${x < 0 ? "-" : ""}₹${Math.abs(Math.round(x)).toLocaleString("en-IN")}`
const pct = (x: number | null) => (x === null ? "n/a" : `${x.toFixed(1)} %`)
/** An ISO time of the API as the market's wall time. */
const at = (iso: string) => wallTimeOf(Date.parse(iso))

export const statusText = (s: Status): string => {
  if (s.session === null) return `no trading day is running (market time ${at(s.now)})`
  const r = s.session
  const u = s.utilisation
  const lines = [
    `${r.index} ${r.date} · ${r.mode} · policy ${r.policy}`,
    `auto-hedge ${s.enabled ? "on" : "off"} · ${s.state} · market time ${at(s.now)}${s.health.lagSeconds > 0 ? ` (${s.health.lagSeconds} s behind)` : ""}`,
    `utilisation ${pct(u.currentPct)} now, ${pct(u.projectedPct)} projected (trigger ${u.triggerPct} %, target ${u.targetPct} %)`,
    `spend ${rupees(s.spend.today)} of ${rupees(s.spend.cap)} (${rupees(s.spend.left)} left)`
  ]
  if (s.health.halted !== null) lines.push(`HALTED: ${s.health.halted}`)
  for (const p of s.health.problems) lines.push(`problem: ${p.message}`)
  if (s.nextEntry !== null) lines.push(`next entry ${s.nextEntry.portfolio} at ${at(s.nextEntry.at)} (in ${Math.ceil(s.nextEntry.secondsUntil / 60)} min)`)
  return lines.join("\n")
}

export const entriesText = (entries: ReadonlyArray<EntryView>): string =>
  entries.length === 0
    ? "no entries today"
    : entries
      .map((e) => `${at(e.entryAt)} ${e.portfolio} · ${e.stateInWords}${e.projectedPct === null ? "" : ` · projected ${pct(e.projectedPct)}`}${e.breached ? ` · BREACHED at ${pct(e.utilisationAtEntryPct)}` : ""}`)
      .join("\n")

const hedgeLine = (h: DayHedge): string => {
  const price = (p: number | null) => (p === null ? "" : ` @ ${p.toFixed(2)}`)
  const parts = [
    `${h.hedgeId} ${h.symbol} ${h.lots} lot${h.lots === 1 ? "" : "s"}${h.manual ? " (manual)" : ""}`,
    h.closedAt === null ? h.stateInWords : null,
    h.boughtAt === null ? null : `bought ${at(h.boughtAt)}${price(h.buyPrice)}`,
    h.closedAt === null ? null : `${h.stateInWords} ${at(h.closedAt)}${price(h.sellPrice)}`,
    h.held > 0 && h.ltp !== null ? `last ${h.ltp.toFixed(2)}` : null,
    `P&L ${h.pnl === null ? "n/a" : rupees(h.pnl)}`
  ]
  return parts.filter((p) => p !== null).join(" · ")
}

export const hedgesText = (hedges: { readonly held: ReadonlyArray<DayHedge>; readonly closed: ReadonlyArray<DayHedge> }): string => {
  if (hedges.held.length === 0 && hedges.closed.length === 0) return "no hedges today"
  const part = (title: string, list: ReadonlyArray<DayHedge>) => (list.length === 0 ? [] : [`${title}:`, ...list.map((h) => `  ${hedgeLine(h)}`)])
  return [...part("held", hedges.held), ...part("closed", hedges.closed)].join("\n")
}

export const summaryText = (s: DaySummary | null): string => {
  if (s === null) return "no trading day is running"
  const breaches = s.breaches.map((b) => `${b.portfolio} ${pct(b.utilisationPct)} at ${at(b.at)}`)
  return [
    `${s.closed ? "day closed" : "day so far"}: ${s.entries.scheduled} entries (${s.entries.entered} entered, ${s.entries.missed} missed)`,
    `breaches: ${breaches.length === 0 ? "none" : breaches.join(", ")}`,
    `hedges: ${s.hedges.bought} bought, ${s.hedges.held} held, ${s.hedges.closed} closed`,
    `peak utilisation ${pct(s.peakUtilisationPct)}`,
    `spend: gross ${rupees(s.spend.gross)}, recovered ${rupees(s.spend.recovered)}, net ${rupees(s.spend.net)} (cap ${rupees(s.spend.cap)})`,
    ...(s.needless === null || s.needless.hedges.length === 0 ? [] : [`needless: ${s.needless.hedges.length} hedge${s.needless.hedges.length === 1 ? "" : "s"} no entry needed, ${rupees(s.needless.cost)}`])
  ].join("\n")
}

/** The whole day: status, entries, hedges, summary. */
export const dayText = (d: Day): string =>
  d.status.session === null ? statusText(d.status) : [statusText(d.status), entriesText(d.entries), hedgesText(d.hedges), summaryText(d.summary)].join("\n\n")
