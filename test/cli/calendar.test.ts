// `autohedge calendar` as a user runs it: the 2026 listing matches the reference table (NSE's 2026
// holiday circular, copied here), date, weekday and
// holiday, and nothing more; the two special sessions with their hours; expiries moved by holidays; bad
// flags named. `schedule show` lists the coming sessions by the same calendar.
import { describe, expect, it } from "vitest"
import { runCli } from "./run-cli.ts"

const run = runCli

/** The reference's table, as published. */
const REFERENCE = `
| 2026-01-15 | Thu | Municipal Corporation election, Maharashtra (a later circular; in one listing only) |
| 2026-01-26 | Mon | Republic Day |
| 2026-03-03 | Tue | Holi |
| 2026-03-26 | Thu | Shri Ram Navami |
| 2026-03-31 | Tue | Shri Mahavir Jayanti |
| 2026-04-03 | Fri | Good Friday |
| 2026-04-14 | Tue | Dr. Baba Saheb Ambedkar Jayanti |
| 2026-05-01 | Fri | Maharashtra Day |
| 2026-05-28 | Thu | Bakri Id |
| 2026-06-26 | Fri | Muharram |
| 2026-09-14 | Mon | Ganesh Chaturthi |
| 2026-10-02 | Fri | Mahatma Gandhi Jayanti |
| 2026-10-20 | Tue | Dussehra |
| 2026-11-10 | Tue | Diwali – Balipratipada |
| 2026-11-24 | Tue | Prakash Gurpurb Sri Guru Nanak Dev |
| 2026-12-25 | Fri | Christmas |
`
const reference = REFERENCE.trim().split("\n").map((line) => {
  const [date, day, name] = line.split("|").slice(1, 4).map((c) => c.trim())
  return { date: date!, day: day!, name: name!.replace(/ \(.*\)$/, "").replace(" – ", " ") }
})

/** The listing's rows of one exchange: [date, day, what, detail, source]. */
const rowsOf = (stdout: string, exchange: string) => {
  const block = stdout.split("\n\n").find((b) => b.startsWith(`${exchange} `))!
  return block.split("\n").slice(3).map((line) => line.split(/ {2,}/))
}

describe("autohedge calendar --year 2026", () => {
  it("lists NSE's holidays exactly as the reference table, from the bundled file, and BSE's alike", async () => {
    const r = await run(["calendar", "--year", "2026"])
    expect(r.code, r.stderr).toBe(0)
    for (const exchange of ["NSE", "BSE"]) {
      const holidays = rowsOf(r.stdout, exchange).filter((row) => row[2] === "holiday")
      expect(holidays.map(([date, day, , name]) => ({ date, day, name }))).toEqual(reference)
      expect(holidays.every((row) => row[4] === "file")).toBe(true)
    }
    expect(r.stdout).toContain("NSE 2026: calendar from file, 245 regular sessions (weekdays 09:15-15:30)")
  })

  it("shows the two special sessions with their hours, and the expiries holidays moved", async () => {
    const r = await run(["calendar", "--year", "2026", "--exchange", "NSE"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toContain("BSE 2026")
    const rows = rowsOf(r.stdout, "NSE")
    expect(rows.filter((row) => row[2] === "special session")).toEqual([
      ["2026-02-01", "Sun", "special session", "Union Budget, 09:15-15:00, runs Friday's schedule", "file"],
      ["2026-11-08", "Sun", "special session", "Diwali Laxmi Pujan: Muhurat trading, hours not known", "file"]
    ])
    expect(rows).toContainEqual(["2026-03-30", "Mon", "expiry moved", "NIFTY weekly (from Tue 2026-03-31)", "file"])
    expect(rows).toContainEqual(["2026-03-24", "Tue", "expiry", "NIFTY weekly", "file"])
    const sensex = rowsOf((await run(["calendar", "--year", "2026", "--exchange", "BSE"])).stdout, "BSE")
    expect(sensex).toContainEqual(["2026-03-25", "Wed", "expiry moved", "SENSEX weekly (from Thu 2026-03-26)", "file"])
  })

  it("a year the file lacks is weekdays only, said; bad flags are named", async () => {
    expect((await run(["calendar", "--year", "2027", "--exchange", "NSE"])).stdout).toContain("NSE 2027: calendar from nothing (weekdays only)")
    const bad = await run(["calendar", "--year", "1999"])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain("--year")
    const noKey = await run(["calendar", "--broker"], { OPENALGO_API_KEY: "" })
    expect(noKey.code).not.toBe(0)
    expect(noKey.stderr).toContain("OPENALGO_API_KEY")
  })
})

describe("autohedge schedule show", () => {
  it("lists the coming sessions by the calendar: holidays skipped, expiries moved, the day type that follows", async () => {
    const r = await run(["schedule", "show", "--from", "2026-03-27"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("2026-03-27  Fri  NIFTY   09:15-15:30  expiry 2026-03-30  1DTE  (the schedule says 2DTE)  [file]")
    expect(r.stdout).toContain("2026-03-30  Mon  NIFTY   09:15-15:30  expiry 2026-03-30  0DTE  (the schedule says 1DTE)  [file]")
    expect(r.stdout).toContain("2026-03-31  Tue  no session: NSE holiday (Shri Mahavir Jayanti, file)")
  })
})
