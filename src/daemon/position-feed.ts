// What the execution platform did, as the broker's positions show it. The platform enters the day's
// scheduled strategies at their times and exits them on schedule or on its own stops; the broker
// account shows this only as short option units appearing and going. An entry is seen once, at or
// after its time, the account holds the short units of every option type its legs sell on top of
// what the entries already seen explain; an exit is seen when short units go away again (on or after
// a scheduled exit time: TIMED; before it: the platform's stop, SL_HIT).
import { Effect } from "effect"
import type { EntrySpec, OptionType, Position } from "../domain/market.ts"
import { instantOf } from "../domain/time.ts"
import type { DayPlan } from "../runtime/session-plan.ts"
import { Broker, type StrategyEvent, StrategyFeed } from "../services/services.ts"

type ShortUnits = Readonly<Record<OptionType, number>>

/** Short units by option type of the day's expiry (positive numbers). */
const shortUnits = (positions: ReadonlyArray<Position>, expiry: string): ShortUnits => {
  const units = { CE: 0, PE: 0 }
  for (const p of positions) if (p.expiry === expiry && p.quantity < 0) units[p.optionType] += -p.quantity
  return units
}

/** The short units an entry's legs add, by option type. */
const entryShorts = (entry: EntrySpec, baskets: number, lotSize: number): ShortUnits => {
  const units = { CE: 0, PE: 0 }
  for (const leg of entry.legs) if (leg.side === "SELL") units[leg.optionType] += leg.lotsPerBasket * baskets * lotSize
  return units
}

const covers = (have: ShortUnits, need: ShortUnits): boolean => have.CE >= need.CE && have.PE >= need.PE
const minus = (a: ShortUnits, b: ShortUnits): ShortUnits => ({ CE: a.CE - b.CE, PE: a.PE - b.PE })
const plus = (a: ShortUnits, b: ShortUnits): ShortUnits => ({ CE: a.CE + b.CE, PE: a.PE + b.PE })

/**
 * The portfolio of the shorts the account held before the day's first entry (carried from an earlier
 * day): live from the start, the oldest, so shorts that go away go from it first; its exit tells the
 * session that the wings covering it are free (`CLOSED`).
 */
export const CARRIED_AT_OPEN = "carried at the open"

/** The pure rule: positions observed over time in, strategy events out. */
export class PositionWatcher {
  private readonly entries: Array<{ readonly spec: EntrySpec; readonly at: number; readonly exitAt: number | null; readonly shorts: ShortUnits }>
  private readonly live = new Set<string>()
  private readonly done = new Set<string>()
  private baseline: ShortUnits | null = null
  readonly events: Array<StrategyEvent> = []

  constructor(private readonly plan: DayPlan) {
    this.entries = [...plan.entries]
      .map((spec) => ({
        spec,
        at: instantOf(plan.date, spec.entryTime),
        exitAt: spec.exitTime === null ? null : instantOf(plan.date, spec.exitTime),
        shorts: entryShorts(spec, plan.baskets, plan.lotSize)
      }))
      .sort((a, b) => a.at - b.at)
  }

  /** Take one look at the account at `at`; the events it shows that were not seen before. */
  observe(at: number, positions: ReadonlyArray<Position>): ReadonlyArray<StrategyEvent> {
    const held = shortUnits(positions, this.plan.expiry)
    // Shorts held at the first look and not explained by entries due by then are not the day's.
    const due = this.entries.filter((e) => e.at <= at)
    if (this.baseline === null) this.baseline = { CE: 0, PE: 0 }
    const fresh: Array<StrategyEvent> = []
    const explained = () => [...this.live].map((p) => this.entries.find((e) => e.spec.portfolio === p)!.shorts).reduce(plus, this.baseline!)
    // Exits first: shorts gone below what the live entries explain. The first entries to go are those
    // past their exit time, then the oldest.
    for (let missing = minus(explained(), held); this.live.size > 0 && (missing.CE > 0 || missing.PE > 0); missing = minus(explained(), held)) {
      const live = this.entries.filter((e) => this.live.has(e.spec.portfolio))
      const gone = live.find((e) => e.exitAt !== null && e.exitAt <= at) ?? live[0]!
      this.live.delete(gone.spec.portfolio)
      this.done.add(gone.spec.portfolio)
      const reason = gone.spec.portfolio === CARRIED_AT_OPEN ? "CLOSED" : gone.exitAt !== null && gone.exitAt <= at ? "TIMED" : "SL_HIT"
      fresh.push({ kind: "exited", portfolio: gone.spec.portfolio, at, reason })
    }
    for (const e of due) {
      if (this.live.has(e.spec.portfolio) || this.done.has(e.spec.portfolio)) continue
      if (!covers(minus(held, explained()), e.shorts)) break
      this.live.add(e.spec.portfolio)
      fresh.push({ kind: "entered", portfolio: e.spec.portfolio, at, reason: "" })
    }
    this.events.push(...fresh)
    return fresh
  }

  /**
   * Start from what the account held before the first entry (positions carried from earlier days): its
   * shorts are the portfolio CARRIED_AT_OPEN, live from the start.
   */
  setBaseline(positions: ReadonlyArray<Position>): void {
    this.baseline = { CE: 0, PE: 0 }
    const carried = shortUnits(positions, this.plan.expiry)
    if (carried.CE === 0 && carried.PE === 0) return
    const spec: EntrySpec = { portfolio: CARRIED_AT_OPEN, entryTime: "00:00:00", exitTime: null, legs: [] }
    this.entries.unshift({ spec, at: Number.NEGATIVE_INFINITY, exitAt: null, shorts: carried })
    this.live.add(CARRIED_AT_OPEN)
  }
}

/** The StrategyFeed service over the broker's positions: each ask takes a fresh look. */
export const positionStrategyFeed = (watcher: PositionWatcher, now: () => number): Effect.Effect<StrategyFeed["Service"], never, Broker> =>
  Effect.map(Effect.service(Broker), (broker) => ({
    seen: Effect.map(broker.positions, (positions) => {
      watcher.observe(now(), positions)
      return [...watcher.events]
    })
  }))
