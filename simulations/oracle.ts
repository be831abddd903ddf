// The hindsight oracle: for a recorded day, the least any hedging policy could have paid for the
// protection the day needed, knowing the whole day in advance: a MILP over the day's entry instants.
// What exactly it solves, and why it is a lower bound rather than a plan, is in docs/margin-model.md
// ("The hindsight oracle").
import { Effect, Schema } from "effect"
import type { HedgeConfig } from "../src/domain/config.ts"
import { type Contract, evaluateLinear, type LinearMargin, type MarginModel, type MarginQuery, netPositions } from "../src/domain/margin.ts"
import type { ChainRow, IndexName, OptionType, Position } from "../src/domain/market.ts"
import { type Milp, type MilpRow, type MilpTerm, type MilpVariable, solveLpRelaxation, solveMilp } from "../src/domain/milp.ts"
import { legPositions, utilisationPct } from "../src/domain/projection.ts"
import { hedgeBandOf, hedgeCandidates, type HedgeBand, shortContracts } from "../src/domain/selection.ts"
import { instantOf, MARKET_CLOSE, wallTimeOf } from "../src/domain/time.ts"
import { objectiveOf, type ObjectiveParts, protectionCostOf as protectionCostOfHedges, type HedgeOutlay } from "../src/domain/objective.ts"
import type { RecordedDay, TickRecord } from "../src/domain/recorded-day.ts"
import { strategySchedule } from "../adapters/paper/world.ts"
import type { Totals } from "./report.ts"

// ---------------------------------------------------------------------------------------------
// Model

export interface OracleOptions {
  readonly config: HedgeConfig
  /** The margin the paper world charges (the simulator's truth); it must have a `linear` form. */
  readonly truth: MarginModel
}

/** One entry as the world enters it, and the utilisation it meets. */
export interface OracleEntry {
  readonly portfolio: string
  readonly at: number
  readonly time: string
  /** Truth utilisation just after the entry, with the oracle's hedges held (percent). */
  readonly utilisationPct: number
  /** The same without any hedge (what the "none" policy meets). */
  readonly unhedgedPct: number
}

/** A position of the oracle's plan: `lots` of one contract, held over the entries heldFrom..heldTo. */
export interface OracleHedge {
  readonly strike: number
  readonly optionType: OptionType
  readonly lots: number
  /** Wall time of the tick whose last price it is bought at (the lowest in band up to heldFrom). */
  readonly buyAt: string
  readonly buyPrice: number
  /** Wall time of the tick it is sold at (the highest after heldTo), null when held to the close. */
  readonly sellAt: string | null
  /** Per unit: that tick's price, or the value at the close (intrinsic on the expiry day, else 0). */
  readonly sellPrice: number
  /** Entry times of the first and the last entry it is held over. */
  readonly heldFrom: string
  readonly heldTo: string
}

export interface OracleReport {
  readonly date: string
  readonly index: IndexName
  readonly budget: number
  readonly entries: ReadonlyArray<OracleEntry>
  /** grossSpend − recovered: the minimum protection cost (see the docs for what is credited). */
  readonly netSpend: number
  readonly grossSpend: number
  /** Sale proceeds credited: per lot, never more than it cost. */
  readonly recovered: number
  /** What the plan's sales fetch beyond their cost: hindsight trading gains, not credited. */
  readonly uncreditedGain: number
  /** Entries above 100 % with the plan: the fewest any plan within the constraints leaves (none iff some plan has none). */
  readonly breaches: ReadonlyArray<{ readonly portfolio: string; readonly at: number; readonly utilisationPct: number }>
  /** Entries above the entry trigger with the plan (breaches included): the fewest, given the fewest breaches. */
  readonly aboveTrigger: ReadonlyArray<{ readonly portfolio: string; readonly at: number; readonly utilisationPct: number }>
  /** Highest utilisation over the entry instants, with the plan's hedges. */
  readonly peakUtilization: number
  readonly hedgeCount: number
  readonly plan: ReadonlyArray<OracleHedge>
  /** Variables of the MILP (intervals kept), and the wall time of building and solving it. */
  readonly variables: number
  readonly solveMs: number
}

export class OracleFailed extends Schema.TaggedError<OracleFailed>()("OracleFailed", {
  message: Schema.String
}) {}

// ---------------------------------------------------------------------------------------------
// The day as the world plays it

const keyOf = (strike: number, optionType: OptionType) => `${optionType}${strike}`

export interface EntryCheck {
  readonly portfolio: string
  readonly at: number
  /** Index into the distinct entry instants. */
  readonly instant: number
  readonly tick: TickRecord
  /** The world's positions just after this entry (netted, as the world holds them). */
  readonly positions: ReadonlyArray<Position>
}

export interface DayPlay {
  readonly checks: ReadonlyArray<EntryCheck>
  readonly instants: ReadonlyArray<number>
  /** Short contracts held at each tick (after the strategy events at or before it). */
  readonly shortsAtTick: ReadonlyArray<ReadonlySet<string>>
}

/**
 * The strategy events exactly as adapters/paper/world.ts schedules them (entries at their entry times,
 * exits at exit records or scheduled exit times, exits before entries at one instant: strategySchedule), and the
 * positions the world holds at each entry: legs struck at the ATM of the last tick at or before it.
 */
