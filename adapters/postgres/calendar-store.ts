// The broker's holiday lists as last received, per exchange and year (auto_hedge.market_calendar):
// the calendar service's cache for when the broker does not answer.
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Result } from "effect"
import type { Exchange } from "../../src/domain/calendar.ts"
import { CalendarCacheFailed, decodeExchangeYear, type CalendarCache } from "../../src/services/calendar.ts"

const failed = (what: string) => (e: { readonly message?: string }) =>
  new CalendarCacheFailed({ message: `${what}: ${String(e.message ?? e).split("\n")[0]}` })

export const postgresCalendarCache = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const cache: CalendarCache["Service"] = {
    get: (exchange: Exchange, year: number) =>
      sql<{ days: unknown; fetched_at: Date | string }>`SELECT days, fetched_at FROM auto_hedge.market_calendar WHERE exchange = ${exchange} AND year = ${year}`.pipe(
        Effect.mapError(failed(`reading ${exchange} ${year}`)),
        Effect.flatMap((rows) => {
          const row = rows[0]
          if (row === undefined) return Effect.succeed(undefined)
          const days = decodeExchangeYear(row.days)
          if (Result.isFailure(days)) return Effect.fail(new CalendarCacheFailed({ message: `${exchange} ${year}: the cached list does not read: ${days.failure}` }))
          return Effect.succeed({ days: days.success, fetchedAt: new Date(row.fetched_at).getTime() })
        })
      ),
    put: (exchange, year, entry) =>
      sql`INSERT INTO auto_hedge.market_calendar (exchange, year, days, fetched_at)
          VALUES (${exchange}, ${year}, ${sql.json(entry.days)}, ${new Date(entry.fetchedAt)})
          ON CONFLICT (exchange, year) DO UPDATE SET days = EXCLUDED.days, fetched_at = EXCLUDED.fetched_at`.pipe(
        Effect.asVoid,
        Effect.mapError(failed(`storing ${exchange} ${year}`))
      )
  }
  return cache
})
