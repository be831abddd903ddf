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

describe("an exit and an entry in one look (per contract, not per option type)", () => {
  const day = niftyDayPlan([straddle("A", "09:20:00", "12:00:00"), straddle("B", "12:00:00"), straddle("C", "13:00:00")])
  const t = (s: string) => instantOf(day.date, s)
  const seen = (events: ReadonlyArray<{ kind: string; portfolio: string; reason: string }>) => events.map((e) => `${e.kind} ${e.portfolio}${e.reason === "" ? "" : ` ${e.reason}`}`)

  it("sees A's timed exit and B's same-size entry at another strike together, then C at its time", () => {
    const w = new PositionWatcher(day)
    w.setBaseline([])
    expect(seen(w.observe(t("09:20:03"), shorts(25000, 1)))).toEqual(["entered A"])
    expect(seen(w.observe(t("12:00:05"), shorts(25100, 1)))).toEqual(["exited A TIMED", "entered B"])
    expect(seen(w.observe(t("13:00:05"), [...shorts(25100, 1), ...shorts(25200, 1)]))).toEqual(["entered C"])
    expect(seen(w.events)).toEqual(["entered A", "exited A TIMED", "entered B", "entered C"])
  })

  it("sees a stop-loss exit and a same-size entry in one look", () => {
    const stopDay = niftyDayPlan([straddle("A", "09:20:00", "14:00:00"), straddle("B", "11:00:00")])
    const w = new PositionWatcher(stopDay)
    w.setBaseline([])
    expect(seen(w.observe(t("09:20:03"), shorts(25000, 1)))).toEqual(["entered A"])
    expect(seen(w.observe(t("11:00:05"), shorts(24900, 1)))).toEqual(["exited A SL_HIT", "entered B"])
  })

  it("an entry's legs are placed around one at-the-money strike: a strangle needs its CE and PE at their offsets", () => {
    const strangle = { ...straddle("S", "10:00:00"), legs: [{ side: "SELL" as const, optionType: "CE" as const, strikeOffset: 2, lotsPerBasket: 1 }, { side: "SELL" as const, optionType: "PE" as const, strikeOffset: -2, lotsPerBasket: 1 }] }
    const w = new PositionWatcher(niftyDayPlan([strangle]))
    w.setBaseline([])
    const at100 = (ce: number, pe: number): ReadonlyArray<Position> => [
      { strike: ce, optionType: "CE", quantity: -unit, expiry: day.expiry },
      { strike: pe, optionType: "PE", quantity: -unit, expiry: day.expiry }
    ]
    expect(w.observe(t("10:00:05"), at100(25100, 25000))).toEqual([]) // 100 apart: not 4 steps of 50
    expect(seen(w.observe(t("10:00:10"), at100(25100, 24900)))).toEqual(["entered S"])
  })

  it("an entry never seen does not hold back a later one of another shape", () => {
    const strangle = { ...straddle("S", "10:00:00"), legs: [{ side: "SELL" as const, optionType: "CE" as const, strikeOffset: 2, lotsPerBasket: 1 }, { side: "SELL" as const, optionType: "PE" as const, strikeOffset: -2, lotsPerBasket: 1 }] }
    const w = new PositionWatcher(niftyDayPlan([straddle("A", "09:20:00"), strangle]))
    w.setBaseline([])
    expect(w.observe(t("09:30:00"), [])).toEqual([])
    const s: ReadonlyArray<Position> = [
      { strike: 25100, optionType: "CE", quantity: -unit, expiry: day.expiry },
      { strike: 24900, optionType: "PE", quantity: -unit, expiry: day.expiry }
    ]
    expect(seen(w.observe(t("10:00:05"), s))).toEqual(["entered S"])
  })
})

describe("exits are told by the contracts that go", () => {
  it("shorts gone at B's strike exit B, even while A is past its exit time and still held", () => {
    const day = niftyDayPlan([straddle("A", "09:20:00", "11:00:00"), straddle("B", "10:00:00", "14:00:00")])
    const t = (s: string) => instantOf(day.date, s)
    const w = new PositionWatcher(day)
    w.setBaseline([])
    w.observe(t("09:20:03"), shorts(25000, 1))
    w.observe(t("10:00:03"), [...shorts(25000, 1), ...shorts(25100, 1)])
    expect(w.observe(t("11:30:00"), shorts(25000, 1))).toEqual([{ kind: "exited", portfolio: "B", at: t("11:30:00"), reason: "SL_HIT" }])
    expect(w.observe(t("11:30:05"), [])).toEqual([{ kind: "exited", portfolio: "A", at: t("11:30:05"), reason: "TIMED" }])
  })
})
