// The delta band end to end: a generated day replayed with the band on buys a wing through the normal
// hedge path (order journaled, filled by the simulated broker, audited, alerted) and the broker's book
// then holds it; with the band off (the default) the same day has no trace of it.
import { describe, expect, it } from "vitest"
import { defaultConfig, type HedgeConfig } from "../../src/domain/config.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { replayDay } from "../../simulations/replay.ts"
import { deltaDay } from "../../simulations/delta-band.ts"
import { engineWithDeltaBand, policyPlan } from "../../src/runtime/policies.ts"
import { calmExpiryDay, straddle } from "../fixtures/entries.ts"

const model = spanMarginModel(defaultConfig.span)
// Two ATM straddles on a calm expiry day: as the index drifts, their delta leaves a tight band.
const day = calmExpiryDay([straddle("A", "09:20:00"), straddle("B", "10:00:00")], 2_000_000)
const withBand = (limitPerPct: number): HedgeConfig => ({ ...defaultConfig, deltaBand: { ...defaultConfig.deltaBand, enabled: true, limitPerPct, maxCostPerDay: 20_000 } })
const replay = (config: HedgeConfig) => replayDay(day, { config, policy: "engine", truth: model, estimate: model })

describe("delta band, a replayed day", () => {
  it("on, it buys a wing through the hedge path when delta leaves the band; off, the day has no trace of it", async () => {
    const on = await replay(withBand(20_000))
    expect(on.failure).toBeNull()
    const wings = on.report.hedges.filter((h) => h.forEntry === "DELTA_BAND")
    expect(wings.length).toBeGreaterThan(0)
    expect(wings[0]).toMatchObject({ trigger: "DELTA_BAND" })
    expect(wings[0]!.paid).toBeGreaterThan(0)
    // Sent to the broker as every hedge is, and said why.
    expect(on.orders.some((o) => o.side === "BUY" && o.strike === wings[0]!.strike && o.optionType === wings[0]!.optionType)).toBe(true)
    const alert = on.alerts.find((a) => a.alert.kind === "DELTA_BAND_WING")!.alert.details
    expect(Math.abs(Number(alert.deltaPerPct))).toBeGreaterThan(20_000)
    expect(Math.abs(Number(alert.deltaAfterPerPct))).toBeLessThanOrEqual(20_000)
    expect(on.rows.some((r) => r.actorId === "session" && r.to === "trading.checkingDelta")).toBe(true)
    // Its spend stays within its own cap.
    expect(wings.reduce((s, h) => s + h.paid, 0)).toBeLessThanOrEqual(20_000)

    const off = await replay(defaultConfig)
    expect(off.report.hedges.some((h) => h.forEntry === "DELTA_BAND")).toBe(false)
    expect(off.rows.some((r) => r.to.includes("checkingDelta") || r.event.includes("assessDelta"))).toBe(false)
  })

  it("killed at service calls spread over the day and restarted, it ends as an uninterrupted run: no wing bought twice", async () => {
    const config = withBand(20_000)
    const whole = await replayDay(day, { config, policy: "engine", truth: model, estimate: model })
    const total = (await replayDay(day, { config, policy: "engine", truth: model, estimate: model, killAfterCalls: Number.MAX_SAFE_INTEGER })).serviceCalls
    const outcome = (r: typeof whole) => ({ hedges: r.report.hedges, orders: r.orders, grossSpend: r.report.grossSpend })
    expect(whole.report.hedges.some((h) => h.forEntry === "DELTA_BAND")).toBe(true)
    for (let i = 1; i <= 6; i++) {
      const k = Math.floor((i * total) / 7)
      const r = await replayDay(day, { config, policy: "engine", truth: model, estimate: model, killAfterCalls: k })
      expect(r.restarts, `kill at call ${k}`).toBe(1)
      expect(outcome(r), `kill at call ${k}`).toEqual(outcome(whole))
    }
  }, 120_000)

  it("replays identically, and spends time outside the band no longer than the engine alone", async () => {
    const a = await replay(withBand(20_000))
    const b = await replay(withBand(20_000))
    expect(a.report.auditDigest).toBe(b.report.auditDigest)
    const config = withBand(20_000)
    const engine = await deltaDay(day, policyPlan("engine", config), { ...config, deltaBand: { ...config.deltaBand, enabled: false } })
    const banded = await deltaDay(day, engineWithDeltaBand(config), config)
    expect(engine.deltaWings).toBe(0)
    expect(banded.deltaWings).toBeGreaterThan(0)
    expect(banded.minutesOutside).toBeLessThan(engine.minutesOutside)
  })
})
