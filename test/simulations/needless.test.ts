import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { netPositions } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { needlessHedges } from "../../simulations/needless.ts"
import { playDay } from "../../simulations/oracle.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { simulate, truthModelOf } from "../../simulations/simulate.ts"

const file = "simulations/days/2026-02-10-NIFTY.jsonl"
const day = parseRecordedDay(readFileSync(file, "utf8"), file)
const truth = truthModelOf("span", defaultConfig)

describe("needless hedges", () => {
  it("are the hedges without which no entry's shortfall is worse, re-evaluated at every entry they were held over", async () => {
    const [run] = await Effect.runPromise(simulate([{ file, day }], ["static"], defaultConfig, undefined, undefined, truth))
    const report = run!.days[0]!
    const result = await Effect.runPromise(needlessHedges(day, report, truth))
    const bought = report.hedges.filter((h) => h.boughtAt !== null)
    expect(result.hedges).toBe(bought.length)
    // Check each verdict against the definition, entry by entry.
    const play = playDay(day) as Exclude<ReturnType<typeof playDay>, string>
    const budget = day.header.baskets * day.header.budgetPerBasket
    const at = (t: string) => instantOf(day.header.date, t)
    for (const h of bought) {
      let needed = false
      for (const check of play.checks) {
        const held = bought.filter((x) => at(x.boughtAt!) <= check.at && (x.closedAt === null || at(x.closedAt) > check.at))
        if (!held.includes(h)) continue
        const shortfall = (hs: typeof held) =>
          Effect.runSync(truth.margin({ index: day.header.index, date: day.header.date, expiry: day.header.expiry, lotSize: day.header.lotSize, spot: check.tick.spot, at: check.at, chain: check.tick.chain, positions: netPositions([...check.positions, ...hs.map((x) => ({ strike: x.strike, optionType: x.optionType, expiry: day.header.expiry, quantity: x.quantity }))]) })) - budget
        if (Math.max(0, shortfall(held.filter((x) => x !== h))) > Math.max(0, shortfall(held)) + 0.01) needed = true
      }
      expect(result.needless.includes(h.id), `${h.id} needless`).toBe(!needed)
    }
    // Static hedges every entry of 2026-02-10 (an expiry day that breaches): 4 of its 9 hedges are needed.
    expect(result.needless.length).toBeGreaterThan(0)
    expect(result.needless.length).toBeLessThan(bought.length)
    const cost = bought.filter((h) => result.needless.includes(h.id)).reduce((s, h) => s + Math.max(0, h.paid - h.received), 0)
    expect(result.needlessCost).toBeCloseTo(cost, 2)
  })

  it("counts nothing for a day without hedges", async () => {
    const [run] = await Effect.runPromise(simulate([{ file, day }], ["none"], defaultConfig, undefined, undefined, truth))
    expect(await Effect.runPromise(needlessHedges(day, run!.days[0]!, truth))).toEqual({ hedges: 0, needless: [], needlessCost: 0 })
  })
})