export const playDay = (day: RecordedDay): DayPlay | string => {
  const h = day.header
  const schedule = strategySchedule(day)

  let positions: ReadonlyArray<Position> = netPositions(h.openingPositions)
  const portfolios = new Map<string, ReadonlyArray<Position>>()
  const checks: Array<Omit<EntryCheck, "instant">> = []
  const after: Array<{ at: number; shorts: ReadonlySet<string> }> = []
  let tickIndex = -1
  for (const ev of schedule) {
    while ((day.ticks[tickIndex + 1]?.at ?? Number.POSITIVE_INFINITY) <= ev.at) tickIndex++
    const tick = day.ticks[tickIndex]
    if (ev.kind === "entered") {
      if (tick === undefined) return `entry ${ev.portfolio} at ${wallTimeOf(ev.at)} comes before the first tick`
      const entry = h.entries.find((e) => e.portfolio === ev.portfolio)!
      const legs = legPositions(entry.legs, tick.spot, h.strikeStep, h.baskets, h.lotSize, h.expiry)
      portfolios.set(ev.portfolio, legs)
      positions = netPositions([...positions, ...legs])
      checks.push({ portfolio: ev.portfolio, at: ev.at, tick, positions })
    } else {
      const legs = portfolios.get(ev.portfolio)
      if (legs === undefined) continue
      portfolios.delete(ev.portfolio)
      positions = netPositions([...positions, ...legs.map((p) => ({ ...p, quantity: -p.quantity }))])
    }
    after.push({ at: ev.at, shorts: shortContracts(positions) })
  }
  const instants = [...new Set(checks.map((c) => c.at))].sort((a, b) => a - b)
  const openingShorts = shortContracts(netPositions(h.openingPositions))
  const shortsAtTick: Array<ReadonlySet<string>> = []
  let e = -1
  for (const tick of day.ticks) {
    while ((after[e + 1]?.at ?? Number.POSITIVE_INFINITY) <= tick.at) e++
    shortsAtTick.push(e < 0 ? openingShorts : after[e]!.shorts)
  }
  return { checks: checks.map((c) => ({ ...c, instant: instants.indexOf(c.at) })), instants, shortsAtTick }
}

// ---------------------------------------------------------------------------------------------
// Prices the fill model allows

interface Fill {
  readonly price: number
  /** Tick index, or -1 for the value at the close. */
  readonly tick: number
}

interface ContractPrices {
  readonly contract: Contract
  readonly key: string
  /** Per instant k: the lowest price it could be bought at by then while in the candidate set. */
  readonly buy: ReadonlyArray<Fill | undefined>
  /** Per instant j: the best it could be sold for after it (a tick at or above the minimum exit price, or the close). */
  readonly sell: ReadonlyArray<Fill>
}

const priceIn = (rows: ReadonlyMap<number, ChainRow>, strike: number, optionType: OptionType): number | null => {
  const row = rows.get(strike)
  return row === undefined ? null : optionType === "CE" ? row.ce : row.pe
}

const hedgePrices = (day: RecordedDay, play: DayPlay, band: HedgeBand, minExitPrice: number): ReadonlyArray<ContractPrices> => {
  const h = day.header
  const { instants } = play
  const m = instants.length
  const last = instants[m - 1]!
  // Lowest in-band price per contract and per instant it is first reachable by (prefix minima below).
  const firstBuy = new Map<string, Array<Fill | undefined>>()
  const contracts = new Map<string, Contract>()
  day.ticks.forEach((tick, t) => {
    if (tick.at > last) return
    const k = instants.findIndex((at) => at >= tick.at)
    for (const c of hedgeCandidates(tick.chain, tick.spot, band, ["CE", "PE"], play.shortsAtTick[t])) {
      const key = keyOf(c.strike, c.optionType)
      let row = firstBuy.get(key)
      if (row === undefined) {
        row = new Array<Fill | undefined>(m).fill(undefined)
        firstBuy.set(key, row)
        contracts.set(key, { strike: c.strike, optionType: c.optionType, expiry: h.expiry })
      }
      const seen = row[k]
      if (seen === undefined || c.ltp < seen.price) row[k] = { price: c.ltp, tick: t }
    }
  })
  if (contracts.size === 0) return []
  const rows = day.ticks.map((tick) => new Map(tick.chain.map((r) => [r.strike, r] as const)))
  // The hedge machine values what is held at the close of the expiry day at its intrinsic value (the
  // spot of the last tick), and nothing is sold once the world has expired it; a hedge carried past
  // the day is credited nothing by the day's report.
  const closeAt = instantOf(h.date, MARKET_CLOSE)
  const closeTick = [...day.ticks].reverse().find((t) => t.at <= closeAt) ?? day.ticks[day.ticks.length - 1]
  const expiryDay = h.expiry === h.date && closeTick !== undefined
  const sellable = (tick: TickRecord) => !expiryDay || tick.at < closeAt
  const out: Array<ContractPrices> = []
  for (const key of [...contracts.keys()].sort()) {
    const contract = contracts.get(key)!
    const buy: Array<Fill | undefined> = []
    let best: Fill | undefined
    for (const f of firstBuy.get(key)!) {
      if (f !== undefined && (best === undefined || f.price < best.price)) best = f
      buy.push(best)
    }
    const atClose: Fill = {
      price: expiryDay ? Math.max(0, contract.optionType === "CE" ? closeTick.spot - contract.strike : contract.strike - closeTick.spot) : 0,
      tick: -1
    }
    // Best sale from each tick on (earliest tick on ties), then per instant: ticks strictly after it.
    const fromTick = new Array<Fill>(day.ticks.length + 1)
    fromTick[day.ticks.length] = atClose
    for (let t = day.ticks.length - 1; t >= 0; t--) {
      const p = priceIn(rows[t]!, contract.strike, contract.optionType)
      const next = fromTick[t + 1]!
      const usable = p !== null && p > 0 && p >= minExitPrice && sellable(day.ticks[t]!)
      fromTick[t] = usable && p >= next.price ? { price: p, tick: t } : next
    }
    const sell = instants.map((at) => {
      const t = day.ticks.findIndex((tick) => tick.at > at)
      return fromTick[t < 0 ? day.ticks.length : t]!
    })
    out.push({ contract, key, buy, sell })
  }
  return out
}

