import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { EntrySpec, IndexName } from "../../src/domain/market.ts"
import { atmStrike } from "../../src/domain/market.ts"
import { black76, intrinsic, portableExp, portableLog, yearFraction } from "../../src/domain/pricing.ts"
import { loadInstruments, lotSizeFor, strikeStepOf } from "../../src/domain/instruments.ts"
import { weeklyExpiryOf } from "../../src/domain/schedule.ts"
import { holidaysOf } from "../../src/domain/calendar.ts"
import { parseCalendarFile } from "../../src/services/calendar.ts"
import { instantOf, tradingDaysBetween } from "../../src/domain/time.ts"
import { FOUR_WEEKS, generateTradingDays, generateWeek, SAMPLE_WEEK } from "../../simulations/generate-week.ts"
import {
  chooseRegime,
  generateDay,
  type GenerateDayOptions,
  REGIMES,
  type Regime,
  toJsonl,
  varianceYears,
  WEEKEND_NIGHT_WEIGHT
} from "../../simulations/generator.ts"
import { parseRecordedDay, readRecordedDay } from "../../src/domain/recorded-day.ts"
import { createRng, deriveSeed } from "../../simulations/rng.ts"
import { FOUR_WEEKS_DIR, fourWeeks } from "../../simulations/write-four-weeks.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.join(here, "..", "..")
const SCHEDULE_TEXT = readFileSync(path.join(ROOT, "config", "schedule.json"), "utf8")
const SCHEDULE = JSON.parse(SCHEDULE_TEXT) as {
  days: Record<string, { index: IndexName; expiryType: string; entries: Array<EntrySpec> }>
}
const DAYS_DIR = path.join(ROOT, "simulations", "days")
const INSTRUMENTS = loadInstruments()

type Json = Record<string, any>
type Row = [number, number, number]
interface Tick {
  type: "tick"
  time: string
  spot: number
  chain: Array<Row>
}

/** The options of a generated day on `date` with the entries of the default schedule's `weekday`. */
const scheduledDayOptions = (weekday: "Monday" | "Tuesday" | "Thursday" | "Friday", date: string, over: Partial<GenerateDayOptions>): GenerateDayOptions => {
  const day = SCHEDULE.days[weekday]
  if (day === undefined) throw new Error(`no ${weekday} in the schedule`)
  const expiry = weeklyExpiryOf(day.index, date)
  return {
    date,
    index: day.index,
    expiry,
    lotSize: lotSizeFor(INSTRUMENTS, day.index, expiry),
    strikeStep: strikeStepOf(INSTRUMENTS, day.index),
    tickSeconds: 60,
    baskets: 15,
    budgetPerBasket: 1_000_000,
    entries: day.entries,
    seed: 42,
    ...over
  }
}

/** A NIFTY or SENSEX day of the default schedule (weekday picks index, expiry and entries). */
const dayOptions = (weekday: "Monday" | "Tuesday" | "Thursday" | "Friday", over: Partial<GenerateDayOptions> = {}): GenerateDayOptions => {
  const dates = { Monday: "2026-02-09", Tuesday: "2026-02-10", Thursday: "2026-02-12", Friday: "2026-02-13" } as const
  return scheduledDayOptions(weekday, dates[weekday], over)
}

const linesOf = (text: string): Array<Json> =>
  text
    .split("\n")
    .filter((l, i, all) => !(l === "" && i === all.length - 1))
    .map((l) => JSON.parse(l) as Json)

const ticksOf = (text: string): Array<Tick> => linesOf(text).filter((r) => r.type === "tick") as Array<Tick>

const secondsOf = (t: string): number => {
  const [h, m, s] = t.split(":").map(Number)
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0)
}

const onTick = (p: number): boolean => Math.abs(p * 20 - Math.round(p * 20)) < 1e-9
const priceOf = (tick: Tick, strike: number, t: "CE" | "PE"): number | undefined => {
  const row = tick.chain.find((r) => r[0] === strike)
  return row === undefined ? undefined : t === "CE" ? row[1] : row[2]
}

/** Everything the format and the generator promise about a day's text: the problems found (first few). */
const problemsOf = (text: string, o: GenerateDayOptions): Array<string> => {
  const problems: Array<string> = []
  const check = (ok: boolean, what: () => string): void => {
    if (!ok && problems.length < 10) problems.push(what())
  }
  check(text.endsWith("\n"), () => "no trailing newline")
  check(!text.includes("\n\n"), () => "blank line")
  const lines = linesOf(text)
  const header = lines[0] as Json
  const headerKeys = [
    "type",
    "version",
    "date",
    "index",
    "expiry",
    "lotSize",
    "strikeStep",
    "tickSeconds",
    "baskets",
    "budgetPerBasket",
    "entries",
    "openingPositions"
  ]
  check(JSON.stringify(Object.keys(header)) === JSON.stringify(headerKeys), () => `header keys ${Object.keys(header).join(",")}`)
  const expected: Json = {
    type: "day",
    version: 1,
    date: o.date,
    index: o.index,
    expiry: o.expiry,
    lotSize: o.lotSize,
    strikeStep: o.strikeStep,
    tickSeconds: o.tickSeconds,
    baskets: o.baskets,
    budgetPerBasket: o.budgetPerBasket,
    entries: o.entries,
    openingPositions: []
  }
  for (const key of headerKeys) {
    check(JSON.stringify(header[key]) === JSON.stringify(expected[key]), () => `header ${key}: ${JSON.stringify(header[key])}`)
  }

  const records = lines.slice(1)
  let prev = ""
  let prevType = ""
  const exited = new Set<string>()
  const entryTimes = new Map(o.entries.map((e) => [e.portfolio, e.entryTime]))
  for (const r of records) {
    check(r.type === "tick" || r.type === "exit", () => `record type ${r.type}`)
    check(r.time >= prev, () => `${r.time} after ${prev}`)
    check(!(r.time === prev && r.type === "tick" && prevType === "exit"), () => `tick after an exit at ${r.time}`)
    prev = r.time
    prevType = r.type
    if (r.type === "exit") {
      check(JSON.stringify(Object.keys(r)) === '["type","time","portfolio","reason"]', () => `exit keys ${Object.keys(r).join(",")}`)
      check(r.reason === "SL_HIT", () => `reason ${r.reason}`)
      check(entryTimes.has(r.portfolio), () => `exit of unknown ${r.portfolio}`)
      check(r.time > (entryTimes.get(r.portfolio) ?? ""), () => `exit of ${r.portfolio} at ${r.time} before its entry`)
      check(!exited.has(r.portfolio), () => `second exit of ${r.portfolio}`)
      exited.add(r.portfolio)
    }
  }

  const ticks = records.filter((r) => r.type === "tick") as Array<Tick>
  check(ticks[0]?.time === "09:15:00", () => `first tick ${ticks[0]?.time}`)
  check(ticks[ticks.length - 1]?.time === "15:30:00", () => `last tick ${ticks[ticks.length - 1]?.time}`)
  for (let i = 1; i < ticks.length; i++) {
    const gap = secondsOf(ticks[i]?.time ?? "") - secondsOf(ticks[i - 1]?.time ?? "")
    check(gap > 0 && gap <= o.tickSeconds, () => `tick gap ${gap} s at ${ticks[i]?.time}`)
  }
  for (const tick of ticks) {
    const at = tick.time
    check(JSON.stringify(Object.keys(tick)) === '["type","time","spot","chain"]', () => `${at}: tick keys`)
    check(Number.isFinite(tick.spot) && Math.round(tick.spot * 100) / 100 === tick.spot, () => `${at}: spot ${tick.spot}`)
    const strikes = tick.chain.map((r) => r[0])
    for (let i = 0; i < strikes.length; i++) {
      const k = strikes[i] ?? 0
      check(Number.isInteger(k / o.strikeStep), () => `${at}: strike ${k} off the step`)
      if (i > 0) check(k > (strikes[i - 1] ?? 0), () => `${at}: strikes not ascending at ${k}`)
    }
    // covers every listed strike within ±10 % of spot
    check((strikes[0] ?? Infinity) <= tick.spot * 0.9, () => `${at}: chain starts at ${strikes[0]}`)
    check((strikes[strikes.length - 1] ?? -Infinity) >= tick.spot * 1.1, () => `${at}: chain ends at ${strikes[strikes.length - 1]}`)
    for (const row of tick.chain) {
      check(row.length === 3, () => `${at}: row ${JSON.stringify(row)}`)
      for (const p of [row[1], row[2]]) {
        check(typeof p === "number" && p >= 0.05 && onTick(p), () => `${at}: price ${p} at ${row[0]}`)
      }
    }
    // no arbitrage in strike: calls non-increasing, puts non-decreasing
    for (let i = 1; i < tick.chain.length; i++) {
      const [k, c1, p1] = tick.chain[i] as Row
      const [, c0, p0] = tick.chain[i - 1] as Row
      check(c1 <= c0 && p1 >= p0, () => `${at}: prices not monotonic at ${k}`)
    }
  }
  return problems
}

