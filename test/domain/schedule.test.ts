import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  dayScheduleFor,
  formatSchedule,
  loadScheduleFile,
  parseSchedule,
  ScheduleError,
  weeklyExpiryOf,
  type Schedule
} from "../../src/domain/schedule.ts"

const schedulePath = fileURLToPath(new URL("../../config/schedule.json", import.meta.url))
const bundledText = readFileSync(schedulePath, "utf8")
const bundled = parseSchedule(bundledText, "schedule.json")

/** A fresh mutable copy of the bundled schedule's JSON. */
const rawCopy = (): any => JSON.parse(bundledText)

const parseError = (raw: unknown): ScheduleError => {
  try {
    parseSchedule(JSON.stringify(raw), "schedule.json")
  } catch (e) {
    if (e instanceof ScheduleError) return e
    throw e
  }
  throw new Error("expected parseSchedule to reject the schedule")
}

describe("the bundled schedule", () => {
  it("has the original design's entries per weekday", () => {
    const counts = Object.fromEntries(Object.entries(bundled.days).map(([day, d]) => [day, d.entries.length]))
    expect(counts).toEqual({ Monday: 7, Tuesday: 10, Thursday: 13, Friday: 6 })
    expect(bundled.days.Wednesday).toBeUndefined()
  })

  it("has the original design's index and expiry type per weekday", () => {
    const kinds = Object.fromEntries(Object.entries(bundled.days).map(([day, d]) => [day, `${d.index} ${d.expiryType}`]))
    expect(kinds).toEqual({ Monday: "NIFTY 1DTE", Tuesday: "NIFTY 0DTE", Thursday: "SENSEX 0DTE", Friday: "NIFTY 2DTE" })
  })

  it("has the original design's times", () => {
    const times = (day: keyof Schedule["days"]) =>
      bundled.days[day]!.entries.map((e) => `${e.portfolio} ${e.entryTime} ${e.exitTime ?? "-"}`)
    expect(times("Monday")).toEqual([
      "NF_MON_1DTE 1 09:19:00 15:25:00",
      "NF_MON_1DTE 2 09:22:00 15:25:00",
      "NF_MON_1DTE 3 09:52:00 15:25:00",
      "NF_MON_1DTE 4 10:58:00 15:25:00",
      "NF_MON_1DTE 5 12:38:00 15:25:00",
      "NF_MON_1DTE 6 13:52:00 15:25:00",
      "NF_MON_1DTE 7 14:04:00 15:25:00"
    ])
    expect(times("Tuesday")).toEqual([
      "ITJ_NF_EXP 1 09:16:00 14:15:00",
      "ITJ_NF_EXP 2 09:24:00 14:00:00",
      "ITJ_NF_EXP 3 09:29:00 14:15:00",
      "ITJ_NF_EXP 4 10:16:30 13:15:00",
      "ITJ_NF_EXP 5 13:53:30 -",
      "ITJ_NF_EXP 6 14:11:00 -",
      "ITJ_NF_EXP 7 14:16:00 -",
      "ITJ_NF_EXP 8 14:25:00 -",
      "ITJ_NF_EXP 9 14:28:00 -",
      "ITJ_NF_EXP 10 14:35:00 -"
    ])
    expect(times("Thursday")).toEqual([
      "TH_SX_EXP 1 09:16:00 14:00:00",
      "TH_SX_EXP 2 09:18:00 13:15:00",
      "TH_SX_EXP 3 09:28:00 14:00:00",
      "TH_SX_EXP 4 09:55:00 14:30:00",
      "TH_SX_EXP 5 10:53:00 14:30:00",
      "TH_SX_EXP 6 11:02:00 -",
      "TH_SX_EXP 7 11:37:00 14:30:00",
      "TH_SX_EXP 8 12:09:00 15:00:00",
      "TH_SX_EXP 9 12:54:00 -",
      "TH_SX_EXP 10 13:58:00 -",
      "TH_SX_EXP 11 14:04:00 -",
      "TH_SX_EXP 12 14:34:00 -",
      "TH_SX_EXP 13 14:43:00 -"
    ])
    expect(times("Friday")).toEqual([
      "NIFTY_FRI 1 09:19:00 15:25:00",
      "NIFTY_FRI 2 09:25:00 15:25:00",
      "NIFTY_FRI 3 09:33:00 15:25:00",
      "NIFTY_FRI 4 09:40:00 15:25:00",
      "NIFTY_FRI 5 10:50:00 15:25:00",
      "NIFTY_FRI 6 11:38:10 15:25:00"
    ])
  })

  it("every entry is a one-lot short ATM straddle", () => {
    for (const day of Object.values(bundled.days))
      for (const entry of day.entries)
        expect(entry.legs).toEqual([
          { side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 },
          { side: "SELL", optionType: "PE", strikeOffset: 0, lotsPerBasket: 1 }
        ])
  })

  it("loads from its file", async () => {
    const schedule = await Effect.runPromise(loadScheduleFile(schedulePath))
    expect(schedule).toEqual(bundled)
  })
})

