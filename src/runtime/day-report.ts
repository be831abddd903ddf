// A day's outcome as the simulator reports it and the daemon stores it: the hedges bought and sold,
// what they cost and recovered, entries, breaches, alerts, and the digest of the audit trail.
import type { PolicyName } from "./policies.ts"
import { formatAlert } from "../domain/alerts.ts"
import { wallTimeOf } from "../domain/time.ts"
import type { TransitionRow } from "../services/services.ts"
import { auditDigest } from "./audit-recorder.ts"
import { carriedHedgeId } from "../../machines/session.ts"
import type { SessionEngine } from "./engine.ts"

export interface HedgeReport {
  readonly id: string
  readonly forEntry: string
  readonly symbol: string
  readonly trigger: string
  readonly utilisationBefore: number
  readonly otmDistance: number
  readonly strike: number
  readonly optionType: "CE" | "PE"
  readonly lots: number
  /** Units ordered (a carried wing: units held at the open). */
  readonly quantity: number
  /** Units held when the report was taken (at the close, for a finished day): what the next day may carry. */
  readonly held: number
  readonly status: string
  readonly boughtAt: string | null
  readonly buyPrice: number | null
  readonly paid: number
  readonly closedAt: string | null
  readonly received: number
  /** Held since an earlier day, bought then at `entryPrice` per unit: nothing was bought today. */
  readonly carried?: { readonly entryPrice: number }
}

export interface DayReport {
  readonly file: string
  readonly date: string
  readonly index: string
  readonly policy: PolicyName
  readonly budget: number
  readonly entries: { readonly scheduled: number; readonly entered: number; readonly missed: number }
  readonly hedges: ReadonlyArray<HedgeReport>
  readonly grossSpend: number
  readonly recovered: number
  readonly netSpend: number
  readonly peakUtilization: number
  readonly breaches: ReadonlyArray<{ readonly portfolio: string; readonly time: string; readonly utilization: number }>
  readonly alerts: ReadonlyArray<{ readonly time: string; readonly kind: string; readonly severity: string; readonly actor: string; readonly text: string }>
  readonly transitions: number
  /** SHA-256 of the day's audit rows: equal digests mean identical decisions. */
  readonly auditDigest: string
  /** `simulate --resume` found the day finished in the database: reported from its records, not run again. */
  readonly finished?: true
}

const round2 = (x: number) => Math.round(x * 100) / 100

export const dayReportOf = (p: {
  readonly date: string
  readonly index: string
  readonly lotSize: number
  readonly file: string
  readonly policy: PolicyName
  readonly engine: SessionEngine
  readonly breaches: ReadonlyArray<{ readonly portfolio: string; readonly at: number; readonly utilisationPct: number }>
  readonly peak: number
  readonly rows: ReadonlyArray<TransitionRow>
}): DayReport => {
  const { engine, breaches, peak, rows } = p
  const snapshot = engine.actor.getSnapshot()
  const c = snapshot.context
  const lotSize = p.lotSize
  const entryStates = rows.filter((r) => r.kind === "entry")
  const reached = (state: string) => new Set(entryStates.filter((r) => r.to === state).map((r) => r.actorId)).size
  // A carried wing's own price is in the session's input (its record paid ₹0 today).
  const carriedPrice = new Map((c.carriedHedges ?? []).map((w, i) => [carriedHedgeId(i), w.avgPrice]))
  const hedges = Object.values(c.hedges).map(
    (hd): HedgeReport => ({
      id: hd.id,
      forEntry: hd.forEntry,
      symbol: hd.symbol,
      trigger: hd.trigger,
      utilisationBefore: hd.utilisationBefore,
      otmDistance: Math.round(hd.otmDistance),
      strike: hd.strike,
      optionType: hd.optionType,
      lots: hd.quantity / lotSize,
      quantity: hd.quantity,
      held: hd.held,
      status: hd.status,
      boughtAt: hd.openedAt === null ? null : wallTimeOf(hd.openedAt),
      buyPrice: hd.openedAt === null || hd.quantity === 0 ? null : round2(hd.paid / hd.quantity),
      paid: round2(hd.paid),
      closedAt: hd.closedAt === null ? null : wallTimeOf(hd.closedAt),
      received: round2(hd.received),
      ...(carriedPrice.has(hd.id) ? { carried: { entryPrice: carriedPrice.get(hd.id)! } } : {})
    })
  )
  return {
    file: p.file,
    date: p.date,
    index: p.index,
    policy: p.policy,
    budget: c.budget,
    entries: { scheduled: c.entries.length, entered: reached("entered"), missed: reached("missed") },
    hedges,
    grossSpend: round2(c.grossSpend),
    recovered: round2(c.recovered),
    netSpend: round2(c.grossSpend - c.recovered),
    peakUtilization: peak,
    breaches: breaches.map((b) => ({ portfolio: b.portfolio, time: wallTimeOf(b.at), utilization: b.utilisationPct })),
    alerts: engine.alerts.map((a) => ({
      time: wallTimeOf(a.at),
      kind: a.alert.kind,
      severity: a.alert.severity,
      actor: a.alert.actor,
      text: formatAlert(a.alert, a.at)
    })),
    transitions: rows.length,
    auditDigest: auditDigest(rows)
  }
}
