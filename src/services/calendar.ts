// The calendar service: builds the market calendar (src/domain/calendar.ts) of the years asked from
// its sources, best first: the broker's holiday list (OpenAlgo /market/holidays), which is cached per
// year in the database; the cached copy when the broker does not answer; the bundled file
// (config/holidays.json); weekdays only for a year none of them covers. When the broker and the file
// disagree the broker wins, and the disagreement is reported for alerting once: only when the broker's
// list is new or changed since it was cached.
import { readFile } from "node:fs/promises"
// effect by module path: `autohedge schedule show` loads no more of it than it uses.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import {
  differences,
  EXCHANGES,
  mergeKnown,
  type CalendarYear,
  type Exchange,
  type ExchangeYear,
  type MarketCalendar
} from "../domain/calendar.ts"
import { parseBoundedJson } from "../domain/bounded-json.ts"
import { WEEKDAYS } from "../domain/schedule.ts"
import { keyPath, schemaProblems } from "../domain/schema-issues.ts"
import { isIsoDate, isWallTime } from "../domain/time.ts"

export class CalendarError extends Schema.TaggedError<CalendarError>()("CalendarError", {
  message: Schema.String
}) {}

/** The broker did not give its list (down, refused, or a reply that does not read). */
export class HolidaysUnavailable extends Schema.TaggedError<HolidaysUnavailable>()("HolidaysUnavailable", {
  message: Schema.String
}) {}

export class CalendarCacheFailed extends Schema.TaggedError<CalendarCacheFailed>()("CalendarCacheFailed", {
  message: Schema.String
}) {}

/** The broker's holiday list of a year, per exchange; an exchange it lists nothing for is absent. */
export class HolidaySource extends Context.Service<HolidaySource, {
  readonly name: string
  readonly year: (year: number) => Effect.Effect<Partial<Record<Exchange, ExchangeYear>>, HolidaysUnavailable>
}>()("auto-hedge/services/HolidaySource") {}

export interface CachedYear {
  readonly days: ExchangeYear
  /** When the broker gave it (epoch ms). */
  readonly fetchedAt: number
}

/** The broker's lists as last received, per exchange and year (the database). */
export class CalendarCache extends Context.Service<CalendarCache, {
  readonly get: (exchange: Exchange, year: number) => Effect.Effect<CachedYear | undefined, CalendarCacheFailed>
  readonly put: (exchange: Exchange, year: number, entry: CachedYear) => Effect.Effect<void, CalendarCacheFailed>
}>()("auto-hedge/services/CalendarCache") {}

/** No broker (a command run without OpenAlgo): every year from the cache or the file. */
export const noHolidaySource: HolidaySource["Service"] = {
  name: "none",
  year: () => Effect.fail(new HolidaysUnavailable({ message: "no broker configured" }))
}

/** No database: nothing cached, nothing kept. */
export const noCalendarCache: CalendarCache["Service"] = { get: () => Effect.succeed(undefined), put: () => Effect.void }

// ---------------------------------------------------------------------------------------------
// The bundled file

const IsoDate = Schema.String.check(Schema.makeFilter(isIsoDate, { expected: 'a date "YYYY-MM-DD"' }))
const WallTime = Schema.String.check(Schema.makeFilter(isWallTime, { expected: 'a time "HH:MM:SS"' }))
const HolidaySchema = Schema.Struct({ date: IsoDate, name: Schema.String })
const SpecialSchema = Schema.Struct({
  date: IsoDate,
  name: Schema.String,
  open: Schema.NullOr(WallTime),
  close: Schema.NullOr(WallTime),
  schedule: Schema.optionalKey(Schema.Literals(WEEKDAYS))
}).check(
  Schema.makeFilter((s) =>
    (s.open === null) !== (s.close === null)
      ? { path: ["close"], issue: "open and close are both times or both null (not announced)" }
      : s.open !== null && s.close !== null && s.close <= s.open
        ? { path: ["close"], issue: `must be after open (${s.open})` }
        : undefined
  )
)
const YearSchema = Schema.Struct({ holidays: Schema.Array(HolidaySchema), specialSessions: Schema.Array(SpecialSchema) })
const YearKey = Schema.String.check(Schema.makeFilter((k: string) => /^20\d\d$/.test(k), { expected: 'a year "20YY"' }))
const FileSchema = Schema.Struct({
  note: Schema.optionalKey(Schema.String),
  NSE: Schema.Record(YearKey, YearSchema),
  BSE: Schema.Record(YearKey, YearSchema)
})

