// The weekly schedule: which index and expiry each weekday trades, and the straddle entries of the day
// (config/schedule.json). Also the weekly expiry of an index as seen from a trading date.
import { readFile } from "node:fs/promises"
import { DateTime } from "luxon"
// effect by module path: `autohedge schedule show` loads no more of it than it uses.
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { EntrySpec, ExpiryType, IndexName, LegSpec } from "./market.ts"
import { keyPath, schemaProblems } from "./schema-issues.ts"
import { isIsoDate, isWallTime, MARKET_CLOSE, MARKET_OPEN, MARKET_ZONE, weekdayOf } from "./time.ts"
import { parseBoundedJson } from "./bounded-json.ts"

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"] as const
export type Weekday = (typeof WEEKDAYS)[number]

export interface DaySchedule {
  readonly index: IndexName
  readonly expiryType: ExpiryType
  readonly entries: ReadonlyArray<EntrySpec>
}

export interface Schedule {
  readonly version: 1
  readonly days: Partial<Record<Weekday, DaySchedule>>
}

/** One trading date's part of the schedule, entries in entry-time order. */
export interface ScheduledDay extends DaySchedule {
  readonly weekday: Weekday
}

// ---------------------------------------------------------------------------------------------
// Schema

const WallTime = Schema.String.check(Schema.makeFilter(isWallTime, { expected: 'a time "HH:MM:SS"' }))

const LegSpecSchema = Schema.Struct({
  side: Schema.Literals(["BUY", "SELL"]),
  optionType: Schema.Literals(["CE", "PE"]),
  strikeOffset: Schema.Int,
  lotsPerBasket: Schema.Int.check(Schema.isGreaterThan(0))
})

const EntrySpecSchema = Schema.Struct({
  portfolio: Schema.String.check(Schema.makeFilter((s: string) => s.trim().length > 0, { expected: "a portfolio name" })),
  entryTime: WallTime,
  exitTime: Schema.NullOr(WallTime),
  legs: Schema.Array(LegSpecSchema).check(Schema.isMinLength(1, { expected: "at least one leg" }))
}).check(
  Schema.makeFilter((e) => {
    const issues: Array<Schema.FilterIssue> = []
    if (e.entryTime < MARKET_OPEN || e.entryTime > MARKET_CLOSE)
      issues.push({ path: ["entryTime"], issue: `must be within market hours ${MARKET_OPEN}-${MARKET_CLOSE}` })
    if (e.exitTime !== null) {
      if (e.exitTime <= e.entryTime)
        issues.push({ path: ["exitTime"], issue: `must be after entryTime (${e.entryTime})` })
      else if (e.exitTime > MARKET_CLOSE)
        issues.push({ path: ["exitTime"], issue: `must be no later than market close ${MARKET_CLOSE}` })
    }
    return issues
  })
)

const DayScheduleSchema = Schema.Struct({
  index: Schema.Literals(["NIFTY", "SENSEX"]),
  expiryType: Schema.Literals(["0DTE", "1DTE", "2DTE"]),
  entries: Schema.Array(EntrySpecSchema)
}).check(
  Schema.makeFilter((day) => {
    const first = new Map<string, number>()
    const issues: Array<Schema.FilterIssue> = []
    day.entries.forEach((entry, i) => {
      const seen = first.get(entry.portfolio)
      if (seen === undefined) first.set(entry.portfolio, i)
      else issues.push({ path: ["entries", i, "portfolio"], issue: `duplicates entries[${seen}].portfolio in the same day` })
    })
    return issues
  })
)

export const ScheduleSchema = Schema.Struct({
  version: Schema.Literal(1),
  days: Schema.Struct({
    Monday: Schema.optionalKey(DayScheduleSchema),
    Tuesday: Schema.optionalKey(DayScheduleSchema),
    Wednesday: Schema.optionalKey(DayScheduleSchema),
    Thursday: Schema.optionalKey(DayScheduleSchema),
    Friday: Schema.optionalKey(DayScheduleSchema)
  })
})

// The schema's type and the domain types must agree.
const _fromSchema = (s: typeof ScheduleSchema.Type): Schedule => s
void _fromSchema
const _legFromSchema = (l: typeof LegSpecSchema.Type): LegSpec => l
void _legFromSchema

// ---------------------------------------------------------------------------------------------
// Errors

export class ScheduleError extends Schema.TaggedError<ScheduleError>()("ScheduleError", {
  fileName: Schema.String,
  /** Key path in the file ("days.Tuesday.entries[3].entryTime"), empty for the file as a whole. */
  path: Schema.String,
  /** The offending value as JSON ("(missing)" for a missing key), empty for the file as a whole. */
  value: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return this.path === ""
      ? `${this.fileName}: ${this.problem}`
      : `${this.fileName}: ${this.path} = ${this.value}: ${this.problem}`
  }
}

const abbreviate = (s: string, max = 60): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)

// ---------------------------------------------------------------------------------------------
// Loading