const expectWellFormed = (text: string, o: GenerateDayOptions): void => {
  expect(problemsOf(text, o)).toEqual([])
}

describe("generateDay", () => {
  it("is deterministic: the same options give the same text", () => {
    const a = toJsonl(generateDay(dayOptions("Tuesday")))
    const b = toJsonl(generateDay(dayOptions("Tuesday")))
    expect(a).toBe(b)
  })

  it("differs for different seeds", () => {
    const a = toJsonl(generateDay(dayOptions("Tuesday", { seed: 1 })))
    const b = toJsonl(generateDay(dayOptions("Tuesday", { seed: 2 })))
    expect(a).not.toBe(b)
    expect(ticksOf(a)[10]?.spot).not.toBe(ticksOf(b)[10]?.spot)
  })

  it("gives the same day whether the seed's regime is drawn or passed explicitly", () => {
    for (const seed of [1, 2, 3, 4]) {
      const drawn = generateDay(dayOptions("Monday", { seed }))
      expect(drawn.meta.regime).toBe(chooseRegime(seed))
      expect(toJsonl(generateDay(dayOptions("Monday", { seed, regime: drawn.meta.regime })))).toBe(toJsonl(drawn))
    }
  })

  it("draws every regime for some seed", () => {
    const seen = new Set<Regime>()
    for (let seed = 0; seed < 200; seed++) seen.add(chooseRegime(seed))
    expect([...seen].sort()).toEqual([...REGIMES].sort())
  })

  it("writes a well-formed day with the schedule's entries, ticks every minute 09:15-15:30", () => {
    const o = dayOptions("Tuesday")
    const text = toJsonl(generateDay(o))
    expectWellFormed(text, o)
    expect(ticksOf(text)).toHaveLength(376)
    expect(linesOf(text)[0]?.entries).toEqual(SCHEDULE.days.Tuesday?.entries)
  })

  it("ends at 15:30 with an irregular tick size", () => {
    const o = dayOptions("Thursday", { tickSeconds: 7 * 60 })
    const text = toJsonl(generateDay(o))
    expectWellFormed(text, o)
    const times = ticksOf(text).map((t) => t.time)
    expect(times.slice(-2)).toEqual(["15:26:00", "15:30:00"]) // 375 min = 53 × 7 + 4
  })

  it("opens near 25,000 (NIFTY) / 82,000 (SENSEX) by default, or where told", () => {
    for (let seed = 0; seed < 20; seed++) {
      const nifty = ticksOf(toJsonl(generateDay(dayOptions("Tuesday", { seed, tickSeconds: 3600 }))))[0]?.spot ?? 0
      const sensex = ticksOf(toJsonl(generateDay(dayOptions("Thursday", { seed, tickSeconds: 3600 }))))[0]?.spot ?? 0
      expect(Math.abs(nifty / 25_000 - 1)).toBeLessThan(0.05)
      expect(Math.abs(sensex / 82_000 - 1)).toBeLessThan(0.05)
    }
    const told = generateDay(dayOptions("Tuesday", { spotOpen: 23_456.78, tickSeconds: 3600 }))
    expect((told.records[0] as Tick).spot).toBe(23_456.78)
  })

  it("prices far-OTM 0DTE NIFTY wings at 09:20 in the ₹2-6 band (300-800 pts OTM), whatever the regime", () => {
    for (const regime of REGIMES) {
      for (let seed = 1; seed <= 12; seed++) {
        const o = dayOptions("Tuesday", { seed, regime, tickSeconds: 300 })
        const tick = ticksOf(toJsonl(generateDay(o))).find((t) => t.time === "09:20:00")
        if (tick === undefined) throw new Error("no 09:20 tick")
        const band = tick.chain.flatMap(([k, ce, pe]) => {
          const out: Array<number> = []
          if (k - tick.spot >= 300 && k - tick.spot <= 800) out.push(ce)
          if (tick.spot - k >= 300 && tick.spot - k <= 800) out.push(pe)
          return out
        })
        expect(band.some((p) => p >= 2 && p <= 6), `${regime} seed ${seed}: ${band.join(" ")}`).toBe(true)
        // and the far wings are not free: 300 pts OTM still costs more than ₹2
        const atm = atmStrike(tick.spot, 50)
        expect(priceOf(tick, atm + 300, "CE")).toBeGreaterThan(2)
        expect(priceOf(tick, atm - 300, "PE")).toBeGreaterThan(2)
      }
    }
  })

  it("prices wings richer with more days to expiry (0DTE < 1DTE < 2DTE)", () => {
    const at0920 = (expiry: string): Tick => {
      const o = dayOptions("Tuesday", { expiry, seed: 9, regime: "calm" })
      const t = ticksOf(toJsonl(generateDay(o))).find((x) => x.time === "09:20:00")
      if (t === undefined) throw new Error("no tick")
      return t
    }
    const [d0, d1, d2] = [at0920("2026-02-10"), at0920("2026-02-11"), at0920("2026-02-12")]
    expect(d0.spot).toBe(d1.spot)
    const wing = (t: Tick): number => (priceOf(t, atmStrike(t.spot, 50) + 500, "CE") ?? 0) + (priceOf(t, atmStrike(t.spot, 50) - 500, "PE") ?? 0)
    expect(wing(d1)).toBeGreaterThan(wing(d0) * 1.5)
    expect(wing(d2)).toBeGreaterThan(wing(d1))
  })

  it("ends an expiry day at intrinsic value (0.05 floor)", () => {
    for (const weekday of ["Tuesday", "Thursday"] as const) {
      const ticks = ticksOf(toJsonl(generateDay(dayOptions(weekday, { seed: 3 }))))
      const last = ticks[ticks.length - 1] as Tick
      for (const [k, ce, pe] of last.chain) {
        expect(Math.abs(ce - Math.max(0.05, intrinsic("CE", last.spot, k)))).toBeLessThanOrEqual(0.05)
        expect(Math.abs(pe - Math.max(0.05, intrinsic("PE", last.spot, k)))).toBeLessThanOrEqual(0.05)
      }
      // and a minute earlier the ATM straddle is almost gone
      const before = ticks[ticks.length - 2] as Tick
      const atm = atmStrike(before.spot, weekday === "Tuesday" ? 50 : 100)
      const straddle = (priceOf(before, atm, "CE") ?? 0) + (priceOf(before, atm, "PE") ?? 0)
      const atmIntrinsic = Math.abs(before.spot - atm)
      expect(straddle - atmIntrinsic).toBeLessThan(weekday === "Tuesday" ? 15 : 50)
    }
  })

  it("keeps time value on a 1DTE day's last tick", () => {
    const ticks = ticksOf(toJsonl(generateDay(dayOptions("Monday", { seed: 3 }))))
    const last = ticks[ticks.length - 1] as Tick
    const atm = atmStrike(last.spot, 50)
    expect((priceOf(last, atm, "CE") ?? 0) + (priceOf(last, atm, "PE") ?? 0)).toBeGreaterThan(80)
  })

  it("emits SL_HIT exactly at the first tick where the short premium is up by the stop fraction", () => {
    let total = 0
    for (const regime of REGIMES) {
      for (const stopFraction of [0.3, 0.5]) {
        const o = dayOptions("Tuesday", { seed: 11, regime, stopFraction })
        const lines = linesOf(toJsonl(generateDay(o)))
        const ticks = lines.filter((r) => r.type === "tick") as Array<Tick>
        const exits = new Map(lines.filter((r) => r.type === "exit").map((r) => [r.portfolio as string, r.time as string]))
        for (const entry of o.entries) {
          const entryTick = [...ticks].reverse().find((t) => t.time <= entry.entryTime)
          if (entryTick === undefined) throw new Error("no entry tick")
          const atm = atmStrike(entryTick.spot, 50)
          const shorts = entry.legs.filter((l) => l.side === "SELL")
          const premium = (t: Tick): number =>
            shorts.reduce((s, l) => s + (priceOf(t, atm + l.strikeOffset * 50, l.optionType) ?? NaN), 0)
          const start = premium(entryTick)
          const deadline = entry.exitTime ?? "15:30:00"
          const hit = ticks.find((t) => t.time > entry.entryTime && t.time < deadline && premium(t) >= start * (1 + stopFraction))
          expect(exits.get(entry.portfolio), `${regime} ${entry.portfolio}`).toBe(hit?.time)
          if (hit !== undefined) total++
        }
      }
    }
    expect(total).toBeGreaterThan(10) // the check above is not vacuous
  })

  it("rejects bad options", () => {
    expect(() => generateDay(dayOptions("Tuesday", { expiry: "2026-02-09" }))).toThrow(/expiry/)
    expect(() => generateDay(dayOptions("Tuesday", { tickSeconds: 0 }))).toThrow(/tickSeconds/)
    expect(() => generateDay(dayOptions("Tuesday", { regime: "boring" as Regime }))).toThrow(/regime/)
    const entries = SCHEDULE.days.Tuesday?.entries ?? []
    expect(() => generateDay(dayOptions("Tuesday", { entries: [...entries, entries[0] as EntrySpec] }))).toThrow(/duplicate/)
  })

  it("is well-formed for any seed, regime, index, expiry distance and tick size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom(...REGIMES),
        fc.constantFrom("Monday", "Tuesday", "Thursday", "Friday" as const),
        fc.constantFrom(60, 97, 300, 900),
        (seed, regime, weekday, tickSeconds) => {
          const o = dayOptions(weekday, { seed, regime, tickSeconds })
          const text = toJsonl(generateDay(o))
          expectWellFormed(text, o)
          expect(() => parseRecordedDay(text, `${weekday}-${seed}.jsonl`)).not.toThrow()
        }
      ),
      { numRuns: 40 }
    )
  })
})

