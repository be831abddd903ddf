// Recording a day in the recorded-day format: what is written reads back through the simulator's own
// reader, and a recorder opened again on the same day's file carries on it.
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { DayRecorder } from "../../src/daemon/recorder.ts"
import { instantOf } from "../../src/domain/time.ts"
import { niftyDayPlan } from "../fixtures/entries.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { calibrateDay } from "../../src/calibration/day.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { Effect } from "effect"

const plan = niftyDayPlan([{ portfolio: "A", entryTime: "09:20:00", exitTime: "13:00:00", legs: [{ side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 }] }])
const at = (t: string) => instantOf(plan.date, t)
// Every strike within ±10 % of the spots below, as the format asks; one option not listed.
const chain = Array.from({ length: 111 }, (_, i) => 22_500 + 50 * i).map((strike) =>
  strike === 25_000 ? { strike, ce: 50, pe: null } : { strike, ce: Math.max(0.05, (25_000 - strike) / 2 + 50), pe: Math.max(0.05, (strike - 25_000) / 2 + 50) })
let dir = ""
afterEach(async () => {
  if (dir !== "") await rm(dir, { recursive: true, force: true })
})

describe("a recorded day", () => {
  it("reads back through the simulator's reader: header, ticks, the platform's own exits, margin", async () => {
    dir = await mkdtemp(join(tmpdir(), "autohedge-rec-"))
    const path = join(dir, "day.jsonl")
    const r = await DayRecorder.open(path, plan, 60)
    await r.tick({ at: at("09:14:00"), spot: 25001.5, chain })
    await r.margin(at("09:14:00"), 1_200_000.5, 800_000)
    await r.tick({ at: at("11:00:00"), spot: 25050, chain })
    await r.exits([{ kind: "exited", portfolio: "A", at: at("11:00:30"), reason: "SL_HIT" }, { kind: "entered", portfolio: "A", at: at("09:20:00"), reason: "" }])
    await r.tick({ at: at("15:29:00"), spot: 25100, chain })
    // A scheduled exit is the header's, not a record; an exit already written is not written again.
    await r.exits([{ kind: "exited", portfolio: "A", at: at("11:00:30"), reason: "SL_HIT" }])
    const day = parseRecordedDay(await readFile(path, "utf8"), path)
    expect(day.header).toMatchObject({ date: plan.date, index: "NIFTY", lotSize: 65, tickSeconds: 60, baskets: 2, entries: plan.entries })
    expect(day.ticks.map((t) => t.spot)).toEqual([25001.5, 25050, 25100])
    expect(day.ticks[0]!.chain).toEqual(chain)
    expect(day.exits).toEqual([expect.objectContaining({ portfolio: "A", reason: "SL_HIT", time: "11:00:30" })])
    expect(day.margins).toEqual([expect.objectContaining({ used: 1_200_000.5, available: 800_000, time: "09:14:00" })])
  })

  it("carries on the same day's file after a restart, and refuses another day's", async () => {
    dir = await mkdtemp(join(tmpdir(), "autohedge-rec-"))
    const path = join(dir, "day.jsonl")
    await (await DayRecorder.open(path, plan, 60)).tick({ at: at("09:14:00"), spot: 25000, chain })
    const again = await DayRecorder.open(path, plan, 60)
    // A reading stamped before the last line keeps the file in time order.
    await again.tick({ at: at("09:13:00"), spot: 25010, chain })
    await again.tick({ at: at("15:29:00"), spot: 25020, chain })
    const day = parseRecordedDay(await readFile(path, "utf8"), path)
    expect(day.ticks.map((t) => [t.time, t.spot])).toEqual([["09:14:00", 25000], ["09:14:00", 25010], ["15:29:00", 25020]])
    await expect(DayRecorder.open(path, { ...plan, date: "2026-02-11" }, 60)).rejects.toThrow(/records NIFTY 2026-02-10, not NIFTY 2026-02-11/)
  })

  it("started after the open (09:17) still replays and calibrates: the opening tick is the first reading, marked as copied", async () => {
    dir = await mkdtemp(join(tmpdir(), "autohedge-rec-"))
    const path = join(dir, "day.jsonl")
    const early = niftyDayPlan([{ portfolio: "A", entryTime: "09:16:00", exitTime: "13:00:00", legs: [{ side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 }] }])
    const r = await DayRecorder.open(path, early, 60)
    await r.tick({ at: at("09:17:00"), spot: 25001.5, chain })
    await r.margin(at("09:17:00"), 300_000, 1_700_000)
    await r.tick({ at: at("15:29:00"), spot: 25020, chain })
    const text = await readFile(path, "utf8")
    expect(JSON.parse(text.split("\n")[1]!)).toMatchObject({ type: "tick", time: "09:15:00", spot: 25001.5, copiedFrom: "09:17:00" })
    const day = parseRecordedDay(text, path)
    expect(day.ticks.map((t) => t.time)).toEqual(["09:15:00", "09:17:00", "15:29:00"])
    const model = constantsMarginModel(defaultConfig.marginConstants)
    const calibration = await Effect.runPromise(calibrateDay(day, path, [model]))
    expect(calibration.rows.map((row) => [row.time, row.positions.length])).toEqual([["09:17:00", 1]])
    const replay = await replayDay(day, { config: defaultConfig, policy: "engine", truth: model, estimate: model })
    expect(replay.report.entries).toEqual({ scheduled: 1, entered: 1, missed: 0 })
    // A restarted recorder that had written only the header still back-fills; one with ticks does not.
    const again = join(dir, "again.jsonl")
    await DayRecorder.open(again, early, 60)
    await (await DayRecorder.open(again, early, 60)).tick({ at: at("09:20:00"), spot: 25000, chain })
    await (await DayRecorder.open(again, early, 60)).tick({ at: at("09:21:00"), spot: 25000, chain })
    expect((await readFile(again, "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l).time)).toEqual([undefined, "09:15:00", "09:20:00", "09:21:00"])
  })
})
