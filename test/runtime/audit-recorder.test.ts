// The audit digest is the day's identity across versions: its serialisation must stay the text of
// JSON.stringify with every object's keys sorted, whatever the rows hold.
import { createHash } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { auditDigest } from "../../src/runtime/audit-recorder.ts"
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
