// The overnight guard on real machines: generated Mondays whose entries trade Tuesday's expiry, replayed
// through the session as the daemon runs it, read back from the audit rows, the orders and the alerts.
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import type { AlertKind, OvernightAssessment, Policy } from "../../machines/protocol.ts"
import { OVERNIGHT, wakeTimes, type SessionContext, type SessionInput } from "../../machines/session.ts"
import { defaultConfig, type HedgeConfig } from "../../src/domain/config.ts"
import type { EntrySpec } from "../../src/domain/market.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { parseRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import { instantOf } from "../../src/domain/time.ts"
import { sessionWith } from "../fixtures/session-services.ts"
import { verifyDay } from "../../src/runtime/verify.ts"
import { replayDay, type ReplayResult } from "../../simulations/replay.ts"
import { generateDay, toJsonl } from "../../simulations/generator.ts"
import { calmExpiryDay, straddle } from "../fixtures/entries.ts"

const MONDAY = "2026-02-09"
const at = (time: string) => instantOf(MONDAY, time)
const UNITS = 15 * 65

/** A calm NIFTY Monday trading Tuesday's expiry (15 baskets, 65 a lot), ticks every `tickSeconds`. */
const monday = (entries: ReadonlyArray<EntrySpec>, tickSeconds = 60): RecordedDay =>
  parseRecordedDay(
    toJsonl(generateDay({ date: MONDAY, index: "NIFTY", expiry: "2026-02-10", lotSize: 65, strikeStep: 50, tickSeconds, baskets: 15, budgetPerBasket: 1_000_000, entries, seed: 11, regime: "calm", stopFraction: 100 })),
    "monday"
  )

const model = constantsMarginModel(defaultConfig.marginConstants)
const replay = (d: RecordedDay, config: HedgeConfig = defaultConfig, policy: Policy = "engine", killAfterCalls?: number) =>
  replayDay(d, { config, policy, truth: model, estimate: model, ...(killAfterCalls === undefined ? {} : { killAfterCalls }) })
const guardConfig = (over: Partial<HedgeConfig["overnightGuard"]>, rest: Partial<HedgeConfig> = {}): HedgeConfig => ({
  ...defaultConfig,
  ...rest,
  overnightGuard: { ...defaultConfig.overnightGuard, ...over }
})

const wings = (r: ReplayResult) => r.report.hedges.filter((h) => h.trigger === OVERNIGHT)
const alertsOf = (r: ReplayResult, kind: AlertKind) => r.alerts.filter((a) => a.alert.kind === kind)
const guardChecks = (r: ReplayResult) => r.rows.filter((x) => x.actorId === "session" && x.to === "trading.guardingOvernight" && x.from !== x.to)

/** Held to Tuesday: H; leaves before the close: L. */
const held = straddle("H", "09:30:00", null)
const leaves = straddle("L", "10:00:00", "15:25:00")

