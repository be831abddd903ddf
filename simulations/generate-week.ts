// A week of synthetic recorded days from the weekly schedule (config/schedule.json): one file per
// scheduled weekday, `YYYY-MM-DD-<INDEX>.jsonl`. Used by `autohedge generate-days`.
import { DateTime } from "luxon"
import type { IndexName } from "../src/domain/market.ts"
import { type Instruments, loadInstruments, lotSizeFor, strikeStepOf } from "../src/domain/instruments.ts"
import { parseSchedule, type Schedule, type Weekday, weeklyExpiryOf, WEEKDAYS } from "../src/domain/schedule.ts"
import { isIsoDate, MARKET_ZONE } from "../src/domain/time.ts"
import { generateDay, INDEX_LEVELS, isRegime, toJsonl, type Regime } from "./generator.ts"
import { createRng, deriveSeed } from "./rng.ts"

export interface GenerateWeekOptions {
  /** The Monday the week starts on (YYYY-MM-DD). */
  readonly start: string
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

const dayOf = (date: string): DateTime => DateTime.fromISO(date, { zone: MARKET_ZONE })

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
  const schedule = typeof options.schedule === "string" ? parseSchedule(options.schedule, "schedule") : options.schedule
  const instruments = options.instruments ?? loadInstruments()
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
      Math.round(INDEX_LEVELS[index] * (1 + 0.03 * (2 * createRng(deriveSeed(options.seed, "level", index)).uniform() - 1)) * 100) / 100
    const regime = regimeFor(options.regime, date, weekday)
    const expiry = weeklyExpiryOf(index, date)
    const generated = generateDay({
      date,
      index,
      expiry,
      lotSize: options.lotSize?.[index] ?? lotSizeFor(instruments, index, expiry),
      strikeStep: strikeStepOf(instruments, index),
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
