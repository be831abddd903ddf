// What the execution platform did, as the broker's positions show it. The platform enters the day's
// scheduled strategies at their times and exits them on schedule or on its own stops; the broker
// account shows this only as short option units appearing and going. Shorts are counted per contract
// (strike and option type), so that one look can show one portfolio gone and another come even when
// both hold the same units of each option type. An entry is seen once, at or after its time, the
// account holds, beyond what the entries already seen explain, the short units of each of its legs at
// the leg's strike around one at-the-money strike; those contracts are then its own. An exit is seen
// when short units of its contracts go away (on or after its scheduled exit time: TIMED; before it:
// the platform's stop, SL_HIT). The same units at the same contracts going and coming between two
// looks cannot be told apart from nothing happening: that stays unseen.
import { Effect } from "effect"
import type { EntrySpec, OptionType, Position } from "../domain/market.ts"
import { instantOf } from "../domain/time.ts"
import type { DayPlan } from "../runtime/session-plan.ts"
import { Broker, type StrategyEvent, StrategyFeed } from "../services/services.ts"

/** Short units (positive numbers) by contract, keyed "strike type". */
type ShortUnits = ReadonlyMap<string, number>

const contractOf = (strike: number, optionType: OptionType): string => `${strike} ${optionType}`

/** Short units by contract of the day's expiry. */
const shortUnits = (positions: ReadonlyArray<Position>, expiry: string): ShortUnits => {
  const units = new Map<string, number>()
  for (const p of positions) if (p.expiry === expiry && p.quantity < 0) add(units, contractOf(p.strike, p.optionType), -p.quantity)
  return units
}

const add = (units: Map<string, number>, contract: string, n: number) => units.set(contract, (units.get(contract) ?? 0) + n)
const plus = (a: ShortUnits, b: ShortUnits): ShortUnits => {
  const sum = new Map(a)
  for (const [c, n] of b) add(sum, c, n)
  return sum
}
/** What `a` holds beyond `b`, contract by contract (positive parts only). */
const beyond = (a: ShortUnits, b: ShortUnits): ShortUnits => new Map([...a].map(([c, n]) => [c, n - (b.get(c) ?? 0)] as const).filter(([, n]) => n > 0))
const covers = (have: ShortUnits, need: ShortUnits): boolean => [...need].every(([c, n]) => (have.get(c) ?? 0) >= n)

/** The short units an entry's legs add by contract, placed around the at-the-money strike `atm`. */
const entryShorts = (entry: EntrySpec, atm: number, plan: DayPlan): ShortUnits => {
  const units = new Map<string, number>()
  for (const leg of entry.legs) if (leg.side === "SELL") add(units, contractOf(atm + leg.strikeOffset * plan.strikeStep, leg.optionType), leg.lotsPerBasket * plan.baskets * plan.lotSize)
  return units
}

/**
 * Where an entry's shorts sit among the unexplained ones: the at-the-money strikes its legs can be
 * placed around (each short leg on an unexplained short of its type), lowest first; the first whose
 * legs are all there, with their units, or null. An entry selling nothing is there at once.
 */
const placeEntry = (entry: EntrySpec, unexplained: ShortUnits, plan: DayPlan): ShortUnits | null => {
  const sells = entry.legs.filter((l) => l.side === "SELL")
  if (sells.length === 0) return new Map()
  const atms = new Set<number>()
  for (const contract of unexplained.keys()) {
    const [strike, optionType] = contract.split(" ")
    for (const leg of sells) if (leg.optionType === optionType) atms.add(Number(strike) - leg.strikeOffset * plan.strikeStep)
  }
  for (const atm of [...atms].sort((a, b) => a - b)) {
    const need = entryShorts(entry, atm, plan)
    if (covers(unexplained, need)) return need
  }
  return null
}

/**
 * The portfolio of the shorts the account held before the day's first entry (carried from an earlier
 * day): live from the start, the oldest, so shorts that go from a contract it shares with the day's
 * entries go from it first; its exit tells the session that the wings covering it are free (`CLOSED`).
 */
export const CARRIED_AT_OPEN = "carried at the open"

/** The pure rule: positions observed over time in, strategy events out. */
export class PositionWatcher {
  private readonly entries: Array<{ readonly spec: EntrySpec; readonly at: number; readonly exitAt: number | null }>
  /** The live portfolios and the shorts, by contract, that are theirs. */
  private readonly live = new Map<string, ShortUnits>()
  private readonly done = new Set<string>()
  readonly events: Array<StrategyEvent> = []

  constructor(private readonly plan: DayPlan) {
    this.entries = [...plan.entries]
      .map((spec) => ({ spec, at: instantOf(plan.date, spec.entryTime), exitAt: spec.exitTime === null ? null : instantOf(plan.date, spec.exitTime) }))
      .sort((a, b) => a.at - b.at)
  }

  /** Take one look at the account at `at`; the events it shows that were not seen before. */
  observe(at: number, positions: ReadonlyArray<Position>): ReadonlyArray<StrategyEvent> {
    const held = shortUnits(positions, this.plan.expiry)
    const fresh: Array<StrategyEvent> = []
    const explained = () => [...this.live.values()].reduce(plus, new Map())
    // Exits first: contracts short below what the live entries explain. Of the entries holding such a
    // contract, the first to go are those past their exit time, then the oldest.
    for (let missing = beyond(explained(), held); missing.size > 0; missing = beyond(explained(), held)) {
      const holding = this.entries.filter((e) => [...(this.live.get(e.spec.portfolio)?.keys() ?? [])].some((c) => missing.has(c)))
      const gone = holding.find((e) => e.exitAt !== null && e.exitAt <= at) ?? holding[0]!
      this.live.delete(gone.spec.portfolio)
      this.done.add(gone.spec.portfolio)
      const reason = gone.spec.portfolio === CARRIED_AT_OPEN ? "CLOSED" : gone.exitAt !== null && gone.exitAt <= at ? "TIMED" : "SL_HIT"
      fresh.push({ kind: "exited", portfolio: gone.spec.portfolio, at, reason })
    }
    // Then entries due, in time order, each taking the unexplained shorts at its legs' contracts; one
    // not there (late or missed) does not hold back a later one found elsewhere.
    for (const e of this.entries.filter((e) => e.at <= at)) {
      if (this.live.has(e.spec.portfolio) || this.done.has(e.spec.portfolio)) continue
      const own = placeEntry(e.spec, beyond(held, explained()), this.plan)
      if (own === null) continue
      this.live.set(e.spec.portfolio, own)
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
    const carried = shortUnits(positions, this.plan.expiry)
    if (carried.size === 0) return
    const spec: EntrySpec = { portfolio: CARRIED_AT_OPEN, entryTime: "00:00:00", exitTime: null, legs: [] }
    this.entries.unshift({ spec, at: Number.NEGATIVE_INFINITY, exitAt: null })
    this.live.set(CARRIED_AT_OPEN, carried)
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