describe("rng", () => {
  it("is a fixed stream per seed", () => {
    const a = createRng(20260209)
    const b = createRng(20260209)
    const xs = Array.from({ length: 100 }, () => a.uniform())
    expect(Array.from({ length: 100 }, () => b.uniform())).toEqual(xs)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    // pinned values: the generator's output depends on them on every machine
    expect(createRng(1).uniform()).toBe(0.6270739405881613)
    expect(deriveSeed(20260209, "2026-02-09")).toBe(deriveSeed(20260209, "2026-02-09"))
    expect(deriveSeed(20260209, "2026-02-09")).not.toBe(deriveSeed(20260209, "2026-02-10"))
  })

  it("draws normals with mean 0 and variance 1", () => {
    const r = createRng(7)
    const n = 20_000
    let s = 0
    let s2 = 0
    for (let i = 0; i < n; i++) {
      const z = r.normal()
      s += z
      s2 += z * z
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03)
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05)
  })
})

describe("generateWeek", () => {
  const week = generateWeek({ ...SAMPLE_WEEK, schedule: SCHEDULE_TEXT })

  it("writes one file per scheduled weekday with the index's weekly expiry", () => {
    expect(week.map((d) => [d.file, d.expiry])).toEqual([
      ["2026-02-09-NIFTY.jsonl", "2026-02-10"],
      ["2026-02-10-NIFTY.jsonl", "2026-02-10"],
      ["2026-02-12-SENSEX.jsonl", "2026-02-12"],
      ["2026-02-13-NIFTY.jsonl", "2026-02-17"]
    ])
    const weekdays = ["Monday", "Tuesday", "Thursday", "Friday"]
    week.forEach((d, i) => {
      const header = linesOf(d.text)[0] as Json
      const day = SCHEDULE.days[weekdays[i] ?? ""]
      expect(header.entries).toEqual(day?.entries)
      expect(header).toMatchObject({ date: d.date, index: d.index, expiry: d.expiry, tickSeconds: 60, baskets: 15, budgetPerBasket: 1_000_000 })
      expect(header.lotSize).toBe(d.index === "NIFTY" ? 65 : 20)
      expect(d.seed).toBe(deriveSeed(SAMPLE_WEEK.seed, d.date))
    })
  })

  it("continues each index from its previous close", () => {
    const closeOf = (text: string): number => {
      const ticks = ticksOf(text)
      return ticks[ticks.length - 1]?.spot ?? 0
    }
    const [mon, tue] = week
    const openTue = ticksOf(tue?.text ?? "")[0]?.spot ?? 0
    expect(Math.abs(openTue / closeOf(mon?.text ?? "") - 1)).toBeLessThan(0.02)
  })

  it("takes regimes from the options, by date or weekday", () => {
    const w = generateWeek({ ...SAMPLE_WEEK, tickSeconds: 900, schedule: SCHEDULE_TEXT, regime: { Tuesday: "volSpike", "2026-02-12": "gap" } })
    expect(w.map((d) => d.regime).slice(1, 3)).toEqual(["volSpike", "gap"])
    const all = generateWeek({ ...SAMPLE_WEEK, tickSeconds: 900, schedule: JSON.parse(SCHEDULE_TEXT), regime: "whipsaw" })
    expect(all.every((d) => d.regime === "whipsaw")).toBe(true)
  })

  it("needs a Monday and a sane schedule", () => {
    expect(() => generateWeek({ ...SAMPLE_WEEK, start: "2026-02-10", schedule: SCHEDULE_TEXT })).toThrow(/Monday/)
    expect(() => generateWeek({ ...SAMPLE_WEEK, schedule: '{"version":1,"days":{"Funday":{}}}' })).toThrow(
      /^schedule: days\.Funday = \{\}: unknown key/
    )
  })

  it("finds weekly expiries: NIFTY on Tuesday, SENSEX on Thursday", () => {
    expect(weeklyExpiryOf("NIFTY", "2026-02-09")).toBe("2026-02-10")
    expect(weeklyExpiryOf("NIFTY", "2026-02-10")).toBe("2026-02-10")
    expect(weeklyExpiryOf("NIFTY", "2026-02-11")).toBe("2026-02-17")
    expect(weeklyExpiryOf("SENSEX", "2026-02-12")).toBe("2026-02-12")
    expect(weeklyExpiryOf("SENSEX", "2026-02-13")).toBe("2026-02-19")
  })
})

