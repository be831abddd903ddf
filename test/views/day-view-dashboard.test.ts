// What the dashboard reads from DayView beyond the day's summary, on a replayed SENSEX expiry day
// (2026-07-23: three hedges left to expire, one sold): the spot beside every utilisation sample (the
// chart's second axis), an expired hedge's P&L at its settlement value, actor states in words, and the
// needless spend a replay measures once the day is over, in the summary and its text.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { intrinsic } from "../../src/domain/pricing.ts"
import { readRecordedDay } from "../../src/domain/recorded-day.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import { summaryText } from "../../src/views/day-text.ts"
import { DayView, type DayAttachment } from "../../src/views/day-view.ts"
import { stateInWords } from "../../src/views/words.ts"
import { needlessHedges } from "../../simulations/needless.ts"
import { replayDay } from "../../simulations/replay.ts"
import { replayOptionsFor, truthModelOf } from "../../simulations/simulate.ts"

const FILE = "simulations/four-weeks/2026-07-23-SENSEX.jsonl"

describe("DayView for the dashboard, on a replayed SENSEX expiry day", () => {
  it("carries the spot, values expired hedges at settlement, says states in words and reports needless spend", { timeout: 120_000 }, async () => {
    const day = await Effect.runPromise(readRecordedDay(FILE))
    const config = defaultConfig
    const truth = truthModelOf("span", config)
    const view = new DayView({ now: () => day.ticks[0]!.at, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
    let attached: Omit<DayAttachment, "mode" | "sessionId"> | null = null
    const result = await replayDay(day, {
      ...replayOptionsFor(policyPlan("engine", config), config, truth),
      file: FILE,
      onEngine: (engine, setup, services) => {
        attached = { engine, setup, services }
        view.attach({ engine, setup, services, mode: "simulation", sessionId: "test" })
      },
      afterInstant: (at) => view.afterInstant(at)
    })

    // Every sample has the spot the session saw at that instant: the recorded tick's.
    const spotAt = new Map(day.ticks.map((t) => [t.at, t.spot]))
    const points = view.utilisation().points
    expect(points.length).toBeGreaterThan(300)
    for (const p of points) if (spotAt.has(p.at)) expect(p.spot).toBe(spotAt.get(p.at))
    expect(points.every((p) => typeof p.spot === "number")).toBe(true)

    // Hedges left to expire: worth their intrinsic value at the last spot, so their P&L is known.
    const { closed } = await view.hedges()
    const expired = closed.filter((h) => h.state === "expired")
    expect(expired.length).toBe(3)
    const lastSpot = day.ticks.at(-1)!.spot
    for (const h of expired) {
      expect(h.held).toBeGreaterThan(0)
      expect(h.stateInWords).toBe("expired")
      expect(h.value).toBeCloseTo(intrinsic(h.optionType, lastSpot, h.strike) * h.held, 2)
      expect(h.pnl).toBeCloseTo(h.received + h.value! - h.paid, 2)
    }

    // The actors' states in words, as the page shows them.
    for (const a of view.actorsView().actors) expect(a.stateInWords).toBe(stateInWords(a.kind, a.state))

    // No needless spend is claimed until measured; once measured it is the summary's and its text's.
    expect(view.summary()!.needless).toBeNull()
    expect(summaryText(view.summary())).not.toContain("needless")
    const needless = await Effect.runPromise(needlessHedges(day, result.report, truth))
    expect(needless.needless.length).toBeGreaterThan(0)
    view.noteNeedless({ hedges: needless.needless, cost: needless.needlessCost })
    expect(view.summary()!.needless).toEqual({ hedges: needless.needless, cost: needless.needlessCost })
    expect(summaryText(view.summary())).toContain(`needless: ${needless.needless.length} hedge`)
  })

  it("says a recommend-mode order as a recommendation in lots, not as a failed order", { timeout: 120_000 }, async () => {
    const day = await Effect.runPromise(readRecordedDay(FILE))
    const config = defaultConfig
    const thresholds = { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 }
    const paper = new DayView({ now: () => day.ticks[0]!.at, thresholds })
    const recommend = new DayView({ now: () => day.ticks[0]!.at, thresholds })
    let engine: DayAttachment["engine"] | null = null
    await replayDay(day, {
      ...replayOptionsFor(policyPlan("engine", config), config, truthModelOf("span", config)),
      file: FILE,
      onEngine: (e, setup, services) => {
        engine = e
        paper.attach({ engine: e, setup, services, mode: "paper", sessionId: "paper" })
        recommend.attach({ engine: e, setup, services, mode: "recommend", sessionId: "recommend" })
      }
    })
    // The order a recommend-mode engine "failed" to place (its broker places nothing), as the machines raise it.
    const at = engine!.alerts.at(-1)!.at
    const details = { symbol: "SENSEX23JUL2683400CE", strike: 83400, optionType: "CE", quantity: 300, limitPrice: 2.5, portfolio: "TH_SX_EXP 9", trigger: "PRE_STRATEGY:TH_SX_EXP 9", error: "recommend mode: not placed", utilisationBefore: 96.2 }
    engine!.alerts.push({ at, alert: { kind: "HEDGE_ORDER_FAILED", severity: "critical", actor: "hedge-9", details } })
    expect(recommend.feed().at(-1)).toMatchObject({ source: "engine", kind: "RECOMMENDATION", severity: "info" })
    expect(recommend.feed().at(-1)!.text).toContain("Buy 15 lots SENSEX 83400 CE at ≤ 2.50 for entry TH_SX_EXP 9")
    // The same alert on a paper day is what it says: a failed order.
    expect(paper.feed().at(-1)).toMatchObject({ kind: "HEDGE_ORDER_FAILED", severity: "critical" })
    expect(paper.feed().at(-1)!.text).toContain("HEDGE ORDER FAILED")
  })
})
