// What a margin shortfall would cost: the clearing corporations' penalty slabs (SEBI CIR/DNPD/7/2011,
// NSE Clearing "Penalty for short collection of client margin"):
// - a day's shortfall < ₹1 lakh AND < 10 % of the margin required: 0.5 % of the shortfall;
// - otherwise (≥ ₹1 lakh OR ≥ 10 %): 1 %;
// - a shortfall continuing more than 3 consecutive days: 5 % for each day beyond the 3rd;
// - shortfalls on more than 5 days of a month: 5 % for each day beyond the 5th.
// The day's shortfall is its peak margin above the budget (the peak-margin snapshots take the highest).

export interface ShortfallDay {
  /** "YYYY-MM-DD" */
  readonly date: string
  /** The day's highest margin requirement, rupees. */
  readonly peakMargin: number
  /** The margin available (the budget), rupees. */
  readonly available: number
}

export interface DayPenalty {
  readonly date: string
  readonly shortfall: number
  readonly ratePct: number
  readonly penalty: number
}

const LAKH = 100_000

/** Consecutive trading days with a shortfall, as given (the days are the account's trading days). */
export const shortfallPenalties = (days: ReadonlyArray<ShortfallDay>): ReadonlyArray<DayPenalty> => {
  const ordered = [...days].sort((a, b) => a.date.localeCompare(b.date))
  let streak = 0
  const perMonth = new Map<string, number>()
  return ordered.map((d) => {
    const shortfall = Math.max(0, Math.round((d.peakMargin - d.available) * 100) / 100)
    if (shortfall === 0) {
      streak = 0
      return { date: d.date, shortfall, ratePct: 0, penalty: 0 }
    }
    streak++
    const month = d.date.slice(0, 7)
    const inMonth = (perMonth.get(month) ?? 0) + 1
    perMonth.set(month, inMonth)
    const small = shortfall < LAKH && shortfall < 0.1 * d.peakMargin
    const ratePct = streak > 3 || inMonth > 5 ? 5 : small ? 0.5 : 1
    return { date: d.date, shortfall, ratePct, penalty: Math.round(shortfall * ratePct) / 100 }
  })
}