/**
 * The prices of a planner that knows the day's schedule but trades only at its own decision instants:
 * each entry's look-ahead (the last tick at or before entry time − lookaheadMinutes) to buy, with the
 * candidates in the band there; the first tick after the last entry a hedge is held for to sell (at
 * the minimum exit price or above, else its value at the close, as the hedge machine lets it expire).
 */
const decisionPrices = (day: RecordedDay, play: DayPlay, band: HedgeBand, config: HedgeConfig): ReadonlyArray<ContractPrices> => {
  const h = day.header
  const { instants } = play
  const lookahead = config.lookaheadMinutes * 60_000
  const tickAtOrBefore = (at: number) => {
    let t = 0
    while (t + 1 < day.ticks.length && day.ticks[t + 1]!.at <= at) t++
    return t
  }
  const decisionTicks = instants.map((at) => tickAtOrBefore(at - lookahead))
  const contracts = new Map<string, { contract: Contract; buy: Array<Fill | undefined> }>()
  decisionTicks.forEach((t, k) => {
    const tick = day.ticks[t]!
    for (const c of hedgeCandidates(tick.chain, tick.spot, band, ["CE", "PE"], play.shortsAtTick[t])) {
      const key = keyOf(c.strike, c.optionType)
      let row = contracts.get(key)
      if (row === undefined) {
        row = { contract: { strike: c.strike, optionType: c.optionType, expiry: h.expiry }, buy: new Array<Fill | undefined>(instants.length).fill(undefined) }
        contracts.set(key, row)
      }
      row.buy[k] = { price: c.ltp, tick: t }
    }
  })
  const closeAt = instantOf(h.date, MARKET_CLOSE)
  const closeTick = [...day.ticks].reverse().find((t) => t.at <= closeAt) ?? day.ticks[day.ticks.length - 1]!
  const expiryDay = h.expiry === h.date
  return [...contracts.keys()].sort().map((key) => {
    const { contract, buy } = contracts.get(key)!
    const atClose: Fill = {
      price: expiryDay ? Math.max(0, contract.optionType === "CE" ? closeTick.spot - contract.strike : contract.strike - closeTick.spot) : 0,
      tick: -1
    }
    const sell = instants.map((at): Fill => {
      const t = day.ticks.findIndex((tick) => tick.at > at)
      const tick = day.ticks[t]
      if (tick === undefined || (expiryDay && tick.at >= closeAt)) return atClose
      const p = priceIn(new Map(tick.chain.map((r) => [r.strike, r] as const)), contract.strike, contract.optionType)
      return p !== null && p > 0 && p >= config.minExitPrice ? { price: p, tick: t } : atClose
    })
    return { contract, key, buy, sell }
  })
}

// ---------------------------------------------------------------------------------------------
// The MILP

interface Interval {
  /** The contract (index into the prices). */
  readonly contract: number
  /** Bought by this instant… */
  readonly from: number
  /** …and held over the entries up to this one. */
  readonly to: number
  readonly name: string
  /** Rupees per lot: bought at buy[i]; net = bought less the sale credited, min(sell[j], buy[i]). */
  readonly gross: number
  readonly net: number
  readonly upper: number
}

/** What the solver works from: the day, the prices, and the truth's linear form at every entry. */
interface Setting {
  readonly checks: ReadonlyArray<EntryCheck>
  readonly instants: ReadonlyArray<number>
  readonly prices: ReadonlyArray<ContractPrices>
  readonly forms: ReadonlyArray<{ readonly form: LinearMargin; readonly asked: ReadonlyArray<number> }>
  readonly lotSize: number
  readonly cap: number
  readonly budget: number
  readonly triggerMargin: number
}

type Coefficients = ReadonlyArray<ReadonlyArray<number>>

/** The problem with a margin limit at the entries `constrained` marks, the others left free. */
interface Formulation {
  readonly intervals: ReadonlyArray<Interval>
  readonly variables: ReadonlyArray<MilpVariable>
  readonly rows: ReadonlyArray<MilpRow>
  /** Per constrained entry: its margin, in percent of the budget, as terms + constant. */
  readonly margins: ReadonlyArray<{ readonly terms: ReadonlyArray<MilpTerm>; readonly constant: number } | null>
  /** Per entry: the most margin any plan here can reach, rupees (hedges that raise margin held at their most). */
  readonly most: ReadonlyArray<number>
}