describe("the bundled sample week (simulations/days)", () => {
  const files = existsSync(DAYS_DIR) ? readdirSync(DAYS_DIR).filter((f) => f.endsWith(".jsonl")).sort() : []
  const week = generateWeek({ ...SAMPLE_WEEK, schedule: SCHEDULE_TEXT })

  it("is what generateWeek produces today (regenerate: npx tsx simulations/write-sample-week.ts)", () => {
    for (const day of week) {
      expect(files).toContain(day.file)
      expect(readFileSync(path.join(DAYS_DIR, day.file), "utf8") === day.text, `${day.file} is stale`).toBe(true)
    }
  })

  it("parses with the recorded-day reader, every file", () => {
    expect(files.length).toBeGreaterThanOrEqual(4)
    for (const f of files) {
      const day = parseRecordedDay(readFileSync(path.join(DAYS_DIR, f), "utf8"), f)
      expect(day.ticks.length).toBeGreaterThan(300)
    }
  })

  it("is well-formed", () => {
    const weekdays = { "2026-02-09": "Monday", "2026-02-10": "Tuesday", "2026-02-12": "Thursday", "2026-02-13": "Friday" } as const
    for (const day of week) {
      const o = dayOptions(weekdays[day.date as keyof typeof weekdays], { seed: day.seed })
      expectWellFormed(day.text, o)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Model v2: the regimes that hurt a hedger, and far-OTM premiums. Properties over many seeds; the
// fast-check seed is fixed, so a run is as reproducible as the data.

const FC = { seed: 20260706 } as const

type Weekday5 = "Monday" | "Tuesday" | "Wednesday" | "Thursday" | "Friday"
const WEEKDAYS5: ReadonlyArray<Weekday5> = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
const V2_DATES: Record<Weekday5, string> = {
  Monday: "2026-02-09", // NIFTY 1DTE
  Tuesday: "2026-02-10", // NIFTY expiry
  Wednesday: "2026-02-11", // NIFTY 4DTE
  Thursday: "2026-02-12", // SENSEX expiry
  Friday: "2026-02-13" // NIFTY 2DTE
}

/** A v2 day of the default schedule; Wednesday, which the schedule leaves empty, takes Friday's entries (as the four-week set does). */
const v2Options = (weekday: Weekday5, over: Partial<GenerateDayOptions> = {}): GenerateDayOptions =>
  scheduledDayOptions(weekday === "Wednesday" ? "Friday" : weekday, V2_DATES[weekday], { model: "v2", chainStrikes: "tick", ...over })

interface Day {
  readonly o: GenerateDayOptions
  readonly text: string
  readonly ticks: Array<Tick>
  readonly exits: Array<Json>
  readonly previousClose: number
}

/** The day as its file says it (and the previous close it was drawn against). */
const v2Day = (weekday: Weekday5, over: Partial<GenerateDayOptions> = {}): Day => {
  const o = v2Options(weekday, over)
  const generated = generateDay(o)
  const text = toJsonl(generated)
  const lines = linesOf(text)
  return {
    o,
    text,
    ticks: lines.filter((r) => r.type === "tick") as Array<Tick>,
    exits: lines.filter((r) => r.type === "exit"),
    previousClose: generated.meta.previousClose
  }
}

const tickAt = (day: Day, time: string): Tick => {
  const t = day.ticks.find((x) => x.time === time)
  if (t === undefined) throw new Error(`no tick at ${time}`)
  return t
}

const lastAt = (price: number | undefined): number => {
  if (price === undefined) throw new Error("strike not in the chain")
  return price
}

/** Black-76 implied vol (calendar time) of a price, by bisection. */
const impliedVol = (t: "CE" | "PE", spot: number, strike: number, years: number, p: number): number => {
  let lo = 1e-4
  let hi = 5
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (black76(t, spot, strike, years, mid) > p) hi = mid
    else lo = mid
  }
  return (lo + hi) / 2
}

/** ATM IV of a tick, from its ATM call and put, on the generator's trading-time clock (as DayMeta quotes it). */
const atmIvOf = (day: Day, tick: Tick): number => {
  const { o } = day
  const strike = atmStrike(tick.spot, o.strikeStep)
  const years = yearFraction(instantOf(o.date, tick.time), o.expiry)
  const variance = varianceYears(o.date, secondsOf(tick.time), o.expiry, o.model === "v2" ? WEEKEND_NIGHT_WEIGHT : undefined)
  const ce = impliedVol("CE", tick.spot, strike, years, lastAt(priceOf(tick, strike, "CE")))
  const pe = impliedVol("PE", tick.spot, strike, years, lastAt(priceOf(tick, strike, "PE")))
  return ((ce + pe) / 2) * Math.sqrt(years / variance)
}

/** The price an option at any strike (between listed ones) would have: log-linear between the two neighbours. */
const priceAtStrike = (tick: Tick, step: number, t: "CE" | "PE", strike: number): number => {
  const below = Math.floor(strike / step) * step
  const a = lastAt(priceOf(tick, below, t))
  const b = lastAt(priceOf(tick, below + step, t))
  const w = (strike - below) / step
  return portableExp((1 - w) * portableLog(a) + w * portableLog(b))
}

/** The largest rise of the ATM IV over `window` minutes between 09:30 and 15:00: [rise, index of its first tick]. */
const largestIvRise = (day: Day, window: number): readonly [number, number] => {
  const ivs = day.ticks.map((t) => (t.time >= "09:30:00" && t.time <= "15:00:00" ? atmIvOf(day, t) : NaN))
  let best = -Infinity
  let at = 0
  for (let i = 0; i + window < ivs.length; i++) {
    const rise = (ivs[i + window] ?? NaN) - (ivs[i] ?? NaN)
    if (rise > best) {
      best = rise
      at = i
    }
  }
  return [best, at]
}

/**
 * What a short straddle at `strike`, sold for `entryPremium`, needs at `tick` by the SPAN recipe of the
 * margin reference (§2.2-2.3): the worst of the 16 scenarios (price ±0, ⅓, ⅔, 1 × PSR with vol ± VSR;
 * ±2 × PSR at 35 %), PSR = 9.3 % of spot, VSR = max(4 vol points, 25 % of each leg's implied vol),
 * counted from the entry premium (so the mark-to-market loss is in it). Per unit.
 */
const straddleRequirement = (day: Day, tick: Tick, strike: number, entryPremium: number): number => {
  const years = yearFraction(instantOf(day.o.date, tick.time), day.o.expiry)
  const ce = lastAt(priceOf(tick, strike, "CE"))
  const pe = lastAt(priceOf(tick, strike, "PE"))
  const volCe = impliedVol("CE", tick.spot, strike, years, ce)
  const volPe = impliedVol("PE", tick.spot, strike, years, pe)
  const psr = 0.093 * tick.spot
  const valueAt = (move: number, volShift: number): number => {
    const shifted = (v: number): number => Math.max(1e-4, v + volShift * Math.max(0.04, 0.25 * v))
    return black76("CE", tick.spot + move * psr, strike, years, shifted(volCe)) + black76("PE", tick.spot + move * psr, strike, years, shifted(volPe))
  }
  let worst = -Infinity
  for (const move of [0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1, -1]) {
    for (const volShift of [1, -1]) worst = Math.max(worst, valueAt(move, volShift) - entryPremium)
  }
  for (const move of [2, -2]) worst = Math.max(worst, 0.35 * (valueAt(move, 0) - ce - pe) + (ce + pe - entryPremium))
  return worst
}

/** Reversals of at least `threshold` (a fraction) in the spot path: a zigzag's legs after the first. */
const reversalsOf = (ticks: ReadonlyArray<Tick>, threshold: number): number => {
  let dir = 0
  let legs = 0
  let hi = ticks[0]?.spot ?? 0
  let lo = hi
  for (const t of ticks) {
    hi = Math.max(hi, t.spot)
    lo = Math.min(lo, t.spot)
    if (dir >= 0 && t.spot <= hi * (1 - threshold)) {
      if (dir === 1) legs++
      dir = -1
      hi = lo = t.spot
    } else if (dir <= 0 && t.spot >= lo * (1 + threshold)) {
      if (dir === -1) legs++
      dir = 1
      hi = lo = t.spot
    }
  }
  return legs
}

/** A put and a call 2 % out of the money at a tick (interpolated to exactly 2 %): the far wings a hedger buys. */
const wingPair = (day: Day, tick: Tick): number =>
  priceAtStrike(tick, day.o.strikeStep, "PE", tick.spot * 0.98) + priceAtStrike(tick, day.o.strikeStep, "CE", tick.spot * 1.02)

const seedArb = fc.integer({ min: 0, max: 2 ** 32 - 1 })
const weekdayArb = fc.constantFrom(...WEEKDAYS5)

describe("generateDay, model v2 (hedger-realistic): the regimes, over many seeds", () => {
  it("leaves model v1 the default, and v2 a different day", () => {
    const o = dayOptions("Tuesday", { tickSeconds: 900 })
    const v1 = toJsonl(generateDay(o))
    expect(toJsonl(generateDay({ ...o, model: "v1", chainStrikes: "day" }))).toBe(v1)
    expect(toJsonl(generateDay({ ...o, model: "v2" }))).not.toBe(v1)
    expect(generateDay({ ...o, model: "v2" }).meta.model).toBe("v2")
    expect(() => generateDay({ ...o, model: "v3" as "v2" })).toThrow(/model/)
    expect(() => generateDay({ ...o, chainStrikes: "some" as "day" })).toThrow(/chainStrikes/)
  })

  it("writes well-formed days for any seed, regime, weekday (0-4 DTE) and tick size, each tick's chain exactly ±10 % of its spot", () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom(...REGIMES), weekdayArb, fc.constantFrom(60, 97, 300), (seed, regime, weekday, tickSeconds) => {
        const day = v2Day(weekday, { seed, regime, tickSeconds })
        expectWellFormed(day.text, day.o)
        expect(() => parseRecordedDay(day.text, `${weekday}-${seed}.jsonl`)).not.toThrow()
        const step = day.o.strikeStep
        for (const tick of day.ticks) {
          expect(tick.chain[0]?.[0]).toBe(Math.floor((tick.spot * 0.9) / step) * step)
          expect(tick.chain[tick.chain.length - 1]?.[0]).toBe(Math.ceil((tick.spot * 1.1) / step) * step)
        }
        // a chain with every day's strikes on every tick, if asked
        const wide = v2Day(weekday, { seed, regime, tickSeconds: 900, chainStrikes: "day" })
        expectWellFormed(wide.text, wide.o)
        expect(new Set(wide.ticks.map((t) => t.chain.length)).size).toBe(1)
      }),
      { ...FC, numRuns: 20 }
    )
  })

  it("gap: opens 1-3 % away from the previous close, with ATM IV up at the open (≥ 1.25x a calm day's, above its own at noon)", () => {
    fc.assert(
      fc.property(seedArb, weekdayArb, (seed, weekday) => {
        const gap = v2Day(weekday, { seed, regime: "gap", tickSeconds: 300 })
        const calm = v2Day(weekday, { seed, regime: "calm", tickSeconds: 300 })
        const open = gap.ticks[0] as Tick
        const size = Math.abs(open.spot / gap.previousClose - 1)
        expect(size).toBeGreaterThanOrEqual(0.0099)
        expect(size).toBeLessThanOrEqual(0.0301)
        const ivOpen = atmIvOf(gap, open)
        expect(ivOpen).toBeGreaterThanOrEqual(1.25 * atmIvOf(calm, calm.ticks[0] as Tick))
        expect(ivOpen).toBeGreaterThan(1.05 * atmIvOf(gap, tickAt(gap, "12:00:00")))
      }),
      { ...FC, numRuns: 25 }
    )
  })

  it("volSpike: ATM IV jumps ≥ 4 vol points within 10 minutes, mid-session, with a ≥ 0.6 % spot shock; a straddle held through it soon needs ≥ 5 % more margin", () => {
    fc.assert(
      fc.property(seedArb, weekdayArb, (seed, weekday) => {
        const day = v2Day(weekday, { seed, regime: "volSpike" })
        const [rise, at] = largestIvRise(day, 10)
        expect(rise).toBeGreaterThanOrEqual(0.04)
        const before = day.ticks[at] as Tick
        expect(before.time >= "10:20:00" && before.time <= "14:05:00", before.time).toBe(true)
        const after = day.ticks.slice(at, at + 21)
        expect(Math.max(...after.map((t) => Math.abs(t.spot / before.spot - 1)))).toBeGreaterThanOrEqual(0.006)
        // the straddle sold at the tick before the jump, within the next 20 minutes
        const strike = atmStrike(before.spot, day.o.strikeStep)
        const premium = lastAt(priceOf(before, strike, "CE")) + lastAt(priceOf(before, strike, "PE"))
        const peak = Math.max(...after.map((t) => straddleRequirement(day, t, strike, premium)))
        expect(peak).toBeGreaterThanOrEqual(1.05 * straddleRequirement(day, before, strike, premium))
      }),
      { ...FC, numRuns: 20 }
    )
  })

  it("volSpike: strikes at a different time on different seeds", () => {
    const times = new Set<string>()
    for (let seed = 1; seed <= 12; seed++) {
      const day = v2Day("Tuesday", { seed, regime: "volSpike" })
      times.add(day.ticks[largestIvRise(day, 10)[1]]?.time ?? "")
    }
    expect(times.size).toBeGreaterThanOrEqual(8)
  })

  it("volCrush: ATM IV ≤ 0.75x by noon; far-OTM premiums (2 % OTM) lose over half by noon (twice what a calm day loses), ≥ 90 % by 14:00 on expiry", () => {
    fc.assert(
      fc.property(seedArb, weekdayArb, (seed, weekday) => {
        const crush = v2Day(weekday, { seed, regime: "volCrush", tickSeconds: 300 })
        const calm = v2Day(weekday, { seed, regime: "calm", tickSeconds: 300 })
        expect(atmIvOf(crush, tickAt(crush, "12:00:00"))).toBeLessThanOrEqual(0.75 * atmIvOf(crush, tickAt(crush, "09:20:00")))
        const kept = (day: Day, time: string): number => wingPair(day, tickAt(day, time)) / wingPair(day, tickAt(day, "09:20:00"))
        expect(kept(crush, "12:00:00")).toBeLessThanOrEqual(0.5)
        expect(kept(crush, "12:00:00")).toBeLessThanOrEqual(0.5 * kept(calm, "12:00:00"))
        if (crush.o.date === crush.o.expiry) expect(kept(crush, "14:00:00")).toBeLessThanOrEqual(0.1)
      }),
      { ...FC, numRuns: 25 }
    )
  })

  it("whipsaw: reverses ≥ 2 times by ≥ 0.6 %; stops ≥ 2 straddles out on expiry days (≥ 1 at 1DTE), and comes back within 0.4 % of a stopped straddle's entry", () => {
    fc.assert(
      fc.property(seedArb, weekdayArb, (seed, weekday) => {
        const day = v2Day(weekday, { seed, regime: "whipsaw", tickSeconds: 120 })
        expect(reversalsOf(day.ticks, 0.006)).toBeGreaterThanOrEqual(2)
        const dte = tradingDaysBetween(day.o.date, day.o.expiry)
        if (dte <= 1) expect(day.exits.length).toBeGreaterThanOrEqual(dte === 0 ? 2 : 1)
        if (dte === 0) {
          const comeBack = day.exits.filter((exit) => {
            const entry = day.o.entries.find((e) => e.portfolio === exit.portfolio)
            const at = [...day.ticks].reverse().find((t) => t.time <= (entry?.entryTime ?? ""))
            if (at === undefined) return false
            return day.ticks.some((t) => t.time > exit.time && Math.abs(t.spot / at.spot - 1) <= 0.004)
          })
          expect(comeBack.length).toBeGreaterThanOrEqual(1)
        }
      }),
      { ...FC, numRuns: 25 }
    )
  })

  it("calm and trending are the baselines: calm days stay within 2.5 %, trending days move ~1-1.8 % one way", () => {
    const trendMoves: Array<number> = []
    for (let seed = 1; seed <= 40; seed++) {
      const calm = v2Day("Friday", { seed, regime: "calm", tickSeconds: 300 })
      const spots = calm.ticks.map((t) => t.spot)
      expect(Math.abs((calm.ticks[0]?.spot ?? 0) / calm.previousClose - 1)).toBeLessThan(0.01)
      expect(Math.max(...spots) / Math.min(...spots) - 1).toBeLessThan(0.025)
      const trending = v2Day("Friday", { seed, regime: "trending", tickSeconds: 300 })
      trendMoves.push(Math.abs((trending.ticks[trending.ticks.length - 1]?.spot ?? 0) / (trending.ticks[0]?.spot ?? 1) - 1))
    }
    trendMoves.sort((a, b) => a - b)
    expect(trendMoves[20]).toBeGreaterThanOrEqual(0.01) // the median
    expect(trendMoves.filter((m) => m >= 0.005).length).toBeGreaterThanOrEqual(36)
  })
})

describe("generateDay, model v2: far-OTM premiums", () => {
  /** [2 % put, 2 % call, 5 % put, 5 % call] bands in rupees at 09:20, NIFTY, by trading days to expiry. */
  const BANDS: Record<number, ReadonlyArray<readonly [number, number]>> = {
    0: [[1.5, 20], [0.3, 10], [0.05, 3], [0.05, 0.5]],
    1: [[5, 45], [2, 30], [0.15, 10], [0.05, 2]],
    2: [[10, 70], [5, 50], [0.6, 20], [0.05, 5]]
  }

  it("prices NIFTY wings 2-5 % OTM at a few rupees on 0-2DTE days (bands by DTE), cheaper the further out", () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom("Monday", "Tuesday", "Friday" as const), fc.constantFrom("calm", "trending", "whipsaw" as const), (seed, weekday, regime) => {
        const day = v2Day(weekday, { seed, regime, tickSeconds: 300 })
        const tick = tickAt(day, "09:20:00")
        const step = day.o.strikeStep
        const wing = (t: "CE" | "PE", distance: number): number =>
          priceAtStrike(tick, step, t, t === "PE" ? tick.spot * (1 - distance) : tick.spot * (1 + distance))
        const band = BANDS[tradingDaysBetween(day.o.date, day.o.expiry)] ?? []
        const got = [wing("PE", 0.02), wing("CE", 0.02), wing("PE", 0.05), wing("CE", 0.05)]
        got.forEach((p, i) => {
          const [lo, hi] = band[i] ?? [NaN, NaN]
          expect(p, `${weekday} ${regime} seed ${seed}: ${got.map((x) => x.toFixed(2)).join(" ")}`).toBeGreaterThanOrEqual(lo - 1e-9)
          expect(p).toBeLessThanOrEqual(hi)
        })
        // away from the money every step costs less (from ₹1 down, two strikes may round to the same tick)
        const atm = atmStrike(tick.spot, step)
        for (const side of [1, -1] as const) {
          const t = side === 1 ? "CE" : "PE"
          for (let k = 1; Math.abs(atm + (k + 1) * side * step - tick.spot) <= tick.spot * 0.1; k++) {
            const near = lastAt(priceOf(tick, atm + k * side * step, t))
            const far = lastAt(priceOf(tick, atm + (k + 1) * side * step, t))
            expect(far, `${t} ${atm + (k + 1) * side * step}`).toBeLessThanOrEqual(near)
            if (near >= 1) expect(far).toBeLessThan(near)
          }
        }
      }),
      { ...FC, numRuns: 40 }
    )
  })

  it("makes OTM puts richer than calls at the same distance from spot, in every regime, on both indices", () => {
    fc.assert(
      fc.property(seedArb, weekdayArb, fc.constantFrom(...REGIMES), fc.constantFrom("09:20:00", "11:00:00", "13:30:00"), (seed, weekday, regime, time) => {
        const day = v2Day(weekday, { seed, regime, tickSeconds: 300 })
        const tick = tickAt(day, time)
        for (const distance of [0.01, 0.02, 0.03, 0.04, 0.05]) {
          const put = priceAtStrike(tick, day.o.strikeStep, "PE", tick.spot * (1 - distance))
          const call = priceAtStrike(tick, day.o.strikeStep, "CE", tick.spot * (1 + distance))
          if (call > 0.1) expect(put, `${weekday} ${regime} ${time} ${distance}`).toBeGreaterThan(call)
          else expect(put).toBeGreaterThanOrEqual(call - 1e-9) // both at the tick
        }
      }),
      { ...FC, numRuns: 40 }
    )
  })

  it("decays 0DTE wings toward the 0.05 tick through the day", () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom("Tuesday", "Thursday" as const), fc.constantFrom("calm", "trending", "whipsaw", "gap", "volCrush" as const), (seed, weekday, regime) => {
        const day = v2Day(weekday, { seed, regime, tickSeconds: 300 })
        // 2 % wings lose over four fifths of their premium from 09:20 to 15:00
        expect(wingPair(day, tickAt(day, "15:00:00"))).toBeLessThanOrEqual(0.2 * wingPair(day, tickAt(day, "09:20:00")))
        // and whatever the day did, at 15:15 every option 3 % or more out of the money is at or near the tick
        const late = tickAt(day, "15:15:00")
        const far = late.chain.flatMap(([k, ce, pe]) => [...(k >= late.spot * 1.03 ? [ce] : []), ...(k <= late.spot * 0.97 ? [pe] : [])])
        expect(Math.max(...far)).toBeLessThanOrEqual(day.o.index === "NIFTY" ? 0.25 : 1)
      }),
      { ...FC, numRuns: 30 }
    )
  })
})

