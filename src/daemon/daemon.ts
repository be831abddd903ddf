// `autohedge daemon`: the long-lived process beside the trader's broker (OpenAlgo). It sleeps until the
// next trading day's set-up (09:00 IST), plans the day (the schedule's entries for the weekday, the
// expiry and lot size from the broker's instrument data), runs it through the engine until the
// end-of-day summary, stores the day's records, and sleeps again. Started mid-day, it resumes the day
// from its records. It sees the broker only through the Venue service, whose Layer the configuration
// chooses (adapters/venues.ts): live (orders to the broker), paper (the broker's sandbox, or this
// process's own paper broker over live data), recommend (decides and alerts, places nothing); all
// write the same audit.
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Context, Effect, type Layer, Schema } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import { recommendingVenueFor, venueLayerFor } from "../../adapters/venues.ts"
import { openSession, postgresAuditLog, postgresOrderJournal, type WingHeld, wingsHeldAtPreviousClose, writeDayRecords } from "../../adapters/postgres/engine-store.ts"
import { carriedShortsAtOpen, carriedWingsAtOpen, shortsAtOpen } from "./carried.ts"
import { marginModelOf } from "../runtime/policies.ts"
import { atmStrike, type IndexName } from "../domain/market.ts"
import type { Schedule } from "../domain/schedule.ts"
import { lotSizeFor, strikeStepOf, type Instruments } from "../domain/instruments.ts"
import { optionSymbol } from "../domain/symbols.ts"
import { dateOf, instantOf, wallTimeOf } from "../domain/time.ts"
import { dayReportOf, type DayReport } from "../runtime/day-report.ts"
import { VirtualClock } from "../runtime/virtual-clock.ts"
import { carriedInputOf, engineSetupFor, type DayPlan } from "../runtime/session-plan.ts"
import { AuditLog, Broker, MarginMonitor, MarketClock, MarketData, Notifier, OrderJournal, StrategyFeed, type TransitionRow } from "../services/services.ts"
import { Venue, VenueConfigError, type VenueMarket, type VenueRefused, type VenueUnavailable } from "../services/venue.ts"
import { nextTradingDay, type DayTimes } from "./calendar.ts"
import { dayOn, dayTypeOf, EXCHANGES, scheduledSessionOn, weeklyExpiryOn, type MarketCalendar, type SessionHours } from "../domain/calendar.ts"
import { CalendarCache, HolidaySource, noCalendarCache, resolveCalendar } from "../services/calendar.ts"
import { postgresCalendarCache } from "../../adapters/postgres/calendar-store.ts"
import type { DaemonClock } from "./clock.ts"
import { checkConnections } from "./connections.ts"
import { loggedAudit, logNotifier, type DaemonLog } from "./log.ts"
import { bothNotifiers } from "../../adapters/telegram/notifier.ts"
import { PositionWatcher, positionStrategyFeed } from "./position-feed.ts"
import { holdAccountPerInstant, holdPerInstant } from "./held-market.ts"
import { DayRecorder, RECORDED_STRIKES, recordInstant, runRecorder } from "./recorder.ts"
import type { DaemonSettings } from "./settings.ts"
import { runTradingDay } from "./trading-day.ts"
import { Watchdog, type Health, type WatchdogKind } from "../runtime/watchdog.ts"
import { auditWithDeadline, brokerWithDeadline, feedWithDeadline, journalWithDeadline, marginWithDeadline, marketWithDeadline, notifierWithDeadline, wallTimers } from "../runtime/deadlines.ts"
import type { OperatorSource } from "../commands/operator.ts"
import type { SessionPlan } from "../commands/session-plans.ts"
import type { DayAttachment } from "../views/day-view.ts"
import type { SessionEngine } from "../runtime/engine.ts"

export class DaemonError extends Schema.TaggedError<DaemonError>()("DaemonError", {
  message: Schema.String,
  /** The broker did not answer while the day was planned: planning again later may succeed. */
  retryable: Schema.optionalKey(Schema.Boolean)
}) {}