const formulate = (st: Setting, constrained: ReadonlyArray<boolean>): Formulation => {
  const { checks, instants, prices, forms, lotSize } = st
  const m = instants.length
  // Per contract and entry: its coefficients (null: the form cannot hold it there; absent: not asked).
  const byContract = forms.map(({ form, asked }) => new Map(asked.map((c, at) => [c, form.perUnit[at] ?? null] as const)))
  const coefficients = (c: number, e: number): Coefficients | null | undefined => byContract[e]!.get(c)
  const checksAt = instants.map((_, k) => checks.flatMap((ch, e) => (ch.instant === k ? [e] : [])))
  const limitedAt = checksAt.map((es) => es.filter((e) => constrained[e]))
  const any = (c: number, k: number, test: (v: number) => boolean) =>
    limitedAt[k]!.some((e) => (coefficients(c, e) ?? []).some((g) => g.some(test)))
  // Held at an entry it nets against (one of the entry's own shorts), a long is no hedge: never allowed.
  const usable = (c: number, k: number) => checksAt[k]!.every((e) => coefficients(c, e) != null)
  const helps = (c: number, k: number) => any(c, k, (v) => v < 0)
  const neverHurts = (c: number, k: number) => !any(c, k, (v) => v > 0)
  // Where no contract raises margin, a group never falls below its floor nor below a scenario no
  // contract moves; lots past those that bring every scenario a contract lowers there by themselves
  // are of no use.
  const usefulAt = checks.map((_, e) => {
    const { form, asked } = forms[e]!
    if (!constrained[e]) return new Map<number, number>(asked.map((c) => [c, 0]))
    if (asked.some((c) => (coefficients(c, e) ?? []).some((g) => g.some((v) => v > 0)))) return null
    const least = form.groups.map((g, gi) =>
      g.base.reduce((l, base, s) => (asked.every((c) => (coefficients(c, e)?.[gi]?.[s] ?? 0) === 0) ? Math.max(l, base) : l), g.floor)
    )
    return new Map(asked.map((c) => {
      let most = 0
      form.groups.forEach((g, gi) =>
        g.base.forEach((base, s) => {
          const v = coefficients(c, e)?.[gi]?.[s] ?? 0
          if (v < 0) most = Math.max(most, Math.ceil((base - least[gi]!) / (-v * lotSize) - 1e-9))
        })
      )
      return [c, most] as const
    }))
  })
  const usefulLots = (c: number, i: number, j: number): number => {
    let most = 0
    for (let k = i; k <= j; k++) {
      for (const e of checksAt[k]!) {
        const lots = usefulAt[e]?.get(c)
        if (lots === undefined) return Number.POSITIVE_INFINITY
        most = Math.max(most, lots)
      }
    }
    return most
  }
  // Contract a is no worse than b at instant k: every coefficient as low, at every limited entry there.
  const noWorse = (a: number, b: number, k: number) =>
    limitedAt[k]!.every((e) => {
      const ca = coefficients(a, e)!
      const cb = coefficients(b, e)!
      return ca.every((g, gi) => g.every((v, s) => v <= cb[gi]![s]!))
    })
  // A strict order (ties go to the lower index), so of equals exactly one stays.
  const dominates = (y: Interval, x: Interval): boolean => {
    if (y.gross > x.gross || y.net > x.net) return false
    let equal = y.gross === x.gross && y.net === x.net
    for (let k = x.from; k <= x.to; k++) {
      if (!noWorse(y.contract, x.contract, k)) return false
      equal &&= noWorse(x.contract, y.contract, k)
    }
    return !equal || y.contract < x.contract
  }

  // Variables: whole lots of a contract bought by instant i and held over the entries i..j. Left out,
  // as some other variable does at least as well in any plan: intervals over which the contract never
  // lowers a limited margin; intervals that a longer one of the same contract matches in price where
  // holding longer cannot raise a limited margin; intervals that another contract matches or beats in
  // price and, at every limited entry, in every coefficient.
  const candidates: Array<Interval> = []
  prices.forEach((p, c) => {
    for (let i = 0; i < m; i++) {
      const b = p.buy[i]
      if (b === undefined || !usable(c, i)) continue
      const before = p.buy[i - 1]
      if (i > 0 && before !== undefined && before.price === b.price && usable(c, i - 1) && neverHurts(c, i - 1)) continue
      let anyHelp = false
      for (let j = i; j < m && usable(c, j); j++) {
        anyHelp ||= helps(c, j)
        const longer = j + 1 < m && p.sell[j + 1]!.price === p.sell[j]!.price && usable(c, j + 1) && neverHurts(c, j + 1)
        if (longer || !anyHelp) continue
        const upper = Math.min(Math.floor(st.cap / (b.price * lotSize) + 1e-9), usefulLots(c, i, j))
        if (upper <= 0) continue
        candidates.push({ contract: c, from: i, to: j, name: `x${c}_${i}_${j}`, gross: b.price * lotSize, net: Math.max(0, b.price - p.sell[j]!.price) * lotSize, upper })
      }
    }
  })
  const intervals = candidates.filter((x) => !candidates.some((y) => y !== x && y.from === x.from && y.to === x.to && dominates(y, x)))

  const variables: Array<MilpVariable> = intervals.map((x) => ({ name: x.name, lower: 0, upper: x.upper, integer: true }))
  const rows: Array<MilpRow> = []
  // h = lots of a contract held at an instant: the sum of the intervals covering it.
  const covering = new Map<string, Array<Interval>>()
  for (const x of intervals) {
    for (let k = x.from; k <= x.to; k++) {
      const list = covering.get(`${x.contract}_${k}`)
      if (list === undefined) covering.set(`${x.contract}_${k}`, [x])
      else list.push(x)
    }
  }
  const held = new Set<string>()
  const holdOf = (c: number, k: number): string => {
    const name = `h${c}_${k}`
    if (!held.has(name)) {
      held.add(name)
      variables.push({ name, lower: 0, upper: Number.POSITIVE_INFINITY, integer: false })
      const terms = covering.get(`${c}_${k}`)!.map((x) => ({ variable: x.name, coefficient: -1 }))
      rows.push({ name: `hold${c}_${k}`, terms: [{ variable: name, coefficient: 1 }, ...terms], lower: 0, upper: 0 })
    }
    return name
  }
  // Margin at entry e = fixed + Σ_g z_g with z_g ≥ floor_g and z_g ≥ base_s + Σ perUnit·units for every
  // scenario s. In percent of the budget: rupee-sized bounds (1e7) upset the solver's scaling.
  const unit = st.budget / 100
  const most: Array<number> = []
  const margins = checks.map((check, e) => {
    const { form, asked } = forms[e]!
    const k = check.instant
    const heldAtMost = asked.map((c) => (covering.get(`${c}_${k}`) ?? []).reduce((s, x) => s + x.upper * lotSize, 0))
    most.push(form.groups.reduce((sum, g, gi) =>
      sum + g.base.reduce((w, base, s) => Math.max(w, asked.reduce((v, c, at) => v + Math.max(0, coefficients(c, e)?.[gi]?.[s] ?? 0) * heldAtMost[at]!, base)), g.floor), form.fixed))
    if (!constrained[e]) return null
    let constant = form.fixed
    const terms: Array<MilpTerm> = []
    form.groups.forEach((g, gi) => {
      const scenarios = g.base.map((base, s) => ({
        base,
        terms: asked.flatMap((c): Array<MilpTerm> => {
          const v = coefficients(c, e)?.[gi]?.[s] ?? 0
          return v !== 0 && covering.has(`${c}_${k}`) ? [{ variable: holdOf(c, k), coefficient: (-v * lotSize) / unit }] : []
        })
      }))
      // A scenario that starts at or under the floor and that hedges can only lower never binds.
      const live = scenarios.filter((r) => r.base > g.floor || r.terms.some((t) => t.coefficient < 0))
      if (live.every((r) => r.terms.length === 0)) {
        constant += Math.max(g.floor, ...live.map((r) => r.base))
        return
      }
      const z = `z${e}_${gi}`
      variables.push({ name: z, lower: g.floor / unit, upper: Number.POSITIVE_INFINITY, integer: false })
      live.forEach((r, s) => rows.push({ name: `sc${e}_${gi}_${s}`, terms: [{ variable: z, coefficient: 1 }, ...r.terms], lower: r.base / unit }))
      terms.push({ variable: z, coefficient: 1 })
    })
    return { terms, constant: constant / unit }
  })
  rows.push({ name: "cap", terms: intervals.map((x) => ({ variable: x.name, coefficient: x.gross })), upper: st.cap })
  return { intervals, variables, rows, margins, most }
}

