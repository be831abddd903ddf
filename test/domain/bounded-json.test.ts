// The nesting depth of JSON text, found before parsing it: brackets inside strings do not count.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseBoundedJson, tooDeepAt } from "../../src/domain/bounded-json.ts"

/** The nesting depth of a parsed value: 0 for a scalar, 1 for a flat array or object. */
const depthOf = (value: unknown): number =>
  typeof value === "object" && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0

describe("tooDeepAt", () => {
  it("finds a bracket deeper than the limit exactly when the value nests deeper (strings with brackets and escapes included)", () => {
    const text = fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", "a") })
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), fc.array(text, { maxLength: 3 }), (value, limit, strings) => {
        const json = JSON.stringify([value, ...strings])
        expect(tooDeepAt(json, limit) >= 0).toBe(depthOf([value, ...strings]) > limit)
      })
    )
  })

  it("refuses a 100,000-deep array before parsing, saying where", () => {
    expect(() => parseBoundedJson("[".repeat(100_000) + "]".repeat(100_000))).toThrow("nested deeper than 32 levels at position 32")
    expect(parseBoundedJson(JSON.stringify({ a: "[".repeat(40) }))).toEqual({ a: "[".repeat(40) })
  })
})
