// The decision rules take everything they decide on as inputs: the day, the market, the held
// portfolio, the entries to come and the entries in. No actor is read: changing an input changes the
// decision, and the same inputs give the same decision.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { EntryPlan } from "../../machines/protocol.ts"
import { assessExits, horizonOf, projectEntry, selectHedges, type Situation } from "../../src/decisions/decisions.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import type { Position } from "../../src/domain/market.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { calmExpiryDay, straddle } from "../fixtures/entries.ts"

const day = calmExpiryDay([straddle("A", "09:30:00"), straddle("B", "11:00:00")], 400_000)
const model = constantsMarginModel(defaultConfig.marginConstants)
const rules = engineSetupFor({ day: day.header, config: defaultConfig, policy: "engine", model })
const [a, b] = rules.session.entries as [EntryPlan, EntryPlan]
const s = rules.session
const tick = day.ticks.find((t) => t.at >= a.lookaheadAt)!
const atm = Math.round(tick.spot / day.header.strikeStep) * day.header.strikeStep
const units = s.baskets * day.header.lotSize
/** Entry A's legs as the broker holds them once it is in. */
const heldA: ReadonlyArray<Position> = [
  { strike: atm, optionType: "CE", quantity: -units, expiry: s.expiry },
  { strike: atm, optionType: "PE", quantity: -units, expiry: s.expiry }
]

const situation = (over: Partial<Situation> = {}): Situation => ({
  day: { index: s.index, date: s.date, expiry: s.expiry, baskets: s.baskets, budget: s.budget, policy: s.policy, targetPct: s.entryRules.targetPct, closeAt: s.closeAt },
  market: { at: tick.at, spot: tick.spot, chain: tick.chain },
  held: [],
  coming: [a, b],
  entered: [],
  ...over
})

describe("projectEntry", () => {
  it("counts the entry only while it is given as coming", async () => {
    const coming = await Effect.runPromise(projectEntry(rules, situation(), a, 0, tick.at))
    const passed = await Effect.runPromise(projectEntry(rules, situation({ coming: [b] }), a, 0, tick.at))
    expect(coming.projectedMargin).toBeGreaterThan(0)
    expect(passed.projectedMargin).toBe(0)
  })

  it("takes the broker's margin in use as the base and adds the model's increment for the coming entry", async () => {
    const idle = await Effect.runPromise(projectEntry(rules, situation(), a, 0, tick.at))
    const busy = await Effect.runPromise(projectEntry(rules, situation({ held: heldA, entered: [{ ...a, struckSpot: tick.spot }], coming: [b] }), b, 1_000_000, tick.at))
    expect(busy.entryMargin).toBeGreaterThan(0)
    expect(busy.projectedMargin).toBe(1_000_000 + busy.entryMargin)
    expect(busy.currentPct).toBeGreaterThan(idle.currentPct)
  })

  it("gives the same projection for the same inputs", async () => {
    const once = await Effect.runPromise(projectEntry(rules, situation(), a, 1_000, tick.at))
    expect(await Effect.runPromise(projectEntry(rules, situation(), a, 1_000, tick.at))).toEqual(once)
  })
})

describe("horizonOf", () => {
  const anticipating = { ...rules, foresight: true, anticipateBandExhaustion: true }
  const bare = situation({ market: { ...situation().market, chain: tick.chain.map((r) => ({ strike: r.strike, ce: null, pe: null })) } })

  it("is the deciding entry's own time without anticipation", () => {
    expect(horizonOf({ ...rules, anticipateBandExhaustion: false }, bare, a.entryAt)).toBe(a.entryAt)
  })

  it("is every entry still to come when nothing will be left in the band by the next entry's look-ahead", () => {
    expect(horizonOf(anticipating, bare, a.entryAt)).toBe(Number.POSITIVE_INFINITY)
  })

  it("is the entry's own time when no later entry is coming", () => {
    expect(horizonOf(anticipating, { ...bare, coming: [a] }, a.entryAt)).toBe(a.entryAt)
  })

  it("is the entry's own time when the next entry sells nothing", () => {
    const buying = { ...b, legs: b.legs.map((l) => ({ ...l, side: "BUY" as const })) }
    expect(horizonOf(anticipating, { ...bare, coming: [a, buying] }, a.entryAt)).toBe(a.entryAt)
  })
})

describe("selectHedges", () => {
  it("the static pair covers only the sides the entry sells", async () => {
    const callsOnly = { ...a, legs: a.legs.filter((l) => l.optionType === "CE") }
    const selection = await Effect.runPromise(selectHedges(rules, situation({ coming: [callsOnly, b] }), callsOnly, { policy: "static", reductionNeeded: 0, spendLeft: 1e9 }))
    expect(selection.picks.length).toBeGreaterThan(0)
    expect(selection.picks.every((p) => p.optionType === "CE")).toBe(true)
  })
})

describe("assessExits", () => {
  const hedge = { hedgeId: "h1", forEntry: a.id, strike: atm - 600, optionType: "PE" as const, quantity: units }
  const held = [...heldA, { strike: hedge.strike, optionType: hedge.optionType, quantity: units, expiry: s.expiry }]
  const entered = [{ ...a, struckSpot: tick.spot }]

  it("keeps a hedge an entry still to come would need, or an open short needs now, and sells it once neither does", async () => {
    // A budget between what the book needs without the hedge now and with entry B in too.
    const margin = (positions: ReadonlyArray<Position>) =>
      Effect.runPromise(model.margin({ index: s.index, date: s.date, expiry: s.expiry, lotSize: day.header.lotSize, spot: tick.spot, at: tick.at, chain: tick.chain, positions }))
    const withoutHedge = await margin(heldA)
    const withB = await margin([...heldA, ...heldA])
    const budget = Math.ceil(((withoutHedge + withB) / 2 / defaultConfig.entryTriggerPct) * 100)
    const over = { day: { ...situation().day, budget }, held, entered }
    const marginInUse = await margin(held)
    const kept = await Effect.runPromise(assessExits({ ...rules, exitRules: { ...rules.exitRules, exitTriggerPct: 100 } }, situation({ ...over, coming: [b] }), marginInUse, [hedge], [a.id, b.id]))
    // None coming, but A's short put is open: the wing covers it (selling it raises margin now), so it stays.
    const covering = await Effect.runPromise(assessExits({ ...rules, exitRules: { ...rules.exitRules, exitTriggerPct: 100 } }, situation({ ...over, coming: [] }), marginInUse, [hedge], [a.id]))
    // A has left: the wing it freed is sold.
    const freed = [{ strike: hedge.strike, optionType: hedge.optionType, quantity: units, expiry: s.expiry }]
    const sold = await Effect.runPromise(assessExits({ ...rules, exitRules: { ...rules.exitRules, exitTriggerPct: 100 } }, situation({ ...over, held: freed, entered: [], coming: [] }), await margin(freed), [hedge], []))
    expect(kept.hedgeId).toBeNull()
    expect(covering.hedgeId).toBeNull()
    expect(sold.hedgeId).toBe("h1")
  })
})
