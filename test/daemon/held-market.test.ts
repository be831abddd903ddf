// The market a held instant sees: one read per instant, shared by every reader of it.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { holdPerInstant } from "../../src/daemon/held-market.ts"
import type { MarketSnapshot } from "../../src/domain/market.ts"
import { MarketDataUnavailable } from "../../src/services/services.ts"

/** A market whose every read answers with a new spot (the market moves between reads), or fails when told to. */
const movingMarket = () => {
  let reads = 0
  let failNext = false
  const read = Effect.suspend(() => {
    reads++
    if (failNext) {
      failNext = false
      return Effect.fail(new MarketDataUnavailable({ message: "optionchain: 503" }))
    }
    // Answers after a turn of the event loop, as an HTTP read does.
    return Effect.promise(() => new Promise<MarketSnapshot>((resolve) => setImmediate(() => resolve({ at: 0, spot: 25_000 + reads, chain: [] }))))
  })
  return { read, reads: () => reads, failOnce: () => void (failNext = true) }
}

describe("holdPerInstant", () => {
  it("gives every reader of an instant the same snapshot, read once, even when they ask together", async () => {
    const market = movingMarket()
    let now = 1_000
    const held = holdPerInstant(market.read, () => now)
    const together = await Effect.runPromise(Effect.all([held.snapshot, held.snapshot, held.snapshot], { concurrency: "unbounded" }))
    expect(new Set(together.map((s) => s.spot))).toEqual(new Set([25_001]))
    expect(market.reads()).toBe(1)
    expect(held.seenAt(1_000)?.spot).toBe(25_001)
    // The next instant reads the market again; what the last one saw is no longer held.
    now = 2_000
    expect(held.seenAt(2_000)).toBeUndefined()
    expect((await Effect.runPromise(held.snapshot)).spot).toBe(25_002)
    expect(held.seenAt(1_000)).toBeUndefined()
    expect(held.seenAt(2_000)?.spot).toBe(25_002)
  })

  it("does not hold a failed read: the next reader of the same instant asks again", async () => {
    const market = movingMarket()
    const held = holdPerInstant(market.read, () => 1_000)
    market.failOnce()
    const failed = await Effect.runPromise(Effect.flip(held.snapshot))
    expect(failed.message).toBe("optionchain: 503")
    expect(held.seenAt(1_000)).toBeUndefined()
    expect((await Effect.runPromise(held.snapshot)).spot).toBe(25_002)
    expect(market.reads()).toBe(2)
  })
})