/**
 * Read a calendar file: per exchange, per year it is complete for, the holidays and special sessions
 * (see config/holidays.json). Every bad value is named with its key; dates must lie in their year.
 */
export const parseCalendarFile = (text: string, fileName: string): Effect.Effect<MarketCalendar, CalendarError> =>
  Effect.gen(function*() {
    let json: unknown
    try {
      json = parseBoundedJson(text)
    } catch (e) {
      return yield* new CalendarError({ message: `${fileName}: not valid JSON (${(e as Error).message})` })
    }
    // The format before special sessions: a bare list of dates per exchange.
    const oldFormat = EXCHANGES.filter((e) => Array.isArray((json as Record<string, unknown> | null)?.[e]))
    if (oldFormat.length > 0) {
      return yield* new CalendarError({
        message: `${fileName}: ${oldFormat.join(", ")}: a list of dates is the old format; give per year {"2026": {"holidays": [{"date": "2026-01-26", "name": "Republic Day"}], "specialSessions": []}} (see docs/configuration.md)`
      })
    }
    const decoded = Schema.decodeUnknownResult(FileSchema)(json, { errors: "all", onExcessProperty: "error" })
    if (Result.isFailure(decoded)) {
      const problems = schemaProblems(decoded.failure.issue, json).map((p) =>
        `${fileName}: ${p.path.length === 0 ? "(root)" : keyPath(p.path)}: ${p.problem} (got ${JSON.stringify(p.value) ?? "nothing"})`
      )
      return yield* new CalendarError({ message: problems.join("\n") })
    }
    const years: Array<CalendarYear> = []
    const problems: Array<string> = []
    for (const exchange of EXCHANGES) {
      for (const [key, y] of Object.entries(decoded.success[exchange])) {
        const days: ExchangeYear = {
          holidays: y.holidays,
          specialSessions: y.specialSessions.map((s) => ({
            date: s.date,
            name: s.name,
            hours: s.open === null || s.close === null ? null : { open: s.open, close: s.close },
            schedule: s.schedule
          }))
        }
        ;[...days.holidays, ...days.specialSessions].forEach((d) => {
          if (!d.date.startsWith(`${key}-`)) problems.push(`${fileName}: ${exchange}.${key}: ${d.date} is not in ${key}`)
        })
        years.push({ exchange, year: Number(key), source: "file", days })
      }
    }
    if (problems.length > 0) return yield* new CalendarError({ message: problems.join("\n") })
    return { years }
  })

export const loadCalendarFile = (path: string): Effect.Effect<MarketCalendar, CalendarError> =>
  Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: (e) => new CalendarError({ message: `${path}: cannot read (${(e as Error).message})` }) }).pipe(
    Effect.flatMap((text) => parseCalendarFile(text, path))
  )

/** A year as the calendar holds it (the cache's rows): checked on the way back in. */
const ExchangeYearSchema = Schema.Struct({
  holidays: Schema.Array(HolidaySchema),
  specialSessions: Schema.Array(Schema.Struct({
    date: IsoDate,
    name: Schema.String,
    hours: Schema.NullOr(Schema.Struct({ open: WallTime, close: WallTime })),
    schedule: Schema.optionalKey(Schema.UndefinedOr(Schema.Literals(WEEKDAYS)))
  }))
})