describe("malformed schedules are rejected naming the key path and value", () => {
  const cases: ReadonlyArray<[string, (raw: any) => void, string, string]> = [
    ["bad time", (r) => (r.days.Tuesday.entries[3].entryTime = "25:00:00"), "days.Tuesday.entries[3].entryTime", '"25:00:00"'],
    ["time without seconds", (r) => (r.days.Monday.entries[0].entryTime = "09:19"), "days.Monday.entries[0].entryTime", '"09:19"'],
    ["entry before the open", (r) => (r.days.Monday.entries[0].entryTime = "09:14:59"), "days.Monday.entries[0].entryTime", '"09:14:59"'],
    ["entry after the close", (r) => { r.days.Friday.entries[5].entryTime = "15:30:01"; r.days.Friday.entries[5].exitTime = null }, "days.Friday.entries[5].entryTime", '"15:30:01"'],
    ["exit before entry", (r) => (r.days.Thursday.entries[4].exitTime = "10:00:00"), "days.Thursday.entries[4].exitTime", '"10:00:00"'],
    ["exit equal to entry", (r) => (r.days.Thursday.entries[4].exitTime = "10:53:00"), "days.Thursday.entries[4].exitTime", '"10:53:00"'],
    ["exit after the close", (r) => (r.days.Monday.entries[1].exitTime = "15:45:00"), "days.Monday.entries[1].exitTime", '"15:45:00"'],
    ["missing exitTime", (r) => delete r.days.Monday.entries[2].exitTime, "days.Monday.entries[2].exitTime", "(missing)"],
    ["duplicate portfolio", (r) => (r.days.Tuesday.entries[7].portfolio = "ITJ_NF_EXP 2"), "days.Tuesday.entries[7].portfolio", '"ITJ_NF_EXP 2"'],
    ["empty portfolio", (r) => (r.days.Tuesday.entries[0].portfolio = " "), "days.Tuesday.entries[0].portfolio", '" "'],
    ["weekend day", (r) => (r.days.Saturday = r.days.Monday), "days.Saturday", ""],
    ["misspelt weekday", (r) => { r.days.Thrusday = r.days.Thursday; delete r.days.Thursday }, "days.Thrusday", ""],
    ["unknown index", (r) => (r.days.Monday.index = "BANKNIFTY"), "days.Monday.index", '"BANKNIFTY"'],
    ["unknown expiry type", (r) => (r.days.Monday.expiryType = "3DTE"), "days.Monday.expiryType", '"3DTE"'],
    ["bad side", (r) => (r.days.Friday.entries[0].legs[1].side = "SHORT"), "days.Friday.entries[0].legs[1].side", '"SHORT"'],
    ["bad option type", (r) => (r.days.Friday.entries[0].legs[0].optionType = "CALL"), "days.Friday.entries[0].legs[0].optionType", '"CALL"'],
    ["fractional strike offset", (r) => (r.days.Friday.entries[0].legs[0].strikeOffset = 0.5), "days.Friday.entries[0].legs[0].strikeOffset", "0.5"],
    ["zero lots", (r) => (r.days.Friday.entries[0].legs[0].lotsPerBasket = 0), "days.Friday.entries[0].legs[0].lotsPerBasket", "0"],
    ["no legs", (r) => (r.days.Friday.entries[2].legs = []), "days.Friday.entries[2].legs", "[]"],
    ["unknown entry key", (r) => (r.days.Friday.entries[2].lots = 2), "days.Friday.entries[2].lots", "2"],
    ["wrong version", (r) => (r.version = 2), "version", "2"]
  ]

  it.each(cases)("%s", (_name, mutate, path, value) => {
    const raw = rawCopy()
    mutate(raw)
    const error = parseError(raw)
    expect(error._tag).toBe("ScheduleError")
    expect(error.fileName).toBe("schedule.json")
    expect(error.path).toBe(path)
    if (value !== "") expect(error.value).toBe(value)
    expect(error.message).toContain(`schedule.json: ${path} = `)
    expect(error.message).not.toContain("\n")
  })

  it("invalid JSON names the file", () => {
    expect(() => parseSchedule("{ version: 1 }", "my-schedule.json")).toThrow(/my-schedule\.json: invalid JSON/)
  })

  it("a missing file fails the effect with a ScheduleError", async () => {
    const error = await Effect.runPromise(Effect.flip(loadScheduleFile("/nonexistent/schedule.json")))
    expect(error).toBeInstanceOf(ScheduleError)
    expect(error.message).toMatch(/\/nonexistent\/schedule\.json: cannot read/)
  })

  it("an invalid file fails the effect with a ScheduleError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "autohedge-schedule-"))
    const path = join(dir, "schedule.json")
    const raw = rawCopy()
    raw.days.Monday.entries[0].exitTime = "09:00:00"
    writeFileSync(path, JSON.stringify(raw))
    const error = await Effect.runPromise(Effect.flip(loadScheduleFile(path)))
    expect(error.message).toBe(`${path}: days.Monday.entries[0].exitTime = "09:00:00": must be after entryTime (09:19:00)`)
  })
})

