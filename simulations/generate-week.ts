// Synthetic recorded days from the weekly schedule (config/schedule.json): one file per scheduled
// weekday, `YYYY-MM-DD-<INDEX>.jsonl`. generateWeek makes one week (used by `autohedge generate-days`
// and for the bundled sample week); generateTradingDays makes a run of consecutive trading days (the
// four-week set in simulations/four-weeks, see write-four-weeks.ts).
import { DateTime } from "luxon"
import type { EntrySpec, IndexName } from "../src/domain/market.ts"
import { exchangeOf, type Instruments, loadInstruments, lotSizeFor, strikeStepOf } from "../src/domain/instruments.ts"
import { type DaySchedule, parseSchedule, type Schedule, type Weekday, weeklyExpiryOf, WEEKDAYS } from "../src/domain/schedule.ts"
import { isIsoDate, MARKET_ZONE, tradingDaysBetween } from "../src/domain/time.ts"
import { type ChainStrikes, type DayMeta, generateDay, INDEX_LEVELS, isRegime, type MarketModel, toJsonl, type Regime } from "./generator.ts"
import { createRng, deriveSeed } from "./rng.ts"
import { carriedPortfolios, type OpeningPosition } from "../src/domain/recorded-day.ts"

/** What every run of generated days is told. */
interface GenerateOptions {
  /** The schedule: its JSON text (checked with the project's parseSchedule) or a parsed Schedule. */
  readonly schedule: string | Schedule
  /** Base seed; each day's seed is derived from it and the date. */
  readonly seed: number
  readonly tickSeconds?: number // default 60
  readonly baskets?: number // default 15
  readonly budgetPerBasket?: number // default 1,000,000
  /** One regime for every day, or per day keyed by date or weekday name; otherwise drawn per day. */
  readonly regime?: Regime | Partial<Record<string, Regime>>
  /** Instrument data for lot sizes and strike steps (default: the bundled config/instruments.json). */
  readonly instruments?: Instruments
  /** Lot size overrides; otherwise the instrument data's lot size for the day's expiry. */
  readonly lotSize?: Partial<Record<IndexName, number>>
  /** Previous close of each index before the first day (default: drawn from the base seed). */
  readonly previousClose?: Partial<Record<IndexName, number>>
  readonly stopFraction?: number
  /** The generator's market model (default "v1", the sample week's; see generator.ts). */
  readonly model?: MarketModel
  /** Which strikes each tick lists (default "day"; see generator.ts). */
  readonly chainStrikes?: ChainStrikes
  /**
   * The day's budget against its schedule: one level for every day, or per day keyed by date or weekday
   * name; a day without one has budgetPerBasket as given (byte for byte as before the levels existed).
   */
  readonly budget?: BudgetScale | Partial<Record<string, BudgetScale>>
  /**
   * Days that carry positions in (default: none, every file as before carries existed). On each day
   * before its expiry, the last `hold` entries of the day (by entry time) are held past the close (their
   * exit time dropped), as are the schedule's own entries without an exit time; the next generated
   * day of the index, on the same expiry, opens holding their legs that no stop-loss closed (a
   * version-2 header) and the platform exits each carried portfolio at a time drawn from the seed
   * between 09:20 and 11:00 (the trader's next-morning exit).
   */
  readonly carry?: { readonly hold: number }
}

/**
 * Budget levels of generated days: the factor on budgetPerBasket. With the bundled schedule and the
 * v2 market, `comfortable` leaves every entry under 100 % unhedged, `short` is too small for the
 * schedule even hedged as well as hindsight allows within the spend cap (measured in
 * simulations/validation/README.md).
 */
export const BUDGET_SCALES = { comfortable: 3, standard: 1, lean: 0.8, short: 0.55 } as const
export type BudgetScale = keyof typeof BUDGET_SCALES
export const isBudgetScale = (s: string): s is BudgetScale => Object.hasOwn(BUDGET_SCALES, s)

export interface GenerateWeekOptions extends GenerateOptions {
  /** The Monday the week starts on (YYYY-MM-DD). */
  readonly start: string
  /** A day on a holiday of its index's exchange is skipped, and expiries move as the exchange moves them. */
  readonly holidays?: Holidays
}

/** Exchange holidays ("YYYY-MM-DD"): NSE for NIFTY, BSE for SENSEX (config/holidays.json). */
export type Holidays = Readonly<Record<"NSE" | "BSE", ReadonlySet<string>>>

