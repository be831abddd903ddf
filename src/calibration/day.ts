// Calibration on a recorded day: at each `margin` record (what the broker said was in use), rebuild the
// positions the day held then, price them with each margin model on the market of the latest tick, and
// compare with the broker's number.
//
// Positions held at a time t: the opening positions, plus the legs of every entry whose entryTime is at
// or before t and that has not left by t (its scheduled exitTime, or an `exit` record, at or before t:
// the writer puts a margin record after the tick and exit of the same second). An entry's legs are
// struck at the ATM of the spot of the latest tick at or before its entryTime (the spec's rule, as the
// simulator does: legPositions). What the day file cannot tell: hedges the engine bought (a day recorded
// with `autohedge record` holds none) and anything else in the account.
import { Effect, Schema } from "effect"
import type { MarginModel, MarginQuery } from "../domain/margin.ts"
import type { Position } from "../domain/market.ts"
import { legPositions } from "../domain/projection.ts"
import type { RecordedDay, TickRecord } from "../domain/recorded-day.ts"
import { type Comparison, compare, type ModelSummary, summarise } from "./stats.ts"

export class CalibrationError extends Schema.TaggedError<CalibrationError>()("CalibrationError", {
  message: Schema.String
}) {}

export interface DayCalibrationRow {
  /** The margin record's time, "HH:MM:SS" IST. */
  readonly time: string
  /** The broker's margin in use (the record's `used`). */
  readonly brokerUsed: number
  /** The tick the positions were priced on. */
  readonly tickTime: string
  readonly spot: number
  readonly positions: ReadonlyArray<Position>
  /** One per model, in the order given. */
  readonly models: ReadonlyArray<Comparison>
}

export interface DayCalibration {
  readonly file: string
  readonly date: string
  readonly index: string
  readonly expiry: string
  readonly rows: ReadonlyArray<DayCalibrationRow>
  /** Margin records that could not be compared, and why. */
  readonly skipped: ReadonlyArray<{ readonly time: string; readonly reason: string }>
  readonly summary: ReadonlyArray<ModelSummary>
}

/** The latest tick at or before `time` ("HH:MM:SS"), if any. */
export const tickAtOrBefore = (ticks: ReadonlyArray<TickRecord>, time: string): TickRecord | undefined => {
  let found: TickRecord | undefined
  for (const t of ticks) {
    if (t.time > time) break
    found = t
  }
  return found
}

/** The positions the day held at `time` (see the head of the file). */
export const positionsHeldAt = (day: RecordedDay, time: string): Effect.Effect<ReadonlyArray<Position>, CalibrationError> =>
  Effect.gen(function*() {
    const h = day.header
    const exitedAt = new Map(day.exits.map((x) => [x.portfolio, x.time] as const))
    const held: Array<Position> = h.openingPositions.map((p) => ({ strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: p.expiry }))
    for (const entry of h.entries) {
      if (entry.entryTime > time) continue
      const exit = exitedAt.get(entry.portfolio)
      if ((entry.exitTime !== null && entry.exitTime <= time) || (exit !== undefined && exit <= time)) continue
      const tick = tickAtOrBefore(day.ticks, entry.entryTime)
      if (tick === undefined) {
        return yield* new CalibrationError({ message: `entry ${JSON.stringify(entry.portfolio)} at ${entry.entryTime}: no tick at or before it to strike its legs at` })
      }
      held.push(...legPositions(entry.legs, tick.spot, h.strikeStep, h.baskets, h.lotSize, h.expiry))
    }
    return held
  })

/**
 * Compare each model with every `margin` record of the day. A model that cannot price a record (a
 * constants table without the row, say) leaves its cell empty with the reason; the others carry on.
 */
export const calibrateDay = (day: RecordedDay, file: string, models: ReadonlyArray<MarginModel>): Effect.Effect<DayCalibration, CalibrationError> =>
  Effect.gen(function*() {
    const h = day.header
    if (day.margins.length === 0) {
      return yield* new CalibrationError({
        message: `${file}: no margin records to compare with (they are written when a day is recorded from a live account: autohedge record, or daemon --record)`
      })
    }
    const rows: Array<DayCalibrationRow> = []
    const skipped: Array<{ time: string; reason: string }> = []
    for (const record of day.margins) {
      const tick = tickAtOrBefore(day.ticks, record.time)
      if (tick === undefined) {
        skipped.push({ time: record.time, reason: `no tick at or before ${record.time}` })
        continue
      }
      const positions = yield* positionsHeldAt(day, record.time)
      const query: MarginQuery = { index: h.index, date: h.date, expiry: h.expiry, lotSize: h.lotSize, spot: tick.spot, at: tick.at, positions, chain: tick.chain }
      const comparisons: Array<Comparison> = []
      for (const model of models) {
        const priced = yield* Effect.result(model.margin(query))
        comparisons.push(priced._tag === "Success" ? compare(model.name, priced.success, record.used) : { model: model.name, margin: null, errorPct: null, problem: priced.failure.message })
      }
      rows.push({ time: record.time, brokerUsed: record.used, tickTime: tick.time, spot: tick.spot, positions, models: comparisons })
    }
    return {
      file,
      date: h.date,
      index: h.index,
      expiry: h.expiry,
      rows,
      skipped,
      summary: models.map((m, i) => summarise(m.name, rows.map((r) => ({ time: r.time, comparison: r.models[i]! }))))
    }
  })
