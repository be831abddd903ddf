// Fuzzing the recorded-day reader: the spec's example day with a value anywhere replaced by anything
// (wrong types, absurd numbers, deep nesting, strings where numbers go), keys removed, lines dropped,
// cut or garbled. The reader either returns a day whose header is plausible or throws a DayFileError
// `file:line: key: problem` in one line, naming a key; never another exception, never a stack trace.
import { readFileSync } from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DayFileError, parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { parseBoundedJson } from "../../src/domain/bounded-json.ts"
import { fuzzParameters, fuzzTimeout, isOperatorMessage } from "./runs.ts"

const LINES = readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8").trimEnd().split("\n")
type Json = unknown

/** Every key path of a JSON value (objects and arrays), the value itself as []. */
const pathsOf = (value: Json, prefix: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  const out: Array<ReadonlyArray<string | number>> = [prefix]
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])))
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]))
  return out
}
const setAt = (root: Json, path: ReadonlyArray<string | number>, value: Json | undefined): Json => {
  if (path.length === 0) return value
  const copy = structuredClone(root) as Record<string | number, Json>
  let cur = copy
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, Json>
  const last = path[path.length - 1]!
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1)
    else delete cur[last]
  } else cur[last] = value
  return copy
}

const nested = (depth: number, open: string, close: string, inner = "1") => open.repeat(depth) + inner + close.repeat(depth)
/** Stands for an array nested `depth` deep, written into the line's text (too deep to build and stringify). */
const DEEP = /"__deep_(\d+)__"/g
const hostile: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: 33, max: 100_000 }).map((depth) => `__deep_${depth}__`),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(0, -1, 1e-300, 1e308, -1e308, 30_000_000, 2 ** 53, 0.000001, 65.5, "", "09:15:00", "9999-12-31", "2026-02-30", null, [], {}, true),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.string({ maxLength: 20 })
)
const mutation = fc.oneof(
  // a value anywhere in a line replaced, or removed
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("replace" as const), line: fc.oneof(fc.constant(0), fc.nat()), pick: fc.nat(), value: fc.option(hostile, { nil: undefined }) }) },
  // a line made deep, cut, garbled, dropped or duplicated
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deep" as const), line: fc.nat(), depth: fc.integer({ min: 30, max: 100_000 }), array: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const), line: fc.nat(), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("garble" as const), line: fc.nat(), text: fc.string({ maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), line: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), line: fc.nat() }) }
)

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

const apply = (lines: Array<string>, m: Mutation): Array<string> => {
  const i = m.line % lines.length
  const out = [...lines]
  switch (m.kind) {
    case "replace": {
      let value: Json
      try {
        value = parseBoundedJson(out[i]!)
      } catch {
        break // a line already garbled or made deep stays so
      }
      const paths = pathsOf(value).filter((p) => p.length > 0)
      const path = paths[m.pick % paths.length]!
      out[i] = JSON.stringify(setAt(value, path, m.value)).replace(DEEP, (_, depth: string) => nested(Number(depth), "[", "]"))
      break
    }
    case "deep":
      out[i] = out[i]!.replace(/\d+(\.\d+)?/, nested(m.depth, m.array ? "[" : '{"a":', m.array ? "]" : "}"))
      break
    case "cut":
      out[i] = out[i]!.slice(0, m.at % Math.max(1, out[i]!.length))
      break
    case "garble":
      out[i] = m.text
      break
    case "drop":
      out.splice(i, 1)
      break
    case "duplicate":
      out.splice(i, 0, out[i]!)
      break
  }
  return out
}

describe("fuzzing day files", () => {
  it("every mutated day is read as a plausible day or refused naming its line and key", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const lines = mutations.reduce(apply, [...LINES])
        let day
        try {
          day = parseRecordedDay(lines.join("\n") + "\n", "fuzz.jsonl")
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(DayFileError)
          const error = e as DayFileError
          expect(isOperatorMessage(error.message), error.message).toBe(true)
          expect(error.message).toMatch(/^fuzz\.jsonl:\d+: [^:\s][^:]*: \S/)
          expect(error.line).toBeGreaterThanOrEqual(1)
          expect(error.line).toBeLessThanOrEqual(lines.length + 1)
          return
        }
        const h = day.header
        expect(h.baskets * h.budgetPerBasket).toBeLessThanOrEqual(1e13)
        expect(h.baskets * h.budgetPerBasket).toBeGreaterThanOrEqual(1000)
        expect(h.lotSize).toBeLessThanOrEqual(10_000)
        for (const t of day.ticks) expect(t.chain.length).toBeGreaterThan(0)
      }),
      fuzzParameters(300)
    )
  }, fuzzTimeout(60_000))
})
