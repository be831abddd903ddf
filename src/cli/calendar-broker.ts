// `autohedge calendar --broker`: OpenAlgo's holiday list first, kept in the database, as the daemon
// does (OPENALGO_BASE_URL, OPENALGO_API_KEY); imported only when --broker is given.
import { Effect, Redacted } from "effect"
import { openAlgoHolidaySource } from "../../adapters/openalgo/holidays.ts"
import { openAlgoClient } from "../../adapters/openalgo/client.ts"
import { postgresCalendarCache } from "../../adapters/postgres/calendar-store.ts"
import { databaseLayer, databaseOptionsFromEnv } from "../../adapters/postgres/database.ts"
import { migrate } from "../../adapters/postgres/migrations.ts"
import { apiRootOf } from "../daemon/settings.ts"
import { dateOf } from "../domain/time.ts"
import { CalendarCache, type fileOnly, HolidaySource, resolveCalendar, type ResolvedCalendar } from "../services/calendar.ts"

export const fromBroker = (years: ReadonlyArray<number>, file: Parameters<typeof fileOnly>[0]): Effect.Effect<ResolvedCalendar, Error> =>
  Effect.gen(function*() {
    const base = process.env.OPENALGO_BASE_URL?.trim() || "http://127.0.0.1:5000"
    const root = apiRootOf(base)
    if (root === undefined) return yield* Effect.fail(new Error(`OPENALGO_BASE_URL = ${JSON.stringify(base)}: must be an http(s) URL such as http://127.0.0.1:5000`))
    const key = process.env.OPENALGO_API_KEY?.trim() ?? ""
    if (key === "") return yield* Effect.fail(new Error("OPENALGO_API_KEY: required with --broker (OpenAlgo > API Key)"))
    const client = yield* openAlgoClient({ baseUrl: root, apiKey: Redacted.make(key), index: "NIFTY", expiry: dateOf(Date.now()) })
    return yield* Effect.scoped(Effect.gen(function*() {
      yield* migrate
      const cache = yield* postgresCalendarCache
      return yield* resolveCalendar({ years, file, now: Date.now() }).pipe(
        Effect.provideService(HolidaySource, openAlgoHolidaySource(client)),
        Effect.provideService(CalendarCache, cache)
      )
    })).pipe(
      Effect.provide(databaseLayer(databaseOptionsFromEnv(process.env))),
      Effect.mapError((e) => new Error(`database: ${String((e as { message?: string }).message ?? e).split("\n")[0]}`))
    )
  })