/** Units of each asked contract held at entry e under `lots` (per interval name). */
const unitsAt = (st: Setting, intervals: ReadonlyArray<Interval>, lots: ReadonlyMap<string, number>, e: number): ReadonlyArray<number> => {
  const k = st.checks[e]!.instant
  return st.forms[e]!.asked.map((c) =>
    intervals.reduce((s, x) => (x.contract === c && x.from <= k && k <= x.to ? s + (lots.get(x.name) ?? 0) * st.lotSize : s), 0)
  )
}

const marginUnder = (st: Setting, intervals: ReadonlyArray<Interval>, lots: ReadonlyMap<string, number>, e: number): number =>
  evaluateLinear(st.forms[e]!.form, unitsAt(st, intervals, lots, e))

/** Margin at entry e ≤ limit (percent rows). */
const limitRow = (f: Formulation, e: number, limit: number, unit: number, flag?: { readonly name: string; readonly size: number }): MilpRow => {
  const mt = f.margins[e]!
  const terms = flag === undefined ? mt.terms : [...mt.terms, { variable: flag.name, coefficient: -flag.size }]
  return { name: flag === undefined ? `limit${e}` : `${flag.name}_limit`, terms, upper: limit / unit - mt.constant }
}

const problemOf = (f: Formulation, objective: ReadonlyArray<MilpTerm>, rows: ReadonlyArray<MilpRow>, variables: ReadonlyArray<MilpVariable> = []): Milp => ({
  sense: "minimize",
  objective,
  rows: [...f.rows, ...rows],
  variables: [...f.variables, ...variables]
})

// Hindsight has no deadline: a time limit would make the answer depend on the machine's load.
const UNLIMITED = { timeLimitSeconds: 3600 }

const solveWith = (f: Formulation, objective: ReadonlyArray<MilpTerm>, rows: ReadonlyArray<MilpRow>, variables: ReadonlyArray<MilpVariable> = []) =>
  solveMilp(problemOf(f, objective, rows, variables), UNLIMITED)

/**
 * The least net spend, exactly, solving the MILP over few of its variables: the LP relaxation's
 * optimum z and reduced costs d bound any solution that buys a lot of interval x by z + d_x. The MILP
 * is solved over the LP's support and the intervals with d ≈ 0; its optimum u proves every interval
 * with z + d_x > u useless, and is final when no other interval is left, else the MILP is solved again
 * over those too (whose optimum is then final by the same bound).
 */
const solveNet = (f: Formulation, rows: ReadonlyArray<MilpRow>) =>
  Effect.gen(function*() {
    const objective = netObjective(f)
    const full = problemOf(f, objective, rows)
    const lp = yield* solveLpRelaxation(full, UNLIMITED)
    if (lp.status === "infeasible") return lp
    const tolerance = 1e-6 * Math.max(1, Math.abs(lp.objective))
    const reduced = (x: Interval) => lp.reducedCosts.get(x.name) ?? 0
    const over = (keep: (x: Interval) => boolean): Milp => {
      const kept = new Set(f.intervals.filter(keep).map((x) => x.name))
      return { ...full, variables: full.variables.map((v) => (v.integer && !kept.has(v.name) && v.name.startsWith("x") ? { ...v, upper: 0 } : v)) }
    }
    const support = (x: Interval) => (lp.values.get(x.name) ?? 0) > 1e-9 || reduced(x) <= tolerance
    const restricted = over(support)
    const first = yield* solveMilp(restricted, UNLIMITED)
    if (first.status === "infeasible") return yield* solveMilp(full, UNLIMITED)
    const gap = first.objective - lp.objective
    const needed = (x: Interval) => reduced(x) <= gap + tolerance
    if (f.intervals.every((x) => support(x) || !needed(x))) return first
    // Only something cheaper by at least half a paisa matters: asked as a cut-off, a better plan is
    // usually disproved at the root.
    const wider = over((x) => support(x) || needed(x))
    const better = { ...wider, rows: [...wider.rows, { name: "better", terms: objective, upper: first.objective - 0.005 }] }
    const second = yield* solveMilp(better, UNLIMITED)
    return second.status === "optimal" ? second : first
  })

const netObjective = (f: Formulation): ReadonlyArray<MilpTerm> =>
  f.intervals.filter((x) => x.net > 0).map((x) => ({ variable: x.name, coefficient: x.net }))

const lotsOf = (f: Formulation, values: ReadonlyMap<string, number>): Map<string, number> =>
  new Map(f.intervals.map((x) => [x.name, Math.round(values.get(x.name) ?? 0)] as const))

