// The overnight guard's decision and the exit review's respect for it, on explicit inputs: the broker's
// positions, the entries in with where they were struck, the wings being bought, the market.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { EntryPlan, ExitCandidate } from "../../machines/protocol.ts"
import { assessExits, assessOvernight, type Situation } from "../../src/decisions/decisions.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { atmStrike, type Position } from "../../src/domain/market.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { generateDay, toJsonl } from "../../simulations/generator.ts"
import { straddle } from "../fixtures/entries.ts"

// A Monday whose entries trade Tuesday's expiry: H is held overnight, L leaves at 15:00.
const DATE = "2026-02-09"
const EXPIRY = "2026-02-10"
const day = parseRecordedDay(
  toJsonl(generateDay({ date: DATE, index: "NIFTY", expiry: EXPIRY, lotSize: 65, strikeStep: 50, tickSeconds: 60, baskets: 15, budgetPerBasket: 1_000_000, entries: [straddle("H", "09:30:00", null), straddle("L", "10:00:00", "15:00:00")], seed: 11, regime: "calm", stopFraction: 100 })),
  "monday"
)
const model = constantsMarginModel(defaultConfig.marginConstants)
const rules = engineSetupFor({ day: day.header, config: defaultConfig, policy: "engine", model })
const s = rules.session
const [h, l] = s.entries as [EntryPlan, EntryPlan]
const tick = day.ticks.find((t) => t.time === "15:20:00")!
const units = 15 * 65
const hAtm = 25_000
const lAtm = 25_100
const straddleAt = (strike: number): ReadonlyArray<Position> => [
  { strike, optionType: "CE", quantity: -units, expiry: EXPIRY },
  { strike, optionType: "PE", quantity: -units, expiry: EXPIRY }
]

const situation = (over: Partial<Situation> = {}): Situation => ({
  day: { index: s.index, date: s.date, expiry: s.expiry, baskets: s.baskets, budget: s.budget, policy: s.policy, targetPct: s.entryRules.targetPct, closeAt: s.closeAt },
  market: { at: tick.at, spot: tick.spot, chain: tick.chain },
  held: [...straddleAt(hAtm), ...straddleAt(lAtm)],
  coming: [],
  // Struck where the spot was noted: at-the-money is each one's strike.
  entered: [{ ...h, struckSpot: hAtm + 10 }, { ...l, struckSpot: lAtm - 10 }],
  ...over
})

describe("assessOvernight", () => {
  it("finds the shorts held past the close: an entry timed to exit before it is not one of them", () => {
    const a = assessOvernight(rules, situation(), 3_000_000, [])
    expect(a.shorts.map((x) => [x.strike, x.optionType, x.quantity, x.covered])).toEqual([
      [hAtm, "CE", units, 0],
      [hAtm, "PE", units, 0]
    ])
    // A wing 500 points beyond each, in the short's expiry, for all of it; utilisation now is kept.
    expect(a.shorts.map((x) => [x.wing?.strike, x.wing?.expiry, x.wing?.quantity])).toEqual([
      [hAtm + 500, EXPIRY, units],
      [hAtm - 500, EXPIRY, units]
    ])
    expect(a.utilisationPct).toBe(20)
    // Struck a strike away from where the spot was noted (a tick old), L's legs are still found.
    const noted = assessOvernight(rules, situation({ entered: [{ ...h, struckSpot: hAtm }, { ...l, struckSpot: lAtm + 40 }] }), 0, [])
    expect(noted.shorts.map((x) => x.strike)).toEqual([hAtm, hAtm])
  })

  it("an entry timed to exit at the close itself is not held past it", () => {
    const a = assessOvernight(rules, situation({ entered: [{ ...h, struckSpot: hAtm + 10 }, { ...l, exitAt: s.closeAt, struckSpot: lAtm - 10 }] }), 0, [])
    expect(a.shorts.map((x) => x.strike)).toEqual([hAtm, hAtm])
  })

  it("on the expiry day, nothing is held past the close", () => {
    const expiryDay = situation({ day: { ...situation().day, date: EXPIRY } })
    expect(assessOvernight(rules, expiryDay, 0, []).shorts).toEqual([])
  })

  it("counts longs held and wings being bought as covering; a position the schedule does not explain is guarded too", () => {
    const wing = { strike: hAtm + 500, optionType: "CE" as const, quantity: units, expiry: EXPIRY }
    const a = assessOvernight(rules, situation({ held: [...situation().held, wing] }), 0, [{ strike: hAtm - 400, optionType: "PE", quantity: units, expiry: EXPIRY }])
    expect(a.shorts.map((x) => [x.optionType, x.covered, x.wing])).toEqual([
      ["CE", units, null],
      ["PE", units, null]
    ])
    // A short the broker holds that no entry explains (carried in, placed by hand).
    const stray = assessOvernight(rules, situation({ held: [...situation().held, { strike: 24_000, optionType: "PE", quantity: -65, expiry: EXPIRY }] }), 0, [])
    expect(stray.shorts.map((x) => [x.strike, x.optionType, x.quantity])).toContainEqual([24_000, "PE", 65])
  })

  it("a short of another expiry gets no wing from the day's chain: the reason says why", () => {
    const monthly = { strike: 24_000, optionType: "PE" as const, quantity: -65, expiry: "2026-02-24" }
    const a = assessOvernight(rules, situation({ held: [monthly] }), 0, [])
    expect(a.shorts).toHaveLength(1)
    expect(a.shorts[0]!.reason).toBe("no prices for the 2026-02-24 expiry (the market data carries the day's expiry only)")
  })
})

