// The `autohedge` command as a user runs it: a real process, its output and its exit code.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./run-cli.ts"

const run = runCli

const example = readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8")
const tmp = mkdtempSync(join(tmpdir(), "autohedge-cli-"))

describe("autohedge simulate", () => {
  it("prints machine-readable totals per day and in total with --json", async () => {
    const r = await run(["simulate", "test/fixtures/days", "--policy", "engine,none", "--json"])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {
      policy: string
      days: Array<Record<string, unknown>>
      total: Record<string, number>
      policies: Record<string, { total: Record<string, number> }>
    }
    expect(out.policy).toBe("engine")
    expect(out.days).toHaveLength(1)
    for (const key of ["netSpend", "grossSpend", "recovered", "hedges", "breaches", "peakUtilization"]) {
      expect(out.total, key).toHaveProperty(key)
      expect(typeof out.total[key]).toBe("number")
    }
    expect(Object.keys(out.policies)).toEqual(["engine", "none"])
    expect(out.policies.none!.total.grossSpend).toBe(0)
    expect(out.total.netSpend).toBe(out.total.grossSpend! - out.total.recovered!)
  })

  it("prints a readable table comparing the policies, and no progress line when piped", async () => {
    const r = await run(["simulate", "test/fixtures/days"])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe("")
    expect(r.stdout).toMatch(/^Totals:$/m)
    for (const p of ["engine", "static", "none"]) expect(r.stdout).toMatch(new RegExp(`^${p}\\s+1\\s+10\\s`, "m"))
  })

  it("rejects a malformed day file with file, line and key, in one line, and reports nothing", async () => {
    const lines = example.split("\n")
    lines[5] = lines[5]!.replace('"spot":', '"spot_":')
    const bad = join(tmp, "bad.jsonl")
    writeFileSync(bad, lines.join("\n"))
    const r = await run(["simulate", "test/fixtures/days", bad])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain(`${bad}:6: spot:`)
  })

  it("rejects an invalid configuration naming every bad key", async () => {
    const r = await run(["simulate", "test/fixtures/days"], { HEDGE_ENTRY_TRIGGER_PCT: "abc", HEDGE_COOLDOWN_SECONDS: "-5" })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("HEDGE_ENTRY_TRIGGER_PCT")
    expect(r.stderr).toContain("HEDGE_COOLDOWN_SECONDS")
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
  })

  it("rejects an unknown policy", async () => {
    const r = await run(["simulate", "--policy", "yolo", "test/fixtures/days"])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('unknown policy "yolo"')
  })
})

describe("autohedge schedule show and generate-days", () => {
  it("shows the default weekly schedule", async () => {
    const r = await run(["schedule", "show"])
    expect(r.code).toBe(0)
    for (const s of ["Monday", "Tuesday", "Thursday", "Friday", "ITJ_NF_EXP 10", "TH_SX_EXP 13", "NIFTY_FRI 6"]) expect(r.stdout).toContain(s)
  })

  it("generates a week of valid day files that simulate", async () => {
    const out = join(tmp, "gen")
    const g = await run(["generate-days", "--from", "2026-03-02", "--out", out, "--seed", "7"])
    expect(g.code).toBe(0)
    // Holi, Tuesday 3-Mar, is an NSE holiday: no Tuesday, and the week's NIFTY expiry is Monday's.
    const lines = g.stdout.trim().split("\n")
    expect(lines).toHaveLength(3)
    expect(lines[0]).toContain("2026-03-02-NIFTY.jsonl  NIFTY expiry 2026-03-02")
    expect(g.stdout).not.toContain("2026-03-03")
    const s = await run(["simulate", out, "--policy", "engine", "--json"])
    expect(s.code).toBe(0)
    expect((JSON.parse(s.stdout) as { days: unknown[] }).days).toHaveLength(3)
  })
})