export interface DaemonOptions {
  readonly settings: DaemonSettings
  readonly schedule: Schedule
  /** The bundled calendar file's years (config/holidays.json): the fallback under the broker's list. */
  readonly calendar: MarketCalendar
  readonly instruments: Instruments
  readonly clock: DaemonClock
  readonly log: DaemonLog
  /** Aborted on SIGINT / SIGTERM: stop deciding, finish the bookkeeping, write the audit, return. */
  readonly signal: AbortSignal
  /** Also record the day (recorded-day format) into this directory, a file per day. */
  readonly record?: { readonly dir: string; readonly everySeconds: number }
  /** Run this many trading days, then return (default: until stopped). */
  readonly days?: number
  /** The operator API: it watches each day, queues the operator's actions, keeps the schedule and coming sessions. */
  readonly operator?: DaemonOperator
}

export interface DaemonOperator {
  readonly live: { readonly attach: (day: DayAttachment) => void; readonly afterInstant: (at: number) => Promise<void> }
  readonly commands: OperatorSource
  /** The schedule as the operator last saved it (it applies from the next day set up). */
  readonly schedule: { readonly current: () => Schedule; readonly onChange: (listener: () => void) => () => void }
  /** Coming days' sessions as the operator set them up. */
  readonly plans: { readonly get: (date: string) => SessionPlan | undefined }
  /** Where alerts also go beside the log (Telegram, adapters/telegram). */
  readonly alerts?: Notifier["Service"]
}

/** The log's notifier, and the messenger's when one is configured. */
export const alertsOf = (o: Pick<DaemonOptions, "operator">, log: DaemonLog): Notifier["Service"] =>
  o.operator?.alerts === undefined ? logNotifier(log) : bothNotifiers(logNotifier(log), o.operator.alerts)

/** The options with the schedule as it is now (the operator may have replaced it). */
const withCurrentSchedule = (o: DaemonOptions): DaemonOptions => (o.operator === undefined ? o : { ...o, schedule: o.operator.schedule.current() })

/** Sleep until `at`; true when the schedule was replaced first (the day to wake for is planned again). */
const sleepOrScheduleChange = async (o: DaemonOptions, at: number): Promise<boolean> => {
  const source = o.operator?.schedule
  if (source === undefined) {
    await o.clock.sleepUntil(at, o.signal)
    return false
  }
  const woken = new AbortController()
  let changed = false
  const stop = () => woken.abort()
  o.signal.addEventListener("abort", stop, { once: true })
  const unsubscribe = source.onChange(() => {
    changed = true
    woken.abort()
  })
  try {
    await o.clock.sleepUntil(at, woken.signal)
  } finally {
    unsubscribe()
    o.signal.removeEventListener("abort", stop)
  }
  return changed && !o.signal.aborted
}

/** The hours of the session a date trades, once the schedule says it trades at all. */
const tradesOn = (o: Pick<DaemonOptions, "schedule">, calendar: MarketCalendar) => (date: string): SessionHours | undefined =>
  scheduledSessionOn(o.schedule, calendar, date)?.day.hours ?? undefined

/**
 * The calendar of this year (and the next, in December) from the broker's holiday list, cached in
 * the database; else the cache, else the bundled file, else weekdays. What it used is logged, and a
 * disagreement between the broker and the file is alerted once (when the broker's list is new or changed).
 */
const currentCalendar = (o: DaemonOptions) => Effect.flatMap(postgresCalendarCache, (cache) => calendarFrom(o, cache))

/** The calendar from the broker's list, over `cache`, else the file, else weekdays; what it used logged. */
const calendarFrom = (o: Pick<DaemonOptions, "calendar" | "clock" | "log">, cache: CalendarCache["Service"]) =>
  Effect.gen(function*() {
    const now = o.clock.now()
    const [year, month] = dateOf(now).split("-").map(Number) as [number, number]
    const venue = yield* Venue
    // December's next sessions and expiries may lie in January.
    const resolved = yield* resolveCalendar({ years: month === 12 ? [year, year + 1] : [year], file: o.calendar, now }).pipe(
      Effect.provideService(HolidaySource, venue.holidays),
      Effect.provideService(CalendarCache, cache)
    )
    const sources = resolved.calendar.years.map((y) => `${y.exchange} ${y.year}: ${y.source}`)
    o.log.write("info", "calendar", `market calendar: ${sources.join(", ") || "weekdays only"}`)
    for (const note of resolved.notes) o.log.write("warn", "calendar", note)
    if (resolved.disagreements.length > 0) {
      o.log.write("warn", "calendar", `the broker's holiday list disagrees with the calendar file (the broker's is used): ${resolved.disagreements.join("; ")}`, { alert: "CALENDAR_DISAGREEMENT" })
    }
    return resolved.calendar
  })

