// The session's delta band trigger on the real machine, its decision stubbed: it checks on its own
// clock, only when on; it buys the wing the check answers through the normal hedge path, within its
// spend cap, waits out the cooldown and the decision turn, and raises its alerts.
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { defaultConfig, type HedgeConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { sessionWith } from "../fixtures/session-services.ts"
import { DELTA_BAND, wakeTimes } from "../../machines/session.ts"
import type { AlertEvent, AssessDeltaInput, DeltaDecision } from "../../machines/protocol.ts"
import type { EntrySpec } from "../../src/domain/market.ts"
import { niftyDayPlan, straddle } from "../fixtures/entries.ts"

const at = (time: string) => instantOf("2026-02-10", time)
const bandOn: HedgeConfig = { ...defaultConfig, cooldownSeconds: 600, deltaBand: { ...defaultConfig.deltaBand, enabled: true, checkSeconds: 300, maxCostPerDay: 10_000 } }

const inside: DeltaDecision = { deltaPerPct: -20_000, limitPerPct: 100_000, outside: false, wing: null, reason: "inside the band", utilisationPct: 40 }
const unmet: DeltaDecision = { ...inside, deltaPerPct: -150_000, outside: true, reason: "no CE in the hedge band" }
const wing: DeltaDecision = {
  ...inside,
  deltaPerPct: -150_000,
  outside: true,
  wing: { strike: 25_600, optionType: "CE", quantity: 1300, lots: 20, limitPrice: 3.1, cost: 4030, otmDistance: 600, deltaAfterPerPct: -95_000 },
  reason: "outside the band"
}

/** A session of `config` with its delta check answering `answers` in turn; every other decision never answers. */
const session = (config: HedgeConfig, answers: ReadonlyArray<DeltaDecision>, entries: ReadonlyArray<EntrySpec> = []) => {
  const asked: Array<{ input: AssessDeltaInput }> = []
  const alerts: Array<AlertEvent["alert"]> = []
  const machine = sessionWith({
    assessDelta: async ({ input }) => {
      asked.push({ input })
      return answers[asked.length - 1] ?? inside
    },
    quoteOption: async () => ({ ltp: 3, at: 0 }),
    placeOrder: async () => ({ outcome: "accepted" as const, orderId: "O1" })
  })
  const setup = engineSetupFor({ day: niftyDayPlan(entries), config, policy: "engine", model: constantsMarginModel(config.marginConstants) })
  const actor = createActor(machine, { input: setup.session })
  actor.on("alert", (e) => void alerts.push(e.alert))
  actor.start()
  const clock = async (time: string) => {
    actor.send({ type: "CLOCK", at: at(time), spot: 25_000 })
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { actor, asked, alerts, clock }
}

describe("delta band trigger", () => {
  it("off by default: no check is ever asked for and no instant is woken for it", async () => {
    const s = session(defaultConfig, [wing])
    expect(s.actor.getSnapshot().context.deltaBand).toBeUndefined()
    for (let m = 15; m <= 180; m += 5) await s.clock(`${String(9 + Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}:00`)
    expect(s.asked).toHaveLength(0)
    expect(Object.keys(s.actor.getSnapshot().context.hedges)).toHaveLength(0)
    expect(wakeTimes(s.actor.getSnapshot().context)).not.toContain(at("12:20:00"))
    s.actor.stop()
  })

  it("checks on its own clock; buys the wing it is answered through the hedge path, alerts, then waits out the cooldown", async () => {
    const s = session(bandOn, [inside, wing, inside])
    await s.clock("09:15:00")
    await s.clock("09:19:00")
    expect(s.asked).toHaveLength(0)
    expect(wakeTimes(s.actor.getSnapshot().context)).toContain(at("09:20:00"))
    await s.clock("09:20:00")
    expect(s.asked).toHaveLength(1)
    // Inside the band: nothing bought, nothing said.
    expect(Object.keys(s.actor.getSnapshot().context.hedges)).toHaveLength(0)
    expect(s.alerts.filter((a) => a.kind.startsWith("DELTA"))).toHaveLength(0)
    await s.clock("09:21:00")
    expect(s.asked).toHaveLength(1)
    await s.clock("09:25:00")
    expect(s.asked).toHaveLength(2)
    expect(s.asked[1]!.input.spendLeft).toBe(10_000)
    const c = s.actor.getSnapshot().context
    expect(Object.values(c.hedges)).toEqual([
      expect.objectContaining({ forEntry: DELTA_BAND, trigger: DELTA_BAND, strike: 25_600, optionType: "CE", quantity: 1300, reserved: 4030, manual: false })
    ])
    expect(s.actor.getSnapshot().children["hedge-1"]).toBeDefined()
    expect(c.lastActionAt).toBe(at("09:25:00"))
    expect(s.alerts.find((a) => a.kind === "DELTA_BAND_WING")?.details).toMatchObject({ deltaPerPct: -150_000, deltaAfterPerPct: -95_000, limitPerPct: 100_000, lots: 20, cost: 4030 })
    // Due at 09:30, but the cooldown (10 min) runs to 09:35.
    await s.clock("09:30:00")
    expect(s.asked).toHaveLength(2)
    await s.clock("09:35:00")
    expect(s.asked).toHaveLength(3)
    // Its own cap less what its wing reserved.
    expect(s.asked[2]!.input.spendLeft).toBe(10_000 - 4030)
    s.actor.stop()
  })

  it("waits while an entry holds the decision turn", async () => {
    // A's look-ahead is at 09:27; its projection never answers, so it holds the turn from then on.
    const s = session({ ...bandOn, cooldownSeconds: 0 }, [], [straddle("A", "09:32:00")])
    await s.clock("09:15:00")
    await s.clock("09:20:00")
    await s.clock("09:25:00")
    expect(s.asked).toHaveLength(2)
    await s.clock("09:27:00")
    expect(s.actor.getSnapshot().context.turnHolder).toBe("entry:A")
    await s.clock("09:30:00")
    await s.clock("09:35:00")
    await s.clock("09:40:00")
    expect(s.asked).toHaveLength(2)
    s.actor.stop()
  })

  it("says once per spell that delta is outside with no wing", async () => {
    const s = session({ ...bandOn, cooldownSeconds: 0 }, [unmet, unmet, inside, unmet])
    for (const t of ["09:15:00", "09:20:00", "09:25:00", "09:30:00", "09:35:00"]) await s.clock(t)
    expect(s.asked).toHaveLength(4)
    const unmetAlerts = s.alerts.filter((a) => a.kind === "DELTA_BAND_UNMET")
    expect(unmetAlerts).toHaveLength(2)
    expect(unmetAlerts[0]!.details).toMatchObject({ deltaPerPct: -150_000, reason: "no CE in the hedge band" })
    expect(Object.keys(s.actor.getSnapshot().context.hedges)).toHaveLength(0)
    s.actor.stop()
  })

  it("switched off by the trader, it asks nothing", async () => {
    const s = session(bandOn, [wing])
    await s.clock("09:15:00")
    s.actor.send({ type: "TOGGLE", enabled: false })
    await s.clock("09:20:00")
    await s.clock("09:25:00")
    expect(s.asked).toHaveLength(0)
    s.actor.stop()
  })
})
