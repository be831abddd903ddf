// Needless hedges: a hedge is needless when, without it, no entry's breach or shortfall would have been
// worse. Measured exactly on what the day held: at every entry instant the hedge was held over, the
// truth margin of the world's positions with it and without it (everything else as it was). Why this
// and not a re-run of the day without the hedge: docs/margin-model.md ("Needless hedges").
import { Effect } from "effect"
import type { MarginModel } from "../src/domain/margin.ts"
import { netPositions } from "../src/domain/margin.ts"
import type { Position } from "../src/domain/market.ts"
import { protectionCostOf } from "../src/domain/objective.ts"
import { instantOf } from "../src/domain/time.ts"
import type { DayReport, HedgeReport } from "../src/runtime/day-report.ts"
import { OracleFailed, playDay } from "./oracle.ts"
import type { RecordedDay } from "../src/domain/recorded-day.ts"

export interface NeedlessReport {
  /** Hedges bought (filled). */
  readonly hedges: number
  /** Ids of the needless ones. */
  readonly needless: ReadonlyArray<string>
  /** Their protection cost, rupees (src/domain/objective.ts). */
  readonly needlessCost: number
}

/** Rupees of shortfall below which two margins count as equal (the truth model's rounding). */
const TOLERANCE = 0.01

/** Which of a replayed day's hedges were needless. */
export const needlessHedges = (day: RecordedDay, report: DayReport, truth: MarginModel): Effect.Effect<NeedlessReport, OracleFailed> =>
  Effect.gen(function*() {
    const h = day.header
    const fail = (message: string) => new OracleFailed({ message: `needless hedges ${h.date} ${h.index}: ${message}` })
    const bought = report.hedges.filter((x) => x.boughtAt !== null)
    if (bought.length === 0) return { hedges: 0, needless: [], needlessCost: 0 }
    const played = playDay(day)
    if (typeof played === "string") return yield* Effect.fail(fail(played))
    const budget = h.baskets * h.budgetPerBasket
    // At one instant the world fills orders before it enters: a hedge bought at an entry's instant is
    // held by it, one sold then is not.
    const heldAt = (x: HedgeReport, at: number) =>
      instantOf(h.date, x.boughtAt!) <= at && (x.closedAt === null || instantOf(h.date, x.closedAt) > at)
    const positionOf = (x: HedgeReport): Position => ({ strike: x.strike, optionType: x.optionType, expiry: h.expiry, quantity: x.quantity })
    const needed = new Set<string>()
    for (const check of played.checks) {
      const held = bought.filter((x) => heldAt(x, check.at))
      if (held.length === 0) continue
      const shortfall = (hedges: ReadonlyArray<HedgeReport>) =>
        truth
          .margin({
            index: h.index,
            date: h.date,
            expiry: h.expiry,
            lotSize: h.lotSize,
            spot: check.tick.spot,
            at: check.at,
            positions: netPositions([...check.positions, ...hedges.map(positionOf)]),
            chain: check.tick.chain
          })
          .pipe(
            Effect.map((m) => Math.max(0, m - budget)),
            Effect.mapError((e) => fail(e.message))
          )
      const withAll = yield* shortfall(held)
      for (const x of held) {
        if (needed.has(x.id)) continue
        if ((yield* shortfall(held.filter((y) => y !== x))) > withAll + TOLERANCE) needed.add(x.id)
      }
    }
    const needless = bought.filter((x) => !needed.has(x.id))
    return { hedges: bought.length, needless: needless.map((x) => x.id), needlessCost: protectionCostOf(needless) }
  })
