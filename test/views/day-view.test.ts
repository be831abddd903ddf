// DayView on a replayed recorded day: the entries with their states in words, the hedges held (mid-day)
// and closed (with their P&L), the feed and the day's summary, cross-checked number by number against
// what `autohedge simulate --json` reports for the same day.
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { instantOf, wallTimeOf } from "../../src/domain/time.ts"
import type { DayReport } from "../../src/runtime/day-report.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import { DayView } from "../../src/views/day-view.ts"
import type { DayHedge } from "../../src/views/schemas.ts"
import type { Alert } from "../../machines/protocol.ts"
import { readRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { replayOptionsFor, truthModelOf } from "../../simulations/simulate.ts"

const FILE = "simulations/days/2026-02-13-NIFTY.jsonl"
const DATE = "2026-02-13"
const MIDDAY = instantOf(DATE, "12:00:00")

/** What `simulate --json` reports for the day (the engine's policy, the default SPAN truth). */
const simulated = async (): Promise<DayReport> => {
  const { stdout } = await promisify(execFile)("node", ["bin/autohedge.js", "simulate", "--json", FILE], { maxBuffer: 64 * 1024 * 1024 })
  const json = JSON.parse(stdout) as { readonly days: ReadonlyArray<DayReport> }
  return json.days[0]!
}

/** The same day replayed with a DayView watching it; its hedges as they stood at MIDDAY. */
const replayed = async () => {
  const day = await Effect.runPromise(readRecordedDay(FILE))
  const config = defaultConfig
  const view = new DayView({ now: () => day.ticks[0]!.at, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
  let midday: { readonly held: ReadonlyArray<DayHedge>; readonly closed: ReadonlyArray<DayHedge> } | null = null
  const alerts: Array<{ readonly alert: Alert; readonly at: number }> = []
  view.onAlert((alert, at) => alerts.push({ alert, at }))
  const result = await replayDay(day, {
    ...replayOptionsFor(policyPlan("engine", config), config, truthModelOf("span", config)),
    file: FILE,
    onEngine: (engine, setup, services) => view.attach({ engine, setup, services, mode: "simulation", sessionId: "test" }),
    afterInstant: async (at) => {
      await view.afterInstant(at)
      if (midday === null && at >= MIDDAY) midday = await view.hedges()
    }
  })
  return { view, result, midday: midday!, alerts }
}

describe("DayView of a replayed day", () => {
  it("summarises the day as simulate --json does: entries, breaches, peak utilisation, spend, hedges", { timeout: 120_000 }, async () => {
    const [report, { view, result, alerts }] = await Promise.all([simulated(), replayed()])
    // The same day decided the same way: the view read the day simulate reported.
    expect(result.report.auditDigest).toBe(report.auditDigest)
    const summary = view.summary()!
    expect(summary.closed).toBe(true)
    expect(summary.entries).toEqual(report.entries)
    expect(summary.breaches.map((b) => ({ portfolio: b.portfolio, time: wallTimeOf(Date.parse(b.at)), utilization: b.utilisationPct }))).toEqual(report.breaches)
    expect(summary.breaches.length).toBeGreaterThan(0)
    // Each breach is raised once, as an alert, at the instant its entry went in.
    expect(alerts.map((a) => ({ kind: a.alert.kind, entryId: a.alert.actor, at: a.at, utilisationPct: a.alert.details.utilisationPct }))).toEqual(
      summary.breaches.map((b) => ({ kind: "ENTRY_BREACHED", entryId: b.entryId, at: Date.parse(b.at), utilisationPct: b.utilisationPct }))
    )
    expect(summary.peakUtilisationPct).toBe(report.peakUtilization)
    expect(summary.spend).toMatchObject({ gross: report.grossSpend, recovered: report.recovered, net: report.netSpend })
    expect(summary.hedges).toEqual({ bought: report.hedges.length, held: 0, closed: report.hedges.length })
    expect(view.analyticsRow()).toMatchObject({ hedgeCount: report.hedges.length, netCost: report.netSpend, peakUtilization: report.peakUtilization, breaches: report.breaches.length })

    // Closed hedges: what each cost, recovered and made, as the report has them.
    const { held, closed } = await view.hedges()
    expect(held).toEqual([])
    expect(closed.map((h) => h.hedgeId)).toEqual(report.hedges.map((h) => h.id))
    for (const h of report.hedges) {
      const seen = closed.find((c) => c.hedgeId === h.id)!
      expect(seen).toMatchObject({ symbol: h.symbol, quantity: h.quantity, held: 0, paid: h.paid, received: h.received, buyPrice: h.buyPrice, forEntry: h.forEntry })
      expect(wallTimeOf(Date.parse(seen.boughtAt!))).toBe(h.boughtAt)
      expect(wallTimeOf(Date.parse(seen.closedAt!))).toBe(h.closedAt)
      expect(seen.pnl).toBeCloseTo(h.received - h.paid, 2)
    }
    // This day sells its hedge before the close: in words, with the price it was sold at.
    const sold = closed.find((h) => h.received > 0)!
    expect(sold).toMatchObject({ state: "closed", stateInWords: "sold" })
    expect(sold.sellPrice! * sold.quantity).toBeCloseTo(sold.received, 0)

    // The feed: every alert the simulator reported, in its order, as text a trader reads.
    const engineFeed = view.feed().filter((f) => f.source === "engine")
    expect(engineFeed.map((f) => [wallTimeOf(Date.parse(f.at)), f.kind, f.text])).toEqual(report.alerts.map((a) => [a.time, a.kind, a.text]))
  })

  it("shows each entry's state in words, when it entered and whether it breached; a hedge held mid-day with its price and P&L", { timeout: 120_000 }, async () => {
    const { view, midday } = await replayed()
    const entries = view.entries()
    expect(entries.length).toBeGreaterThan(0)
    for (const e of entries) {
      expect(["entered", "exited"]).toContain(e.state)
      expect(e.stateInWords).toBe(e.state)
      expect(e.enteredAt).not.toBeNull()
      expect(e.breached).toBe(e.utilisationAtEntryPct! > 100)
    }
    expect(entries.filter((e) => e.breached).map((e) => e.portfolio)).toEqual(view.summary()!.breaches.map((b) => b.portfolio))
    const protectedEntry = entries.find((e) => e.hedges.length > 0)!
    expect(protectedEntry.hedgeCost).toBeGreaterThan(0)

    // At noon the hedge was held: its last price, what it is worth and its P&L marked at that price.
    expect(midday.held.length).toBeGreaterThan(0)
    for (const h of midday.held) {
      expect(h).toMatchObject({ state: "open", stateInWords: "held", closedAt: null, received: 0 })
      expect(h.ltp).toBeGreaterThan(0)
      expect(h.value).toBeCloseTo(h.ltp! * h.held, 2)
      expect(h.pnl).toBeCloseTo(h.value! - h.paid, 2)
    }
  })
})
