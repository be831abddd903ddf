// `--json` is for programs: what the docs tell a user to run with it must print JSON and nothing else.
// `npm run` writes its own banner ("> auto-hedge@0.1.0 autohedge") to stdout, so the docs give those
// commands as `npx autohedge …`, which prints only the program's output.
import { execFile } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const documents = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]

describe("commands documented with --json", () => {
  it("are never given through npm run (its banner would precede the JSON)", () => {
    const throughNpm = documents.flatMap((file) =>
      readFileSync(file, "utf8").split("\n").flatMap((line, i) => (/npm run (?!--silent)\S+ .*--json/.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])))
    expect(throughNpm).toEqual([])
  })

  it("print JSON alone when run as documented, through npx", async () => {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "autohedge", "risk", "--day", "simulations/days/2026-02-10-NIFTY.jsonl", "--at", "13:00", "--json"])
    expect(JSON.parse(stdout)).toMatchObject({ index: "NIFTY", date: "2026-02-10" })
  }, 60_000)
})