interface Solved {
  readonly formulation: Formulation
  readonly lots: ReadonlyMap<string, number>
}

/**
 * Lots per interval. Every entry at or under the trigger when some plan manages it, at the least net
 * spend. Otherwise the fewest entries above 100 %, then the fewest above the trigger, pick the entries
 * let go (one weighted solve: the counts make it exactly lexicographic); the least net spend then keeps
 * every other entry within its limit (the trigger, or 100 % for an entry let go above the trigger
 * only) and leaves an entry let go above 100 % free.
 */
const solvePlan = (st: Setting) =>
  Effect.gen(function*() {
    const { checks, budget, triggerMargin } = st
    const unit = budget / 100
    const all = formulate(st, checks.map(() => true))
    const atTrigger = checks.map((_, e) => limitRow(all, e, triggerMargin, unit))
    const first = yield* solveNet(all, atTrigger)
    let solved: Solved & { readonly limits: ReadonlyArray<number | null> }
    if (first.status === "optimal") {
      solved = { formulation: all, lots: lotsOf(all, first.values), limits: checks.map(() => triggerMargin) }
    } else {
      // Entry e is let go past a limit when its flag is 1: margin_e ≤ limit + (its most excess)·flag.
      const flags: Array<MilpVariable> = []
      const rows: Array<MilpRow> = []
      const objective: Array<MilpTerm> = []
      for (const [limit, prefix, weight] of [[budget, "w", checks.length + 1], [triggerMargin, "y", 1]] as const) {
        checks.forEach((_, e) => {
          const excess = (all.most[e]! - limit) / unit
          if (excess <= 0) return
          const name = `${prefix}${e}`
          flags.push({ name, lower: 0, upper: 1, integer: true })
          rows.push(limitRow(all, e, limit, unit, { name, size: excess }))
          objective.push({ variable: name, coefficient: weight })
        })
      }
      const counted = yield* solveWith(all, objective, rows, flags)
      if (counted.status === "infeasible") return yield* new OracleFailed({ message: "the problem of which entries to let go is infeasible" })
      const chosen = lotsOf(all, counted.values)
      const held = all.intervals.filter((x) => chosen.get(x.name)! > 0)
      const flagged = (name: string) => (counted.values.get(name) ?? 0) > 0.5
      // Never below what that answer meets (the solver's own tolerance).
      const limits = checks.map((_, e) =>
        flagged(`w${e}`) ? null : Math.max(flagged(`y${e}`) ? budget : triggerMargin, marginUnder(st, held, chosen, e))
      )
      const f = formulate(st, limits.map((l) => l !== null))
      const spend = yield* solveNet(f, limits.flatMap((l, e) => (l === null ? [] : [limitRow(f, e, l, unit)])))
      if (spend.status === "infeasible") return yield* new OracleFailed({ message: "the spend problem is infeasible" })
      solved = { formulation: f, lots: lotsOf(f, spend.values), limits }
    }
    // Lots that cost nothing net can be left in by the solver: take out, largest outlay first, every lot
    // whose removal keeps each entry within its limit, or no worse than the solver's answer.
    const { formulation: f, limits } = solved
    const lots = new Map(solved.lots)
    const held = f.intervals.filter((x) => lots.get(x.name)! > 0)
    const allowed = limits.map((limit, e) => (limit === null ? null : Math.max(limit, marginUnder(st, held, lots, e))))
    const fits = () => allowed.every((limit, e) => limit === null || marginUnder(st, held, lots, e) <= limit)
    const order = [...held].sort((a, b) => b.gross - a.gross || (a.name < b.name ? -1 : 1))
    for (const x of order) {
      // The fewest lots that still fit: the margin is convex in them, so "fits" holds from some count up.
      let lo = 0
      let hi = lots.get(x.name)!
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2)
        lots.set(x.name, mid)
        if (fits()) hi = mid
        else lo = mid + 1
      }
      lots.set(x.name, lo)
    }
    return { intervals: f.intervals, lots, variables: all.intervals.length }
  })

// ---------------------------------------------------------------------------------------------
// The oracle

const round2 = (x: number) => Math.round(x * 100) / 100

/** The hindsight oracle of one recorded day. */
/** Which prices a plan trades at: the best the fill model allows (hindsight), or its decision instants'. */
export type Pricing = "hindsight" | "decisions"

/** A day made ready for a solve: the entries, the prices, the truth's linear form at every entry. */
const prepareDay = (day: RecordedDay, opts: OracleOptions, pricing: Pricing) =>
  Effect.gen(function*() {
    const h = day.header
    const fail = (e: { readonly message: string }) => new OracleFailed({ message: `oracle ${h.date} ${h.index}: ${e.message}` })
    const { config, truth } = opts
    const linear = truth.linear
    if (linear === undefined) {
      return yield* Effect.fail(fail({ message: `the truth margin model "${truth.name}" has no linear form; the oracle needs MarginModel.linear` }))
    }
    const budget = h.baskets * h.budgetPerBasket
    const lotSize = h.lotSize
    const triggerMargin = (config.entryTriggerPct / 100) * budget
    const band = hedgeBandOf(config, h.index)
    const played = playDay(day)
    if (typeof played === "string") return yield* Effect.fail(fail({ message: played }))
    const { checks, instants } = played
    const prices = instants.length === 0 ? [] : pricing === "hindsight" ? hedgePrices(day, played, band, config.minExitPrice) : decisionPrices(day, played, band, config)

    const queryOf = (check: EntryCheck, positions: ReadonlyArray<Position>): MarginQuery => ({
      index: h.index,
      date: h.date,
      expiry: h.expiry,
      lotSize,
      spot: check.tick.spot,
      at: check.at,
      positions,
      chain: check.tick.chain
    })
    const marginOf = (check: EntryCheck, positions: ReadonlyArray<Position>) =>
      truth.margin(queryOf(check, positions)).pipe(Effect.mapError(fail))

    // The linear form at every entry, over the contracts that could be held by then.
    const forms: Array<{ readonly form: LinearMargin; readonly asked: ReadonlyArray<number> }> = []
    for (const check of checks) {
      const asked = prices.flatMap((p, c) => (p.buy.slice(0, check.instant + 1).some((b) => b !== undefined) ? [c] : []))
      const form = yield* linear(queryOf(check, check.positions), asked.map((c) => prices[c]!.contract)).pipe(Effect.mapError(fail))
      if (form.perUnit.length !== asked.length) {
        return yield* Effect.fail(fail({ message: `the linear form of "${truth.name}" has ${form.perUnit.length} contracts, asked for ${asked.length}` }))
      }
      forms.push({ form, asked })
    }
    const unhedged: Array<number> = []
    for (const check of checks) unhedged.push(yield* marginOf(check, check.positions))
    const setting: Setting = { checks, instants, prices, forms, lotSize, cap: config.maxHedgeCostPerDay, budget, triggerMargin }
    return { h, fail, setting, unhedged, marginOf }
  })

