// `generate-days --carry` and `simulate --carry` as a user runs them: a Monday whose straddles are held
// to Tuesday, then the two days replayed as one account.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./run-cli.ts"

const tmp = mkdtempSync(join(tmpdir(), "autohedge-carry-"))

describe("autohedge generate-days --carry, simulate --carry", () => {
  it("writes a Tuesday that carries the Monday's held straddles in, and replays the two as one account", async () => {
    const out = join(tmp, "days")
    const g = await runCli(["generate-days", "--from", "2026-07-06", "--out", out, "--seed", "7", "--carry", "2"])
    expect(g.code, g.stderr).toBe(0)
    expect(g.stdout).toContain("2026-07-07-NIFTY.jsonl  NIFTY expiry 2026-07-07  regime calm  carries in NF_MON_1DTE 6, NF_MON_1DTE 7")
    const files = [join(out, "2026-07-06-NIFTY.jsonl"), join(out, "2026-07-07-NIFTY.jsonl")]
    const s = await runCli(["simulate", ...files, "--policy", "engine", "--carry", "--json"])
    expect(s.code, s.stderr).toBe(0)
    const days = (JSON.parse(s.stdout) as { days: Array<{ hedges: ReadonlyArray<{ id: string }> }> }).days
    expect(days).toHaveLength(2)
    // Tuesday holds the wings Monday kept past the close as its own hedges from the open.
    expect(days[1]!.hedges.some((h) => h.id.startsWith("hedge-carried-"))).toBe(true)
    const refused = await runCli(["simulate", ...files, "--carry", "--compare"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("--carry: replays the days in order in memory")
  })
})
