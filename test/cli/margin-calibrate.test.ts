// `autohedge margin calibrate` as a user runs it: a recorded day's margin records against the models,
// the account's positions against the fake OpenAlgo's /margin over HTTP, and every bad start in one
// line with a non-zero exit and no stack trace.
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { calibrateDay } from "../../src/calibration/day.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { defaultSpanParameters, spanMarginModel } from "../../src/domain/span.ts"
import { instantOf } from "../../src/domain/time.ts"
import { formatRecordedDay, parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { baseDay, dayWithMargins } from "../fixtures/calibration-day.ts"

const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)("node", ["bin/autohedge.js", "margin", "calibrate", ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const tmp = mkdtempSync(join(tmpdir(), "autohedge-calibrate-"))
const dayFile = join(tmp, "2026-02-09-NIFTY.jsonl")
const quietFile = join(tmp, "quiet.jsonl")

const oneLine = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.code).toBe(1)
  expect(r.stdout).toBe("")
  expect(r.stderr.trim().split("\n")).toHaveLength(1)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  return r.stderr.trim()
}

beforeAll(async () => {
  writeFileSync(dayFile, formatRecordedDay(await dayWithMargins()))
  writeFileSync(quietFile, formatRecordedDay(baseDay()))
})

describe.concurrent("autohedge margin calibrate --day", () => {
  it("prints the table and the summary", async () => {
    const r = await run(["--day", dayFile])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Margin calibration: NIFTY 2026-02-09 (expiry 2026-02-10), ${dayFile}`)
    expect(r.stdout).toMatch(/^time\s+broker used\s+span\s+error %\s+constants\s+error %$/m)
    expect(r.stdout.match(/^\d\d:\d\d:\d\d\s+₹/gm)).toHaveLength(5)
    expect(r.stdout).toMatch(/^span\s+5\s+\d+\.\d\d%/m)
    expect(r.stdout).toMatch(/^constants\s+5\s+\d+\.\d\d%/m)
  })

  it("prints JSON with the numbers the library computes", async () => {
    const r = await run(["--day", dayFile, "--json"])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { rows: Array<{ time: string; brokerUsed: number; models: Record<string, { margin: number; errorPct: number }> }>; summary: Record<string, { compared: number; meanAbsErrorPct: number; biasPct: number }> }
    const day = parseRecordedDay(readFileSync(dayFile, "utf8"), dayFile)
    const expected = await Effect.runPromise(calibrateDay(day, dayFile, [spanMarginModel(defaultConfig.span), constantsMarginModel(defaultConfig.marginConstants)]))
    expect(out.rows.map((row) => row.time)).toEqual(expected.rows.map((row) => row.time))
    out.rows.forEach((row, i) => {
      expect(row.models.span!.errorPct).toBeCloseTo(expected.rows[i]!.models[0]!.errorPct!, 2)
      expect(row.models.constants!.margin).toBeCloseTo(expected.rows[i]!.models[1]!.margin!, 2)
    })
    expect(out.summary.span!.compared).toBe(5)
    expect(out.summary.span!.biasPct).toBeLessThan(0)
    expect(out.summary.span!.meanAbsErrorPct).toBeCloseTo(-out.summary.span!.biasPct, 2) // every record under
  })

  it("refuses a day without margin records", async () => {
    expect(oneLine(await run(["--day", quietFile]))).toBe(
      `autohedge: ${quietFile}: no margin records to compare with (they are written when a day is recorded from a live account: autohedge record, or daemon --record)`
    )
  })

  it("names a malformed day file by file, line and key", async () => {
    const bad = join(tmp, "bad.jsonl")
    writeFileSync(bad, readFileSync(dayFile, "utf8").replace('"used":', '"usd":'))
    expect(oneLine(await run(["--day", bad]))).toMatch(new RegExp(`^autohedge: ${bad.replace(/[.\\/]/g, "\\$&")}:\\d+: used: missing required key$`))
  })

  it("wants exactly one of --day and --broker", async () => {
    expect(oneLine(await run([]))).toContain("give one of --day FILE")
    expect(oneLine(await run(["--day", dayFile, "--broker", "openalgo"]))).toContain("give one of --day FILE")
  })
})

describe.concurrent("autohedge margin calibrate --broker", () => {
  const KEY = "cli-calibrate-key-do-not-print"
  const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "day")
  const truth = spanMarginModel({ ...defaultSpanParameters, priceScanFloorPct: 10.5, elmPct: 2.5 })
  let fake: FakeOpenAlgo
  let env: Record<string, string> = {}
  beforeAll(async () => {
    fake = await startFakeOpenAlgo({ day, now: () => instantOf("2026-02-10", "11:00:00"), apiKey: KEY, truth })
    env = { OPENALGO_BASE_URL: fake.url.replace(/\/api\/v1$/, ""), OPENALGO_API_KEY: KEY, KITE_API_KEY: "", KITE_ACCESS_TOKEN: "" }
  })
  afterAll(() => fake?.close())

  it("compares the SPAN model with OpenAlgo's /margin on the account's positions", async () => {
    const r = await run(["--broker", "openalgo", "--at", "2026-02-10T11:00:00"], env)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("Margin calibration: NIFTY expiry 2026-02-10, 2026-02-10")
    expect(r.stdout).toMatch(/^  SELL \d+ \d+ (CE|PE) 2026-02-10$/m)
    expect(r.stdout).toMatch(/^broker \(openalgo-basket\)\s+₹[\d,]+/m)
    expect(r.stdout).toMatch(/^Error: -\d+\.\d\d% \(SPAN model vs the broker's span \+ exposure/m)
    expect(r.stdout).not.toContain(KEY)
    const json = JSON.parse((await run(["--broker", "openalgo", "--at", "2026-02-10T11:00:00", "--json"], env)).stdout) as { errorPct: number; compared: { basis: string; value: number }; span: { total: number } }
    expect(json.compared.basis).toBe("exchange")
    expect(json.errorPct).toBeCloseTo(((json.span.total - json.compared.value) / json.compared.value) * 100, 1)
    expect(json.errorPct).toBeLessThan(-1)
  })

  it("names what is missing for Kite, and a bad --at", async () => {
    expect(oneLine(await run(["--broker", "kite", "--at", "2026-02-10T11:00:00"], env))).toContain("--broker kite: set KITE_API_KEY and KITE_ACCESS_TOKEN")
    const half = await run(["--broker", "kite"], { ...env, KITE_API_KEY: "abc" })
    expect(half.code).toBe(1)
    expect(half.stderr).toContain("KITE_ACCESS_TOKEN")
    expect(half.stderr).not.toMatch(/\n\s+at /)
    expect(oneLine(await run(["--broker", "openalgo", "--at", "10:00"], env))).toBe('autohedge: --at: expected YYYY-MM-DDTHH:MM:SS (IST), got "10:00"')
  })

  it("reports an unreachable OpenAlgo in one line without the key", async () => {
    const line = oneLine(await run(["--broker", "openalgo", "--at", "2026-02-10T11:00:00"], { ...env, OPENALGO_BASE_URL: "http://127.0.0.1:1" }))
    expect(line).toMatch(/^autohedge: \/expiry: no answer/)
    expect(line).not.toContain(KEY)
  })
})