export interface GenerateTradingDaysOptions extends GenerateOptions {
  /** The first date; the run starts at the first trading day on or after it. */
  readonly start: string
  /** How many days (files) to make: consecutive trading days that have a scheduled (or borrowed) day. */
  readonly days: number
  /**
   * Weekdays the schedule leaves empty that take another weekday's index and entries, e.g.
   * `{ Wednesday: "Friday" }`; the expiry is still that day's own weekly expiry. Default: none (skipped).
   */
  readonly borrow?: Partial<Record<Weekday, Weekday>>
  /** A day on a holiday of its index's exchange is skipped, and expiries move as the exchange moves them. */
  readonly holidays?: Holidays
}

export interface WeekFile {
  readonly file: string
  readonly text: string
  readonly date: string
  readonly weekday: Weekday
  readonly index: IndexName
  readonly expiry: string
  /** Trading days from the date to the expiry (0 on an expiry day). */
  readonly dte: number
  readonly regime: Regime
  /** The budget level it was given, if any. */
  readonly budget: BudgetScale | null
  readonly seed: number
  /** What was drawn for the day (not in the file). */
  readonly meta: DayMeta
  /** The portfolios it opens holding, carried from the index's previous day (`carry`). */
  readonly carried: ReadonlyArray<string>
}

const dayOf = (date: string): DateTime => DateTime.fromISO(date, { zone: MARKET_ZONE })

const regimeFor = (option: GenerateOptions["regime"], date: string, weekday: Weekday): Regime | undefined => {
  if (option === undefined) return undefined
  if (typeof option === "string") return option
  const r = option[date] ?? option[weekday]
  if (r !== undefined && !isRegime(r)) throw new RangeError(`unknown regime ${String(r)}`)
  return r
}

const budgetFor = (option: GenerateOptions["budget"], date: string, weekday: Weekday): BudgetScale | undefined => {
  if (option === undefined) return undefined
  if (typeof option === "string") return option
  const b = option[date] ?? option[weekday]
  if (b !== undefined && !isBudgetScale(b)) throw new RangeError(`unknown budget level ${String(b)}`)
  return b
}

const parsed = (schedule: string | Schedule): Schedule =>
  typeof schedule === "string" ? parseSchedule(schedule, "schedule") : schedule

const NO_HOLIDAYS: ReadonlySet<string> = new Set()

interface PlannedDay {
  readonly date: string
  readonly weekday: Weekday
  readonly day: DaySchedule
}

/**
 * The planned days, in date order. Each day's seed is deriveSeed(seed, date); an index's days continue
 * from its previous generated close.
 */
const generatePlanned = (
  planned: ReadonlyArray<PlannedDay>,
  options: GenerateOptions,
  instruments: Instruments,
  holidaysOf: (index: IndexName) => ReadonlySet<string>
): Array<WeekFile> => {
  const lastClose: Partial<Record<IndexName, number>> = { ...options.previousClose }
  const heldOf: Partial<Record<IndexName, ReadonlyArray<OpeningPosition>>> = {}
  const previousDate: Partial<Record<IndexName, string>> = {}
  return planned.map(({ date, weekday, day }): WeekFile => {
    const index = day.index
    const seed = deriveSeed(options.seed, date)
    const previousClose =
      lastClose[index] ??
      Math.round(INDEX_LEVELS[index] * (1 + 0.03 * (2 * createRng(deriveSeed(options.seed, "level", index)).uniform() - 1)) * 100) / 100
    const regime = regimeFor(options.regime, date, weekday)
    const expiry = weeklyExpiryOf(index, date, holidaysOf(index))
    const level = budgetFor(options.budget, date, weekday)
    const budgetPerBasket = options.budgetPerBasket ?? 1_000_000
    // Only positions of the day's own expiry: the chain of a day lists that expiry's options alone.
    const carried = options.carry === undefined ? [] : renamedApart((heldOf[index] ?? []).filter((p) => p.expiry === expiry), day.entries, previousDate[index])
    const generated = generateDay({
      date,
      index,
      expiry,
      lotSize: options.lotSize?.[index] ?? lotSizeFor(instruments, index, expiry),
      strikeStep: strikeStepOf(instruments, index),
      tickSeconds: options.tickSeconds ?? 60,
      baskets: options.baskets ?? 15,
      budgetPerBasket: level === undefined ? budgetPerBasket : Math.round(budgetPerBasket * BUDGET_SCALES[level]),
      entries: options.carry === undefined || expiry === date ? day.entries : heldPastTheClose(day.entries, options.carry.hold),
      seed,
      previousClose,
      ...(regime === undefined ? {} : { regime }),
      ...(options.stopFraction === undefined ? {} : { stopFraction: options.stopFraction }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.chainStrikes === undefined ? {} : { chainStrikes: options.chainStrikes }),
      ...(carried.length === 0 ? {} : { openingPositions: carried, carriedExits: carriedExitsOf(carried, seed) })
    })
    lastClose[index] = generated.meta.close
    heldOf[index] = generated.heldAtClose
    previousDate[index] = date
    return {
      file: `${date}-${index}.jsonl`,
      text: toJsonl(generated),
      date,
      weekday,
      index,
      expiry: generated.header.expiry,
      dte: tradingDaysBetween(date, expiry, holidaysOf(index)),
      regime: generated.meta.regime,
      budget: level ?? null,
      seed,
      meta: generated.meta,
      carried: carriedPortfolios(carried)
    }
  })
}