describe("the overnight guard", () => {
  it("at its time, buys a wing for each short held past the close (not one leaving before it), in the short's expiry, and says all are covered", async () => {
    const r = await replay(monday([held, leaves]))
    expect(guardChecks(r)[0]!.at).toBe(at("15:20:00"))
    const bought = wings(r)
    // One wing a side, for H's legs alone, 500 points beyond its strike, named in Tuesday's expiry.
    expect(bought.map((w) => [w.optionType, w.quantity, w.status, w.forEntry])).toEqual([
      ["CE", UNITS, "open", OVERNIGHT],
      ["PE", UNITS, "open", OVERNIGHT]
    ])
    expect(bought.every((w) => w.symbol.startsWith("NIFTY10FEB26"))).toBe(true)
    expect(bought[0]!.strike - bought[1]!.strike).toBe(1000)
    // Through the order path: journaled orders at the broker, bought at the next status poll.
    expect(r.orders.filter((o) => o.side === "BUY").map((o) => o.symbol)).toEqual(bought.map((w) => w.symbol))
    expect(bought.every((w) => w.boughtAt === "15:20:05")).toBe(true)
    // The exit review that comes once L has left (every entry gone) keeps them.
    expect(r.rows.some((x) => x.event.startsWith("xstate.done.actor.assessExits") && x.at > at("15:25:00"))).toBe(true)
    expect(r.orders.some((o) => o.side === "SELL")).toBe(false)
    // Covered once bought: the next check says so, once, naming each short and its wing; then no more checks.
    const covered = alertsOf(r, "OVERNIGHT_COVERED")
    expect(covered.map((a) => [a.at, a.alert.severity])).toEqual([[at("15:21:00"), "info"]])
    expect(covered[0]!.alert.details.shorts).toBe(bought.map((w) => `${w.optionType === "CE" ? w.strike - 500 : w.strike + 500} ${w.optionType} 2026-02-10 ×${UNITS} ← ${w.strike} ${w.optionType} ×${UNITS}`).join("; "))
    expect(guardChecks(r).map((x) => x.at)).toEqual([at("15:20:00"), at("15:21:00")])
    expect(alertsOf(r, "OVERNIGHT_UNCOVERED")).toEqual([])
    expect(r.report.hedges.filter((h) => h.trigger !== OVERNIGHT)).toEqual([])
    // Audited like every decision: the trail rebuilds through the machines, row for row.
    expect((await verifyDay(r.rows)).ok).toBe(true)
  })

  it("covers a short the schedule does not explain (carried in, say): the broker's positions are what counts", async () => {
    const d = monday([])
    const carried = { strike: 24_800, optionType: "PE" as const, quantity: -130, expiry: "2026-02-10", avgPrice: 40 }
    const r = await replay({ ...d, header: { ...d.header, openingPositions: [carried] } })
    expect(wings(r).map((w) => [w.strike, w.optionType, w.quantity, w.status])).toEqual([[24_300, "PE", 130, "open"]])
    expect(alertsOf(r, "OVERNIGHT_COVERED")[0]!.alert.details.shorts).toBe("24800 PE 2026-02-10 ×130 ← 24300 PE ×130")
  })

  it("checks again when an entry comes in after its time", async () => {
    const r = await replay(monday([straddle("LATE", "15:22:00", null)]))
    expect(guardChecks(r).map((x) => x.at)).toEqual([at("15:20:00"), at("15:22:00"), at("15:23:00")])
    expect(wings(r).map((w) => [w.optionType, w.quantity, w.status, w.boughtAt])).toEqual([
      ["CE", UNITS, "open", "15:22:05"],
      ["PE", UNITS, "open", "15:22:05"]
    ])
    expect(alertsOf(r, "OVERNIGHT_COVERED").map((a) => a.at)).toEqual([at("15:23:00")])
  })

  it("on an expiry day nothing is held past the close: it checks, buys nothing, says nothing", async () => {
    const r = await replay(calmExpiryDay([straddle("A", "09:30:00", null), straddle("B", "13:00:00", null)], 5_000_000))
    expect(guardChecks(r).map((x) => x.at)).toEqual([instantOf("2026-02-10", "15:20:00")])
    expect(wings(r)).toEqual([])
    expect(r.alerts.filter((a) => a.alert.kind.startsWith("OVERNIGHT"))).toEqual([])
  })

  it("leaves a short already covered by a long as it is", async () => {
    // An iron fly: the entry's own wings 500 points out cover its shorts.
    const fly: EntrySpec = {
      ...held,
      legs: [...held.legs, { side: "BUY", optionType: "CE", strikeOffset: 10, lotsPerBasket: 1 }, { side: "BUY", optionType: "PE", strikeOffset: -10, lotsPerBasket: 1 }]
    }
    const r = await replay(monday([fly]))
    expect(wings(r)).toEqual([])
    expect(alertsOf(r, "OVERNIGHT_COVERED").map((a) => a.at)).toEqual([at("15:20:00")])
    expect(String(alertsOf(r, "OVERNIGHT_COVERED")[0]!.alert.details.shorts)).toMatch(/^\d+ CE 2026-02-10 ×975 ← \d+ CE ×975; \d+ PE 2026-02-10 ×975 ← \d+ PE ×975$/)
  })

  it("within the day's spend cap: a wing that does not fit is a critical alert, tried again every minute until the close", async () => {
    const r = await replay(monday([held]), guardConfig({}, { maxHedgeCostPerDay: 100 }))
    expect(wings(r)).toEqual([])
    const uncovered = alertsOf(r, "OVERNIGHT_UNCOVERED")
    expect(uncovered.map((a) => a.at)).toEqual(Array.from({ length: 10 }, (_, i) => at("15:20:00") + i * 60_000))
    expect(uncovered.every((a) => a.alert.severity === "critical")).toBe(true)
    // Each names the next try; the last, at 15:29, none (the market closes first).
    expect(uncovered.map((a) => a.alert.details.retryAt)).toEqual([...uncovered.slice(1).map((a) => a.at), null])
    expect(String(uncovered[0]!.alert.details.shorts)).toMatch(/×975: the day's spend cap: ₹100 left, the wing \d+ CE costs ₹[\d,]+; .* PE 2026-02-10 ×975: the day's spend cap/)
    expect(alertsOf(r, "OVERNIGHT_COVERED")).toEqual([])
  })

  it("the trader may let it exceed the cap", async () => {
    const r = await replay(monday([held]), guardConfig({ mayExceedSpendCap: true }, { maxHedgeCostPerDay: 100 }))
    expect(wings(r).map((w) => w.status)).toEqual(["open", "open"])
    expect(r.report.grossSpend).toBeGreaterThan(100)
    expect(alertsOf(r, "OVERNIGHT_UNCOVERED")).toEqual([])
  })

  it("with no price for a wing: critical, with the reason, and the session is woken for each retry even between ticks", async () => {
    // Ticks every 10 minutes (15:15, 15:25): 15:20 and the retries are the guard's own wake times.
    const r = await replay(monday([held], 600), guardConfig({ wingDistance: { NIFTY: 20_000, SENSEX: 1600 } }))
    const uncovered = alertsOf(r, "OVERNIGHT_UNCOVERED")
    expect(uncovered.map((a) => a.at)).toEqual(Array.from({ length: 10 }, (_, i) => at("15:20:00") + i * 60_000))
    expect(String(uncovered[0]!.alert.details.shorts)).toContain("no CE strike 20,000 points to 40,000 points beyond")
    expect(wings(r)).toEqual([])
  })

  it("switched off (or under the policy none), it buys nothing", async () => {
    const off = await replay(monday([held]), guardConfig({ enabled: false }))
    expect(guardChecks(off)).toEqual([])
    const none = await replay(monday([held]), defaultConfig, "none")
    expect(guardChecks(none)).toEqual([])
    expect(none.orders).toEqual([])
  })

  it("restarted at any service call from 15:19 on, it buys each wing once and ends as an uninterrupted day", async () => {
    const d = monday([held, leaves])
    const whole = await replay(d)
    const outcome = (r: ReplayResult) => ({ hedges: r.report.hedges, orders: r.orders, alerts: r.alerts.map((a) => [a.at, a.alert.kind]) })
    const total = (await replay(d, defaultConfig, "engine", Number.MAX_SAFE_INTEGER)).serviceCalls
    // The first call at or after 15:19 (a restart happens at the instant the process died).
    const restartAt = async (k: number) => (await replay(d, defaultConfig, "engine", k)).rows.find((x) => x.event === "RESTORED")?.at ?? Number.POSITIVE_INFINITY
    let lo = 1
    let hi = total
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      if ((await restartAt(mid)) >= at("15:19:00")) hi = mid
      else lo = mid + 1
    }
    let restartedInTheGuard = 0
    for (let k = lo; k < lo + 24 && k <= total; k++) {
      const r = await replay(d, defaultConfig, "engine", k)
      expect(r.restarts, `kill at call ${k}`).toBe(1)
      expect(outcome(r), `kill at call ${k}`).toEqual(outcome(whole))
      const ids = r.orders.map((o) => o.clientOrderId)
      expect(new Set(ids).size, `kill at call ${k}: an order sent twice`).toBe(ids.length)
      const restored = r.rows.find((x) => x.event === "RESTORED")!
      if (restored.at >= at("15:20:00") && restored.at <= at("15:21:00")) restartedInTheGuard++
    }
    // The sweep reached the guard's own calls: its check, the wings' quotes and orders, the second check.
    expect(restartedInTheGuard).toBeGreaterThan(3)
  }, 300_000)
})

