// Version 2 of the recorded-day format: where each opening position came from (a carried entry's leg,
// the engine's wing, or unknown). Version 1 files still read; the writer writes the lowest version
// that holds the header.
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { carriedPortfolios, DayFileError, formatRecordedDay, parseRecordedDay, type OpeningPosition } from "../../src/domain/recorded-day.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const EXAMPLE = readFileSync(path.join(here, "../fixtures/days/2026-02-03-nifty-example.jsonl"), "utf8")
const [HEADER, ...RECORDS] = EXAMPLE.split("\n").filter((l) => l !== "")

/** The example day with its header edited. */
const withHeader = (edit: (h: Record<string, any>) => void): string => {
  const h = JSON.parse(HEADER!)
  edit(h)
  return [JSON.stringify(h), ...RECORDS].join("\n") + "\n"
}

const CARRIED: ReadonlyArray<OpeningPosition> = [
  { strike: 25000, optionType: "CE", quantity: -975, avgPrice: 81.5, expiry: "2026-02-03", origin: { kind: "entry", portfolio: "NF_MON_1DTE 6" } },
  { strike: 25000, optionType: "PE", quantity: -975, avgPrice: 77.1, expiry: "2026-02-03", origin: { kind: "entry", portfolio: "NF_MON_1DTE 6" } },
  { strike: 25600, optionType: "CE", quantity: 975, avgPrice: 3.2, expiry: "2026-02-03", origin: { kind: "hedge", portfolio: "NF_MON_1DTE 6" } },
  { strike: 24200, optionType: "PE", quantity: 650, avgPrice: 1.1, expiry: "2026-02-03", origin: { kind: "hedge" } },
  { strike: 23000, optionType: "PE", quantity: -65, avgPrice: 0.5, expiry: "2026-02-03", origin: { kind: "unknown" } }
]

const errorOf = (text: string): DayFileError => {
  try {
    parseRecordedDay(text, "day.jsonl")
  } catch (e) {
    if (e instanceof DayFileError) return e
    throw e
  }
  throw new Error("expected the day to be rejected, it parsed")
}

describe("recorded-day version 2: carried positions with their origin", () => {
  it("reads every opening position's origin and the carried portfolios", () => {
    const day = parseRecordedDay(withHeader((h) => Object.assign(h, { version: 2, openingPositions: CARRIED })), "v2.jsonl")
    expect(day.header.version).toBe(2)
    expect(day.header.openingPositions).toEqual(CARRIED)
    expect(carriedPortfolios(day.header.openingPositions)).toEqual(["NF_MON_1DTE 6"])
  })

  it("writes version 2 when an origin is known, and reads back what it wrote, key for key", () => {
    const day = parseRecordedDay(withHeader((h) => Object.assign(h, { version: 2, openingPositions: CARRIED })), "v2.jsonl")
    const text = formatRecordedDay(day)
    expect(JSON.parse(text.split("\n")[0]!).version).toBe(2)
    expect(parseRecordedDay(text, "again.jsonl")).toEqual(day)
  })

  it("writes version 1 when no origin is known (the lowest version that holds the header)", () => {
    const unknown = CARRIED.map((p) => ({ ...p, origin: { kind: "unknown" as const } }))
    const day = parseRecordedDay(withHeader((h) => Object.assign(h, { version: 2, openingPositions: unknown })), "v2.jsonl")
    const header = JSON.parse(formatRecordedDay(day).split("\n")[0]!)
    expect(header.version).toBe(1)
    expect(header.openingPositions[0]).not.toHaveProperty("origin")
    // A day with no opening positions at all is written exactly as before version 2 existed.
    expect(formatRecordedDay(parseRecordedDay(EXAMPLE, "example.jsonl")).split("\n")[0]).toBe(HEADER)
  })

  it("still reads version 1: no opening position's origin is known (an origin key there is ignored)", () => {
    const day = parseRecordedDay(withHeader((h) => void (h.openingPositions = CARRIED)), "v1.jsonl")
    expect(day.header.version).toBe(1)
    expect(day.header.openingPositions).toEqual(CARRIED.map(({ origin: _, ...p }) => p))
    expect(carriedPortfolios(day.header.openingPositions)).toEqual([])
  })

  it("takes an exit record for a carried portfolio (held from the open), and still refuses an unknown one", () => {
    const v2 = withHeader((h) => Object.assign(h, { version: 2, openingPositions: CARRIED }))
    const exit = JSON.stringify({ type: "exit", time: "09:15:00", portfolio: "NF_MON_1DTE 6", reason: "TIMED" })
    const lines = v2.split("\n")
    lines.splice(2, 0, exit) // after the 09:15 tick
    expect(parseRecordedDay(lines.join("\n"), "exit.jsonl").exits[0]).toMatchObject({ portfolio: "NF_MON_1DTE 6", time: "09:15:00" })
    const v1 = withHeader((h) => void (h.openingPositions = CARRIED)).split("\n")
    v1.splice(2, 0, exit)
    expect(errorOf(v1.join("\n")).message).toBe(`day.jsonl:3: portfolio: no entry in the header (nor carried opening position) has portfolio "NF_MON_1DTE 6"`)
  })

  const bad = (edit: (p: Array<Record<string, any>>) => void) =>
    withHeader((h) => {
      const positions = CARRIED.map((p) => structuredClone(p) as Record<string, any>)
      edit(positions)
      Object.assign(h, { version: 2, openingPositions: positions })
    })

  const cases: ReadonlyArray<readonly [name: string, text: string, message: string]> = [
    ["a version-2 position without origin", bad((p) => void delete p[1]!.origin), `openingPositions[1].origin: missing required key`],
    ["an origin of an unknown kind", bad((p) => void (p[0]!.origin = { kind: "broker" })), `openingPositions[0].origin.kind: expected "entry" | "hedge" | "unknown", got "broker"`],
    ["an entry's origin without its portfolio", bad((p) => void delete p[0]!.origin.portfolio), `openingPositions[0].origin.portfolio: missing required key`],
    ["an empty portfolio", bad((p) => void (p[0]!.origin.portfolio = "")), `openingPositions[0].origin.portfolio:`],
    ["a carried portfolio that is also entered today", bad((p) => void (p[1]!.origin.portfolio = "ITJ_NF_EXP 3")), `openingPositions[1].origin.portfolio: expected a portfolio not entered today, got "ITJ_NF_EXP 3" (also entries[2])`],
    ["a wing covering a portfolio not carried", bad((p) => void (p[2]!.origin.portfolio = "NF_MON_1DTE 5")), `openingPositions[2].origin.portfolio: expected the portfolio of an opening position of kind "entry" (the short this wing covers), got "NF_MON_1DTE 5"`],
    ["an unknown origin with a portfolio", bad((p) => void (p[4]!.origin.portfolio = "X")), `openingPositions[4].origin.portfolio: expected no portfolio for an origin of kind "unknown", got "X"`],
    ["a position that expired before the day", bad((p) => void (p[3]!.expiry = "2026-01-27")), `openingPositions[3].expiry: expected a date on or after date "2026-02-03"`],
    ["version 3", withHeader((h) => void (h.version = 3)), `version: expected 1 | 2, got 3`]
  ]
  for (const [name, text, message] of cases) {
    it(`refuses ${name}, naming the field and the value`, () => {
      const e = errorOf(text)
      expect(e.line).toBe(1)
      expect(e.message).toContain(`day.jsonl:1: ${message}`)
    })
  }
})
