// The daemon's days from the market calendar (src/domain/calendar.ts, built by src/services/calendar.ts):
// each session's set-up (15 minutes before the open: 09:00 on a regular day), open, close and
// end-of-day summary (5 minutes after the close: 15:35), all in India's time. A special session has its
// own hours (the Budget Sunday closes at 15:00), so its window and its summary move with them.
import { DateTime } from "luxon"
import { REGULAR_HOURS, type SessionHours } from "../domain/calendar.ts"
import { addMinutes, instantOf, MARKET_ZONE } from "../domain/time.ts"

/** When a session is set up (the schedule read, the expiry asked, the engine started), before its open. */
export const SETUP_MINUTES_BEFORE_OPEN = 15
/** When the day's summary is written, after the close (15:35 on a regular day). */
export const SUMMARY_MINUTES_AFTER_CLOSE = 5

/** The instants of one session's phases. */
export interface DayTimes {
  readonly date: string
  readonly hours: SessionHours
  readonly setupAt: number
  readonly openAt: number
  readonly closeAt: number
  readonly summaryAt: number
}

export const dayTimes = (date: string, hours: SessionHours = REGULAR_HOURS): DayTimes => {
  const openAt = instantOf(date, hours.open)
  const closeAt = instantOf(date, hours.close)
  return { date, hours, setupAt: addMinutes(openAt, -SETUP_MINUTES_BEFORE_OPEN), openAt, closeAt, summaryAt: addMinutes(closeAt, SUMMARY_MINUTES_AFTER_CLOSE) }
}

/**
 * The session to run next from `now`: today's while its summary is still ahead (a start mid-day
 * resumes it), else the next date `hoursOn` gives hours for (the daemon's: a session of the day's
 * exchange that the schedule trades).
 */
export const nextTradingDay = (now: number, hoursOn: (date: string) => SessionHours | undefined): DayTimes => {
  let date = DateTime.fromMillis(now, { zone: MARKET_ZONE }).startOf("day")
  for (let i = 0; i < 370; i++, date = date.plus({ days: 1 })) {
    const iso = date.toISODate()!
    const hours = hoursOn(iso)
    if (hours === undefined) continue
    const times = dayTimes(iso, hours)
    if (now < times.summaryAt) return times
  }
  throw new RangeError("no trading day within a year: check the schedule and the holiday list")
}
