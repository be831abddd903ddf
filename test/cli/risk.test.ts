// `autohedge risk` as a user runs it: one line and exit 1 on bad input; JSON of the view otherwise.
import { Schema } from "effect"
import { mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { RiskViewSchema } from "../../src/domain/risk.ts"
import { runCli } from "./run-cli.ts"

const DAY = "simulations/days/2026-02-09-NIFTY.jsonl"

describe("autohedge risk", () => {
  it("says what is wrong with --at in one line", async () => {
    const r = await runCli(["risk", "--day", DAY, "--at", "9.30"])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe('autohedge: --at: expected HH:MM (IST), e.g. 10:30, got "9.30"')
  })

  it("prints the view of a positions file at a recorded instant as JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "risk-cli-"))
    const positions = join(dir, "positions.json")
    await writeFile(positions, JSON.stringify([{ strike: 25_300, optionType: "CE", side: "SELL", lots: 15 }, { strike: 25_800, optionType: "CE", side: "BUY", lots: 15 }]))
    const r = await runCli(["risk", "--day", DAY, "--at", "12:00", "--positions", positions, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const view = Schema.decodeUnknownSync(RiskViewSchema)(JSON.parse(r.stdout))
    expect(view.legs.map((l) => [l.strike, l.side, l.quantity])).toEqual([[25_300, "SELL", -975], [25_800, "BUY", 975]])
    expect(view.total.delta).toBeLessThan(0) // a short call spread
    expect(view.stress).toHaveLength(21)
    expect(view.valueAtRisk.historical.value).toBeNull() // the directory holds too little before 12:00 on its first day
  })
})
