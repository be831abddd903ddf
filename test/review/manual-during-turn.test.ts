// A manual buy taken while an entry decides would spend what the entry was granted: the session refuses it.
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { sessionWith } from "../fixtures/session-services.ts"
import type { Projection, SelectionResult } from "../../machines/protocol.ts"
import { niftyDayPlan, straddle } from "../fixtures/entries.ts"

const at = (time: string) => instantOf("2026-02-10", time)
const config = { ...defaultConfig, maxHedgeCostPerDay: 8000, cooldownSeconds: 0 }
const projection: Projection = { at: at("09:20:00"), budget: 2_000_000, marginInUse: 1_000_000, currentPct: 50, entryMargin: 900_000, projectedMargin: 1_990_000, projectedPct: 99.5, reductionNeeded: 300_000, entriesAtRisk: 1, marginAtEntry: 1_990_000 }

describe("review: manual buy during an entry's decision", () => {
  it("the entry's buy and a manual buy taken while it decides stay within the day's cap together", async () => {
    let select: (s: SelectionResult) => void = () => {}
    let granted = 0
    const machine = sessionWith({
      projectEntry: async () => projection,
      selectHedges: ({ input }) => ((granted = input.spendLeft), new Promise<SelectionResult>((resolve) => (select = resolve))),
      quoteOption: async () => ({ ltp: 3, at: 0 }),
      placeOrder: async () => ({ outcome: "accepted" as const, orderId: "O1" })
    })
    const setup = engineSetupFor({ day: niftyDayPlan([straddle("A", "09:25:00")]), config, policy: "engine", model: constantsMarginModel(config.marginConstants), weighsCost: false })
    const actor = createActor(machine, { input: setup.session }).start()
    const settle = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)) }
    for (const t of ["09:15:00", "09:20:00"]) { actor.send({ type: "CLOCK", at: at(t), spot: 25_000 }); await settle() }
    expect(granted).toBe(8000)
    actor.send({ type: "MANUAL_BUY", strike: 24_000, optionType: "PE", quantity: 130, limitPrice: null, cost: 8000, utilisationBefore: 50 })
    select({ picks: [{ strike: 24_400, optionType: "PE", ltp: 1, limitPrice: 61.5, otmDistance: 600, lots: 2, quantity: 130, cost: 8000, benefit: 300_000 }], cost: 8000, benefit: 300_000, shortfall: 0, limitedBy: "none" })
    await settle()
    const hedges = Object.values(actor.getSnapshot().context.hedges)
    expect(hedges.reduce((s, h) => s + h.reserved + h.paid, 0)).toBeLessThanOrEqual(8000)
    actor.stop()
  })
})
