// Issue 18's "done when", end to end on generated days: a Monday whose last entries are held to Tuesday
// ends with every short covered by the overnight guard and an alert; the Tuesday replay starts from
// those positions (simulate --carry's rule) and the guard's wings are sold by the exit rules once the
// platform has exited the shorts they cover, not before. Tuesday's own straddles lean on them too (exits
// before entries: a wing whose sale would raise the margin held is not sold), and on this day some are
// held to the expiry on both sides, so the wings are kept to the close and expire. A comfortable budget (3x): the day's entries
// need no hedges, so the wings are the guard's own, and once the shorts are gone Tuesday needs none of
// them (at the standard budget, Tuesday's entries keep utilisation above the exit threshold and the
// exit rules rightly keep the wings for them).
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

  it("Tuesday starts from those positions and sells the guard's wings by the exit rules once the shorts are gone", async () => {
    const carried = tue.report.hedges.filter((h) => h.id.startsWith("hedge-carried-"))
    const monWings = mon.closing.filter((p) => p.origin?.kind === "hedge")
    expect(carried.map((h) => [h.strike, h.optionType, h.quantity, h.paid])).toEqual(monWings.map((w) => [w.strike, w.optionType, w.quantity, 0]))
    const lastExit = tuesday.exits.filter((x) => x.reason === "TIMED").map((x) => x.time).sort().at(-1)!
    // Tuesday's own straddles held to the expiry (no exit time): shorts of both sides open at the close.
    const heldToClose = tuesday.header.entries.filter((e) => e.exitTime === null)
    expect(heldToClose.length).toBeGreaterThan(0)
    for (const h of carried) {
      // Never while a short it covers is held: the carried portfolios are exited by the last TIMED exit.
      if (h.status === "closed") expect(h.closedAt! >= lastExit, `${h.symbol} sold at ${h.closedAt}, the shorts left by ${lastExit}`).toBe(true)
      // Exits before entries: a wing Tuesday's own shorts of its side lean on (its sale would raise the
      // margin held) is kept while they are open; on this day they are held to the expiry, so it expires.
      else expect(h.status, h.symbol).toBe("expired")
    }
    const sells = tue.rows.filter((x) => x.event === "xstate.done.actor.assessExits" && (x.payload as { output: { hedgeId: string | null } }).output.hedgeId?.startsWith("hedge-carried-"))
    expect(sells.map((x) => (x.payload as { output: { reason: string } }).output.reason)).toEqual(carried.filter((h) => h.status === "closed").map(() => "EXCESS_MARGIN"))
    expect((await verifyDay(tue.rows)).ok).toBe(true)
  })
})
