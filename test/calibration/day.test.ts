// Calibration on a recorded day: a hand-built day whose margin records were computed from a SPAN model
// with other parameters (a known, non-zero error), positions rebuilt from entries and exits, the
// summary's mean, worst and bias, and a day without margin records refused by name.
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { calibrateDay, CalibrationError, positionsHeldAt } from "../../src/calibration/day.ts"
import { dayCalibrationJson, formatDayCalibration } from "../../src/calibration/report.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import type { Position } from "../../src/domain/market.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { baseDay, dayWithMargins, heldByHand, opening, queryAt } from "../fixtures/calibration-day.ts"

const span = spanMarginModel()
const constants = constantsMarginModel(defaultConfig.marginConstants)
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

const sorted = (ps: ReadonlyArray<Position>) => [...ps].sort((a, b) => a.strike - b.strike || a.optionType.localeCompare(b.optionType))

describe("positionsHeldAt", () => {
  it("holds the opening positions and each entry from its time until its exit record or scheduled exit", async () => {
    const day = baseDay()
    for (const [time, , positions] of heldByHand) expect(sorted(await run(positionsHeldAt(day, time))), time).toEqual(sorted(positions))
    expect(await run(positionsHeldAt(day, "09:30:59"))).toEqual([opening])
  })
})

describe("calibrateDay", () => {
  it("prices each margin record's positions and reports the error against the broker", async () => {
    const day = await dayWithMargins()
    const result = await run(calibrateDay(day, "day.jsonl", [span, constants]))
    expect(result.rows.map((r) => r.time)).toEqual(heldByHand.map(([t]) => t))
    expect(result.skipped).toEqual([])
    const expected: Array<number> = []
    for (const [i, [time, tickTime, positions]] of heldByHand.entries()) {
      const row = result.rows[i]!
      const used = day.margins[i]!.used
      const ours = await run(span.margin(queryAt(day, tickTime, positions)))
      expect(row.tickTime, time).toBe(tickTime)
      expect(row.brokerUsed).toBe(used)
      expect(row.models[0]!.model).toBe("span")
      expect(row.models[0]!.margin).toBeCloseTo(ours, 6)
      expect(row.models[0]!.errorPct).toBeCloseTo(((ours - used) / used) * 100, 9)
      // The narrower scan and lower exposure rate ask for less than the "broker".
      expect(row.models[0]!.errorPct!).toBeLessThan(-1)
      expected.push(row.models[0]!.errorPct!)
    }
    // 1DTE: each short lot costs 320000 / 2 naked, 140000 / 2 covered by a further-out long of its side.
    const constantsByHand = [1, 1 + 4, 1 + 4 + 4 * (140_000 / 320_000), 1 + 4, 1].map((lots) => lots * 160_000)
    result.rows.forEach((r, i) => expect(r.models[1]!.margin, r.time).toBeCloseTo(constantsByHand[i]!, 2))

    const s = result.summary[0]!
    expect(s.model).toBe("span")
    expect(s.compared).toBe(5)
    expect(s.meanAbsErrorPct).toBeCloseTo(expected.reduce((a, e) => a + Math.abs(e), 0) / 5, 9)
    expect(s.biasPct).toBeCloseTo(expected.reduce((a, e) => a + e, 0) / 5, 9)
    const worst = expected.reduce((w, e) => (Math.abs(e) > Math.abs(w) ? e : w))
    expect(s.worst).toEqual({ time: heldByHand[expected.indexOf(worst)]![0], errorPct: worst })
  })

  it("prints a table and a summary, and JSON for machines", async () => {
    const result = await run(calibrateDay(await dayWithMargins(), "day.jsonl", [span, constants]))
    const text = formatDayCalibration(result)
    expect(text).toMatch(/^time\s+broker used\s+span\s+error %\s+constants\s+error %$/m)
    expect(text).toMatch(/^11:00:00\s+₹[\d,]+\s+₹[\d,]+\s+-\d+\.\d\d%\s+₹[\d,]+\s+[+-]\d+\.\d\d%$/m)
    expect(text).toMatch(/^model\s+compared\s+mean \|error\|\s+worst\s+at\s+bias$/m)
    expect(text).toMatch(/^span\s+5\s+\d+\.\d\d%\s+-\d+\.\d\d%\s+\d\d:\d\d:\d\d\s+-\d+\.\d\d%$/m)
    const json = dayCalibrationJson(result)
    expect(json.rows).toHaveLength(5)
    expect(json.rows[2]!.positions).toHaveLength(5)
    expect(Object.keys(json.rows[0]!.models)).toEqual(["span", "constants"])
    expect(json.summary.span!.compared).toBe(5)
    expect(json.summary.span!.biasPct).toBeCloseTo(result.summary[0]!.biasPct!, 2)
  })

  it("leaves a model's cell empty, with the reason, when it cannot price a record", async () => {
    const day = await dayWithMargins()
    const noRows = constantsMarginModel({ NIFTY: {}, SENSEX: {} })
    const result = await run(calibrateDay(day, "day.jsonl", [span, noRows]))
    expect(result.rows.every((r) => r.models[1]!.margin === null && r.models[1]!.problem!.includes("no margin constants for NIFTY 1DTE"))).toBe(true)
    expect(result.summary[1]).toMatchObject({ model: "constants", compared: 0, meanAbsErrorPct: null })
    expect(formatDayCalibration(result)).toContain("constants could not price some records: no margin constants for NIFTY 1DTE")
  })

  it("refuses a day without margin records, naming the file", async () => {
    const exit = await Effect.runPromiseExit(calibrateDay(baseDay(), "quiet.jsonl", [span]))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.map((r) => (r._tag === "Fail" ? r.error : null))[0] : null
    expect(error).toBeInstanceOf(CalibrationError)
    expect((error as CalibrationError).message).toMatch(/^quiet\.jsonl: no margin records to compare with/)
  })
})