/** The day to run next, said with its hours and where the calendar has it from; special sessions passed over, said why. */
const nextDay = (o: Pick<DaemonOptions, "schedule" | "clock" | "log">, calendar: MarketCalendar): DayTimes => {
  const day = nextTradingDay(o.clock.now(), tradesOn(o, calendar))
  for (let d = dateOf(o.clock.now()); d < day.date; d = dateOf(instantOf(d, "12:00:00") + 86_400_000)) {
    for (const exchange of EXCHANGES) {
      const special = dayOn(calendar, exchange, d)
      if (special.kind !== "special") continue
      const why = special.hours === null ? "its hours are not known (set open and close in the calendar file once announced)" : "the schedule has no entries within its hours (name the weekday it runs as its schedule in the calendar file)"
      o.log.write("warn", "daemon", `${exchange} special session ${d} (${special.name}) is not traded: ${why}`)
    }
  }
  const plan = scheduledSessionOn(o.schedule, calendar, day.date)!
  const special = plan.day.kind === "special" ? `special session (${plan.day.name}, ${plan.scheduled.weekday}'s schedule) ` : ""
  o.log.write("info", "daemon", `next session: ${day.date} ${plan.scheduled.index} ${special}${day.hours.open.slice(0, 5)}-${day.hours.close.slice(0, 5)} IST (${plan.day.exchange} calendar from ${plan.day.source})`)
  return day
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))
const failed = (what: string) => (e: { readonly message: string }) => new DaemonError({ message: `${what}: ${e.message}` })
/** The venue's answer as the daemon's error: one that did not answer is asked again (the day is planned again). */
const venueFailed = (e: VenueUnavailable | VenueRefused) =>
  e._tag === "VenueUnavailable" ? new DaemonError({ message: `${e.operation}: ${e.message}`, retryable: true }) : new DaemonError({ message: e.message })
/** On the venue `layer` gives; a configuration naming no venue or mode that exists stops the daemon at start, naming the setting. */
const onVenue = <R>(layer: Layer.Layer<Venue, VenueConfigError, R>) => <A, E, R2>(effect: Effect.Effect<A, E, R2>) =>
  effect.pipe(Effect.provide(layer), Effect.mapError((e) => (e instanceof VenueConfigError ? new DaemonError({ message: e.message }) : e)))

export const runDaemon = (o: DaemonOptions): Effect.Effect<void, DaemonError, SqlClient | PgClient.PgClient> =>
  Effect.gen(function*() {
    const { log, clock, signal, settings } = o
    const venue = yield* Venue
    log.write("info", "daemon", `started in ${settings.mode} mode${settings.mode === "paper" ? ` (${settings.paperBroker} paper broker)` : ""}: ${venue.name}`, { openalgo: settings.openalgoUrl })
    for (const a of venue.assumptions) log.write("info", "daemon", a.message, a.fields)
    yield* checkConnections(settings, log)
    for (let run = 0; (o.days === undefined || run < o.days) && !signal.aborted; run++) {
      // Asked again before each day: a later circular changes the broker's list.
      const calendar = yield* currentCalendar(o)
      let day = nextDay(withCurrentSchedule(o), calendar)
      if (clock.now() < day.setupAt) log.write("info", "daemon", `sleeping until ${day.date} ${wallTimeOf(day.setupAt)} IST`)
      while (yield* Effect.promise(() => sleepOrScheduleChange(o, day.setupAt))) {
        day = nextTradingDay(clock.now(), tradesOn(withCurrentSchedule(o), calendar))
        log.write("info", "daemon", `schedule replaced: sleeping until ${day.date} ${wallTimeOf(day.setupAt)} IST`)
      }
      if (signal.aborted) break
      // A later circular may have reached the broker while the daemon slept (a weekend): asked again.
      const awake = yield* currentCalendar(o)
      const hours = tradesOn(withCurrentSchedule(o), awake)(day.date)
      if (hours === undefined || hours.open !== day.hours.open || hours.close !== day.hours.close) {
        log.write("warn", "daemon", `the calendar changed while asleep: ${day.date} is ${hours === undefined ? "no longer a session" : `now ${hours.open.slice(0, 5)}-${hours.close.slice(0, 5)}`}`)
        run--
        continue
      }
      yield* runDayRetrying({ ...withCurrentSchedule(o), calendar: awake }, day)
    }
    log.write("info", "daemon", "stopped")
  }).pipe(onVenue(venueLayerFor(o)))

