// Generated days that carry positions in: a Monday whose last entries are held past the close, and a
// Tuesday that opens holding their legs (recorded-day version 2) and exits them in the morning.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { generateWeek } from "../../simulations/generate-week.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"

const schedule = readFileSync(new URL("../../config/schedule.json", import.meta.url), "utf8")
const week = (carry?: { hold: number }, seed = 7) =>
  generateWeek({ start: "2026-07-06", seed, schedule, model: "v2", chainStrikes: "tick", ...(carry === undefined ? {} : { carry }) })

describe("generated days that carry positions in", () => {
  const plain = week()
  const carrying = week({ hold: 2 })
  const [monday, tuesday] = carrying.map((f) => parseRecordedDay(f.text, f.file))

  it("holds the Monday's last entries past the close and opens the Tuesday holding their legs, with their origin", () => {
    expect(monday!.header.date).toBe("2026-07-06")
    const held = monday!.header.entries.filter((e) => e.exitTime === null).map((e) => e.portfolio)
    expect(held).toEqual(["NF_MON_1DTE 6", "NF_MON_1DTE 7"])
    const stopped = new Set(monday!.exits.map((x) => x.portfolio))
    const carriedIn = held.filter((p) => !stopped.has(p))
    expect(carriedIn.length).toBeGreaterThan(0)
    const t = tuesday!.header
    expect(t.date).toBe("2026-07-07")
    expect(t.version).toBe(2)
    // Each carried portfolio's legs: a short straddle at its struck strike, 15 baskets × 65.
    for (const p of carriedIn) {
      const legs = t.openingPositions.filter((x) => x.origin?.kind === "entry" && x.origin.portfolio === p)
      expect(legs.map((l) => [l.optionType, l.quantity, l.expiry])).toEqual([["CE", -975, "2026-07-07"], ["PE", -975, "2026-07-07"]])
      expect(legs[0]!.strike).toBe(legs[1]!.strike)
      expect(legs.every((l) => l.avgPrice > 0)).toBe(true)
    }
    expect(t.openingPositions).toHaveLength(2 * carriedIn.length)
    expect(carrying[1]!.carried).toEqual(carriedIn)
  })

  it("exits each carried portfolio on the Tuesday morning, at a time drawn from the seed", () => {
    const carriedExits = tuesday!.exits.filter((x) => x.reason === "TIMED")
    expect(carriedExits.map((x) => x.portfolio).sort()).toEqual([...carrying[1]!.carried].sort())
    for (const x of carriedExits) expect(x.time >= "09:20:00" && x.time <= "11:00:00", x.time).toBe(true)
    expect(week({ hold: 2 }).map((f) => f.text)).toEqual(carrying.map((f) => f.text))
    const other = week({ hold: 2 }, 8)[1]!
    expect(parseRecordedDay(other.text, other.file).exits.filter((x) => x.reason === "TIMED").map((x) => x.time)).not.toEqual(carriedExits.map((x) => x.time))
  })

  it("changes nothing else: the market is the same, and without the option every file is as before", () => {
    expect(tuesday!.ticks).toEqual(parseRecordedDay(plain[1]!.text, plain[1]!.file).ticks)
    // Expiry days and days of other indices carry nothing in.
    for (const f of carrying.slice(2)) expect(f.carried).toEqual([])
    expect(plain.every((f) => f.carried.length === 0 && JSON.parse(f.text.split("\n")[0]!).version === 1)).toBe(true)
  })
})
