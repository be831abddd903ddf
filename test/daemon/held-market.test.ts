// The market a held instant sees: one read per instant, shared by every reader of it.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { holdAccountPerInstant, holdPerInstant } from "../../src/daemon/held-market.ts"
import type { MarketSnapshot } from "../../src/domain/market.ts"
import { BrokerUnavailable, MarketDataUnavailable, type Broker, type MarginMonitor } from "../../src/services/services.ts"
import type { OrderState } from "../../machines/protocol.ts"

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

/** An account whose every read is counted and answers what the account holds now. */
const countedAccount = () => {
  const reads = { positions: 0, funds: 0, margin: 0 }
  let lots = 0
  let failPositions = false
  const state = { orderId: "1", status: "filled", filledQuantity: 65, averagePrice: 3 } as unknown as OrderState
  const broker: Broker["Service"] = {
    placeOrder: () => Effect.sync(() => ((lots += 1), { orderId: "1" })),
    orderStatus: () => Effect.succeed(state),
    cancelOrder: () => Effect.succeed(state),
    findOrder: () => Effect.succeed(null),
    positions: Effect.suspend(() => {
      reads.positions++
      if (failPositions) {
        failPositions = false
        return Effect.fail(new BrokerUnavailable({ operation: "positionbook", message: "503" }))
      }
      return Effect.succeed([{ strike: 25_000, optionType: "CE" as const, expiry: "2026-02-10", quantity: lots }])
    }),
    funds: Effect.sync(() => ((reads.funds++), { usedMargin: lots, availableMargin: 0 }))
  }
  const monitor: MarginMonitor["Service"] = { marginInUse: Effect.sync(() => ((reads.margin++), lots)) }
  return { broker, monitor, reads, failOnce: () => void (failPositions = true) }
}

describe("holdAccountPerInstant", () => {
  it("reads the positions and the funds once per instant, whoever asks", async () => {
    const a = countedAccount()
    let now = 1_000
    const held = holdAccountPerInstant(a.broker, a.monitor, () => now)
    await Effect.runPromise(Effect.all([held.broker.positions, held.broker.positions, held.broker.funds, held.monitor.marginInUse, held.monitor.marginInUse], { concurrency: "unbounded" }))
    expect(a.reads).toEqual({ positions: 1, funds: 1, margin: 1 })
    now = 2_000
    await Effect.runPromise(held.broker.positions)
    expect(a.reads.positions).toBe(2)
  })

  it("reads again in the same instant once an order may have changed the account", async () => {
    const a = countedAccount()
    const held = holdAccountPerInstant(a.broker, a.monitor, () => 1_000)
    expect((await Effect.runPromise(held.broker.positions))[0]!.quantity).toBe(0)
    await Effect.runPromise(held.broker.placeOrder({} as never))
    expect((await Effect.runPromise(held.broker.positions))[0]!.quantity).toBe(1)
    expect(await Effect.runPromise(held.monitor.marginInUse)).toBe(1)
    await Effect.runPromise(held.monitor.marginInUse)
    // A look at an order (a fill is learnt that way) lets go too.
    await Effect.runPromise(held.broker.orderStatus("1"))
    await Effect.runPromise(held.monitor.marginInUse)
    expect(a.reads).toMatchObject({ positions: 2, margin: 2 })
  })

  it("does not hold a failed read", async () => {
    const a = countedAccount()
    const held = holdAccountPerInstant(a.broker, a.monitor, () => 1_000)
    a.failOnce()
    await Effect.runPromise(Effect.flip(held.broker.positions))
    await Effect.runPromise(held.broker.positions)
    expect(a.reads.positions).toBe(2)
  })
})
