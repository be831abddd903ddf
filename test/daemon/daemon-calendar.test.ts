// The daemon and the market calendar, over the fake OpenAlgo and an in-memory PGlite: at start it says
// which source each year's calendar came from and when the next session is; it sleeps through a holiday
// (Christmas Friday to Monday) and wakes for the Budget Sunday with its 15:00 close; a broker list that
// disagrees with the bundled file is alerted once (not again at the next start), and the broker's wins;
// a broker with no list leaves the file in charge; a special session without hours is passed over, said. Each run is stopped while the daemon sleeps.
import { readFileSync } from "node:fs"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { startFakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { ScaledClock } from "../../src/daemon/clock.ts"
import { runDaemon } from "../../src/daemon/daemon.ts"
import { makeLog } from "../../src/daemon/log.ts"
import type { DaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseCalendarFile } from "../../src/services/calendar.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { tradingHoliday } from "../fixtures/openalgo-holidays.ts"
import { SteppingClock } from "./stepping-clock.ts"

const day = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")
const file = Effect.runSync(parseCalendarFile(readFileSync("config/holidays.json", "utf8"), "config/holidays.json"))
const schedule = parseSchedule(readFileSync("config/schedule.json", "utf8"), "config/schedule.json")
const KEY = "daemon-calendar-key"

interface Line {
  readonly level: string
  readonly actor: string
  readonly message: string
  readonly alert?: string
}

/**
 * Start the daemon at `start` (IST) and stop it once it sleeps (or, with `asleep`, at the sleep it
 * says to stop at; `stepping`: the clock steps to each instant the daemon sleeps until); its log lines.
 */
const startAndStop = (url: string, start: string, options: { readonly stepping?: boolean; readonly asleep?: (nth: number) => boolean } = {}) =>
  Effect.gen(function*() {
    const lines: Array<Line> = []
    const stop = new AbortController()
    const at = Date.parse(`${start}+05:30`)
    const clock = options.stepping === true ? new SteppingClock(at) : new ScaledClock(at, 1)
    let sleeps = 0
    const log = makeLog("json", (line) => {
      const parsed = JSON.parse(line) as Line
      lines.push(parsed)
      if (parsed.message.startsWith("sleeping until") && (options.asleep?.(++sleeps) ?? true)) stop.abort()
    }, "-", () => clock.now())
    const settings: DaemonSettings = {
      mode: "paper",
      paperBroker: "openalgo",
      openalgoUrl: url,
      apiKey: Redacted.make(KEY),
      scheduleFile: "config/schedule.json",
      holidaysFile: "config/holidays.json",
      tickMs: 15_000,
      rateLimits: { ordersPerSecond: 1000, dataPerSecond: 1000 },
      logFormat: "json",
      config: defaultConfig
    }
    yield* runDaemon({ settings, schedule, calendar: file, instruments: loadInstruments(), clock, log, signal: stop.signal })
    return lines
  })

const said = (lines: ReadonlyArray<Line>, start: string) => lines.filter((l) => l.message.startsWith(start)).map((l) => l.message)

describe("the daemon's calendar", () => {
  it("asks again when it wakes: a holiday the broker learnt of while it slept is slept through", async () => {
    // The broker's list, to which Monday 28-Dec is added while the daemon sleeps over Christmas.
    const rows = file.years.find((y) => y.exchange === "NSE" && y.year === 2026)!.days.holidays.map((h) => tradingHoliday(h.date, h.name))
    const broker = await startFakeOpenAlgo({ day, now: () => Date.now(), apiKey: KEY, holidays: rows })
    try {
      const lines = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        yield* migrate
        return yield* startAndStop(broker.url, "2026-12-24T16:00:00", {
          stepping: true,
          asleep: (nth) => {
            if (nth === 1) rows.push(tradingHoliday("2026-12-28", "A later circular"))
            return nth === 2
          }
        })
      })).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" }))))
      expect(said(lines, "sleeping until")).toEqual(["sleeping until 2026-12-28 09:00:00 IST", "sleeping until 2026-12-29 09:00:00 IST"])
      expect(said(lines, "the calendar changed")).toEqual(["the calendar changed while asleep: 2026-12-28 is no longer a session"])
      expect(lines.filter((l) => l.alert === "CALENDAR_DISAGREEMENT").map((l) => l.message)).toEqual([
        "the broker's holiday list disagrees with the calendar file (the broker's is used): NSE 2026-12-28: the broker says holiday (A later circular), the file a regular session; BSE 2026-12-28: the broker says holiday (A later circular), the file a regular session"
      ])
    } finally {
      await broker.close()
    }
  })

  it("sleeps through Christmas and wakes for the Budget Sunday; alerts a broker disagreement once; says its sources and the next session", async () => {
    // The broker: the file's list without Christmas, and Holi a week late.
    const rows = file.years.find((y) => y.exchange === "NSE" && y.year === 2026)!.days.holidays
      .filter((h) => h.date !== "2026-12-25")
      .map((h) => (h.date === "2026-03-03" ? tradingHoliday("2026-03-10", "Holi") : tradingHoliday(h.date, h.name)))
    const broker = await startFakeOpenAlgo({ day, now: () => Date.now(), apiKey: KEY, holidays: rows })
    const silent = await startFakeOpenAlgo({ day, now: () => Date.now(), apiKey: KEY })
    try {
      const [christmasByFile, budget, muhurat, first, second] = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        yield* migrate
        // A broker without a list: the file's calendar; Christmas slept through.
        const christmasByFile = yield* startAndStop(silent.url, "2026-12-24T16:00:00")
        const budget = yield* startAndStop(silent.url, "2026-01-30T16:00:00")
        const muhurat = yield* startAndStop(silent.url, "2026-11-06T16:00:00")
        // The broker that disagrees: alerted at the first start, not at the second; its list wins.
        const first = yield* startAndStop(broker.url, "2026-12-24T16:00:00")
        const second = yield* startAndStop(broker.url, "2026-12-24T16:00:00")
        return [christmasByFile, budget, muhurat, first, second] as const
      })).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" }))))

      expect(said(christmasByFile, "market calendar")).toEqual(["market calendar: NSE 2026: file, BSE 2026: file"])
      expect(said(christmasByFile, "next session")).toEqual(["next session: 2026-12-28 NIFTY 09:15-15:30 IST (NSE calendar from file)"])
      expect(said(christmasByFile, "sleeping until")).toEqual(["sleeping until 2026-12-28 09:00:00 IST"])
      expect(christmasByFile.filter((l) => l.alert !== undefined)).toEqual([])

      expect(said(budget, "next session")).toEqual(["next session: 2026-02-01 NIFTY special session (Union Budget, Friday's schedule) 09:15-15:00 IST (NSE calendar from file)"])
      expect(said(budget, "sleeping until")).toEqual(["sleeping until 2026-02-01 09:00:00 IST"])

      // Muhurat trading's hours are not in the file: passed over, said why.
      expect(said(muhurat, "NSE special session")).toEqual([
        "NSE special session 2026-11-08 (Diwali Laxmi Pujan: Muhurat trading) is not traded: its hours are not known (set open and close in the calendar file once announced)"
      ])
      expect(said(muhurat, "next session")).toEqual(["next session: 2026-11-09 NIFTY 09:15-15:30 IST (NSE calendar from file)"])

      expect(said(first, "market calendar")).toEqual(["market calendar: NSE 2026: broker, BSE 2026: broker"])
      const alerts = first.filter((l) => l.alert === "CALENDAR_DISAGREEMENT")
      expect(alerts).toHaveLength(1)
      expect(alerts[0]!.message).toContain("NSE 2026-12-25: the broker says a regular session, the file holiday (Christmas)")
      expect(alerts[0]!.message).toContain("NSE 2026-03-10: the broker says holiday (Holi), the file a regular session")
      // The broker wins: Christmas trades (Friday, NIFTY).
      expect(said(first, "next session")).toEqual(["next session: 2026-12-25 NIFTY 09:15-15:30 IST (NSE calendar from broker)"])
      expect(second.filter((l) => l.alert !== undefined)).toEqual([])
      expect(said(second, "next session")).toEqual(said(first, "next session"))
    } finally {
      await broker.close()
      await silent.close()
    }
  })
})
