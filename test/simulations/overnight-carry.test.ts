// Issue 18's "done when", end to end on generated days: a Monday whose last entries are held to Tuesday
// ends with every short covered by the overnight guard and an alert; the Tuesday replay starts from
// those positions (simulate --carry's rule) and the guard's wings are sold by the exit rules once the
// platform has exited the shorts they cover, not before. "Covers" is the margin's word (exits before
// entries: a wing whose sale would raise the margin held is not sold), so on the generated Tuesday,
// whose own straddles are held to the expiry on both sides, the wings are rightly kept and expire; the
// same Tuesday with its own entries from 12:00 on frees them in the morning, and they are sold then.
// A comfortable budget (3x): the day's entries need no hedges, so the wings are the guard's own.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { parseRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import { verifyDay } from "../../src/runtime/verify.ts"
import { carryInto } from "../../simulations/carry.ts"
import { generateWeek } from "../../simulations/generate-week.ts"
import { replayDay } from "../../simulations/replay.ts"
import { replayOptionsFor } from "../../simulations/simulate.ts"

const schedule = readFileSync(new URL("../../config/schedule.json", import.meta.url), "utf8")
const model = constantsMarginModel(defaultConfig.marginConstants)
const options = replayOptionsFor(policyPlan("engine", defaultConfig), defaultConfig, model)
const [monday, tuesday] = generateWeek({ start: "2026-07-06", seed: 7, schedule, model: "v2", chainStrikes: "tick", carry: { hold: 2 }, budget: "comfortable" })
  .slice(0, 2)
  .map((f) => parseRecordedDay(f.text, f.file)) as [RecordedDay, RecordedDay]

const unitsBySide = (positions: ReadonlyArray<{ optionType: string; quantity: number }>, sign: 1 | -1) =>
  Object.fromEntries(["CE", "PE"].map((t) => [t, positions.filter((p) => p.optionType === t && Math.sign(p.quantity) === sign).reduce((u, p) => u + Math.abs(p.quantity), 0)]))

describe("Monday's entries held to Tuesday (issue 18, done when)", async () => {
  const mon = await replayDay(monday, options)
  const tue = await replayDay(carryInto(tuesday, monday.header.date, mon.closing), options)
  // The same Tuesday with its own entries from 12:00 on: a morning in which nothing of the day leans on
  // the wings once the carried shorts are gone.
  const afternoonOnly = (e: { readonly entryTime: string }) => e.entryTime >= "12:00:00"
  const lateEntries = new Set(tuesday.header.entries.filter(afternoonOnly).map((e) => e.portfolio))
  const lateTuesday: RecordedDay = {
    ...tuesday,
    header: { ...tuesday.header, entries: tuesday.header.entries.filter(afternoonOnly) },
    exits: tuesday.exits.filter((x) => lateEntries.has(x.portfolio) || !tuesday.header.entries.some((e) => e.portfolio === x.portfolio))
  }
  const tueLate = await replayDay(carryInto(lateTuesday, monday.header.date, mon.closing), options)

  it("Monday ends with every short held past the close covered by a wing, and an alert that says so", async () => {
    const shorts = mon.closing.filter((p) => p.origin?.kind === "entry" && p.quantity < 0)
    expect(shorts.length).toBeGreaterThan(0)
    const wings = mon.closing.filter((p) => p.origin?.kind === "hedge")
    const short = unitsBySide(shorts, -1)
    const covered = unitsBySide(wings, 1)
    for (const side of ["CE", "PE"]) expect(covered[side], side).toBeGreaterThanOrEqual(short[side]!)
    // The guard's wings, bought at its check (15:20) and held past the close.
    const guards = mon.report.hedges.filter((h) => h.trigger === "OVERNIGHT")
    expect(guards.map((h) => [h.optionType, h.quantity, h.status, h.boughtAt! >= "15:20:00"])).toEqual([["CE", short.CE, "open", true], ["PE", short.PE, "open", true]])
    expect(mon.alerts.some((a) => a.alert.kind === "OVERNIGHT_COVERED")).toBe(true)
    expect(mon.alerts.some((a) => a.alert.kind === "OVERNIGHT_UNCOVERED")).toBe(false)
    expect((await verifyDay(mon.rows)).ok).toBe(true)
  })

  it("Tuesday starts from those positions; its own straddles held to the expiry lean on the guard's wings, so the exit rules keep them to the close", async () => {
    const carried = tue.report.hedges.filter((h) => h.id.startsWith("hedge-carried-"))
    const monWings = mon.closing.filter((p) => p.origin?.kind === "hedge")
    expect(carried.map((h) => [h.strike, h.optionType, h.quantity, h.paid])).toEqual(monWings.map((w) => [w.strike, w.optionType, w.quantity, 0]))
    // Paid ₹0 today, yet the report keeps what each was bought at on Monday: the next carry's price.
    expect(carried.map((h) => h.carried?.entryPrice)).toEqual(monWings.map((w) => w.avgPrice))
    expect(monWings.every((w) => w.avgPrice > 0)).toBe(true)
    const lastExit = tuesday.exits.filter((x) => x.reason === "TIMED").map((x) => x.time).sort().at(-1)!
    // Tuesday's own straddles held to the expiry (no exit time): shorts of both sides open at the close.
    const heldToClose = tuesday.header.entries.filter((e) => e.exitTime === null)
    expect(heldToClose.length).toBeGreaterThan(0)
    expect(lastExit < "12:00:00").toBe(true)
    // Exits before entries: a wing Tuesday's own shorts of its side lean on (its sale would raise the
    // margin held) is kept while they are open; on this day they are held to the expiry, so both expire.
    expect(carried.map((h) => [h.optionType, h.status])).toEqual([["CE", "expired"], ["PE", "expired"]])
    const sells = tue.rows.filter((x) => x.event === "xstate.done.actor.assessExits" && (x.payload as { output: { hedgeId: string | null } }).output.hedgeId?.startsWith("hedge-carried-"))
    expect(sells).toEqual([])
    expect((await verifyDay(tue.rows)).ok).toBe(true)
  })

  it("with nothing of Tuesday's own leaning on them, the guard's wings are sold by the exit rules once the carried shorts are gone, not before", async () => {
    const carried = tueLate.report.hedges.filter((h) => h.id.startsWith("hedge-carried-"))
    expect(carried.length).toBe(2)
    const lastExit = lateTuesday.exits.filter((x) => x.reason === "TIMED").map((x) => x.time).sort().at(-1)!
    expect(lastExit < "12:00:00").toBe(true)
    for (const h of carried) {
      expect(h.status, h.symbol).toBe("closed")
      expect(h.closedAt! >= lastExit && h.closedAt! < "12:00:00", `${h.symbol} sold at ${h.closedAt}, the shorts left by ${lastExit}`).toBe(true)
    }
    const sells = tueLate.rows.filter((x) => x.event === "xstate.done.actor.assessExits" && (x.payload as { output: { hedgeId: string | null } }).output.hedgeId?.startsWith("hedge-carried-"))
    expect(sells.map((x) => (x.payload as { output: { reason: string } }).output.reason)).toEqual(["EXCESS_MARGIN", "EXCESS_MARGIN"])
    expect((await verifyDay(tueLate.rows)).ok).toBe(true)
  })
})