export const decodeExchangeYear = (value: unknown): Result.Result<ExchangeYear, string> =>
  Result.mapError(Schema.decodeUnknownResult(ExchangeYearSchema)(value, { errors: "all" }), (e) =>
    schemaProblems(e.issue, value).map((p) => `${p.path.length === 0 ? "(root)" : keyPath(p.path)}: ${p.problem}`).join("; "))

// ---------------------------------------------------------------------------------------------
// Resolving the years

export interface ResolvedCalendar {
  readonly calendar: MarketCalendar
  /** Per exchange and year, the source used and why (a broker down, a year the file lacks). */
  readonly notes: ReadonlyArray<string>
  /** Broker vs file, new since the broker's list was last cached: to alert, once. */
  readonly disagreements: ReadonlyArray<string>
}

const sameDays = (a: ExchangeYear, b: ExchangeYear): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * The calendar of `years` for both exchanges from the broker, the cache, the file, or weekdays, in that
 * order. A broker or cache failure is a note, never a failure: the next source answers.
 */
export const resolveCalendar = (p: {
  readonly years: ReadonlyArray<number>
  readonly file: MarketCalendar
  readonly now: number
}): Effect.Effect<ResolvedCalendar, never, HolidaySource | CalendarCache> =>
  Effect.gen(function*() {
    const broker = yield* HolidaySource
    const cache = yield* CalendarCache
    const years: Array<CalendarYear> = []
    const notes: Array<string> = []
    const disagreements: Array<string> = []
    for (const year of p.years) {
      const fromBroker = yield* Effect.result(broker.year(year))
      if (fromBroker._tag === "Failure" && broker.name !== "none") notes.push(`${year}: the broker's holiday list is unavailable (${fromBroker.failure.message})`)
      for (const exchange of EXCHANGES) {
        const file = p.file.years.find((y) => y.exchange === exchange && y.year === year)
        const listed = fromBroker._tag === "Success" ? fromBroker.success[exchange] : undefined
        const cached = yield* cache.get(exchange, year).pipe(
          Effect.catch((e) => Effect.sync(() => {
            notes.push(`${exchange} ${year}: the cached holiday list is unreadable (${e.message})`)
            return undefined
          }))
        )
        if (listed !== undefined) {
          if (file !== undefined && (cached === undefined || !sameDays(cached.days, listed))) {
            disagreements.push(...differences(exchange, year, listed, file.days))
          }
          if (cached === undefined || !sameDays(cached.days, listed)) {
            yield* cache.put(exchange, year, { days: listed, fetchedAt: p.now }).pipe(
              Effect.catch((e) => Effect.sync(() => void notes.push(`${exchange} ${year}: the broker's list could not be cached (${e.message})`)))
            )
          }
          years.push({ exchange, year, source: "broker", days: file === undefined ? listed : mergeKnown(listed, file.days) })
        } else if (cached !== undefined) {
          years.push({ exchange, year, source: "cache", days: file === undefined ? cached.days : mergeKnown(cached.days, file.days) })
          notes.push(`${exchange} ${year}: the broker's list as cached on ${new Date(cached.fetchedAt).toISOString().slice(0, 10)}`)
        } else if (file !== undefined) {
          years.push(file)
        } else {
          notes.push(`${exchange} ${year}: no holiday list (broker, cache or file): weekdays only, every weekday taken for a session`)
        }
      }
    }
    return { calendar: { years }, notes, disagreements }
  })

/** The calendar from the file alone (replays, the generator): no broker, no database. */
export const fileOnly = (file: MarketCalendar, years: ReadonlyArray<number>, now = 0): Effect.Effect<ResolvedCalendar> =>
  resolveCalendar({ years, file, now }).pipe(
    Effect.provideService(HolidaySource, noHolidaySource),
    Effect.provideService(CalendarCache, noCalendarCache)
  )