/**
 * A day the broker did not answer for while it was planned (OpenAlgo down at 09:00) is planned again,
 * with back-off (1 s, 2 s, 4 s … at most 60 s of wall time), until it plans, the day closes or the
 * daemon is stopped: a critical alert at the first failure, a log line at each. Nothing has traded
 * by then, so trying the whole day again is safe. Other failures stop the daemon as before.
 */
const runDayRetrying = (o: DaemonOptions, day: DayTimes) =>
  Effect.gen(function*() {
    for (let attempt = 1; ; attempt++) {
      const result = yield* Effect.result(runDay(o, day))
      if (result._tag === "Success") return
      const e = result.failure
      if (!(e instanceof DaemonError) || e.retryable !== true || o.clock.now() >= day.closeAt) return yield* Effect.fail(e)
      const seconds = Math.min(60, 2 ** (attempt - 1))
      if (attempt === 1) {
        const alert = { kind: "WATCHDOG" as const, severity: "critical" as const, actor: "session", details: { problem: `the broker did not answer while ${day.date} was planned: ${e.message}`, kind: "broker", halts: false } }
        yield* Effect.ignore(alertsOf(o, o.log).notify(alert, o.clock.now()))
      }
      o.log.write("error", "daemon", `planning ${day.date} failed (attempt ${attempt}): ${e.message}; trying again in ${seconds} s`)
      yield* Effect.promise(() => o.clock.sleepUntil(o.clock.now() + seconds * 1000 * (o.clock.speed ?? 1), o.signal))
      if (o.signal.aborted) return
    }
  })

/**
 * `autohedge record`: record the next trading day (today's if it is still on) without trading it:
 * the plan from the schedule and the broker, then the market, the margin and the platform's exits
 * until the close.
 */
export const recordDay = (
  o: Omit<DaemonOptions, "record" | "days">,
  out: string,
  everySeconds: number,
  onInstant?: (done: number, total: number) => void
): Effect.Effect<void, DaemonError> =>
  Effect.gen(function*() {
    const { clock, signal } = o
    // No database here: the broker's list, else the file.
    const calendar = yield* calendarFrom(o, noCalendarCache)
    const day = nextDay(o, calendar)
    yield* Effect.promise(() => clock.sleepUntil(day.setupAt, signal))
    if (signal.aborted) return
    const { venueDay, plan, wallTime, log } = yield* openDay({ ...o, calendar }, day)
    const broker = venueDay.account
    const watcher = new PositionWatcher(plan)
    const recorder = yield* Effect.tryPromise({ try: () => DayRecorder.open(out, plan, everySeconds), catch: (e) => new DaemonError({ message: `--out: ${messageOf(e)}` }) })
    // The recorder's own look at the account: exits are seen as short units go away.
    const events = async () => {
      const positions = await Effect.runPromise(Effect.result(broker.positions))
      if (positions._tag === "Success") watcher.observe(clock.now(), positions.success)
      return watcher.events
    }
    log.write("info", "recorder", `recording ${plan.index} ${plan.date} into ${out} every ${everySeconds} s until ${wallTimeOf(day.closeAt)}`)
    yield* Effect.promise(() => runRecorder({ recorder, from: { market: venueDay.market({ strikes: RECORDED_STRIKES, clock: wallTime }), broker, events }, clock, everySeconds, until: day.closeAt, signal, log, onInstant }))
  }).pipe(onVenue(recommendingVenueFor(o)))

