import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { mapDays } from "../../simulations/day-pool.ts"
import { simulateDays } from "../../simulations/simulate.ts"
import { parseSweep, sweepSettings } from "../../simulations/sweep.ts"

const files = ["simulations/days/2026-02-10-NIFTY.jsonl", "simulations/days/2026-02-09-NIFTY.jsonl"]

describe("days on worker threads", () => {
  it("give the same reports, in the files' order, as one thread", async () => {
    const progress: Record<number, Array<string>> = { 1: [], 2: [] }
    const run = (threads: 1 | 2) => Effect.runPromise(simulateDays(files, ["engine", "none"], defaultConfig, "span", { threads, onDayDone: (done, total) => progress[threads]!.push(`${done}/${total}`), onMemory: (m) => (memory = m) }))
    let memory = { peakFootprint: 0, recycled: 0 }
    const [one, two] = [await run(1), await run(2)]
    // Each finished day counted once, on one thread or on several (a terminal's progress line).
    expect(progress).toEqual({ 1: ["1/2", "2/2"], 2: ["1/2", "2/2"] })
    expect(JSON.stringify(two)).toBe(JSON.stringify(one))
    // Workers replaced after every day (a 1-byte limit) change nothing either.
    const recycled = await Effect.runPromise(simulateDays([...files, ...files], ["none"], defaultConfig, "span", { threads: 2, recycleBytes: 1, onMemory: (m) => (memory = m) }))
    expect(memory.recycled).toBe(4)
    expect(JSON.stringify(recycled[0]!.days.slice(2))).toBe(JSON.stringify(recycled[0]!.days.slice(0, 2)))
    expect(one[0]!.days.map((d) => d.date)).toEqual(["2026-02-10", "2026-02-09"])
    // The workers measured their footprint (the memory figure of the README).
    expect(memory.peakFootprint).toBeGreaterThan(0)
  })

  it("report a bad file by its name and line, as the single-threaded run does", async () => {
    const outcomes = await mapDays(["package.json", files[0]!], { kind: "simulate", policies: ["none"], config: defaultConfig, truth: "span" }, { threads: 2 })
    expect(outcomes[0]).toMatchObject({ ok: false, message: expect.stringMatching(/^package\.json:1: /) })
    // Both started at once on two threads; on one, nothing after the bad file is started.
    expect(outcomes[1]!.ok).toBe(true)
    const one = await mapDays(["package.json", files[0]!], { kind: "simulate", policies: ["none"], config: defaultConfig, truth: "span" }, { threads: 1 })
    expect(one[0]).toEqual(outcomes[0])
    expect(one[1]).toBeUndefined()
  })

  it("stop giving out days after a failure: the days before it and the failure are reported", async () => {
    const many = [files[0]!, "package.json", ...Array.from({ length: 6 }, () => files[1]!)]
    const outcomes = await mapDays(many, { kind: "simulate", policies: ["none"], config: defaultConfig, truth: "span" }, { threads: 2 })
    expect(outcomes[0]!.ok).toBe(true)
    expect(outcomes[1]!.ok).toBe(false)
    // At most the day in flight on the other thread ran after the failure was known.
    expect(outcomes.filter((o) => o !== undefined).length).toBeLessThanOrEqual(4)
  })
})

describe("--sweep", () => {
  it("takes key=v1,v2 of a setting and makes every combination, each checked as a config file", async () => {
    const axes = [parseSweep("entryTriggerPct=93,97"), parseSweep("minOtmDistance.NIFTY=200,300")]
    expect(axes[0]).toEqual({ key: "entryTriggerPct", values: ["93", "97"] })
    const settings = await Effect.runPromise(sweepSettings(defaultConfig, axes as never))
    expect(settings.map((s) => s.label)).toEqual([
      "entryTriggerPct=93 minOtmDistance.NIFTY=200",
      "entryTriggerPct=93 minOtmDistance.NIFTY=300",
      "entryTriggerPct=97 minOtmDistance.NIFTY=200",
      "entryTriggerPct=97 minOtmDistance.NIFTY=300"
    ])
    expect(settings[3]!.config).toMatchObject({ entryTriggerPct: 97, minOtmDistance: { NIFTY: 300, SENSEX: 500 }, entryTargetPct: 85 })
  })

  it("names the key or the value that is wrong", async () => {
    expect(parseSweep("entryTrigger=90")).toBe('--sweep: "entryTrigger" is not a setting (see docs/configuration.md)')
    expect(parseSweep("entryTriggerPct")).toMatch(/expected key=value1,value2/)
    const bad = await Effect.runPromise(Effect.flip(sweepSettings(defaultConfig, [{ key: "entryTargetPct", values: ["99"] }])))
    expect(bad.message).toContain("entryTargetPct = 99 (in --sweep entryTargetPct=99): must be less than entryTriggerPct (95)")
  })
})
