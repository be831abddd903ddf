// The broker margin estimate against the fake OpenAlgo, whose /margin answers as OpenAlgo's Zerodha
// adapter does (one order priced alone, two or more as the increment over the account) over the
// simulator's own SPAN truth: the estimate's differences are the simulated broker's, for one leg or many
// (issue 21), and a contract OpenAlgo does not list is an error, not left out of the basket.
import { readFileSync } from "node:fs"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeOpenAlgoBroker } from "../../../adapters/openalgo/broker.ts"
import { openAlgoClient } from "../../../adapters/openalgo/client.ts"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../../simulations/fake-openalgo-server.ts"
import { makeOpenAlgoMarginModel } from "../../../adapters/openalgo/margin.ts"
import { defaultConfig } from "../../../src/domain/config.ts"
import type { MarginModel } from "../../../src/domain/margin.ts"
import { atmStrike, type Position } from "../../../src/domain/market.ts"
import { spanMarginModel } from "../../../src/domain/span.ts"
import { instantOf } from "../../../src/domain/time.ts"
import type { MarketClock } from "../../../src/services/services.ts"
import { parseRecordedDay } from "../../../src/domain/recorded-day.ts"

// 2026-02-03, NIFTY expiry day; entry 1 sells a 15-basket ATM straddle at 09:16.
const day = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")
const { date, expiry, lotSize, index, baskets } = day.header
const AT = instantOf(date, "09:20:00")
const tick = day.ticks.filter((t) => t.at <= AT).at(-1)!
const ATM = atmStrike(day.ticks.filter((t) => t.at <= instantOf(date, "09:16:00")).at(-1)!.spot, day.header.strikeStep)
const KEY = "margin-increments-key"
const clock: MarketClock["Service"] = { now: Effect.succeed(AT), currentMillis: () => AT, timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>) } }
const truth = spanMarginModel(defaultConfig.span)
const query = (positions: ReadonlyArray<Position>) => ({ index, date, expiry, lotSize, spot: tick.spot, at: AT, positions, chain: tick.chain })
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

let fake: FakeOpenAlgo
let estimate: MarginModel
let held: ReadonlyArray<Position>
beforeAll(async () => {
  fake = await startFakeOpenAlgo({ day, now: () => AT, apiKey: KEY })
  const client = await run(openAlgoClient({ baseUrl: fake.url, apiKey: Redacted.make(KEY), index, expiry, timeouts: { readMs: 10_000 } }))
  const broker = makeOpenAlgoBroker(client, clock)
  estimate = makeOpenAlgoMarginModel(client, broker.positions)
  held = await run(broker.positions)
})
afterAll(() => fake.close())

const q = baskets * lotSize
const leg = (strike: number, optionType: "CE" | "PE", quantity: number): Position => ({ strike, optionType, quantity, expiry })

describe("the broker estimate's increments are the simulated broker's", () => {
  it("holds the entry's straddle", () => {
    expect(held).toHaveLength(2)
    expect(held.every((p) => p.quantity === -q)).toBe(true)
  })

  for (const [what, change] of [
    // The straddle's worst scenario is a rise: a call wing relieves it, a put wing only adds its own scan loss.
    ["one call wing (a relief, where priced alone it would cost)", [leg(ATM + 300, "CE", q)]],
    ["one put wing", [leg(ATM - 300, "PE", q)]],
    ["one more short", [leg(ATM + 200, "CE", -lotSize)]],
    ["a pair of wings", [leg(ATM - 300, "PE", q), leg(ATM + 300, "CE", q)]],
    ["a short bought back", [leg(ATM, "CE", q)]]
  ] as const) {
    it(what, async () => {
      const after = [...held, ...change]
      const ours = (await run(estimate.margin(query(after)))) - (await run(estimate.margin(query(held))))
      const broker = (await run(truth.margin(query(after)))) - (await run(truth.margin(query(held))))
      expect(ours).toBeCloseTo(broker, 2)
      if (what.startsWith("one call wing")) expect(broker).toBeLessThan(0)
    })
  }

  it("fails on a contract OpenAlgo does not list, naming it, rather than price the basket without it", async () => {
    const unlisted = leg(ATM + 50_000, "CE", q)
    const e = await run(Effect.flip(estimate.margin(query([...held, leg(ATM - 300, "PE", q), unlisted]))))
    expect(e).toMatchObject({ _tag: "MarginModelError", message: expect.stringContaining(`NIFTY03FEB26${ATM + 50_000}CE is not listed at OpenAlgo`) })
  })
})