describe("assessExits keeps the hedges that cover a short held overnight", () => {
  const wingCE = { strike: hAtm + 500, optionType: "CE" as const, quantity: units, expiry: EXPIRY }
  const wingPE = { strike: hAtm - 500, optionType: "PE" as const, quantity: units, expiry: EXPIRY }
  const candidates: ReadonlyArray<ExitCandidate> = [
    { hedgeId: "hedge-1", forEntry: "OVERNIGHT", strike: wingCE.strike, optionType: "CE", quantity: units },
    { hedgeId: "hedge-2", forEntry: "OVERNIGHT", strike: wingPE.strike, optionType: "PE", quantity: units }
  ]
  // Every entry has left or is in; utilisation far under the exit threshold: any hedge not needed goes.
  const review = (over: Partial<Situation>) => Effect.runPromise(assessExits(rules, situation(over), 500_000, candidates, []))

  it("never sells a wing whose short stays open past the close", async () => {
    const kept = await review({ held: [...straddleAt(hAtm), wingCE, wingPE], entered: [{ ...h, struckSpot: hAtm }] })
    expect(kept).toMatchObject({ hedgeId: null, reason: "each hedge covers a short held overnight" })
  })

  it("sells it once its short is gone; a short that leaves before the close keeps its wing while it is open", async () => {
    const gone = await review({ held: [wingCE, wingPE], entered: [] })
    expect(gone.hedgeId).toBe("hedge-1")
    // Not held overnight, but open now: exits before entries keeps the wing until the short closes.
    const leaving = await review({ held: [...straddleAt(lAtm), wingCE, wingPE], entered: [{ ...l, struckSpot: lAtm }] })
    expect(leaving.hedgeId).toBeNull()
  })

  it("a wing to spare (two for one short) may go", async () => {
    const spare = { ...wingCE, strike: wingCE.strike + 200 }
    const both = [...candidates, { hedgeId: "hedge-3", forEntry: "OVERNIGHT", strike: spare.strike, optionType: "CE" as const, quantity: units }]
    const d = await Effect.runPromise(assessExits(rules, situation({ held: [...straddleAt(hAtm), wingCE, wingPE, spare], entered: [{ ...h, struckSpot: hAtm }] }), 500_000, both, []))
    expect(["hedge-1", "hedge-3"]).toContain(d.hedgeId)
  })
})

// The fixture's spot at 15:20 is near 25,000: the strikes above are at-the-money for the entries.
it("the fixture's day is as the tests assume", () => {
  expect(atmStrike(tick.spot, 50)).toBe(hAtm)
})