export const oracleDay = (day: RecordedDay, opts: OracleOptions): Effect.Effect<OracleReport, OracleFailed> =>
  Effect.gen(function*() {
    const { h, fail, setting, unhedged, marginOf } = yield* prepareDay(day, opts, "hindsight")
    const { config, truth } = opts
    const { checks, instants, prices, lotSize, budget, triggerMargin } = setting
    // With every entry at or under the trigger unhedged, the empty plan is optimal: no plan costs less than 0.
    const started = performance.now()
    const { intervals, lots, variables } = unhedged.every((x) => x <= triggerMargin) || prices.length === 0
      ? { intervals: [], lots: new Map<string, number>(), variables: 0 }
      : yield* solvePlan(setting).pipe(Effect.mapError(fail))
    const solveMs = Math.round((performance.now() - started) * 10) / 10

    // The plan, and the truth margin it meets at every entry (checked against the linear form).
    const chosen = intervals.filter((x) => (lots.get(x.name) ?? 0) > 0)
    const entries: Array<OracleEntry> = []
    for (const [e, check] of checks.entries()) {
      const held = chosen.filter((x) => x.from <= check.instant && check.instant <= x.to)
      const hedges = held.map((x): Position => ({ ...prices[x.contract]!.contract, quantity: lots.get(x.name)! * lotSize }))
      const margin = held.length === 0 ? unhedged[e]! : yield* marginOf(check, netPositions([...check.positions, ...hedges]))
      const predicted = marginUnder(setting, chosen, lots, e)
      if (Math.abs(predicted - margin) > 1 + 1e-6 * Math.abs(margin)) {
        return yield* fail({
          message: `the linear form of "${truth.name}" gives ${round2(predicted)} but its margin is ${round2(margin)} at ${check.portfolio} ${wallTimeOf(check.at)} (perUnit must be per unit of quantity bought)`
        })
      }
      entries.push({
        portfolio: check.portfolio,
        at: check.at,
        time: wallTimeOf(check.at),
        utilisationPct: utilisationPct(margin, budget),
        unhedgedPct: utilisationPct(unhedged[e]!, budget)
      })
    }
    const plan = chosen.map((x): OracleHedge => {
      const p = prices[x.contract]!
      const buy = p.buy[x.from]!
      const sell = p.sell[x.to]!
      return {
        strike: p.contract.strike,
        optionType: p.contract.optionType,
        lots: lots.get(x.name)!,
        buyAt: day.ticks[buy.tick]!.time,
        buyPrice: buy.price,
        sellAt: sell.tick < 0 ? null : day.ticks[sell.tick]!.time,
        sellPrice: sell.price,
        heldFrom: wallTimeOf(instants[x.from]!),
        heldTo: wallTimeOf(instants[x.to]!)
      }
    })
    const units = (x: OracleHedge) => x.lots * lotSize
    const grossSpend = plan.reduce((s, x) => s + units(x) * x.buyPrice, 0)
    const recovered = plan.reduce((s, x) => s + units(x) * Math.min(x.sellPrice, x.buyPrice), 0)
    const above = (limit: number) =>
      entries.filter((x) => x.utilisationPct > limit).map((x) => ({ portfolio: x.portfolio, at: x.at, utilisationPct: x.utilisationPct }))
    return {
      date: h.date,
      index: h.index,
      budget,
      entries,
      netSpend: round2(grossSpend - recovered),
      grossSpend: round2(grossSpend),
      recovered: round2(recovered),
      uncreditedGain: round2(plan.reduce((s, x) => s + units(x) * Math.max(0, x.sellPrice - x.buyPrice), 0)),
      breaches: above(100),
      aboveTrigger: above(config.entryTriggerPct),
      peakUtilization: entries.reduce((mx, x) => Math.max(mx, x.utilisationPct), 0),
      hedgeCount: plan.length,
      plan,
      variables,
      solveMs
    }
  })

// ---------------------------------------------------------------------------------------------
// Oracles on the objective J

/**
 * The shortfall penalty the J oracles count: the lowest slab (0.5 %) on the day's highest shortfall at
 * an entry instant. Every policy's penalty is at least this (its slab is 0.5 % or more, and its peak is
 * taken over every instant), so it keeps the hindsight J oracle a lower bound.
 */
export const LOWEST_PENALTY_RATE = 0.005

/** Rupees within which the J oracles' answers are optimal; the bound reported is the answer's J less this. */
export const OBJECTIVE_GAP = 1

