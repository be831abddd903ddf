// The delta band's decision on explicit inputs: the held book's delta per 1 % move against the band,
// and the wing that brings it back, within the spend left; nothing when the band is off.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { assessDelta, type Situation } from "../../src/decisions/decisions.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { deltaPerPctOf, portfolioDelta } from "../../src/domain/delta-band.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import type { Position } from "../../src/domain/market.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { calmExpiryDay, straddle } from "../fixtures/entries.ts"

const day = calmExpiryDay([straddle("A", "09:30:00")], 2_000_000)
const model = spanMarginModel(defaultConfig.span)
const config = { ...defaultConfig, deltaBand: { ...defaultConfig.deltaBand, enabled: true, limitPerPct: 20_000 } }
const on = engineSetupFor({ day: day.header, config, policy: "engine", model })
const off = engineSetupFor({ day: day.header, config: defaultConfig, policy: "engine", model })
const s = on.session
const tick = day.ticks.find((t) => t.at >= s.openAt + 60 * 60_000)!
const step = day.header.strikeStep
const atm = Math.round(tick.spot / step) * step
const units = s.baskets * day.header.lotSize
/** Short calls a step in the money, short puts a step out: a short-delta book. */
const held: ReadonlyArray<Position> = [
  { strike: atm - step, optionType: "CE", quantity: -units, expiry: s.expiry },
  { strike: atm - step, optionType: "PE", quantity: -units, expiry: s.expiry }
]
const situation: Situation = {
  day: { index: s.index, date: s.date, expiry: s.expiry, baskets: s.baskets, budget: s.budget, policy: s.policy, targetPct: s.entryRules.targetPct, closeAt: s.closeAt },
  market: { at: tick.at, spot: tick.spot, chain: tick.chain },
  held,
  coming: [],
  entered: []
}
const query = { index: s.index, date: s.date, expiry: s.expiry, lotSize: day.header.lotSize, spot: tick.spot, at: tick.at, chain: tick.chain }

describe("assessDelta", () => {
  it("outside the band: the held book's delta per 1 % and a call wing that brings it inside", async () => {
    const d = await Effect.runPromise(assessDelta(on, situation, 1_000_000, 1e9))
    const delta = await Effect.runPromise(portfolioDelta({ ...query, positions: held }, config.span))
    expect(d.deltaPerPct).toBeCloseTo(deltaPerPctOf(delta, tick.spot), 6)
    expect(d.outside).toBe(true)
    expect(d.utilisationPct).toBe(Math.round((1_000_000 / s.budget) * 10_000) / 100)
    expect(d.wing).not.toBeNull()
    expect(d.wing!.optionType).toBe("CE")
    const after = await Effect.runPromise(portfolioDelta({ ...query, positions: [...held, { strike: d.wing!.strike, optionType: "CE", quantity: d.wing!.quantity, expiry: s.expiry }] }, config.span))
    expect(Math.abs(deltaPerPctOf(after, tick.spot))).toBeLessThanOrEqual(20_000 + 1e-6)
  })

  it("with no spend left it buys nothing and says why", async () => {
    const d = await Effect.runPromise(assessDelta(on, situation, 1_000_000, 0))
    expect(d).toMatchObject({ outside: true, wing: null, reason: expect.stringContaining("costs more than") })
  })

  it("off, it decides nothing", async () => {
    const d = await Effect.runPromise(assessDelta(off, situation, 1_000_000, 1e9))
    expect(d).toMatchObject({ outside: false, wing: null })
  })
})