/** The day at the venue and its plan: the expiry and lot size from the broker's instrument data. */
const openDay = (o: Pick<DaemonOptions, "settings" | "clock" | "calendar" | "instruments" | "schedule" | "log" | "operator" | "record">, day: DayTimes) =>
  Effect.gen(function*() {
    const { settings, clock } = o
    const { day: session, scheduled, outside } = scheduledSessionOn(o.schedule, o.calendar, day.date)!
    const index = scheduled.index
    // The market instant the engine works in (see trading-day.ts), from now on the daemon's clock.
    const instant = new VirtualClock(clock.now())
    const marketClock: MarketClock["Service"] = { now: Effect.sync(() => instant.now()), currentMillis: () => instant.now(), timers: instant }
    // The expiry first: everything else about the day's instruments depends on it.
    const venue = yield* Venue
    const expiries = yield* venue.expiries(index, day.date).pipe(Effect.mapError(venueFailed))
    const expiry = expiries.find((e) => e >= day.date)
    if (expiry === undefined) return yield* new DaemonError({ message: `the broker lists no ${index} expiry on or after ${day.date} (got ${expiries.join(", ") || "none"})` })
    const venueDay = yield* venue.day({ index, expiry, clock: marketClock })
    // The engine reads the strikes of its hedge band (the venue's); a day it records, what the format
    // asks for (±10 % of spot), so that the file holds exactly the market the engine decided on.
    const venueMarket = venueDay.market(o.record === undefined ? {} : { strikes: RECORDED_STRIKES })
    const held = holdPerInstant(venueMarket.snapshot, () => instant.now())
    const market: VenueMarket = { ...venueMarket, snapshot: held.snapshot }
    const log = o.log.forSession(`${day.date} ${index} ${settings.mode}`)
    const calendarExpiry = weeklyExpiryOn(o.calendar, index, day.date)
    if (calendarExpiry !== expiry) log.write("warn", "daemon", `the broker's expiry ${expiry} is not the calendar's ${calendarExpiry}: trading the broker's (check the holiday list)`)
    const dayType = dayTypeOf(o.calendar, session.exchange, day.date, expiry)
    if (dayType !== scheduled.expiryType) log.write("info", "daemon", `${day.date} is ${dayType} by the calendar (expiry ${expiry}); the schedule's ${scheduled.weekday} is ${scheduled.expiryType}`)
    // Entries outside the session's hours cannot happen (a special session's are its own).
    for (const e of outside) log.write("warn", "daemon", `entry ${e.portfolio} at ${e.entryTime} is outside the session's ${day.hours.open}-${day.hours.close}: not expected today`)
    const plan = yield* planDay(o, day.date, index, expiry, scheduled.entries, market, log, session.kind === "special" ? day.hours : undefined)
    const wallTime: MarketClock["Service"] = { now: Effect.sync(() => clock.now()), currentMillis: () => clock.now(), timers: instant }
    return { venueDay, instant, marketClock, market, held, wallTime, log, plan }
  })