describe("generateWeek on the bundled calendar", () => {
  it("skips the week's holidays and moves the expiry back: NIFTY's Tuesday 31-Mar expires Monday 30-Mar (0DTE), no Good Friday", () => {
    const calendar = Effect.runSync(parseCalendarFile(readFileSync(path.join(ROOT, "config", "holidays.json"), "utf8"), "config/holidays.json"))
    const holidays = { NSE: holidaysOf(calendar, "NSE"), BSE: holidaysOf(calendar, "BSE") }
    const week = generateWeek({ start: "2026-03-30", seed: 3, tickSeconds: 3600, schedule: SCHEDULE_TEXT, holidays })
    expect(week.map((d) => [d.date, d.index, d.expiry, d.dte])).toEqual([
      ["2026-03-30", "NIFTY", "2026-03-30", 0],
      ["2026-04-02", "SENSEX", "2026-04-02", 0]
    ])
    // The week before: Friday 27-Mar is one session from Monday's expiry.
    const before = generateWeek({ start: "2026-03-23", seed: 3, tickSeconds: 3600, schedule: SCHEDULE_TEXT, holidays })
    expect(before.map((d) => [d.date, d.expiry, d.dte])).toEqual([
      ["2026-03-23", "2026-03-24", 1],
      ["2026-03-24", "2026-03-24", 0],
      ["2026-03-27", "2026-03-30", 1]
    ])
  })
})

