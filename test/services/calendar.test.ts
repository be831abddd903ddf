// The calendar service over its real sources: OpenAlgo's /market/holidays (the fake server, OpenAlgo's
// shapes), the database cache (PGlite in memory) and the bundled file. The broker's list wins and is
// cached; a disagreement with the file is reported once (not again while the broker's list is what was
// cached); a broker that is down gives the cached list, else the file; a year nobody has is weekdays.
import { readFileSync } from "node:fs"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { exchangeYearOf, openAlgoHolidaySource } from "../../adapters/openalgo/holidays.ts"
import { openAlgoClient } from "../../adapters/openalgo/client.ts"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { postgresCalendarCache } from "../../adapters/postgres/calendar-store.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { dayOn, sessionOn } from "../../src/domain/calendar.ts"
import { instantOf } from "../../src/domain/time.ts"
import { CalendarCache, HolidaySource, parseCalendarFile, resolveCalendar } from "../../src/services/calendar.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { settlementHoliday, specialSession, tradingHoliday } from "../fixtures/openalgo-holidays.ts"

const file = Effect.runSync(parseCalendarFile(readFileSync("config/holidays.json", "utf8"), "config/holidays.json"))
const day = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")
const KEY = "calendar-test-key"
const NOW = instantOf("2026-12-06", "07:00:00")

/** The file's 2026 holidays as OpenAlgo lists them, but Holi on 10-Mar (as OpenAlgo's own seed has it). */
const brokerRows = [
  ...file.years.find((y) => y.exchange === "NSE")!.days.holidays.map((h) => (h.date === "2026-03-03" ? tradingHoliday("2026-03-10", "Holi") : tradingHoliday(h.date, h.name))),
  settlementHoliday("2026-02-19", "Chhatrapati Shivaji Maharaj Jayanti"),
  // OpenAlgo's Muhurat row carries last year's instants: only the times of day count.
  { ...specialSession("2026-11-08", "Diwali Laxmi Pujan (Muhurat Trading)", "18:00:00", "19:15:00"), open_exchanges: specialSession("2025-10-21", "", "18:00:00", "19:15:00").open_exchanges }
]

let fake: FakeOpenAlgo
let down: FakeOpenAlgo
beforeAll(async () => {
  fake = await startFakeOpenAlgo({ day, now: () => NOW, apiKey: KEY, holidays: brokerRows })
  down = await startFakeOpenAlgo({ day, now: () => NOW, apiKey: KEY })
})
afterAll(async () => {
  await fake.close()
  await down.close()
})

const broker = (url: string) =>
  openAlgoClient({ baseUrl: url, apiKey: Redacted.make(KEY), index: "NIFTY", expiry: "2026-12-08", retry: { times: 1, baseDelayMs: 1 } }).pipe(Effect.map(openAlgoHolidaySource))

const resolveWith = (url: string, years = [2026, 2027]) =>
  Effect.gen(function*() {
    const cache = yield* postgresCalendarCache
    return yield* resolveCalendar({ years, file, now: NOW }).pipe(
      Effect.provideService(HolidaySource, yield* broker(url)),
      Effect.provideService(CalendarCache, cache)
    )
  })

describe("OpenAlgo's holiday list", () => {
  it("reads per exchange through the derivatives segment; settlement holidays trade; special sessions keep their times of day", () => {
    const nse = exchangeYearOf(brokerRows as never, "NSE", 2026)!
    expect(nse.holidays.map((h) => h.date)).toContain("2026-03-10")
    expect(nse.holidays.map((h) => h.date)).not.toContain("2026-02-19")
    expect(nse.specialSessions).toEqual([{ date: "2026-11-08", name: "Diwali Laxmi Pujan (Muhurat Trading)", hours: { open: "18:00:00", close: "19:15:00" } }])
    // A year it has nothing for is no list (OpenAlgo answers an unseeded year with an empty one).
    expect(exchangeYearOf(brokerRows as never, "NSE", 2027)).toBeUndefined()
    // An exchange open on a holiday that closes the others is not closed.
    expect(exchangeYearOf([{ ...tradingHoliday("2026-05-01", "x"), closed_exchanges: ["MCX"] }] as never, "NSE", 2026)).toBeUndefined()
  })

  it("a reply that does not read is the broker unavailable, naming the field", async () => {
    const odd = await startFakeOpenAlgo({ day, now: () => NOW, apiKey: KEY, holidays: [{ date: "2026-3-3", description: "x", holiday_type: "TRADING_HOLIDAY", closed_exchanges: ["NFO"], open_exchanges: [] }] })
    const exit = await Effect.runPromiseExit(Effect.flatMap(broker(odd.url), (b) => b.year(2026)))
    await odd.close()
    expect(JSON.stringify(exit)).toContain('/market/holidays: date = \\"2026-3-3\\"')
  })
})