/** The day's entries with the last `hold` of them (by entry time) held past the close. */
const heldPastTheClose = (entries: ReadonlyArray<EntrySpec>, hold: number): ReadonlyArray<EntrySpec> => {
  const last = [...entries].sort((a, b) => (a.entryTime < b.entryTime ? -1 : a.entryTime > b.entryTime ? 1 : 0)).slice(Math.max(0, entries.length - hold))
  return entries.map((e) => (last.includes(e) ? { ...e, exitTime: null } : e))
}

/**
 * A carried portfolio named as one of today's entries (a weekday that borrows another's entries) is
 * named with the date it was entered: a day's portfolios must be told apart.
 */
const renamedApart = (carried: ReadonlyArray<OpeningPosition>, today: ReadonlyArray<EntrySpec>, enteredOn: string | undefined): ReadonlyArray<OpeningPosition> =>
  carried.map((p) => {
    const portfolio = p.origin?.kind === "entry" ? p.origin.portfolio : undefined
    return portfolio !== undefined && today.some((e) => e.portfolio === portfolio)
      ? { ...p, origin: { kind: "entry", portfolio: `${portfolio} (${enteredOn ?? "carried"})` } }
      : p
  })

/** When the platform exits each carried portfolio: a minute from 09:20 to 11:00, drawn from the day's seed. */
const carriedExitsOf = (carried: ReadonlyArray<OpeningPosition>, seed: number) =>
  [...new Set(carried.flatMap((p) => (p.origin?.kind === "entry" ? [p.origin.portfolio] : [])))].map((portfolio) => {
    const minute = 20 + createRng(deriveSeed(seed, "carry", portfolio)).int(101)
    return { portfolio, time: `${String(9 + Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}:00` }
  })

/** The holidays of an index's exchange: NSE for NFO options, BSE for BFO. */
const holidaysByIndex = (instruments: Instruments, holidays: Holidays | undefined) => (index: IndexName): ReadonlySet<string> =>
  holidays?.[exchangeOf(instruments, index) === "NFO" ? "NSE" : "BSE"] ?? NO_HOLIDAYS

/**
 * One recorded day per scheduled weekday of the week starting `start` (a Monday). Each day's seed is
 * deriveSeed(seed, date); an index's days continue from its previous generated close.
 */
export const generateWeek = (options: GenerateWeekOptions): Array<WeekFile> => {
  if (!isIsoDate(options.start)) throw new RangeError(`generateWeek: bad start date ${options.start}`)
  if (dayOf(options.start).weekday !== 1) throw new RangeError(`generateWeek: ${options.start} is not a Monday`)
  const schedule = parsed(options.schedule)
  const instruments = options.instruments ?? loadInstruments()
  const holidaysOf = holidaysByIndex(instruments, options.holidays)
  const planned: Array<PlannedDay> = []
  WEEKDAYS.forEach((weekday, offset) => {
    const day = schedule.days[weekday]
    const date = dayOf(options.start).plus({ days: offset }).toISODate() ?? options.start
    if (day === undefined || holidaysOf(day.index).has(date)) return
    planned.push({ date, weekday, day })
  })
  return generatePlanned(planned, options, instruments, holidaysOf)
}

