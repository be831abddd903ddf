// netPositions decides the order a margin sums in, so its answer must not depend on how it is computed:
// the rule is "merge by contract in order of appearance, drop zeros, sort by expiry, strike, type".
import { deepStrictEqual } from "node:assert"
import fc from "fast-check"
import { describe, it } from "vitest"
import { netPositions } from "../../src/domain/margin.ts"
import type { Position } from "../../src/domain/market.ts"

/** The rule as first written. */
const reference = (positions: ReadonlyArray<Position>): ReadonlyArray<Position> => {
  const byKey = new Map<string, Position>()
  for (const p of positions) {
    const key = `${p.expiry}|${p.strike}|${p.optionType}`
    const prev = byKey.get(key)
    byKey.set(key, prev === undefined ? p : { ...prev, quantity: prev.quantity + p.quantity })
  }
  return [...byKey.values()]
    .filter((p) => p.quantity !== 0)
    .sort((a, b) => a.expiry.localeCompare(b.expiry) || a.strike - b.strike || a.optionType.localeCompare(b.optionType))
}

const position = fc.record({
  strike: fc.integer({ min: 1, max: 8 }).map((k) => 22_000 + 50 * k),
  optionType: fc.constantFrom("CE" as const, "PE" as const),
  quantity: fc.integer({ min: -4, max: 4 }).map((q) => 75 * q),
  expiry: fc.constantFrom("2026-02-10", "2026-02-17", "2026-03-31"),
  // Whatever else a position carries comes from the first one of its contract.
  tag: fc.nat({ max: 9 })
})

describe("netPositions", () => {
  it("merges, drops and orders as the rule says, keeping the first position of each contract", () => {
    fc.assert(
      fc.property(fc.array(position, { maxLength: 14 }), (positions) => {
        deepStrictEqual(netPositions(positions), reference(positions))
      }),
      { numRuns: 2000 }
    )
  })

  it("gives an already netted portfolio back as it is", () => {
    fc.assert(
      fc.property(fc.array(position, { maxLength: 14 }), (positions) => {
        const netted = netPositions(positions)
        deepStrictEqual(netPositions(netted), netted)
      })
    )
  })
})
