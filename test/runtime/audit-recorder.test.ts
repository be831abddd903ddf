// The audit digest is the day's identity across versions: its serialisation must stay the text of
// JSON.stringify with every object's keys sorted, whatever the rows hold; and a row's payload stays what
// a JSON round trip of the event made of it.
import { deepStrictEqual } from "node:assert"
import { createHash } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { auditDigest, payloadOf, stateName } from "../../src/runtime/audit-recorder.ts"
import type { TransitionRow } from "../../src/services/services.ts"

/** The rule itself, as plainly as it can be written (and as the digest was first computed). */
const reference = (rows: ReadonlyArray<unknown>): string =>
  createHash("sha256")
    .update(
      rows
        .map((row) =>
          JSON.stringify(row, (_key, v: unknown) =>
            v !== null && typeof v === "object" && !Array.isArray(v)
              ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
              : v
          )
        )
        .join("\n")
    )
    .digest("hex")

const payload = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.array(tie("value"), { maxLength: 4 }),
    // Keys that JSON orders specially (array indices), unicode, and clashes with Object.prototype.
    fc.dictionary(fc.oneof(fc.string(), fc.nat({ max: 20 }).map(String), fc.constantFrom("10", "9", "01", "-1", "constructor", "toString")), tie("value"), { maxKeys: 5 })
  )
})).value

const row = fc.record({
  seq: fc.nat(),
  actorId: fc.string(),
  kind: fc.constantFrom("session", "entry", "hedge"),
  from: fc.string(),
  to: fc.string(),
  event: fc.string(),
  payload,
  at: fc.integer(),
  causation: fc.option(fc.nat())
})

describe("auditDigest", () => {
  it("is SHA-256 of the rows as JSON with sorted keys, one row a line", () => {
    fc.assert(fc.property(fc.array(row, { maxLength: 5 }), (rows) => {
      expect(auditDigest(rows as Array<TransitionRow>)).toBe(reference(rows))
    }), { numRuns: 500 })
  })

  it("serialises dates and other toJSON values as JSON does", () => {
    const rows = [{ seq: 1, actorId: "session", kind: "session", from: "", to: "idle", event: "CLOCK", payload: { when: new Date(0), nested: [new Date(1), { toJSON: (k: string) => `key ${k}` }] }, at: 0, causation: null }]
    expect(auditDigest(rows as unknown as Array<TransitionRow>)).toBe(reference(rows))
  })
})

/** The payload rule as first written: a JSON round trip, actor refs as their ids, errors as messages. */
const payloadByRoundTrip = (event: { readonly type: string }): unknown => {
  const { type: _type, ...rest } = event as Record<string, unknown>
  return JSON.parse(
    JSON.stringify(rest, (_key, value: unknown) => {
      if (value instanceof Error) return { error: value.message }
      if (value !== null && typeof value === "object" && "sessionId" in value && "send" in value) return `actor:${(value as unknown as { id: string }).id}`
      return value
    }) ?? "{}"
  )
}

describe("payloadOf", () => {
  it("is the event without its type, as a JSON round trip gives it back", () => {
    const odd = fc.constantFrom<unknown>(-0, Number.NaN, Infinity, -Infinity, () => 1, Symbol("s"), new Date(5), new Error("boom"), { sessionId: "x", send: () => undefined, id: "hedge-1" })
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        payload,
        odd,
        fc.array(fc.oneof(tie("v"), odd), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("10", "9", "__proto__", "toJSON")), fc.oneof(tie("v"), odd), { maxKeys: 4 })
      )
    })).v
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value, { maxKeys: 5 }), (fields) => {
        const event = { ...fields, type: "SOME_EVENT" }
        // node's deepStrictEqual: vitest's toStrictEqual takes an own "constructor" key for the class.
        deepStrictEqual(payloadOf(event), payloadByRoundTrip(event))
      }),
      { numRuns: 1000 }
    )
  })
})

describe("stateName", () => {
  it("names a state value as its regions' paths joined by commas", () => {
    const reference = (value: unknown): string => {
      if (typeof value === "string") return value
      if (value !== null && typeof value === "object") {
        return Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => (v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0) ? k : `${k}.${reference(v)}`))
          .join(",")
      }
      return String(value)
    }
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, fc.string(), fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 3 }), tie("v"), { maxKeys: 3 }))
    })).v
    fc.assert(
      fc.property(value, (v) => {
        expect(stateName(v)).toBe(reference(v))
      }),
      { numRuns: 1000 }
    )
    expect(stateName({ trading: "watching" })).toBe("trading.watching")
    expect(stateName({ hedging: { ordering: {} }, b: "x" })).toBe("hedging.ordering,b.x")
  })
})