describe("generateTradingDays", () => {
  it("makes the sample week as generateWeek does, on a week without holidays", () => {
    const days = generateTradingDays({ ...SAMPLE_WEEK, tickSeconds: 900, days: 4, schedule: SCHEDULE_TEXT })
    const week = generateWeek({ ...SAMPLE_WEEK, tickSeconds: 900, schedule: SCHEDULE_TEXT })
    expect(days.map((d) => [d.file, d.text])).toEqual(week.map((d) => [d.file, d.text]))
  })

  it("skips weekends and each index's exchange holidays, moves expiries back over holidays, fills empty weekdays it is told to", () => {
    const holidays = { NSE: new Set(["2026-03-31"]), BSE: new Set(["2026-03-26"]) }
    const days = generateTradingDays({ start: "2026-03-22", days: 8, seed: 1, tickSeconds: 3600, schedule: SCHEDULE_TEXT, holidays, borrow: { Wednesday: "Friday" } })
    expect(days.map((d) => [d.date, d.index, d.expiry, d.dte])).toEqual([
      ["2026-03-23", "NIFTY", "2026-03-24", 1],
      ["2026-03-24", "NIFTY", "2026-03-24", 0],
      ["2026-03-25", "NIFTY", "2026-03-30", 3], // Wednesday, with Friday's entries; Tuesday 31 is an NSE holiday
      // Thursday 26: a BSE holiday, no SENSEX day
      ["2026-03-27", "NIFTY", "2026-03-30", 1],
      ["2026-03-30", "NIFTY", "2026-03-30", 0],
      // Tuesday 31: an NSE holiday
      ["2026-04-01", "NIFTY", "2026-04-07", 4],
      ["2026-04-02", "SENSEX", "2026-04-02", 0],
      ["2026-04-03", "NIFTY", "2026-04-07", 2]
    ])
    expect(linesOf(days[2]?.text ?? "")[0]?.entries).toEqual(SCHEDULE.days.Friday?.entries)
    const plain = generateTradingDays({ start: "2026-03-23", days: 3, seed: 1, tickSeconds: 3600, schedule: SCHEDULE_TEXT })
    expect(plain.map((d) => d.date)).toEqual(["2026-03-23", "2026-03-24", "2026-03-26"]) // no Wednesday, no holidays
    expect(() => generateTradingDays({ start: "2026-03-23", days: 0, seed: 1, schedule: SCHEDULE_TEXT })).toThrow(/days/)
  })
})

