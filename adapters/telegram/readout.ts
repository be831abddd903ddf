// What the bot reads of the day, through an interface of its own: today it is read from the running
// day the command layer sees (RunningDay); the day's read model can stand behind the same interface.
import type { RunningDay } from "../../src/commands/operator.ts"
import type { Schedule } from "../../src/domain/schedule.ts"

export interface DayStatus {
  readonly date: string
  readonly index: string
  /** The session's state, e.g. trading.watching. */
  readonly state: string
  readonly done: boolean
  readonly autoHedge: boolean
  readonly utilisationPct: number | null
  readonly budget: number
  readonly spendCap: number
  readonly grossSpend: number
  readonly recovered: number
  readonly entries: number
  readonly nextEntry: { readonly portfolio: string; readonly at: number } | null
}

export interface HedgeLine {
  readonly id: string
  readonly symbol: string
  readonly strike: number
  readonly optionType: string
  readonly status: string
  readonly held: number
  readonly forEntry: string
  readonly paid: number
  readonly received: number
}

export interface DayReadout {
  /** Null when no day is running. */
  readonly status: () => DayStatus | null
  readonly hedges: () => ReadonlyArray<HedgeLine> | null
  /** Units in a lot of the running day's index; null when no day is running. */
  readonly lotSize: () => number | null
  /** The weekly schedule as it is now. */
  readonly schedule: () => Schedule
}

export const readoutOfRunningDay = (day: () => RunningDay | null, schedule: () => Schedule): DayReadout => ({
  status: () => {
    const d = day()
    if (d === null) return null
    const c = d.context
    const next = c.entries.filter((e) => e.entryAt > c.now && !c.leftEntries.includes(e.id)).sort((a, b) => a.entryAt - b.entryAt)[0]
    return {
      date: c.date,
      index: c.index,
      state: d.state,
      done: d.done,
      autoHedge: c.enabled,
      utilisationPct: d.utilisationPct(),
      budget: c.budget,
      spendCap: c.spendCap,
      grossSpend: c.grossSpend,
      recovered: c.recovered,
      entries: c.entries.length,
      nextEntry: next === undefined ? null : { portfolio: next.portfolio, at: next.entryAt }
    }
  },
  hedges: () => {
    const d = day()
    if (d === null) return null
    return Object.values(d.context.hedges).map((h) => ({
      id: h.id,
      symbol: h.symbol,
      strike: h.strike,
      optionType: h.optionType,
      status: h.status,
      held: h.held,
      forEntry: h.forEntry,
      paid: h.paid,
      received: h.received
    }))
  },
  lotSize: () => day()?.lotSize ?? null,
  schedule
})