/** Parse and validate a schedule file's text; throws a ScheduleError naming the first bad key. */
export const parseSchedule = (text: string, fileName: string): Schedule => {
  let raw: unknown
  try {
    raw = parseBoundedJson(text)
  } catch (e) {
    throw new ScheduleError({
      fileName,
      path: "",
      value: "",
      problem: `invalid JSON: ${e instanceof Error ? e.message : String(e)}`
    })
  }
  const decoded = Schema.decodeUnknownResult(ScheduleSchema)(raw, { onExcessProperty: "error" })
  if (Result.isSuccess(decoded)) return decoded.success
  const { path, value, problem } = schemaProblems(decoded.failure.issue, raw)[0] ?? {
    path: [],
    value: raw,
    problem: "invalid schedule"
  }
  const isDayKey = path.length === 2 && path[0] === "days" && problem === "unknown key"
  throw new ScheduleError({
    fileName,
    path: path.length === 0 ? "(root)" : keyPath(path),
    value: value === undefined ? "(missing)" : abbreviate(JSON.stringify(value)),
    problem: isDayKey ? `unknown key: days are ${WEEKDAYS.join(", ")}` : problem
  })
}

/** Read and validate a schedule file. */
export const loadScheduleFile = (path: string): Effect.Effect<Schedule, ScheduleError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) =>
      new ScheduleError({
        fileName: path,
        path: "",
        value: "",
        problem: `cannot read the file: ${e instanceof Error ? e.message : String(e)}`
      })
  }).pipe(
    Effect.flatMap((text) =>
      Effect.try({
        try: () => parseSchedule(text, path),
        catch: (e) =>
          e instanceof ScheduleError
            ? e
            : new ScheduleError({ fileName: path, path: "", value: "", problem: String(e) })
      })
    )
  )

// ---------------------------------------------------------------------------------------------
// Queries

const isWeekday = (s: string): s is Weekday => (WEEKDAYS as ReadonlyArray<string>).includes(s)

/** The schedule of a trading date ("YYYY-MM-DD"), entries sorted by entry time; undefined if none. */
export const dayScheduleFor = (schedule: Schedule, date: string): ScheduledDay | undefined => {
  if (!isIsoDate(date)) throw new RangeError(`invalid date ${JSON.stringify(date)}, expected YYYY-MM-DD`)
  const weekday = weekdayOf(date)
  if (!isWeekday(weekday)) return undefined
  const day = schedule.days[weekday]
  if (day === undefined) return undefined
  const entries = [...day.entries].sort((a, b) => (a.entryTime < b.entryTime ? -1 : a.entryTime > b.entryTime ? 1 : 0))
  return { weekday, index: day.index, expiryType: day.expiryType, entries }
}

/** ISO weekday (Monday = 1) of each index's weekly expiry. */
export const WEEKLY_EXPIRY_WEEKDAY: Readonly<Record<IndexName, number>> = { NIFTY: 2, SENSEX: 4 }

/**
 * The weekly expiry of an index current on `date`: the first NIFTY Tuesday / SENSEX Thursday on or
 * after it. An expiry that falls on a holiday moves to the previous weekday that is not a holiday;
 * when that is before `date`, the week's expiry has passed and the next week's applies.
 * (The Tuesday/Thursday days hold from September 2025; earlier dates used other weekdays.)
 */
export const weeklyExpiryOf = (
  index: IndexName,
  date: string,
  holidays: ReadonlySet<string> = new Set()
): string => {
  if (!isIsoDate(date)) throw new RangeError(`invalid date ${JSON.stringify(date)}, expected YYYY-MM-DD`)
  const from = DateTime.fromISO(date, { zone: MARKET_ZONE })
  const isTradingDay = (d: DateTime): boolean => d.weekday <= 5 && !holidays.has(d.toISODate() ?? "")
  let nominal = from.plus({ days: (WEEKLY_EXPIRY_WEEKDAY[index] - from.weekday + 7) % 7 })
  for (let week = 0; week < 60; week++, nominal = nominal.plus({ weeks: 1 })) {
    // Back to the nearest trading day, but not into the previous expiry's week.
    for (let back = 0; back < 7; back++) {
      const expiry = nominal.minus({ days: back })
      if (expiry < from) break
      if (isTradingDay(expiry)) return expiry.toISODate() ?? ""
    }
  }
  throw new RangeError(`no ${index} weekly expiry found within 60 weeks of ${date}`)
}

// ---------------------------------------------------------------------------------------------
// Display

const legSummary = (leg: LegSpec): string =>
  `${leg.side} ${leg.optionType}${leg.strikeOffset < 0 ? "" : "+"}${leg.strikeOffset} ×${leg.lotsPerBasket}`

/** A readable table of the schedule (for `autohedge schedule show`). */
export const formatSchedule = (schedule: Schedule): string => {
  const header = ["Weekday", "Index", "Expiry", "Portfolio", "Entry", "Exit", "Legs"]
  const rows: Array<ReadonlyArray<string>> = []
  for (const weekday of WEEKDAYS) {
    const day = schedule.days[weekday]
    if (day === undefined) continue
    const entries = [...day.entries].sort((a, b) => (a.entryTime < b.entryTime ? -1 : a.entryTime > b.entryTime ? 1 : 0))
    for (const e of entries)
      rows.push([weekday, day.index, day.expiryType, e.portfolio, e.entryTime, e.exitTime ?? "expiry", e.legs.map(legSummary).join(", ")])
  }
  if (rows.length === 0) return "(no scheduled entries)"
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}
