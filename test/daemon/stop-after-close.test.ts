// A daemon stopped after the close, before the end-of-day summary time, still writes the day's records:
// the next day carries the wings held from them (they were once written only at the summary time).
import { describe, expect, it } from "vitest"
import { daemonDay } from "./daemon-day.ts"

describe("the daemon stopped between the close and the summary time", () => {
  it("writes the day's records as they stand", async () => {
    const d = await daemonDay({ stopAt: "15:32:00" })
    const said = d.log.map((l) => l.message)
    expect(said).toContain("stopped on request; the day resumes from its records at the next start")
    expect(said).not.toContain("day done")
    expect(said).toContain("the day's records written as they stand at the stop")
    // The day's hedges, as the audit has them, are in the records.
    const bought = new Set(d.rows.filter((r) => r.kind === "hedge" && r.to === "open" && r.from.startsWith("ordering")).map((r) => r.actorId))
    expect(bought.size).toBeGreaterThan(0)
    expect(d.hedgeRows).toBe(bought.size)
  }, 300_000)
})