describe("dayScheduleFor", () => {
  it("gives the weekday's index, expiry type and entries", () => {
    const day = dayScheduleFor(bundled, "2025-12-23") // a Tuesday
    expect(day?.weekday).toBe("Tuesday")
    expect(day?.index).toBe("NIFTY")
    expect(day?.expiryType).toBe("0DTE")
    expect(day?.entries).toHaveLength(10)
    expect(dayScheduleFor(bundled, "2025-12-25")?.index).toBe("SENSEX") // Thursday
  })

  it("is undefined on unscheduled days and weekends", () => {
    expect(dayScheduleFor(bundled, "2025-12-24")).toBeUndefined() // Wednesday
    expect(dayScheduleFor(bundled, "2025-12-27")).toBeUndefined() // Saturday
    expect(dayScheduleFor(bundled, "2025-12-28")).toBeUndefined() // Sunday
  })

  it("sorts entries by entry time", () => {
    const raw = rawCopy()
    raw.days.Monday.entries.reverse()
    const schedule = parseSchedule(JSON.stringify(raw), "reversed.json")
    expect(schedule.days.Monday!.entries[0]!.portfolio).toBe("NF_MON_1DTE 7")
    const day = dayScheduleFor(schedule, "2025-12-22")!
    expect(day.entries.map((e) => e.entryTime)).toEqual([
      "09:19:00",
      "09:22:00",
      "09:52:00",
      "10:58:00",
      "12:38:00",
      "13:52:00",
      "14:04:00"
    ])
  })

  it("rejects a malformed date", () => {
    expect(() => dayScheduleFor(bundled, "2025-13-01")).toThrow(RangeError)
  })
})