describe("the calendar's sources", () => {
  it("the broker wins and is cached; its disagreement with the file is reported once; when it is down the cache answers, else the file", async () => {
    const run = <A, E>(effect: Effect.Effect<A, E, never>) => Effect.runPromise(effect)
    await run(Effect.scoped(Effect.gen(function*() {
      yield* migrate
      const first = yield* resolveWith(fake.url)
      expect(first.calendar.years.filter((y) => y.year === 2026).map((y) => [y.exchange, y.source])).toEqual([["NSE", "broker"], ["BSE", "broker"]])
      expect(first.disagreements).toEqual([
        "NSE 2026-03-03: the broker says a regular session, the file holiday (Holi)",
        "NSE 2026-03-10: the broker says holiday (Holi), the file a regular session",
        "BSE 2026-03-03: the broker says a regular session, the file holiday (Holi)",
        "BSE 2026-03-10: the broker says holiday (Holi), the file a regular session"
      ])
      // The broker wins: Holi on the 10th; the Budget Sunday (not in its list) kept from the file; Muhurat's hours from the broker.
      const cal = first.calendar
      expect(dayOn(cal, "NSE", "2026-03-03")).toMatchObject({ kind: "regular", source: "broker" })
      expect(dayOn(cal, "NSE", "2026-03-10")).toMatchObject({ kind: "holiday", source: "broker" })
      expect(sessionOn(cal, "NSE", "2026-02-01")?.hours).toEqual({ open: "09:15:00", close: "15:00:00" })
      expect(sessionOn(cal, "NSE", "2026-11-08")?.hours).toEqual({ open: "18:00:00", close: "19:15:00" })
      // 2027: neither the broker nor the file: weekdays, said.
      expect(first.notes).toContain("NSE 2027: no holiday list (broker, cache or file): weekdays only, every weekday taken for a session")

      // Asked again with the same list: nothing new to alert.
      const again = yield* resolveWith(fake.url)
      expect(again.disagreements).toEqual([])
      expect(again.calendar).toEqual(first.calendar)

      // The broker down (no list, then nothing listening): the cached copy, said so.
      const cached = yield* resolveWith(down.url)
      expect(cached.calendar.years.filter((y) => y.year === 2026).map((y) => y.source)).toEqual(["cache", "cache"])
      expect(dayOn(cached.calendar, "NSE", "2026-03-10")).toMatchObject({ kind: "holiday", source: "cache" })
      expect(cached.notes).toContain("NSE 2026: the broker's list as cached on 2026-12-06")
      yield* Effect.promise(() => down.close())
      const unreachable = yield* resolveWith(down.url)
      expect(unreachable.notes.some((n) => n.startsWith("2026: the broker's holiday list is unavailable (/market/holidays: no answer"))).toBe(true)
      expect(unreachable.calendar.years.find((y) => y.exchange === "NSE" && y.year === 2026)?.source).toBe("cache")
    })).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" }))))
    down = await startFakeOpenAlgo({ day, now: () => NOW, apiKey: KEY })
  })

  it("a broker down and nothing cached: the file, every 2026 holiday in it", async () => {
    const resolved = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      yield* migrate
      return yield* resolveWith(down.url, [2026])
    })).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" }))))
    expect(resolved.calendar.years.map((y) => y.source)).toEqual(["file", "file"])
    expect(resolved.disagreements).toEqual([])
    expect(dayOn(resolved.calendar, "NSE", "2026-12-25")).toMatchObject({ kind: "holiday", source: "file" })
  })
})