/**
 * `days` consecutive trading days from `start`: weekends and the holidays of each day's exchange are
 * skipped, and so are weekdays with neither a schedule entry nor a `borrow`. Each day's index and
 * entries come from its weekday's schedule (or the borrowed weekday's), its expiry is the index's weekly
 * expiry (moved back over holidays), its seed deriveSeed(seed, date), as in generateWeek.
 */
export const generateTradingDays = (options: GenerateTradingDaysOptions): Array<WeekFile> => {
  if (!isIsoDate(options.start)) throw new RangeError(`generateTradingDays: bad start date ${options.start}`)
  if (!Number.isInteger(options.days) || options.days <= 0) throw new RangeError(`generateTradingDays: bad days ${options.days}`)
  const schedule = parsed(options.schedule)
  const instruments = options.instruments ?? loadInstruments()
  const holidaysOf = holidaysByIndex(instruments, options.holidays)
  const planned: Array<PlannedDay> = []
  // a year of dates is plenty for any schedule with at least one weekday
  for (let d = dayOf(options.start), n = 0; planned.length < options.days && n < 366; d = d.plus({ days: 1 }), n++) {
    if (d.weekday > 5) continue
    const weekday = WEEKDAYS[d.weekday - 1]
    if (weekday === undefined) continue
    const from = options.borrow?.[weekday]
    const day = schedule.days[weekday] ?? (from === undefined ? undefined : schedule.days[from])
    const date = d.toISODate() ?? options.start
    if (day === undefined || holidaysOf(day.index).has(date)) continue
    planned.push({ date, weekday, day })
  }
  if (planned.length < options.days)
    throw new RangeError(`generateTradingDays: only ${planned.length} scheduled trading days in a year from ${options.start}`)
  return generatePlanned(planned, options, instruments, holidaysOf)
}

/** The bundled sample week in simulations/days/ (see write-sample-week.ts). */
export const SAMPLE_WEEK = {
  start: "2026-02-09",
  seed: 20260209,
  tickSeconds: 60,
  baskets: 15,
  budgetPerBasket: 1_000_000
} as const

/**
 * The four-week set in simulations/four-weeks/ (see write-four-weeks.ts): 20 consecutive trading days,
 * Monday 6 July to Friday 31 July 2026 (no NSE or BSE holiday in that span), NIFTY on Monday (1DTE),
 * Tuesday (expiry), Wednesday (4DTE, with Friday's entries: the schedule has no Wednesday) and Friday
 * (2DTE), SENSEX on Thursday (expiry), drawn by the hedger-realistic model "v2". Each of the regimes
 * that hurt a hedger (gap, volSpike, volCrush, whipsaw) is on three days, calm on five, trending on three.
 */
export const FOUR_WEEKS = {
  start: "2026-07-06",
  days: 20,
  seed: 20260706,
  tickSeconds: 60,
  baskets: 15,
  budgetPerBasket: 1_000_000,
  model: "v2",
  chainStrikes: "tick",
  borrow: { Wednesday: "Friday" },
  regime: {
    "2026-07-06": "gap", // Monday after a weekend: the open gaps, IV up
    "2026-07-07": "volCrush", // expiry day after the gap: IV and the wings collapse
    "2026-07-08": "calm",
    "2026-07-09": "volSpike", // SENSEX expiry: a mid-session IV jump with a spot shock
    "2026-07-10": "trending",
    "2026-07-13": "calm",
    "2026-07-14": "whipsaw", // NIFTY expiry: stop-losses, then the market comes back
    "2026-07-15": "trending",
    "2026-07-16": "gap", // SENSEX expiry opens away from the previous close
    "2026-07-17": "volSpike",
    "2026-07-20": "gap",
    "2026-07-21": "volSpike", // NIFTY expiry
    "2026-07-22": "calm",
    "2026-07-23": "whipsaw", // SENSEX expiry
    "2026-07-24": "volCrush",
    "2026-07-27": "calm",
    "2026-07-28": "whipsaw", // NIFTY monthly and weekly expiry
    "2026-07-29": "volCrush",
    "2026-07-30": "calm", // SENSEX monthly expiry
    "2026-07-31": "trending"
  }
} as const satisfies Omit<GenerateTradingDaysOptions, "schedule">
