import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { readFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { createGzip, gzipSync } from "node:zlib"
import { createWriteStream } from "node:fs"
import { pipeline } from "node:stream/promises"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { instantOf } from "../../src/domain/time.ts"
import {
  DayFileError,
  formatRecordedDay,
  listDayFiles,
  parseRecordedDay,
  readRecordedDay,
  type RecordedDay
} from "../../src/domain/recorded-day.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const EXAMPLE_PATH = path.join(here, "../fixtures/days/2026-02-03-nifty-example.jsonl")
const EXAMPLE = readFileSync(EXAMPLE_PATH, "utf8")
const EXAMPLE_LINES: ReadonlyArray<string> = EXAMPLE.split("\n").filter((l) => l !== "")

type Json = Record<string, any>

/** The example's lines, to mutate. Line numbers are 1-based like the errors. */
class Lines {
  readonly lines: Array<string>
  constructor(lines: ReadonlyArray<string> = EXAMPLE_LINES) {
    this.lines = [...lines]
  }
  /** 1-based number of the first line whose JSON satisfies `pred`. */
  find(pred: (o: Json) => boolean): number {
    const i = this.lines.findIndex((l) => pred(JSON.parse(l)))
    if (i < 0) throw new Error("no such line in the example")
    return i + 1
  }
  edit(line: number, fn: (o: Json) => void): this {
    const o = JSON.parse(this.lines[line - 1]!)
    fn(o)
    this.lines[line - 1] = JSON.stringify(o)
    return this
  }
  set(line: number, text: string): this {
    this.lines[line - 1] = text
    return this
  }
  remove(line: number): this {
    this.lines.splice(line - 1, 1)
    return this
  }
  insertAfter(line: number, text: string): this {
    this.lines.splice(line, 0, text)
    return this
  }
  get last(): number {
    return this.lines.length
  }
  text(): string {
    return this.lines.join("\n") + "\n"
  }
}

const L = () => new Lines()
const exitOf = (portfolio: string) => (o: Json) => o.type === "exit" && o.portfolio === portfolio
const tickAt = (time: string) => (o: Json) => o.type === "tick" && o.time === time

const errorOf = (text: string, file = "day.jsonl"): DayFileError => {
  try {
    parseRecordedDay(text, file)
  } catch (e) {
    if (e instanceof DayFileError) return e
    throw new Error(`expected a DayFileError, got ${String(e)}`)
  }
  throw new Error("expected the day to be rejected, it parsed")
}

describe("parseRecordedDay on the spec example", () => {
  const day = parseRecordedDay(EXAMPLE, "example.jsonl")

  it("reads the header", () => {
    expect(day.header).toMatchObject({
      version: 1,
      date: "2026-02-03",
      index: "NIFTY",
      expiry: "2026-02-03",
      lotSize: 65,
      strikeStep: 50,
      tickSeconds: 300,
      baskets: 15,
      budgetPerBasket: 750000,
      openingPositions: []
    })
    expect(day.header.entries).toHaveLength(10)
    expect(day.header.entries[0]).toEqual({
      portfolio: "ITJ_NF_EXP 1",
      entryTime: "09:16:00",
      exitTime: "14:15:00",
      legs: [
        { side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 },
        { side: "SELL", optionType: "PE", strikeOffset: 0, lotsPerBasket: 1 }
      ]
    })
    expect(day.header.entries[4]!.exitTime).toBeNull()
  })

  it("reads the records", () => {
    expect(day.ticks).toHaveLength(76)
    expect(day.ticks[0]!.time).toBe("09:15:00")
    expect(day.ticks[day.ticks.length - 1]!.time).toBe("15:30:00")
    expect(day.exits.map((x) => [x.time, x.portfolio, x.reason])).toEqual([
      ["10:05:53", "ITJ_NF_EXP 3", "SL_HIT"],
      ["10:14:10", "ITJ_NF_EXP 2", "SL_HIT"],
      ["10:36:37", "ITJ_NF_EXP 1", "SL_HIT"],
      ["11:38:18", "ITJ_NF_EXP 4", "SL_HIT"]
    ])
    expect(day.margins).toEqual([
      { type: "margin", time: "09:20:05", at: instantOf("2026-02-03", "09:20:05"), used: 2815000, available: 7185000 }
    ])
    const first = day.ticks[0]!
    expect(first.spot).toBe(24823.76)
    expect(first.chain[0]).toEqual({ strike: 22350, ce: 2473.75, pe: 0.05 })
  })

  it("stamps every record with the IST instant of its time", () => {
    // 09:15:00 IST = 03:45:00 UTC
    expect(day.ticks[0]!.at).toBe(Date.UTC(2026, 1, 3, 3, 45, 0))
    expect(day.ticks[0]!.at).toBe(instantOf("2026-02-03", "09:15:00"))
    for (const r of [...day.ticks, ...day.exits, ...day.margins]) expect(r.at).toBe(instantOf("2026-02-03", r.time))
  })

  it("keeps every chain ascending in steps of strikeStep", () => {
    for (const t of day.ticks) {
      for (let i = 1; i < t.chain.length; i++) expect(t.chain[i]!.strike).toBeGreaterThan(t.chain[i - 1]!.strike)
      for (const r of t.chain) expect(r.strike % 50).toBe(0)
    }
  })
})

describe("formatRecordedDay", () => {
  const day = parseRecordedDay(EXAMPLE, "example.jsonl")

  it("round trips: parse(format(day)) equals day", () => {
    const text = formatRecordedDay(day)
    expect(parseRecordedDay(text, "formatted.jsonl")).toEqual(day)
    expect(formatRecordedDay(parseRecordedDay(text, "formatted.jsonl"))).toBe(text)
  })

  it("writes the header first and the records merged in time order, rows as [strike, ce, pe]", () => {
    const lines = formatRecordedDay(day).trimEnd().split("\n").map((l) => JSON.parse(l))
    expect(lines).toHaveLength(1 + 76 + 4 + 1)
    expect(lines[0].type).toBe("day")
    const times = lines.slice(1).map((o) => o.time as string)
    expect(times).toEqual([...times].sort())
    expect(lines[1].chain[0]).toEqual([22350, 2473.75, 0.05])
    expect(lines.findIndex((o) => o.type === "margin")).toBe(3)
  })

  it("round trips opening positions, a BUY leg and the other index", () => {
    const text = L()
      .edit(1, (h) => {
        h.index = "SENSEX"
        h.openingPositions = [
          { strike: 24800, optionType: "CE", quantity: -975, avgPrice: 42.5, expiry: "2026-02-03" },
          { strike: 24500, optionType: "PE", quantity: 975, avgPrice: 3.1 }
        ]
        h.entries[0].legs.push({ side: "BUY", optionType: "PE", strikeOffset: -4, lotsPerBasket: 2 })
      })
      .text()
    const d = parseRecordedDay(text, "x.jsonl")
    expect(d.header.index).toBe("SENSEX")
    expect(d.header.openingPositions).toEqual([
      { strike: 24800, optionType: "CE", quantity: -975, avgPrice: 42.5, expiry: "2026-02-03" },
      { strike: 24500, optionType: "PE", quantity: 975, avgPrice: 3.1, expiry: "2026-02-03" }
    ])
    expect(parseRecordedDay(formatRecordedDay(d), "y.jsonl")).toEqual(d)
  })

  it("orders records given out of order in memory", () => {
    const shuffled: RecordedDay = { ...day, ticks: [...day.ticks].reverse(), exits: [...day.exits].reverse() }
    expect(parseRecordedDay(formatRecordedDay(shuffled), "z.jsonl")).toEqual(day)
  })
})

describe("what the reader tolerates", () => {
  it("ignores unknown keys everywhere", () => {
    const text = L()
      .edit(1, (h) => {
        h.recordedBy = "daemon 1.2"
        h.entries[0].tag = "x"
        h.entries[0].legs[0].note = 1
      })
      .edit(2, (t) => void (t.volume = 123))
      .edit(4, (m) => void (m.broker = "kite"))
      .text()
    expect(parseRecordedDay(text, "x.jsonl")).toEqual(parseRecordedDay(EXAMPLE, "x.jsonl"))
  })

  it("accepts 7-element rows with bid/ask and drops the extra columns", () => {
    const text = L()
      .edit(2, (t) => {
        t.chain = t.chain.map((r: Array<number | null>) => [...r, 1, 2, null, 3])
      })
      .text()
    expect(parseRecordedDay(text, "x.jsonl")).toEqual(parseRecordedDay(EXAMPLE, "x.jsonl"))
  })

  it("accepts a missing final newline and CRLF line ends", () => {
    expect(parseRecordedDay(EXAMPLE.trimEnd(), "x.jsonl")).toEqual(parseRecordedDay(EXAMPLE, "x.jsonl"))
    expect(parseRecordedDay(EXAMPLE.replace(/\n/g, "\r\n"), "x.jsonl")).toEqual(parseRecordedDay(EXAMPLE, "x.jsonl"))
  })

  it("accepts an exit exactly at the entry time and a day before expiry", () => {
    const l = L().edit(1, (h) => void (h.expiry = "2026-02-05"))
    const exitLine = l.find(exitOf("ITJ_NF_EXP 3"))
    l.edit(exitLine, (x) => void (x.time = "10:05:53"))
    const d = parseRecordedDay(l.text(), "x.jsonl")
    expect(d.header.expiry).toBe("2026-02-05")
    const text2 = L()
      .edit(1, (h) => void (h.entries[2].entryTime = "10:05:53"))
      .text()
    expect(parseRecordedDay(text2, "x.jsonl").exits[0]!.time).toBe("10:05:53")
  })
})

describe("malformed days are rejected with the line and key", () => {
  const first = L()
  const exit3 = first.find(exitOf("ITJ_NF_EXP 3")) // 10:05:53
  const exit2 = first.find(exitOf("ITJ_NF_EXP 2")) // 10:14:10
  const exit4 = first.find(exitOf("ITJ_NF_EXP 4")) // 11:38:18
  const marginLine = first.find((o) => o.type === "margin")
  const tick0925 = first.find(tickAt("09:25:00"))
  const tick1525 = first.find(tickAt("15:25:00"))
  const tick1530 = first.find(tickAt("15:30:00"))

  const cases: ReadonlyArray<readonly [name: string, text: () => string, line: number, key: string, mention?: string]> = [
    // header
    ["missing header key", () => L().edit(1, (h) => void delete h.lotSize).text(), 1, "lotSize", "missing"],
    ["header key of the wrong type", () => L().edit(1, (h) => void (h.baskets = "15")).text(), 1, "baskets", `"15"`],
    ["non-integer lotSize", () => L().edit(1, (h) => void (h.lotSize = 65.5)).text(), 1, "lotSize", "65.5"],
    ["zero tickSeconds", () => L().edit(1, (h) => void (h.tickSeconds = 0)).text(), 1, "tickSeconds", "0"],
    ["negative budget", () => L().edit(1, (h) => void (h.budgetPerBasket = -1)).text(), 1, "budgetPerBasket", "-1"],
    ["unknown version", () => L().edit(1, (h) => void (h.version = 3)).text(), 1, "version", "3"],
    ["unknown index", () => L().edit(1, (h) => void (h.index = "BANKNIFTY")).text(), 1, "index", "BANKNIFTY"],
    ["date that does not exist", () => L().edit(1, (h) => void (h.date = "2026-02-30")).text(), 1, "date", "2026-02-30"],
    ["date in another format", () => L().edit(1, (h) => void (h.date = "03/02/2026")).text(), 1, "date", "03/02/2026"],
    ["expiry before the date", () => L().edit(1, (h) => void (h.expiry = "2026-02-02")).text(), 1, "expiry", "2026-02-02"],
    ["entries not an array", () => L().edit(1, (h) => void (h.entries = {})).text(), 1, "entries"],
    ["bad entry time format", () => L().edit(1, (h) => void (h.entries[2].entryTime = "9:29")).text(), 1, "entries[2].entryTime", `"9:29"`],
    ["exitTime neither time nor null", () => L().edit(1, (h) => void (h.entries[5].exitTime = 5)).text(), 1, "entries[5].exitTime", `expected "HH:MM:SS" or null, got 5`],
    ["exitTime not after entryTime", () => L().edit(1, (h) => void (h.entries[3].exitTime = "10:16:30")).text(), 1, "entries[3].exitTime", "10:16:30"],
    ["entry without legs", () => L().edit(1, (h) => void (h.entries[0].legs = [])).text(), 1, "entries[0].legs"],
    ["leg with an unknown side", () => L().edit(1, (h) => void (h.entries[1].legs[0].side = "SHORT")).text(), 1, "entries[1].legs[0].side", "SHORT"],
    ["leg with an unknown option type", () => L().edit(1, (h) => void (h.entries[1].legs[1].optionType = "CALL")).text(), 1, "entries[1].legs[1].optionType", "CALL"],
    ["fractional strikeOffset", () => L().edit(1, (h) => void (h.entries[0].legs[1].strikeOffset = 0.5)).text(), 1, "entries[0].legs[1].strikeOffset", "0.5"],
    ["zero lotsPerBasket", () => L().edit(1, (h) => void (h.entries[9].legs[0].lotsPerBasket = 0)).text(), 1, "entries[9].legs[0].lotsPerBasket", "0"],
    ["leg missing a key", () => L().edit(1, (h) => void delete h.entries[6].legs[1].lotsPerBasket).text(), 1, "entries[6].legs[1].lotsPerBasket", "missing"],
    ["duplicate portfolio", () => L().edit(1, (h) => void (h.entries[4].portfolio = "ITJ_NF_EXP 1")).text(), 1, "entries[4].portfolio", "ITJ_NF_EXP 1"],
    ["opening position with a bad option type", () => L().edit(1, (h) => void (h.openingPositions = [{ strike: 24800, optionType: "XX", quantity: -65, avgPrice: 1 }])).text(), 1, "openingPositions[0].optionType", "XX"],
    ["opening position with fractional quantity", () => L().edit(1, (h) => void (h.openingPositions = [{ strike: 24800, optionType: "CE", quantity: -6.5, avgPrice: 1 }])).text(), 1, "openingPositions[0].quantity", "-6.5"],
    ["header not first", () => { const l = L(); const [a, b] = [l.lines[0]!, l.lines[1]!]; return l.set(1, b).set(2, a).text() }, 1, "type", "tick"],
    ["header that is not an object", () => L().set(1, "[1,2,3]").text(), 1, "header", "[1,2,3]"],
    ["empty file", () => "", 1, "type"],
    // records
    ["bad tick time format", () => L().edit(tick0925, (t) => void (t.time = "9:25:00")).text(), tick0925, "time", `"9:25:00"`],
    ["tick missing spot", () => L().edit(tick0925, (t) => void delete t.spot).text(), tick0925, "spot", "missing"],
    ["spot of the wrong type", () => L().edit(tick0925, (t) => void (t.spot = "24800")).text(), tick0925, "spot", `"24800"`],
    ["chain not an array", () => L().edit(tick0925, (t) => void (t.chain = null)).text(), tick0925, "chain", "null"],
    ["record out of time order", () => L().edit(marginLine, (m) => void (m.time = "09:19:59")).text(), marginLine, "time", "09:19:59"],
    ["exit out of time order", () => L().edit(exit2, (x) => void (x.time = "10:05:52")).text(), exit2, "time", "10:05:52"],
    ["unknown record type", () => L().edit(marginLine, (m) => void (m.type = "trade")).text(), marginLine, "type", "trade"],
    ["second header", () => L().insertAfter(5, L().lines[0]!).text(), 6, "type", "day"],
    ["record without type", () => L().edit(marginLine, (m) => void delete m.type).text(), marginLine, "type", "missing"],
    ["record that is not an object", () => L().set(tick0925, "42").text(), tick0925, "record", "42"],
    ["chain not ascending", () => L().edit(tick0925, (t) => { const c = t.chain; [c[5], c[6]] = [c[6], c[5]] }).text(), tick0925, "chain[6][0]"],
    ["duplicate strike", () => L().edit(tick0925, (t) => void (t.chain[7][0] = t.chain[6][0])).text(), tick0925, "chain[7][0]"],
    ["strike not a multiple of the step", () => L().edit(tick0925, (t) => void (t.chain[5][0] += 25)).text(), tick0925, "chain[5][0]", "multiple of strikeStep 50"],
    ["price of the wrong type", () => L().edit(tick0925, (t) => void (t.chain[5][1] = "12.5")).text(), tick0925, "chain[5][1]", `"12.5"`],
    ["negative price", () => L().edit(tick0925, (t) => void (t.chain[3][2] = -0.05)).text(), tick0925, "chain[3][2]", "-0.05"],
    ["row of the wrong length", () => L().edit(tick0925, (t) => void (t.chain[2] = [22500, 1.5])).text(), tick0925, "chain[2]", "[22500,1.5]"],
    ["bid/ask column of the wrong type", () => L().edit(tick0925, (t) => void (t.chain[4] = [...t.chain[4], 1, 2, 3, "x"])).text(), tick0925, "chain[4][6]", `"x"`],
    ["margin of the wrong type", () => L().edit(marginLine, (m) => void (m.used = "lots")).text(), marginLine, "used", "lots"],
    ["exit for an unknown portfolio", () => L().edit(exit3, (x) => void (x.portfolio = "ITJ_NF_EXP 11")).text(), exit3, "portfolio", "ITJ_NF_EXP 11"],
    ["exit before its entry", () => L().edit(exit4, (x) => void (x.portfolio = "ITJ_NF_EXP 5")).text(), exit4, "time", "11:38:18"],
    ["double exit", () => L().edit(exit2, (x) => void (x.portfolio = "ITJ_NF_EXP 3")).text(), exit2, "portfolio", "ITJ_NF_EXP 3"],
    ["exit with an unknown reason", () => L().edit(exit2, (x) => void (x.reason = "STOP")).text(), exit2, "reason", "STOP"],
    ["invalid JSON", () => L().set(tick0925, L().lines[tick0925 - 1]!.slice(0, 200)).text(), tick0925, "json"],
    ["a line that is not JSON at all", () => L().set(marginLine, "margin 09:20:05 2815000").text(), marginLine, "json", "margin 09:20:05"],
    ["blank line inside the file", () => L().insertAfter(10, "").text(), 11, "line"],
    ["blank line at the end", () => L().text() + "\n", first.last + 1, "line"],
    // first / last tick
    ["first tick after 09:15:00", () => L().remove(2).text(), 2, "time", "09:20:00"],
    ["no tick at all", () => new Lines([EXAMPLE_LINES[0]!]).text(), 1, "time"],
    ["no tick, only a margin record", () => new Lines([EXAMPLE_LINES[0]!, EXAMPLE_LINES[marginLine - 1]!]).text(), 2, "time"],
    ["ends before 15:29:00", () => L().remove(tick1530).text(), tick1525, "time", "15:25:00"],
    // implausible values (issue 19): each once gave a silently wrong report, an error naming nothing, or ran for minutes
    ["thirty million baskets", () => L().edit(1, (h) => void (h.baskets = 30_000_000)).text(), 1, "baskets", "30000000"],
    ["a budget per basket of 1e-300", () => L().edit(1, (h) => void (h.budgetPerBasket = 1e-300)).text(), 1, "budgetPerBasket", "1e-300"],
    ["a budget per basket of 1e308", () => L().edit(1, (h) => void (h.budgetPerBasket = 1e308)).text(), 1, "budgetPerBasket", "1e+308"],
    ["a lot size of a million", () => L().edit(1, (h) => void (h.lotSize = 1_000_000)).text(), 1, "lotSize", "1000000"],
    ["a strike step of 1e9", () => L().edit(1, (h) => void (h.strikeStep = 1e9)).text(), 1, "strikeStep", "1000000000"],
    ["lots per basket of a million", () => L().edit(1, (h) => void (h.entries[0].legs[0].lotsPerBasket = 1e6)).text(), 1, "entries[0].legs[0].lotsPerBasket", "1000000"],
    ["an expiry in year 9999", () => L().edit(1, (h) => void (h.expiry = "9999-12-31")).text(), 1, "expiry", "within 366 days"],
    ["an expiry a year and a day away", () => L().edit(1, (h) => void (h.expiry = "2027-02-05")).text(), 1, "expiry", "2027-02-05"],
    ["an empty chain", () => L().edit(tick0925, (t) => void (t.chain = [])).text(), tick0925, "chain", "an empty chain"],
    ["a chain far from spot", () => L().edit(tick0925, (t) => void (t.spot = t.spot * 3)).text(), tick0925, "chain", "±10 % of spot"],
    ["a chain short of 10 % below spot", () => L().edit(tick0925, (t) => void t.chain.shift()).text(), tick0925, "chain", "±10 % of spot"],
    ["a price of 1e300", () => L().edit(tick0925, (t) => void (t.chain[3][1] = 1e300)).text(), tick0925, "chain[3][1]", "1e+300"],
    ["an array nested 100,000 deep", () => L().set(marginLine, "[".repeat(100_000) + "]".repeat(100_000)).text(), marginLine, "json", "nested deeper than"],
    ["an object nested 100,000 deep in the header", () => L().set(1, '{"type":"day","x":' + '{"a":'.repeat(100_000) + "1" + "}".repeat(100_001)).text(), 1, "json", "nested deeper than"],
    ["ends before 15:29:00 with a later exit", () => L().remove(tick1530).insertAfter(tick1525, `{"type":"exit","time":"15:29:30","portfolio":"ITJ_NF_EXP 9","reason":"MANUAL"}`).text(), tick1525 + 1, "time", "15:25:00"]
  ]

  for (const [name, text, line, key, mention] of cases) it(name, () => {
    const e = errorOf(text(), "days/bad.jsonl")
    expect(e._tag).toBe("DayFileError")
    expect({ line: e.line, key: e.key }).toEqual({ line, key })
    expect(e.file).toBe("days/bad.jsonl")
    expect(e.message).toBe(`days/bad.jsonl:${line}: ${key}: ${e.problem}`)
    expect(e.message).not.toMatch(/[\r\n]/)
    expect(e.message.length).toBeLessThan(400)
    if (mention !== undefined) expect(e.problem).toContain(mention)
  })

  it("names the offending value in one line", () => {
    const e = errorOf(L().edit(1, (h) => void (h.entries[2].entryTime = "9:16")).text(), "a.jsonl")
    expect(e.message).toBe(`a.jsonl:1: entries[2].entryTime: expected "HH:MM:SS", got "9:16"`)
    const t = errorOf(L().edit(tick0925, (t) => void (t.time = "25:00:00")).text(), "b.jsonl")
    expect(t.message).toBe(`b.jsonl:${tick0925}: time: expected "HH:MM:SS", got "25:00:00"`)
  })

  it("reports the first problem when there are several", () => {
    const text = L()
      .edit(tick0925, (t) => void (t.chain[5][1] = "x"))
      .edit(exit3, (x) => void (x.portfolio = "nobody"))
      .text()
    expect(errorOf(text).line).toBe(tick0925)
  })
})

describe("files", () => {
  let dir = ""
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "recorded-day-"))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it("reads .jsonl and .jsonl.gz", async () => {
    const plain = path.join(dir, "2026-02-03.jsonl")
    const gz = path.join(dir, "2026-02-03.jsonl.gz")
    await writeFile(plain, EXAMPLE)
    await writeFile(gz, gzipSync(Buffer.from(EXAMPLE, "utf8")))
    const expected = parseRecordedDay(EXAMPLE, "x")
    expect(await Effect.runPromise(readRecordedDay(plain))).toEqual(expected)
    expect(await Effect.runPromise(readRecordedDay(gz))).toEqual(expected)
  })

  it("reports a bad line with the file's path", async () => {
    const file = path.join(dir, "bad.jsonl.gz")
    await writeFile(file, gzipSync(L().edit(1, (h) => void delete h.date).text()))
    const e = await Effect.runPromise(Effect.flip(readRecordedDay(file)))
    expect(e).toBeInstanceOf(DayFileError)
    expect(e.message).toBe(`${file}:1: date: missing required key`)
  })

  it("stops decompressing at the size cap: a gzip of 256 MiB (from a few hundred KiB) is refused, naming the file", async () => {
    const bomb = path.join(dir, "bomb.jsonl.gz")
    const spaces = Buffer.alloc(1024 * 1024, 0x20)
    await pipeline(async function*() {
      for (let i = 0; i < 256; i++) yield spaces
    }, createGzip(), createWriteStream(bomb))
    const e = await Effect.runPromise(Effect.flip(readRecordedDay(bomb)))
    expect(e.message).toBe(`${bomb}:0: file: decompressed, the file is larger than 128 MiB: not a recorded day`)
  }, 60_000)

  it("fails with line 0, key file when the file cannot be read", async () => {
    const missing = path.join(dir, "nope.jsonl")
    const exit = await Effect.runPromiseExit(readRecordedDay(missing))
    expect(Exit.isFailure(exit)).toBe(true)
    const e = await Effect.runPromise(Effect.flip(readRecordedDay(missing)))
    expect({ file: e.file, line: e.line, key: e.key }).toEqual({ file: missing, line: 0, key: "file" })
    expect(e.message).not.toMatch(/\n/)

    const corrupt = path.join(dir, "corrupt.jsonl.gz")
    await writeFile(corrupt, Buffer.from([0x1f, 0x8b, 1, 2, 3]))
    const c = await Effect.runPromise(Effect.flip(readRecordedDay(corrupt)))
    expect({ line: c.line, key: c.key }).toEqual({ line: 0, key: "file" })
  })

  it("lists day files of directories sorted by name, keeps plain files, rejects missing paths", async () => {
    const days = path.join(dir, "days")
    await mkdir(path.join(days, "sub.jsonl"), { recursive: true })
    for (const name of ["2026-02-04.jsonl", "2026-01-30.jsonl.gz", "2026-02-03.jsonl", "notes.txt", "x.json", ".hidden.jsonl"]) {
      await writeFile(path.join(days, name), "")
    }
    await writeFile(path.join(days, "sub.jsonl", "2026-01-01.jsonl"), "")
    const single = path.join(dir, "2026-02-03.jsonl")
    await writeFile(single, EXAMPLE)
    const listed = await Effect.runPromise(listDayFiles([days, single]))
    expect(listed).toEqual([
      path.join(days, "2026-01-30.jsonl.gz"),
      path.join(days, "2026-02-03.jsonl"),
      path.join(days, "2026-02-04.jsonl"),
      single
    ])
    const missing = path.join(dir, "missing")
    const e = await Effect.runPromise(Effect.flip(listDayFiles([days, missing])))
    expect(e).toBeInstanceOf(DayFileError)
    expect({ file: e.file, line: e.line, key: e.key }).toEqual({ file: missing, line: 0, key: "file" })
  })
})