const runDay = (o: DaemonOptions, day: DayTimes) =>
  Effect.gen(function*() {
    const { settings, clock } = o
    const { venueDay, instant, marketClock, market, held, log, plan } = yield* openDay(o, day)
    log.write("info", "daemon", yield* venueDay.checkMode.pipe(Effect.mapError(venueFailed)))

    // The engine's estimate: the config's choice; "broker" asks the venue's margin calculator for each basket.
    const model = marginModelOf(settings.config.marginEstimate, settings.config, () => venueDay.marginModel)
    const enabled = o.operator?.plans.get(day.date)?.autoHedgeEnabled
    const planned = engineSetupFor({ day: plan, config: settings.config, policy: "engine", model, mode: settings.mode, enabled })
    const trading = planned.trading
    // Every outside call has its deadline (config `deadlines`): a database, broker or feed that stops
    // answering fails the call as a refused connection would, so the engine halts or degrades, never waits.
    const d = settings.config.deadlines
    const watchdog = new Watchdog(settings.config.watchdog, () => clock.now(), clock.speed ?? 1)
    const sessionId = yield* openSession(trading, "engine", false).pipe(databaseDeadline(d.databaseSeconds), Effect.mapError(failed("opening the day's session in the database")))
    const audit = watchdog.watchWrites(auditWithDeadline(loggedAudit(yield* postgresAuditLog(sessionId), log), d.databaseSeconds, wallTimers))
    const journal = journalWithDeadline(yield* postgresOrderJournal(sessionId), d.databaseSeconds, wallTimers)
    const account = yield* venueDay.trading({ index: plan.index, date: plan.date, expiry: plan.expiry, lotSize: plan.lotSize, sessionId, market })
    // One read of the positions and of the funds per instant, as of the market (held-market.ts).
    const { broker, monitor: marginMonitor } = holdAccountPerInstant(account.broker, account.margin, () => instant.now())
    // What the account holds as the day starts. Before the first entry, its shorts are carried in (the
    // platform's portfolio CARRIED_AT_OPEN), and the engine's wings held at the previous session's close
    // that the broker still holds are its hedges from the open, kept while that portfolio is held.
    const read = yield* account.broker.positions.pipe(Effect.orElseSucceed(() => null))
    const atStart = read ?? []
    const beforeEntries = clock.now() < Math.min(...plan.entries.map((e) => instantOf(plan.date, e.entryTime)))
    // Recorded by the day's first start before its first entry; a restart reads them back (carried.ts).
    const atOpen = yield* shortsAtOpen(sessionId, { beforeEntries, positions: read, expiry: plan.expiry }, log).pipe(
      databaseDeadline(d.databaseSeconds),
      Effect.mapError(failed("the shorts held at the open (the day's session row)"))
    )
    const wings = carriedWingsAtOpen(
      yield* wingsHeldAtPreviousClose(plan.index, settings.mode, plan.date).pipe(
        databaseDeadline(d.databaseSeconds),
        Effect.catchCause(() => Effect.sync((): ReadonlyArray<WingHeld> => (log.write("warn", "daemon", "the previous session's hedges could not be read: none is carried in (sell any still held by hand, or they expire)"), [])))
      ),
      atStart,
      plan.date
    )
    if (wings.length > 0) log.write("info", "daemon", `carried in from the previous session: ${wings.map((w) => `${w.strike} ${w.optionType} ${w.expiry} ×${w.quantity}`).join(", ")}`)
    const carriedShorts = carriedShortsAtOpen(atOpen ?? [], plan.expiry)
    const setup = { ...planned, session: { ...planned.session, ...carriedInputOf([...carriedShorts, ...wings]) } }
    const watcher = new PositionWatcher(plan)
    // Positions held before the first entry are not the day's entries, after a restart too.
    if (atOpen !== null) watcher.setBaseline(atOpen)
    const feed = yield* Effect.provideService(positionStrategyFeed(watcher, () => instant.now()), Broker, broker)
    const peak = peakTracker(marginMonitor, trading.totalBudget)
    const patrol = patrolOf(watchdog, instant, alertsOf(o, log), log)
    const watchedMarket = watchdog.watchMarket(marketWithDeadline(market, d.marketDataSeconds, wallTimers))
    const services = Context.make(MarketClock, marketClock).pipe(
      Context.add(MarketData, watchedMarket),
      Context.add(Broker, watchdog.watchBroker(brokerWithDeadline(broker, d.brokerSeconds, wallTimers))),
      Context.add(MarginMonitor, watchdog.watchBroker(marginWithDeadline(peak.monitor, d.brokerSeconds, wallTimers))),
      Context.add(StrategyFeed, watchdog.watchBroker(feedWithDeadline(feed, d.brokerSeconds, wallTimers))),
      Context.add(Notifier, notifierWithDeadline(oneAlertPerOutage(alertsOf(o, log), patrol.health, log), d.notifierSeconds, wallTimers)),
      Context.add(AuditLog, audit),
      Context.add(OrderJournal, journal)
    )
    // A recording holds every instant the engine looked at the market, with what it saw, every instant a
    // machine scheduled (an entry's time: the platform strikes at that market), and the market on the
    // recording's grid in between: replayed, the simulator decides on what the engine decided on.
    const record = o.record
    const recorder = record === undefined ? undefined : yield* Effect.tryPromise({
      try: () => DayRecorder.open(`${record.dir}/${plan.date}-${plan.index}.jsonl`, plan, record.everySeconds),
      catch: (e) => new DaemonError({ message: `--record: ${messageOf(e)}` })
    })
    const from = { market, broker, events: async () => watcher.events }
    const gridMs = (record?.everySeconds ?? 0) * 1000
    let recordedUpTo = Number.NEGATIVE_INFINITY
    const afterInstant = async (at: number, scheduled: boolean) => {
      if (recorder === undefined) return
      const onGrid = at >= recordedUpTo + gridMs
      if (!onGrid && !scheduled && held.seenAt(at) === undefined) return
      if (onGrid) recordedUpTo = Math.floor(at / gridMs) * gridMs
      await recordInstant(recorder, from, log).catch((e: unknown) => log.write("error", "recorder", `recording failed: ${messageOf(e)}`))
    }
    const result = yield* Effect.promise(() => runTradingDay({
        setup,
        services,
        instant,
        clock,
        log,
        tickMs: settings.tickMs,
        spot: () => Effect.runPromise(watchedMarket.spot.pipe(Effect.orElseSucceed(() => null))),
        signal: o.signal,
        afterInstant: async (at, scheduled) => {
          patrol.round()
          await afterInstant(at, scheduled)
          await o.operator?.live.afterInstant(at)
        },
        onEngine: patrol.watch,
        // Behind the market is the watchdog's lag problem while it lasts: one alert, shown in health.
        onBehind: (behind) => {
          watchdog.behindMarket(behind)
          patrol.round()
        },
        ...(o.operator === undefined ? {} : operatorHooks(o.operator, patrol.watch, {
          health: patrol.health,
          setup,
          // What the operator API reads: the broker's own margin (not the peak tracker's), the market, the instant.
          services: Context.make(MarketClock, marketClock).pipe(Context.add(MarketData, market), Context.add(MarginMonitor, marginMonitor), Context.add(Broker, brokerWithDeadline(broker, d.brokerSeconds, wallTimers))),
          mode: settings.mode,
          sessionId: String(sessionId),
          earlier: () => Effect.runPromise(audit.trail)
        }))
      })).pipe(Effect.ensuring(Effect.sync(patrol.stop)))
    const reportOf = (rows: ReadonlyArray<TransitionRow>) =>
      dayReportOf({ date: plan.date, index: plan.index, lotSize: plan.lotSize, file: "", policy: "engine", engine: result.engine, breaches: [], peak: peak.value(), rows })
    const write = (report: DayReport) => writeDayRecords(sessionId, report, plan.index === "NIFTY" ? "NFO" : "BFO").pipe(databaseDeadline(d.databaseSeconds))
    if (result.stopped) {
      // Stopped before the summary time (after the close, or during the day): the day's records as they
      // stand, so that the next day carries the wings held even if this day is not resumed; a resumed day
      // writes them again when it ends. A database that fails now does not fail the stop.
      yield* audit.trail.pipe(
        Effect.map(reportOf),
        Effect.flatMap((report) => write(report)),
        Effect.tap(() => Effect.sync(() => log.write("info", "daemon", "the day's records written as they stand at the stop"))),
        Effect.catchCause(() => Effect.sync(() => log.write("warn", "daemon", "the day's records could not be written at the stop: its wings are not carried into the next day unless this day is resumed")))
      )
      return
    }
    const report = reportOf(yield* audit.trail)
    yield* write(report).pipe(Effect.mapError(failed("storing the day's records")))
    log.write("info", "daemon", "day done", { hedges: report.hedges.length, grossSpend: report.grossSpend, recovered: report.recovered, netSpend: report.netSpend, peakUtilization: report.peakUtilization, digest: report.auditDigest })
  }).pipe(Effect.catchTag("AuditWriteFailed", (e) => Effect.fail(new DaemonError({ message: `database: ${e.message}` }))))