describe("the four-week set (simulations/four-weeks)", () => {
  const set = fourWeeks()
  const files = existsSync(FOUR_WEEKS_DIR) ? readdirSync(FOUR_WEEKS_DIR).filter((f) => f.endsWith(".jsonl")).sort() : []
  const CALENDAR = Effect.runSync(parseCalendarFile(readFileSync(path.join(ROOT, "config", "holidays.json"), "utf8"), "config/holidays.json"))
  const HOLIDAYS = { NSE: [...holidaysOf(CALENDAR, "NSE")], BSE: [...holidaysOf(CALENDAR, "BSE")] }
  const DTE_BY_WEEKDAY: Record<string, number> = { Monday: 1, Tuesday: 0, Wednesday: 4, Thursday: 0, Friday: 2 }

  /** The options a day of the set was generated with, as far as its file shows them. */
  const optionsOf = (d: (typeof set)[number]): GenerateDayOptions => {
    const day = SCHEDULE.days[d.weekday === "Wednesday" ? "Friday" : d.weekday]
    return {
      date: d.date,
      index: d.index,
      expiry: d.expiry,
      lotSize: lotSizeFor(INSTRUMENTS, d.index, d.expiry),
      strikeStep: strikeStepOf(INSTRUMENTS, d.index),
      tickSeconds: FOUR_WEEKS.tickSeconds,
      baskets: FOUR_WEEKS.baskets,
      budgetPerBasket: FOUR_WEEKS.budgetPerBasket,
      entries: day?.entries ?? [],
      seed: d.seed,
      model: "v2"
    }
  }

  it("is what write-four-weeks.ts makes, byte for byte (regenerate: npx tsx simulations/write-four-weeks.ts)", () => {
    expect(files).toEqual(set.map((d) => d.file))
    for (const day of set) {
      expect(readFileSync(path.join(FOUR_WEEKS_DIR, day.file), "utf8") === day.text, `${day.file} is stale`).toBe(true)
    }
  })

  it("parses with readRecordedDay, every file: a whole session of minute ticks", async () => {
    expect(files).toHaveLength(20)
    for (const f of files) {
      const day = await Effect.runPromise(readRecordedDay(path.join(FOUR_WEEKS_DIR, f)))
      expect(day.ticks).toHaveLength(376)
      expect(`${day.header.date}-${day.header.index}.jsonl`).toBe(f)
    }
  })

  it("is 20 consecutive trading days of July 2026: NIFTY on weekly expiry Tuesdays and 1, 2 and 4 DTE, SENSEX on its Thursday expiries, the schedule's entries", () => {
    const weekdays: Array<string> = []
    for (let d = 6; d <= 31; d++) {
      const date = `2026-07-${d < 10 ? `0${d}` : d}`
      if (new Date(`${date}T12:00:00Z`).getUTCDay() % 6 !== 0) weekdays.push(date)
    }
    expect(set.map((d) => d.date)).toEqual(weekdays)
    for (const d of set) {
      expect(HOLIDAYS.NSE.includes(d.date) || HOLIDAYS.BSE.includes(d.date)).toBe(false)
      expect(d.index).toBe(d.weekday === "Thursday" ? "SENSEX" : "NIFTY")
      expect(d.dte).toBe(DTE_BY_WEEKDAY[d.weekday])
      expect(d.expiry).toBe(weeklyExpiryOf(d.index, d.date))
      expect(new Date(`${d.expiry}T12:00:00Z`).getUTCDay()).toBe(d.index === "NIFTY" ? 2 : 4)
      expectWellFormed(d.text, optionsOf(d))
    }
  })

  it("mixes the regimes, each hurting one on at least two days, and each visible in its day's data", () => {
    const count = (r: Regime): number => set.filter((d) => d.regime === r).length
    for (const r of ["gap", "volSpike", "volCrush", "whipsaw"] as const) expect(count(r), r).toBeGreaterThanOrEqual(2)
    expect(count("calm")).toBeGreaterThanOrEqual(1)
    expect(count("trending")).toBeGreaterThanOrEqual(1)
    expect(set.map((d) => d.regime)).toEqual(set.map((d) => FOUR_WEEKS.regime[d.date as keyof typeof FOUR_WEEKS.regime]))
    const lastClose: Partial<Record<IndexName, number>> = {}
    for (const d of set) {
      const lines = linesOf(d.text)
      const day: Day = {
        o: optionsOf(d),
        text: d.text,
        ticks: lines.filter((r) => r.type === "tick") as Array<Tick>,
        exits: lines.filter((r) => r.type === "exit"),
        previousClose: lastClose[d.index] ?? d.meta.previousClose // the index's previous file, where there is one
      }
      lastClose[d.index] = day.ticks[day.ticks.length - 1]?.spot ?? 0
      const open = day.ticks[0] as Tick
      const spots = day.ticks.map((t) => t.spot)
      const what = `${d.date} ${d.regime}`
      switch (d.regime) {
        case "gap":
          expect(Math.abs(open.spot / day.previousClose - 1), what).toBeGreaterThanOrEqual(0.0099)
          expect(atmIvOf(day, open), what).toBeGreaterThan(1.05 * atmIvOf(day, tickAt(day, "12:00:00")))
          break
        case "volSpike":
          expect(largestIvRise(day, 10)[0], what).toBeGreaterThanOrEqual(0.04)
          break
        case "volCrush":
          expect(atmIvOf(day, tickAt(day, "12:00:00")), what).toBeLessThanOrEqual(0.75 * atmIvOf(day, tickAt(day, "09:20:00")))
          break
        case "whipsaw":
          expect(reversalsOf(day.ticks, 0.006), what).toBeGreaterThanOrEqual(2)
          if (d.dte === 0) expect(day.exits.length, what).toBeGreaterThanOrEqual(2)
          break
        case "calm":
          expect(Math.max(...spots) / Math.min(...spots) - 1, what).toBeLessThan(0.025)
          break
        case "trending":
          expect(Math.abs((spots[spots.length - 1] ?? 0) / open.spot - 1), what).toBeGreaterThanOrEqual(0.005)
          break
      }
    }
  })
})
