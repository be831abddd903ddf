// A week of synthetic recorded days from the weekly schedule (config/schedule.json): one file per
// scheduled weekday, `YYYY-MM-DD-<INDEX>.jsonl`. Used by `autohedge generate-days`.
import { DateTime } from "luxon"
import type { EntrySpec, IndexName } from "../src/domain/market.ts"
import { isIsoDate, MARKET_ZONE } from "../src/domain/time.ts"
import { generateDay, INDEX_DEFAULTS, isRegime, toJsonl, type Regime } from "./generator.ts"
import { createRng, deriveSeed } from "./rng.ts"

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const
export type Weekday = (typeof WEEKDAYS)[number]

export interface ScheduleDay {
  readonly index: IndexName
  readonly expiryType?: string
  readonly entries: ReadonlyArray<EntrySpec>
}

export interface ScheduleFile {
  readonly version?: number
  readonly days: Partial<Record<Weekday, ScheduleDay>>
}

export interface GenerateWeekOptions {
  /** The Monday the week starts on (YYYY-MM-DD). */
  readonly start: string
  /** The schedule file: its JSON text or the parsed object. */
  readonly schedule: string | ScheduleFile
  /** Base seed; each day's seed is derived from it and the date. */
  readonly seed: number
  readonly tickSeconds?: number // default 60
  readonly baskets?: number // default 15
  readonly budgetPerBasket?: number // default 1,000,000
  /** One regime for every day, or per day keyed by date or weekday name; otherwise drawn per day. */
  readonly regime?: Regime | Partial<Record<string, Regime>>
  /** Lot sizes (default NIFTY 65, SENSEX 20). */
  readonly lotSize?: Partial<Record<IndexName, number>>
  /** Previous close of each index before the week (default: drawn from the base seed). */
  readonly previousClose?: Partial<Record<IndexName, number>>
  readonly stopFraction?: number
}

export interface WeekFile {
  readonly file: string
  readonly text: string
  readonly date: string
  readonly index: IndexName
  readonly expiry: string
  readonly regime: Regime
  readonly seed: number
}

/** Weekday (1 = Monday … 7 = Sunday) of each index's weekly expiry. */
const EXPIRY_WEEKDAY: Readonly<Record<IndexName, number>> = { NIFTY: 2, SENSEX: 4 }

const dayOf = (date: string): DateTime => DateTime.fromISO(date, { zone: MARKET_ZONE })

/** The index's weekly expiry for a trading date: the first expiry weekday on or after it. */
export const weeklyExpiry = (index: IndexName, date: string): string => {
  const d = dayOf(date)
  const ahead = (EXPIRY_WEEKDAY[index] - d.weekday + 7) % 7
  return d.plus({ days: ahead }).toISODate() ?? date
}

const fail = (message: string): never => {
  throw new Error(`schedule: ${message}`)
}

/** Parse and check the schedule file (shape only; generateDay checks the entries in detail). */
export const parseSchedule = (input: string | ScheduleFile): ScheduleFile => {
  const raw: unknown = typeof input === "string" ? JSON.parse(input) : input
  if (typeof raw !== "object" || raw === null) return fail("not an object")
  const days = (raw as { days?: unknown }).days
  if (typeof days !== "object" || days === null || Array.isArray(days)) return fail("missing days")
  for (const [name, day] of Object.entries(days as Record<string, unknown>)) {
    if (!(WEEKDAYS as ReadonlyArray<string>).includes(name)) fail(`unknown weekday ${name}`)
    if (typeof day !== "object" || day === null) return fail(`${name}: not an object`)
    const { index, entries } = day as { index?: unknown; entries?: unknown }
    if (index !== "NIFTY" && index !== "SENSEX") fail(`${name}: bad index ${String(index)}`)
    if (!Array.isArray(entries)) fail(`${name}: entries is not an array`)
  }
  return raw as ScheduleFile
}

const regimeFor = (option: GenerateWeekOptions["regime"], date: string, weekday: Weekday): Regime | undefined => {
  if (option === undefined) return undefined
  if (typeof option === "string") return option
  const r = option[date] ?? option[weekday]
  if (r !== undefined && !isRegime(r)) throw new RangeError(`unknown regime ${String(r)}`)
  return r
}

/**
 * One recorded day per scheduled weekday of the week starting `start` (a Monday). Each day's seed is
 * deriveSeed(seed, date); an index's days continue from its previous generated close.
 */
export const generateWeek = (options: GenerateWeekOptions): Array<WeekFile> => {
  if (!isIsoDate(options.start)) throw new RangeError(`generateWeek: bad start date ${options.start}`)
  if (dayOf(options.start).weekday !== 1) throw new RangeError(`generateWeek: ${options.start} is not a Monday`)
  const schedule = parseSchedule(options.schedule)
  const lastClose: Partial<Record<IndexName, number>> = { ...options.previousClose }
  const out: Array<WeekFile> = []
  WEEKDAYS.forEach((weekday, offset) => {
    const day = schedule.days[weekday]
    if (day === undefined) return
    const date = dayOf(options.start).plus({ days: offset }).toISODate() ?? options.start
    const index = day.index
    const seed = deriveSeed(options.seed, date)
    const previousClose =
      lastClose[index] ??
      Math.round(INDEX_DEFAULTS[index].level * (1 + 0.03 * (2 * createRng(deriveSeed(options.seed, "level", index)).uniform() - 1)) * 100) / 100
    const regime = regimeFor(options.regime, date, weekday)
    const generated = generateDay({
      date,
      index,
      expiry: weeklyExpiry(index, date),
      lotSize: options.lotSize?.[index] ?? INDEX_DEFAULTS[index].lotSize,
      strikeStep: INDEX_DEFAULTS[index].strikeStep,
      tickSeconds: options.tickSeconds ?? 60,
      baskets: options.baskets ?? 15,
      budgetPerBasket: options.budgetPerBasket ?? 1_000_000,
      entries: day.entries,
      seed,
      previousClose,
      ...(regime === undefined ? {} : { regime }),
      ...(options.stopFraction === undefined ? {} : { stopFraction: options.stopFraction })
    })
    lastClose[index] = generated.meta.close
    out.push({
      file: `${date}-${index}.jsonl`,
      text: toJsonl(generated),
      date,
      index,
      expiry: generated.header.expiry,
      regime: generated.meta.regime,
      seed
    })
  })
  return out
}

/** The bundled sample week in simulations/days/ (see write-sample-week.ts). */
export const SAMPLE_WEEK = {
  start: "2026-02-09",
  seed: 20260209,
  tickSeconds: 60,
  baskets: 15,
  budgetPerBasket: 1_000_000
} as const