describe("weeklyExpiryOf", () => {
  it("NIFTY expires on the first Tuesday on or after the date", () => {
    expect(weeklyExpiryOf("NIFTY", "2025-12-23")).toBe("2025-12-23") // Tuesday itself
    expect(weeklyExpiryOf("NIFTY", "2025-12-24")).toBe("2025-12-30") // Wednesday -> next Tuesday
    expect(weeklyExpiryOf("NIFTY", "2025-12-22")).toBe("2025-12-23") // Monday
    expect(weeklyExpiryOf("NIFTY", "2025-12-27")).toBe("2025-12-30") // Saturday
    expect(weeklyExpiryOf("NIFTY", "2026-01-01")).toBe("2026-01-06") // across the year end
  })

  it("SENSEX expires on the first Thursday on or after the date", () => {
    expect(weeklyExpiryOf("SENSEX", "2025-12-18")).toBe("2025-12-18")
    expect(weeklyExpiryOf("SENSEX", "2025-12-19")).toBe("2025-12-25")
    expect(weeklyExpiryOf("SENSEX", "2025-12-22")).toBe("2025-12-25")
  })

  it("an expiry on a holiday moves to the previous weekday that is not a holiday", () => {
    const christmas = new Set(["2025-12-25"])
    expect(weeklyExpiryOf("SENSEX", "2025-12-22", christmas)).toBe("2025-12-24")
    expect(weeklyExpiryOf("SENSEX", "2025-12-22", new Set(["2025-12-25", "2025-12-24"]))).toBe("2025-12-23")
    // A Tuesday holiday after a Monday holiday moves the expiry to the previous Friday.
    expect(weeklyExpiryOf("NIFTY", "2026-01-02", new Set(["2026-01-05", "2026-01-06"]))).toBe("2026-01-02")
    // Holidays of other days change nothing.
    expect(weeklyExpiryOf("NIFTY", "2025-12-22", christmas)).toBe("2025-12-23")
  })

  it("once the week's (moved) expiry has passed, the next week's applies", () => {
    // Thursday 25 Dec is a holiday so that week's SENSEX expiry is Wednesday 24 Dec; from the 25th on
    // the current expiry is the next Thursday.
    expect(weeklyExpiryOf("SENSEX", "2025-12-25", new Set(["2025-12-25"]))).toBe("2026-01-01")
  })

  it("rejects a malformed date", () => {
    expect(() => weeklyExpiryOf("NIFTY", "23-12-2025")).toThrow(RangeError)
  })
})

describe("formatSchedule", () => {
  const text = formatSchedule(bundled)
  const lines = text.split("\n")

  it("has a header, a rule and one line per entry", () => {
    expect(lines[0]).toMatch(/^Weekday\s+Index\s+Expiry\s+Portfolio\s+Entry\s+Exit\s+Legs$/)
    expect(lines).toHaveLength(2 + 7 + 10 + 13 + 6)
  })

  it("shows the legs and 'expiry' for entries held to expiry", () => {
    const row = lines.find((l) => l.includes("ITJ_NF_EXP 5"))!
    expect(row).toMatch(/^Tuesday\s+NIFTY\s+0DTE\s+ITJ_NF_EXP 5\s+13:53:30\s+expiry\s+SELL CE\+0 ×1, SELL PE\+0 ×1$/)
    expect(lines.find((l) => l.includes("NIFTY_FRI 6"))).toMatch(/11:38:10\s+15:25:00/)
  })

  it("lists weekdays in order and formats negative offsets", () => {
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual([
      ...Array(7).fill("Monday"),
      ...Array(10).fill("Tuesday"),
      ...Array(13).fill("Thursday"),
      ...Array(6).fill("Friday")
    ])
    const raw = rawCopy()
    raw.days.Monday.entries[0].legs.push({ side: "BUY", optionType: "PE", strikeOffset: -10, lotsPerBasket: 2 })
    const shown = formatSchedule(parseSchedule(JSON.stringify(raw), "x.json"))
    expect(shown).toContain("SELL CE+0 ×1, SELL PE+0 ×1, BUY PE-10 ×2")
  })
})
