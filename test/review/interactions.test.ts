// Review proofs: buyers deciding in the same instant against the day's one spend cap.
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { defaultConfig, type HedgeConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { sessionWith } from "../fixtures/session-services.ts"
import type { DeltaDecision, Projection } from "../../machines/protocol.ts"
import { niftyDayPlan, straddle } from "../fixtures/entries.ts"

const at = (time: string) => instantOf("2026-02-10", time)
const config: HedgeConfig = {
  ...defaultConfig,
  maxHedgeCostPerDay: 8000,
  cooldownSeconds: 0,
  deltaBand: { ...defaultConfig.deltaBand, enabled: true, checkSeconds: 300, maxCostPerDay: 10_000 }
}
const projection: Projection = { at: 0, budget: 2_000_000, marginInUse: 1_000_000, currentPct: 50, entryMargin: 900_000, projectedMargin: 1_900_000, projectedPct: 99.5, reductionNeeded: 300_000, entriesAtRisk: 1, marginAtEntry: 1_900_000 }

describe("review: one spend cap, two buyers in one instant", () => {
  it("the delta band and an entry deciding at the same clock never reserve more than the day's cap together", async () => {
    const machine = sessionWith({
      assessDelta: async ({ input }): Promise<DeltaDecision> => ({
        deltaPerPct: -150_000, limitPerPct: 100_000, outside: true, reason: "outside the band", utilisationPct: 50,
        wing: { strike: 25_600, optionType: "CE", quantity: 1300, lots: 20, limitPrice: input.spendLeft / 1300, cost: input.spendLeft, otmDistance: 600, deltaAfterPerPct: -95_000 }
      }),
      projectEntry: async () => ({ ...projection, at: at("09:20:00") }),
      selectHedges: async ({ input }) => ({
        picks: [{ strike: 24_400, optionType: "PE", ltp: 1, limitPrice: input.spendLeft / 130, otmDistance: 600, lots: 2, quantity: 130, cost: input.spendLeft, benefit: 300_000 }],
        cost: input.spendLeft, benefit: 300_000, shortfall: 0, limitedBy: "none"
      }),
      quoteOption: async () => ({ ltp: 3, at: 0 }),
      placeOrder: async () => ({ outcome: "accepted" as const, orderId: "O1" })
    })
    // A's look-ahead (09:20) is the band's first check.
    const setup = engineSetupFor({ day: niftyDayPlan([straddle("A", "09:25:00")]), config, policy: "engine", model: constantsMarginModel(config.marginConstants), weighsCost: false })
    expect(setup.session.entries[0]!.lookaheadAt).toBe(at("09:20:00"))
    const actor = createActor(machine, { input: setup.session }).start()
    for (const t of ["09:15:00", "09:20:00"]) {
      actor.send({ type: "CLOCK", at: at(t), spot: 25_000 })
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    }
    const hedges = Object.values(actor.getSnapshot().context.hedges)
    // The band's check was under way when A asked for the turn: A is granted what the band's wing left.
    expect(hedges.map((h) => h.forEntry)).toEqual(["DELTA_BAND"])
    expect((actor.getSnapshot().children["entry:A"]?.getSnapshot() as { value?: unknown } | undefined)?.value).toEqual({ awaitingEntry: "capReached" })
    const reserved = hedges.reduce((s, h) => s + h.reserved + h.paid, 0)
    expect(reserved).toBeLessThanOrEqual(8000)
    actor.stop()
  })

  it("the overnight guard waits while an entry holds the decision turn (its spend left was granted before the guard's wings)", async () => {
    let release: (p: Projection) => void = () => {}
    const guardAsked: Array<number> = []
    const machine = sessionWith({
      assessOvernight: async () => (guardAsked.push(guardAsked.length), { shorts: [], spot: 25_000, utilisationPct: 50 }),
      projectEntry: () => new Promise<Projection>((resolve) => (release = resolve)),
      quoteOption: async () => ({ ltp: 3, at: 0 })
    })
    const setup = engineSetupFor({ day: niftyDayPlan([straddle("B", "15:24:00", null)]), config: defaultConfig, policy: "engine", model: constantsMarginModel(defaultConfig.marginConstants) })
    expect(setup.session.overnightGuard?.firstCheckAt).toBe(at("15:20:00"))
    const actor = createActor(machine, { input: setup.session }).start()
    const clock = async (t: string) => {
      actor.send({ type: "CLOCK", at: at(t), spot: 25_000 })
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    }
    await clock("09:15:00")
    await clock("15:19:00")
    expect(actor.getSnapshot().context.turnHolder).toBe("entry:B")
    await clock("15:20:00")
    expect(guardAsked).toHaveLength(0)
    // B decides (nothing needed) and releases the turn: the guard checks at once.
    release({ ...projection, at: at("15:19:00"), projectedPct: 10 })
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(actor.getSnapshot().context.turnHolder).toBeNull()
    expect(guardAsked).toHaveLength(1)
    actor.stop()
  })
})
