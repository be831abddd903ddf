// OpenAlgo's market calendar (POST /market/holidays, restx_api/market_holidays.py) as the calendar's
// HolidaySource. The reply, as OpenAlgo's database/market_calendar_db.py builds it:
//   {"status":"success","year":2026,"timezone":"Asia/Kolkata","data":[{"date":"2026-01-26",
//    "description":"Republic Day","holiday_type":"TRADING_HOLIDAY"|"SETTLEMENT_HOLIDAY"|"SPECIAL_SESSION",
//    "closed_exchanges":["NSE","NFO",...],"open_exchanges":[{"exchange":"MCX","start_time":<epoch ms>,"end_time":<epoch ms>}]}]}
// Read per exchange through its derivatives segment (NFO for NSE, BFO for BSE; the cash code when the
// segment is not named): a TRADING_HOLIDAY that closes it is a holiday; a SPECIAL_SESSION that opens it
// is a special session, its hours the IST wall times of start_time and end_time (OpenAlgo's own 2026
// Muhurat row carries 2025 instants, so only the times of day are taken). A settlement holiday trades
// as usual. A year with nothing for an exchange is no list for it (OpenAlgo answers an unseeded year
// with an empty list), so the calendar falls back to the next source instead of trading every weekday.
import { Effect, Schema } from "effect"
import type { Exchange, ExchangeYear, Holiday, SpecialSession } from "../../src/domain/calendar.ts"
import { dateOf, wallTimeOf } from "../../src/domain/time.ts"
import { HolidaysUnavailable, type HolidaySource } from "../../src/services/calendar.ts"
import { Numeric, type OpenAlgoClient } from "./client.ts"

const OpenExchange = Schema.Struct({ exchange: Schema.String, start_time: Schema.NullOr(Numeric), end_time: Schema.NullOr(Numeric) })
const HolidayRow = Schema.Struct({
  date: Schema.String,
  description: Schema.String,
  holiday_type: Schema.String,
  closed_exchanges: Schema.Array(Schema.String),
  open_exchanges: Schema.Array(OpenExchange)
})
const HolidaysReply = Schema.Struct({ year: Schema.optionalKey(Numeric), data: Schema.Array(HolidayRow) })
export type OpenAlgoHolidayRow = typeof HolidayRow.Type

const SEGMENTS: Readonly<Record<Exchange, ReadonlyArray<string>>> = { NSE: ["NFO", "NSE"], BSE: ["BFO", "BSE"] }

/** One exchange's year out of OpenAlgo's rows; undefined when the rows say nothing of it. */
export const exchangeYearOf = (rows: ReadonlyArray<OpenAlgoHolidayRow>, exchange: Exchange, year: number): ExchangeYear | undefined => {
  const codes = SEGMENTS[exchange]
  // The derivatives segment when the row names it, else the cash market.
  const pick = <A>(named: ReadonlyArray<A>, code: (a: A) => string): A | undefined =>
    codes.map((c) => named.find((a) => code(a) === c)).find((a) => a !== undefined)
  const holidays: Array<Holiday> = []
  const specialSessions: Array<SpecialSession> = []
  for (const row of rows) {
    if (!row.date.startsWith(`${year}-`)) continue
    const open = pick(row.open_exchanges, (o) => o.exchange)
    if (row.holiday_type === "SPECIAL_SESSION" && open !== undefined) {
      const hours = open.start_time === null || open.end_time === null ? null : { open: wallTimeOf(open.start_time), close: wallTimeOf(open.end_time) }
      specialSessions.push({ date: row.date, name: row.description, hours: hours !== null && hours.close > hours.open ? hours : null })
    } else if (row.holiday_type === "TRADING_HOLIDAY" && open === undefined && pick(row.closed_exchanges, (c) => c) !== undefined) {
      holidays.push({ date: row.date, name: row.description })
    }
  }
  return holidays.length === 0 && specialSessions.length === 0 ? undefined : { holidays, specialSessions }
}

export const openAlgoHolidaySource = (client: OpenAlgoClient): HolidaySource["Service"] => ({
  name: "OpenAlgo /market/holidays",
  year: (year) =>
    client.read("/market/holidays", { year }, HolidaysReply).pipe(
      Effect.mapError((e) => new HolidaysUnavailable({ message: e.message })),
      Effect.flatMap((reply) => {
        const bad = reply.data.find((r) => dateOf(Date.parse(`${r.date}T12:00:00+05:30`)) !== r.date)
        if (bad !== undefined) return Effect.fail(new HolidaysUnavailable({ message: `/market/holidays: date = ${JSON.stringify(bad.date)}: expected YYYY-MM-DD` }))
        const out: Partial<Record<Exchange, ExchangeYear>> = {}
        for (const exchange of ["NSE", "BSE"] as const) {
          const y = exchangeYearOf(reply.data, exchange, year)
          if (y !== undefined) out[exchange] = y
        }
        return Effect.succeed(out)
      })
    )
})
