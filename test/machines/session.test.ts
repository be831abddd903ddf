// The session's rules on real machines: replays of small generated days with crafted entries and
// operator commands, read back from the audit rows.
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import type { EntrySpec } from "../../src/domain/market.ts"
import { instantOf } from "../../src/domain/time.ts"
import { wakeTimes, type SessionContext, type SessionEvent } from "../../machines/session.ts"
import { generateDay, toJsonl } from "../../simulations/generator.ts"
import { parseRecordedDay, type RecordedDay } from "../../simulations/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { straddle } from "../fixtures/entries.ts"

const DATE = "2026-02-10"
const at = (time: string) => instantOf(DATE, time)

/** A calm NIFTY expiry day with the given entries; no stop-loss ever fires. */
const day = (entries: ReadonlyArray<EntrySpec>, budgetPerBasket: number): RecordedDay => {
  const generated = generateDay({
    date: DATE,
    index: "NIFTY",
    expiry: DATE,
    lotSize: 65,
    strikeStep: 50,
    tickSeconds: 60,
    baskets: 15,
    budgetPerBasket,
    entries,
    seed: 11,
    regime: "calm",
    stopFraction: 100
  })
  return parseRecordedDay(toJsonl(generated), "crafted")
}

const model = constantsMarginModel(defaultConfig.marginConstants)
const replay = (d: RecordedDay, commands: ReadonlyArray<{ at: number; event: SessionEvent }> = []) =>
  replayDay(d, { config: defaultConfig, policy: "engine", truth: model, estimate: model, commands })

const firstRow = (rows: ReadonlyArray<TransitionRow>, p: (r: TransitionRow) => boolean) => {
  const row = rows.find(p)
  expect(row, "expected audit row").toBeDefined()
  return row!
}

describe("session rules", () => {
  it("grants the decision turn to one entry at a time, in entry order", async () => {
    // Both look ahead at the open (09:15, their look-ahead clamped to it); alone A fits (54 %), A and B
    // together do not (108 %).
    const r = await replay(day([straddle("A", "09:16:00"), straddle("B", "09:18:00")], 800_000))
    const requests = r.rows.filter((x) => x.actorId === "session" && x.event === "REQUEST_TURN")
    expect(requests.map((x) => x.at)).toEqual([at("09:15:00"), at("09:15:00")])
    const grantA = firstRow(r.rows, (x) => x.actorId === "entry:A" && x.event === "TURN_GRANTED")
    const doneA = firstRow(r.rows, (x) => x.actorId === "session" && x.event === "TURN_DONE" && (x.payload as { entryId: string }).entryId === "entry:A")
    const grantB = firstRow(r.rows, (x) => x.actorId === "entry:B" && x.event === "TURN_GRANTED")
    expect(grantA.seq).toBeLessThan(doneA.seq)
    expect(doneA.seq).toBeLessThan(grantB.seq)
    // A's own projection stays under the trigger; B's counts A's coming legs and buys.
    expect(firstRow(r.rows, (x) => x.actorId === "entry:A" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.clear")
    expect(firstRow(r.rows, (x) => x.actorId === "entry:B" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.hedged")
    expect(r.report.hedges.every((h) => h.forEntry === "entry:B")).toBe(true)
    expect(r.report.breaches).toHaveLength(0)
  })

  it("waits out the cooldown before a second hedge action, then hedges", async () => {
    // Each entry alone is over the trigger (108 %): A buys at 09:25, B looks ahead at 09:26.
    const r = await replay(day([straddle("A", "09:30:00"), straddle("B", "09:31:00")], 400_000))
    const buys = r.rows.filter((x) => x.event === "BUY_HEDGES" && x.actorId === "session")
    expect(buys.map((b) => (b.payload as { entryId: string }).entryId)).toEqual(["entry:A", "entry:B"])
    expect(buys[1]!.at - buys[0]!.at).toBeGreaterThanOrEqual(defaultConfig.cooldownSeconds * 1000)
    expect(r.rows.some((x) => x.actorId === "entry:B" && x.to === "projecting.coolingDown")).toBe(true)
  })

  it("switched off, it buys nothing and says so; switched back on, later entries are hedged", async () => {
    const d = day([straddle("A", "09:30:00"), straddle("B", "11:00:00")], 400_000)
    const r = await replay(d, [
      { at: at("09:20:00"), event: { type: "TOGGLE", enabled: false } },
      { at: at("10:00:00"), event: { type: "TOGGLE", enabled: true } }
    ])
    expect(firstRow(r.rows, (x) => x.actorId === "entry:A" && x.to.startsWith("awaitingEntry")).to).toBe("awaitingEntry.disabled")
    expect(r.alerts.filter((a) => a.alert.kind === "HEDGE_NEEDED_DISABLED").map((a) => a.alert.actor)).toEqual(["entry:A"])
    expect(r.report.hedges.length).toBeGreaterThan(0)
    expect(r.report.hedges.every((h) => h.forEntry === "entry:B")).toBe(true)
  })

  it("a manual exit sells an open hedge at once; an exit for an unknown hedge changes nothing", async () => {
    const d = day([straddle("A", "09:30:00", null)], 400_000)
    const untouched = await replay(d)
    const manual = await replay(d, [
      { at: at("11:00:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-404" } },
      { at: at("09:45:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-1" } }
    ])
    // Held to expiry, the position keeps needing its hedge: the engine alone never sells it.
    expect(untouched.report.hedges.find((h) => h.id === "hedge-1")!.status).toBe("expired")
    const sold = manual.report.hedges.find((h) => h.id === "hedge-1")!
    expect(sold.status).toBe("closed")
    // Sold at 09:45:00; the hedge learns of the fill at its next status poll (5 s).
    expect(sold.closedAt! >= "09:45:00" && sold.closedAt! <= "09:45:05").toBe(true)
    expect(sold.received).toBeGreaterThan(0)
    expect(manual.rows.filter((x) => x.event === "MANUAL_EXIT").map((x) => (x.payload as { hedgeId: string }).hedgeId)).toEqual(["hedge-1"])
  })

  it("wakes at every instant a decision may be due, and only in the future", () => {
    const d = day([straddle("A", "09:30:00")], 400_000)
    const entries = [{ id: "entry:A", portfolio: "A", entryAt: at("09:30:00"), lookaheadAt: at("09:25:00"), exitAt: at("15:00:00"), missAt: at("09:35:00"), legs: d.header.entries[0]!.legs }]
    const context = {
      openAt: at("09:15:00"),
      closeAt: at("15:30:00"),
      eodAt: at("15:35:00"),
      now: at("09:20:00"),
      lastActionAt: at("09:19:00"),
      cooldownMs: 120_000,
      exitBufferMs: 15 * 60_000,
      entries
    } as unknown as SessionContext
    expect(wakeTimes(context)).toEqual([at("09:21:00"), at("09:25:00"), at("09:30:00"), at("09:35:00"), at("15:30:00"), at("15:35:00")])
  })
})
