// `simulate --carry`: day N+1 opens with what day N held after the close (simulations/carry.ts).
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { parseRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import { generateWeek } from "../../simulations/generate-week.ts"
import { carryInto } from "../../simulations/carry.ts"
import { replayDay } from "../../simulations/replay.ts"
import { replayOptionsFor, simulateCarrying } from "../../simulations/simulate.ts"
import { policyPlan } from "../../src/runtime/policies.ts"

const schedule = readFileSync(new URL("../../config/schedule.json", import.meta.url), "utf8")
const model = constantsMarginModel(defaultConfig.marginConstants)
const [monday, tuesday] = generateWeek({ start: "2026-07-06", seed: 7, schedule, model: "v2", chainStrikes: "tick", carry: { hold: 2 } })
  .slice(0, 2)
  .map((f) => parseRecordedDay(f.text, f.file)) as [RecordedDay, RecordedDay]
const replay = (day: RecordedDay) => replayDay(day, { config: defaultConfig, policy: "engine", truth: model, estimate: model })

describe("consecutive days carry positions (simulate --carry)", () => {
  it("day N's close holds its portfolios held past the close; day N+1 opens with the file's own trader positions and N's wings", async () => {
    const r = await replay(monday)
    const held = r.closing.filter((p) => p.origin?.kind === "entry")
    const carried = new Set(tuesday.header.openingPositions.map((p) => (p.origin?.kind === "entry" ? p.origin.portfolio : "")))
    expect(new Set(held.map((p) => (p.origin?.kind === "entry" ? p.origin.portfolio : "")))).toEqual(carried)
    expect(held.map((p) => [p.strike, p.optionType, p.quantity])).toEqual(tuesday.header.openingPositions.map((p) => [p.strike, p.optionType, p.quantity]))
    const wings = r.closing.filter((p) => p.origin?.kind === "hedge")
    expect(wings).toEqual(r.report.hedges.filter((h) => h.status === "open").map((h) => expect.objectContaining({ strike: h.strike, optionType: h.optionType, quantity: h.quantity })))
    const opened = carryInto(tuesday, monday.header.date, r.closing)
    expect(opened.header.openingPositions).toEqual([...tuesday.header.openingPositions, ...wings])
  })

  it("a file without opening positions takes day N's held portfolios; an expired position never carries", async () => {
    const r = await replay(monday)
    const bare = { ...tuesday, header: { ...tuesday.header, version: 1 as const, openingPositions: [] }, exits: tuesday.exits.filter((x) => x.reason !== "TIMED") }
    const opened = carryInto(bare, monday.header.date, r.closing)
    expect(opened.header.openingPositions.filter((p) => p.origin?.kind === "entry")).toEqual(r.closing.filter((p) => p.origin?.kind === "entry"))
    expect(opened.header.version).toBe(2)
    // Tuesday is the expiry: nothing it held carries to the next day.
    const t = await replay(opened)
    expect(t.closing).toEqual([])
  })

  it("runs the days in order, each opening with its previous day's close", async () => {
    const runs = await Effect.runPromise(simulateCarrying([{ file: "mon", day: monday }, { file: "tue", day: tuesday }], ["engine"], defaultConfig, model))
    const options = replayOptionsFor(policyPlan("engine", defaultConfig), defaultConfig, model)
    const r = await replayDay(monday, options)
    const expected = await replayDay(carryInto(tuesday, monday.header.date, r.closing), options)
    expect(expected.report.hedges.some((h) => h.forEntry === "OVERNIGHT")).toBe(r.closing.some((p) => p.origin?.kind === "hedge"))
    expect(runs[0]!.days.map((d) => d.auditDigest)).toEqual([r.report.auditDigest, expected.report.auditDigest])
  })
})