/** A database statement's deadline, for the day's own statements (the engine's stores have theirs). */
const databaseDeadline = (seconds: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, { duration: seconds * 1000, orElse: () => Effect.fail({ message: `the database did not answer within ${seconds} s` }) })

/** The day's engine watched by the operator API (and the watchdog), and the operator's actions delivered to it. */
const operatorHooks = (operator: DaemonOperator, watch: (engine: SessionEngine) => void, day: Omit<DayAttachment, "engine">) => ({
  operator: operator.commands,
  onEngine: (engine: SessionEngine) => {
    watch(engine)
    operator.live.attach({ ...day, engine })
  }
})

/**
 * While the watchdog has raised its critical alert for a silent broker or market, the exit reviews that
 * fail for the same reason are logged, not sent again and again (they were a stream of warnings that
 * hid the outage). They stay in the audit trail as every alert does.
 */
export const oneAlertPerOutage = (notifier: Notifier["Service"], health: () => Health, log: DaemonLog): Notifier["Service"] => ({
  notify: (alert, at) =>
    alert.kind === "EXIT_REVIEW_FAILED" && health().problems.some((p) => p.kind === "broker" || p.kind === "quote")
      ? Effect.sync(() => log.write("info", alert.actor, "exit review failed: the broker or the market is silent (see the watchdog's alert)", { suppressed: alert.kind }))
      : notifier.notify(alert, at)
})