export interface ObjectiveOracleReport {
  readonly date: string
  readonly index: IndexName
  readonly budget: number
  /** "hindsight": the best prices the fill model allows; "decisions": each entry's look-ahead instant's. */
  readonly pricing: Pricing
  /** J of the plan as the bound counts it (penalty: LOWEST_PENALTY_RATE on the highest entry shortfall). */
  readonly objective: ObjectiveParts
  /** No plan's J is below this: the plan's J less the solver's gap (OBJECTIVE_GAP) when it solved. */
  readonly lowerBound: number
  /** Highest utilisation over the entry instants with the plan's hedges (percent). */
  readonly peakUtilization: number
  readonly hedgeCount: number
  readonly solveMs: number
}

/**
 * The least J a plan can reach on this day (a MILP whose lots may be fractional, solved to ₹1): net protection cost + breachCostPerEntry per
 * entry above 100 % + LOWEST_PENALTY_RATE × the highest shortfall at an entry, each entry free to be
 * let go. With hindsight prices it is a lower bound of every policy's J under the same candidates,
 * spend cap and fills; with decision prices it is what knowing the schedule (not the prices) is worth.
 */
export const objectiveOracleDay = (day: RecordedDay, opts: OracleOptions, pricing: Pricing): Effect.Effect<ObjectiveOracleReport, OracleFailed> =>
  Effect.gen(function*() {
    const { h, fail, setting, unhedged } = yield* prepareDay(day, opts, pricing)
    const { checks, budget } = setting
    const breachCost = opts.config.breachCostPerEntry
    const unit = budget / 100
    const started = performance.now()
    let intervals: ReadonlyArray<Interval> = []
    let lots: ReadonlyMap<string, number> = new Map()
    const solved = !unhedged.every((x) => x <= budget) && setting.prices.length > 0
    if (solved) {
      const all = formulate(setting, checks.map(() => true))
      // s: the highest shortfall at an entry, percent of the budget; w_e: entry e let go above 100 %.
      const variables: Array<MilpVariable> = [{ name: "s", lower: 0, upper: Number.POSITIVE_INFINITY, integer: false }]
      const rows: Array<MilpRow> = []
      const objective: Array<MilpTerm> = [...netObjective(all), { variable: "s", coefficient: LOWEST_PENALTY_RATE * unit }]
      checks.forEach((_, e) => {
        const excess = (all.most[e]! - budget) / unit
        if (excess <= 0) return
        const margin = all.margins[e]!
        variables.push({ name: `w${e}`, lower: 0, upper: 1, integer: true })
        rows.push(limitRow(all, e, budget, unit, { name: `w${e}`, size: excess }))
        rows.push({ name: `short${e}`, terms: [...margin.terms, { variable: "s", coefficient: -1 }], upper: 100 - margin.constant })
        objective.push({ variable: `w${e}`, coefficient: breachCost })
      })
      // Lots may be fractional, only the entries' flags branch: a relaxation, still a bound, solved in seconds (docs).
      const problem = problemOf(all, objective, rows, variables)
      const relaxed = { ...problem, variables: problem.variables.map((v) => (v.name.startsWith("x") ? { ...v, integer: false } : v)) }
      const answer = yield* solveMilp(relaxed, { ...UNLIMITED, absoluteGap: OBJECTIVE_GAP }).pipe(Effect.mapError(fail))
      if (answer.status === "infeasible") return yield* Effect.fail(fail({ message: "the objective problem is infeasible" }))
      intervals = all.intervals
      lots = new Map(all.intervals.map((x) => [x.name, Math.max(0, answer.values.get(x.name) ?? 0)] as const))
    }
    const solveMs = Math.round((performance.now() - started) * 10) / 10
    // The plan's J from the truth's linear form at every entry (exact for longs added, whole or not).
    const held = intervals.filter((x) => lots.get(x.name)! > 1e-9)
    const margins = checks.map((_, e) => (held.length === 0 ? unhedged[e]! : marginUnder(setting, held, lots, e)))
    const peak = Math.max(0, ...margins)
    const protectionCost = held.reduce((sum, x) => sum + lots.get(x.name)! * x.net, 0)
    const objective = objectiveOf({ protectionCost, breaches: margins.filter((m) => utilisationPct(m, budget) > 100).length, shortfallPenalty: LOWEST_PENALTY_RATE * Math.max(0, peak - budget) }, breachCost)
    return {
      date: h.date,
      index: h.index,
      budget,
      pricing,
      objective,
      lowerBound: solved ? Math.max(0, round2(objective.objective - OBJECTIVE_GAP)) : objective.objective,
      peakUtilization: utilisationPct(peak, budget),
      hedgeCount: held.length,
      solveMs
    }
  })


// ---------------------------------------------------------------------------------------------
// Reporting

/** The oracle's days in the shape the simulator totals a policy's days (simulations/report.ts). */
export const oracleTotals = (reports: ReadonlyArray<OracleReport>): Totals => ({
  days: reports.length,
  entries: reports.reduce((s, r) => s + r.entries.length, 0),
  missedEntries: 0,
  hedges: reports.reduce((s, r) => s + r.hedgeCount, 0),
  grossSpend: round2(reports.reduce((s, r) => s + r.grossSpend, 0)),
  recovered: round2(reports.reduce((s, r) => s + r.recovered, 0)),
  netSpend: round2(reports.reduce((s, r) => s + r.netSpend, 0)),
  breaches: reports.reduce((s, r) => s + r.breaches.length, 0),
  peakUtilization: reports.reduce((mx, r) => Math.max(mx, r.peakUtilization), 0),
  alerts: 0
})

/**
 * A policy's spend counted as the oracle counts it: per hedge, what it paid less what it got back, never
 * below zero (a hedge sold above its price is a trading gain, not cheaper protection). The oracle's
 * netSpend is at most this for any policy that kept every entry at or under the trigger within the cap.
 */
export const protectionCostOf = (day: { readonly hedges: ReadonlyArray<HedgeOutlay> }): number => protectionCostOfHedges(day.hedges)
