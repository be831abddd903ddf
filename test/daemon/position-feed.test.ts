// The platform's entries and exits as the account's positions show them: an entry is seen once its
// time has come and its short units are there beyond what earlier entries explain; an exit when short
// units go (TIMED from its scheduled exit on, SL_HIT before it).
import { describe, expect, it } from "vitest"
import { PositionWatcher } from "../../src/daemon/position-feed.ts"
import type { Position } from "../../src/domain/market.ts"
import { instantOf } from "../../src/domain/time.ts"
import { niftyDayPlan, straddle } from "../fixtures/entries.ts"

const plan = niftyDayPlan([straddle("B", "10:00:00", "14:00:00"), straddle("A", "09:20:00", "13:00:00")])
const at = (t: string) => instantOf(plan.date, t)
const unit = 130 // 1 lot × 2 baskets × 65
const shorts = (strike: number, n: number): ReadonlyArray<Position> => [
  { strike, optionType: "CE", quantity: -unit * n, expiry: plan.expiry },
  { strike, optionType: "PE", quantity: -unit * n, expiry: plan.expiry }
]

describe("the platform seen through the account's positions", () => {
  it("sees entries in time order once their shorts are there, and exits as they go", () => {
    const w = new PositionWatcher(plan)
    w.setBaseline([])
    expect(w.observe(at("09:19:00"), shorts(25000, 1))).toEqual([]) // not due yet
    expect(w.observe(at("09:20:01"), [])).toEqual([]) // due, not there yet
    expect(w.observe(at("09:20:03"), shorts(25000, 1))).toEqual([{ kind: "entered", portfolio: "A", at: at("09:20:03"), reason: "" }])
    expect(w.observe(at("09:30:00"), shorts(25000, 1))).toEqual([]) // nothing new: seen once
    // B's shorts at another strike.
    const both = [...shorts(25000, 1), ...shorts(25100, 1)]
    expect(w.observe(at("10:00:02"), both).map((e) => e.portfolio)).toEqual(["B"])
    // Half the shorts gone before any exit time: the platform's stop on the oldest live entry.
    expect(w.observe(at("11:00:00"), shorts(25100, 1))).toEqual([{ kind: "exited", portfolio: "A", at: at("11:00:00"), reason: "SL_HIT" }])
    // The rest gone after B's exit time: TIMED.
    expect(w.observe(at("14:00:05"), [])).toEqual([{ kind: "exited", portfolio: "B", at: at("14:00:05"), reason: "TIMED" }])
    expect(w.events.map((e) => `${e.kind} ${e.portfolio}`)).toEqual(["entered A", "entered B", "exited A", "exited B"])
  })

  it("does not take positions held before the day (the baseline) for an entry", () => {
    const w = new PositionWatcher(plan)
    w.setBaseline(shorts(24000, 1))
    expect(w.observe(at("09:20:05"), shorts(24000, 1))).toEqual([])
    expect(w.observe(at("09:20:10"), [...shorts(24000, 1), ...shorts(25000, 1)]).map((e) => e.portfolio)).toEqual(["A"])
  })

  it("ignores other expiries and long positions (hedges)", () => {
    const w = new PositionWatcher(plan)
    w.setBaseline([])
    const noise: ReadonlyArray<Position> = [
      { strike: 25000, optionType: "CE", quantity: -unit, expiry: "2026-02-17" },
      { strike: 25000, optionType: "PE", quantity: -unit, expiry: "2026-02-17" },
      { strike: 24000, optionType: "PE", quantity: unit, expiry: plan.expiry }
    ]
    expect(w.observe(at("09:25:00"), noise)).toEqual([])
  })
})
