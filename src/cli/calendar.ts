// `autohedge calendar [--year Y] [--exchange NSE|BSE] [--broker]`: a year of the market calendar as the
// daemon sees it: the holidays, the special sessions with their hours, and the weekly expiries (moved
// ones marked), each with the source of its year. From the bundled file (AUTOHEDGE_HOLIDAYS_FILE,
// default config/holidays.json); --broker asks OpenAlgo's holiday list first (OPENALGO_BASE_URL,
// OPENALGO_API_KEY) and keeps it in the database, as the daemon does.
// effect by module path: `autohedge schedule show` loads no more of it than it uses.
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { DateTime } from "luxon"
import { dayOn, dayTypeOf, EXCHANGES, type Exchange, exchangeOfIndex, listYear, scheduledSessionOn, weeklyExpiryOn, type MarketCalendar, type YearListing } from "../domain/calendar.ts"
import { dayScheduleFor, formatSchedule, loadScheduleFile, type Schedule } from "../domain/schedule.ts"
import { dateOf, isIsoDate, MARKET_ZONE } from "../domain/time.ts"
import { fileOnly, loadCalendarFile } from "../services/calendar.ts"

/** A year's listing as a table. */
export const formatYearListing = (l: YearListing): string => {
  const header = ["date", "day", "what", "detail", "source"]
  const rows = l.days.map((d) => [d.date, d.weekday, d.what, d.detail, d.source])
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")
  return [
    `${l.exchange} ${l.year}: calendar from ${l.source === "weekdays" ? "nothing (weekdays only)" : l.source}, ${l.regularSessions} regular sessions (weekdays 09:15-15:30)`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line)
  ].join("\n")
}

const SESSIONS_SHOWN = 10

/**
 * The next sessions the schedule trades by the calendar (the bundled file's), for `schedule show`:
 * each with its hours, the weekly expiry (moved over holidays) and the day type that follows, and the
 * days the calendar skips on the way.
 */
export const formatComingSessions = (schedule: Schedule, calendar: MarketCalendar, from: string): string => {
  const lines: Array<string> = []
  let d = DateTime.fromISO(from, { zone: MARKET_ZONE })
  for (let i = 0; i < 400 && lines.length < SESSIONS_SHOWN; i++, d = d.plus({ days: 1 })) {
    const date = d.toISODate()!
    const weekday = d.setLocale("en").toFormat("ccc")
    const planned = scheduledSessionOn(schedule, calendar, date)
    if (planned === undefined) {
      const plain = dayScheduleFor(schedule, date)
      const day = plain === undefined ? undefined : dayOn(calendar, exchangeOfIndex(plain.index), date)
      if (day?.kind === "holiday") lines.push(`${date}  ${weekday}  no session: ${day.exchange} holiday (${day.name}, ${day.source})`)
      continue
    }
    const { day, scheduled } = planned
    const expiry = weeklyExpiryOn(calendar, scheduled.index, date)
    const type = dayTypeOf(calendar, day.exchange, date, expiry)
    const hours = `${day.hours!.open.slice(0, 5)}-${day.hours!.close.slice(0, 5)}`
    const special = day.kind === "special" ? `  special session: ${day.name}, ${scheduled.weekday}'s entries` : ""
    const differs = type === scheduled.expiryType ? "" : `  (the schedule says ${scheduled.expiryType})`
    lines.push(`${date}  ${weekday}  ${scheduled.index.padEnd(6)}  ${hours}  expiry ${expiry}  ${type}${differs}${special}  [${day.source}]`)
  }
  return [`Coming sessions from ${from}:`, ...lines].join("\n")
}

const comingSessions = (schedule: Schedule, from: string | undefined): Effect.Effect<string, Error> =>
  Effect.gen(function*() {
    const start = from ?? dateOf(Date.now())
    if (!isIsoDate(start)) return yield* Effect.fail(new Error(`--from: expected YYYY-MM-DD, got ${JSON.stringify(start)}`))
    const path = process.env.AUTOHEDGE_HOLIDAYS_FILE?.trim() || "config/holidays.json"
    const file = yield* loadCalendarFile(path).pipe(Effect.mapError((e) => new Error(e.message)))
    const year = Number(start.slice(0, 4))
    const { calendar } = yield* fileOnly(file, [year, year + 1])
    return formatComingSessions(schedule, calendar, start)
  })

/** `autohedge schedule show`: the weekly schedule and the coming sessions by the calendar. */
export const showSchedule = (o: { readonly file: string; readonly from: Option.Option<string> }) =>
  Effect.gen(function*() {
    const schedule = yield* loadScheduleFile(o.file)
    yield* Console.log(formatSchedule(schedule))
    yield* Console.log(`\n${yield* comingSessions(schedule, Option.getOrUndefined(o.from))}`)
  })

/** `autohedge calendar`: a year's market calendar by exchange. */
export const showCalendar = (o: { readonly year: Option.Option<number>; readonly exchange: Option.Option<Exchange>; readonly broker: boolean }) =>
  Effect.gen(function*() {
    const year = Option.getOrElse(o.year, () => Number(dateOf(Date.now()).slice(0, 4)))
    if (year < 2000 || year > 2100) return yield* Effect.fail(new Error(`--year: expected a year such as 2026, got ${year}`))
    const path = process.env.AUTOHEDGE_HOLIDAYS_FILE?.trim() || "config/holidays.json"
    const file = yield* loadCalendarFile(path).pipe(Effect.mapError((e) => new Error(e.message)))
    const resolved = o.broker ? yield* Effect.flatMap(Effect.promise(() => import("./calendar-broker.ts")), (m) => m.fromBroker([year], file)) : yield* fileOnly(file, [year])
    for (const note of resolved.notes) yield* Console.log(`note: ${note}`)
    for (const d of resolved.disagreements) yield* Console.log(`disagreement (the broker's is used): ${d}`)
    const exchanges = Option.match(o.exchange, { onNone: () => EXCHANGES, onSome: (e) => [e] as const })
    yield* Console.log(exchanges.map((e) => formatYearListing(listYear(resolved.calendar, e, year))).join("\n\n"))
  })