describe("the guard in the session machine", () => {
  it("wakes the session at its next check, and not once it is done", () => {
    const context = { openAt: at("09:15:00"), closeAt: at("15:30:00"), eodAt: at("15:35:00"), now: at("15:00:00"), lastActionAt: null, cooldownMs: 0, exitBufferMs: 0, entryRules: { recheckEveryMs: 0 }, entries: [], overnightCheckAt: at("15:20:00") } as unknown as SessionContext
    expect(wakeTimes(context)).toEqual([at("15:20:00"), at("15:30:00"), at("15:35:00")])
    expect(wakeTimes({ ...context, overnightCheckAt: null })).toEqual([at("15:30:00"), at("15:35:00")])
  })

  it("a wing rejected at the broker is a critical alert; the next check buys it again", async () => {
    const checks: Array<unknown> = []
    const wing = { strike: 25_500, optionType: "CE" as const, expiry: "2026-02-10", quantity: 65, price: 2, cost: 136.5 }
    const machine = sessionWith({
      // One short uncovered unless a wing is being bought.
      assessOvernight: async ({ input }) => {
        checks.push(input.beingBought)
        const covered = input.beingBought.length > 0 ? 65 : 0
        return { shorts: [{ strike: 25_000, optionType: "CE", expiry: "2026-02-10", quantity: 65, covered, coveredBy: [], wing: covered === 0 ? wing : null, reason: null }], spot: 25_000, utilisationPct: 40 } satisfies OvernightAssessment
      },
      quoteOption: async () => ({ ltp: 2, at: 0 }),
      placeOrder: async () => ({ outcome: "rejected" as const, message: "RMS: margin exceeds" })
    })
    const rules = { limitPriceBuffer: 0.1, minExitPrice: 0.5, fillTimeoutMs: 60_000, orderPollMs: 5_000, maxReprices: 2 }
    const input = { date: MONDAY, index: "NIFTY", expiry: "2026-02-10", expiryDay: false, baskets: 1, budget: 1_000_000, policy: "engine", enabled: true, openAt: at("09:15:00"), closeAt: at("15:30:00"), eodAt: at("15:35:00"), entries: [], entryRules: {}, hedgeRules: rules, cooldownMs: 0, exitBufferMs: 0, spendCap: 1e9, overnightGuard: { firstCheckAt: at("15:20:00"), retryMs: 60_000, mayExceedSpendCap: false } } as unknown as SessionInput
    const settle = () => new Promise((resolve) => setImmediate(resolve))
    const actor = createActor(machine, { input }).start()
    const alerts: Array<{ kind: string; severity: string; shorts: unknown }> = []
    actor.on("alert", (e) => alerts.push({ kind: e.alert.kind, severity: e.alert.severity, shorts: e.alert.details.shorts }))
    for (const time of ["09:15:00", "15:19:00", "15:20:00"]) {
      actor.send({ type: "CLOCK", at: at(time), spot: 25_000 })
      await settle()
    }
    const ctx = () => actor.getSnapshot().context
    expect(Object.values(ctx().hedges).map((h) => [h.id, h.trigger, h.symbol, h.status])).toEqual([["hedge-1", OVERNIGHT, "NIFTY10FEB2625500CE", "rejected"]])
    expect(alerts.filter((a) => a.kind === "OVERNIGHT_UNCOVERED")).toEqual([{ kind: "OVERNIGHT_UNCOVERED", severity: "critical", shorts: "the wing NIFTY10FEB2625500CE ×65 was rejected (order rejected)" }])
    expect(ctx().overnightCheckAt).toBe(at("15:21:00"))
    actor.send({ type: "CLOCK", at: at("15:21:00"), spot: 25_000 })
    await settle()
    expect(Object.keys(ctx().hedges)).toEqual(["hedge-1", "hedge-2"])
    expect(checks).toHaveLength(2)
    actor.stop()
  })

  it("a wing still being bought counts as covering: the next check buys nothing more", async () => {
    const wing = { strike: 25_500, optionType: "CE" as const, expiry: "2026-02-10", quantity: 65, price: 2, cost: 136.5 }
    const machine = sessionWith({
      // As the decision counts: a wing being bought covers the short.
      assessOvernight: async ({ input }) => {
        const covered = input.beingBought.reduce((t, w) => t + w.quantity, 0)
        return { shorts: [{ strike: 25_000, optionType: "CE", expiry: "2026-02-10", quantity: 65, covered, coveredBy: [], wing: covered === 0 ? wing : null, reason: null }], spot: 25_000, utilisationPct: 40 } satisfies OvernightAssessment
      },
      quoteOption: async () => ({ ltp: 2, at: 0 }),
      placeOrder: async () => ({ outcome: "accepted" as const, orderId: "O1" }),
      // The order works and never fills.
      orderStatus: async () => ({ orderId: "O1", status: "open" as const, filledQuantity: 0, averagePrice: 0 })
    })
    const rules = { limitPriceBuffer: 0.1, minExitPrice: 0.5, fillTimeoutMs: 600_000, orderPollMs: 5_000, maxReprices: 0 }
    const input = { date: MONDAY, index: "NIFTY", expiry: "2026-02-10", expiryDay: false, baskets: 1, budget: 1_000_000, policy: "engine", enabled: true, openAt: at("09:15:00"), closeAt: at("15:30:00"), eodAt: at("15:35:00"), entries: [], entryRules: {}, hedgeRules: rules, cooldownMs: 0, exitBufferMs: 0, spendCap: 1e9, overnightGuard: { firstCheckAt: at("15:20:00"), retryMs: 60_000, mayExceedSpendCap: false } } as unknown as SessionInput
    const settle = () => new Promise((resolve) => setImmediate(resolve))
    const actor = createActor(machine, { input }).start()
    for (const time of ["09:15:00", "15:20:00", "15:21:00", "15:22:00"]) {
      actor.send({ type: "CLOCK", at: at(time), spot: 25_000 })
      await settle()
    }
    const ctx = actor.getSnapshot().context
    expect(Object.values(ctx.hedges).map((h) => [h.id, h.status])).toEqual([["hedge-1", "ordering"]])
    // Not done while it is being bought: checked again each minute.
    expect(ctx.overnightCheckAt).toBe(at("15:23:00"))
    actor.stop()
  })
})