/**
 * The watchdog on its rounds, at the end of every instant and every wall second beside the day's work
 * (so a day stuck inside an instant is seen too): a
 * critical WATCHDOG alert when a problem starts (once, until it clears), and the engine halted when
 * its audit cannot be written.
 */
const patrolOf = (watchdog: Watchdog, instant: VirtualClock, notifier: Notifier["Service"], log: DaemonLog) => {
  let engine: SessionEngine | undefined
  const raised = new Set<WatchdogKind>()
  const health = () => watchdog.check(instant.now())
  const round = () => {
    const h = health()
    for (const p of h.problems) {
      if (raised.has(p.kind)) continue
      raised.add(p.kind)
      const halts = p.kind === "write"
      // Behind the market but within the lag limit, the engine still decides on the market of its instant: a warning.
      const severity = p.kind === "lag" && p.seconds <= p.limitSeconds ? "warning" : "critical"
      void Effect.runPromise(Effect.ignore(notifier.notify({ kind: "WATCHDOG", severity, actor: "session", details: { problem: p.message, kind: p.kind, halts } }, instant.now())))
      if (halts) engine?.stopDeciding(`watchdog: ${p.message}`)
    }
    for (const kind of raised) {
      if (h.problems.some((p) => p.kind === kind)) continue
      raised.delete(kind)
      log.write("info", "daemon", `watchdog: ${kind} back within its limit`)
    }
  }
  const timer = setInterval(round, 1000)
  timer.unref()
  return { health, round, watch: (e: SessionEngine) => void (engine = e), stop: () => clearInterval(timer) }
}

/** The day's plan: lot size from the broker's instrument data when it answers, else the bundled table. */
const planDay = (o: Pick<DaemonOptions, "settings" | "instruments" | "operator">, date: string, index: IndexName, expiry: string, entries: DayPlan["entries"], market: VenueMarket, log: DaemonLog, hours?: SessionHours) =>
  Effect.gen(function*() {
    const strikeStep = strikeStepOf(o.instruments, index)
    const fallback = lotSizeFor(o.instruments, index, expiry)
    const lotSize = yield* market.snapshot.pipe(
      Effect.flatMap((s) => market.instrument(optionSymbol(index, expiry, atmStrike(s.spot, strikeStep), "CE"))),
      Effect.tap(({ sizingNote }) => (sizingNote === null ? Effect.void : Effect.sync(() => log.write("warn", "daemon", sizingNote)))),
      Effect.map((i) => i.lotSize),
      Effect.tap((broker) => (broker === fallback ? Effect.void : Effect.sync(() => log.write("warn", "daemon", `lot size ${broker} from the broker, ${fallback} in config/instruments.json: using the broker's`)))),
      Effect.catch((e) => Effect.sync(() => {
        log.write("warn", "daemon", `lot size from the broker unavailable (${e.message}); using ${fallback} from config/instruments.json`)
        return fallback
      }))
    )
    const config = o.settings.config
    // The operator's set-up of the day (POST /api/hedge/session), else the configuration's defaults.
    const chosen = o.operator?.plans.get(date)
    return { date, index, expiry, lotSize, strikeStep, baskets: chosen?.baskets ?? config.defaultBaskets, budgetPerBasket: chosen?.budgetPerBasket ?? config.defaultBudgetPerBasket, entries, ...(hours === undefined ? {} : { hours }) } satisfies DayPlan
  })

/** The highest utilisation the broker reported today, percent of the budget. */
const peakTracker = (monitor: MarginMonitor["Service"], budget: number) => {
  let peak = 0
  return {
    value: () => Math.round(peak * 100) / 100,
    monitor: { marginInUse: Effect.tap(monitor.marginInUse, (used) => Effect.sync(() => (peak = Math.max(peak, (used / budget) * 100)))) } satisfies MarginMonitor["Service"]
  }
}
