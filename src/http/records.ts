// Past days as the daemon keeps them in the database: hedge transactions of a date (the original design's
// hedge_transactions, written when a day ends) and the analytics per day. The operator API reads them
// here; the running day is read live from its engine instead.
import { Context, Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { analytics, type AnalyticsRow } from "../../adapters/postgres/engine-store.ts"
import { isoOf } from "../views/day-view.ts"
import type { Transaction } from "../views/schemas.ts"

export interface DayRecords {
  /** The mode whose sessions these are first (the daemon's). */
  readonly mode: string
  /** The engine's hedge transactions of a date's session in this mode (or `mode`); null when there is no such session. */
  readonly transactions: (date: string, mode?: string) => Promise<ReadonlyArray<Transaction> | null>
  readonly analytics: (days: number) => Promise<ReadonlyArray<AnalyticsRow>>
  /** Every session of one date (each mode and policy), as analytics rows. */
  readonly analyticsOn: (date: string) => Promise<ReadonlyArray<AnalyticsRow>>
}

/** The records of one mode (the daemon's), read through the given database connection. */
export const databaseRecords = (mode: string, sql: Context.Context<SqlClient>): DayRecords => {
  const run = <A, E>(effect: Effect.Effect<A, E, SqlClient>) => Effect.runPromise(Effect.provideContext(effect, sql))
  return {
    mode,
    transactions: (date, ofMode = mode) =>
      run(
        Effect.gen(function*() {
          const db = yield* SqlClient
          const sessions = yield* db<{ id: number }>`
            SELECT id FROM auto_hedge.daily_session WHERE session_date = ${date} AND mode = ${ofMode} AND policy = 'engine'`
          const id = sessions[0]?.id
          if (id === undefined) return null
          const rows = yield* db<{
            timestamp: Date | string
            action: string
            trigger_reason: string
            symbol: string
            strike: number
            option_type: string
            quantity: number
            lots: number
            executed_price: string | number | null
            total_cost: string | number | null
            utilization_before: string | number | null
          }>`SELECT timestamp, action, trigger_reason, symbol, strike, option_type, quantity, lots, executed_price, total_cost, utilization_before
             FROM auto_hedge.hedge_transactions WHERE session_id = ${id} ORDER BY timestamp, id`
          return rows.map((r): Transaction => ({
            at: isoOf(new Date(r.timestamp).getTime()),
            action: r.action === "SELL" ? "SELL" : "BUY",
            hedgeId: null,
            symbol: r.symbol,
            strike: r.strike,
            optionType: r.option_type,
            lots: r.lots,
            quantity: r.quantity,
            price: r.executed_price === null ? null : Number(r.executed_price),
            total: Number(r.total_cost ?? 0),
            trigger: r.trigger_reason,
            utilisationBefore: r.utilization_before === null ? null : Number(r.utilization_before)
          }))
        })
      ),
    analytics: (days) => run(analytics(days)),
    analyticsOn: (date) => run(analytics(1, date))
  }
}

/** The order policies are shown in when they tie. */
const POLICY_ORDER = ["engine", "reference", "static", "none"]

/**
 * A simulated day run under several policies (`simulate --db --policy …`): each policy's session, the
 * fewest breaches first, then the least net spend. Empty when the date has no such comparison.
 */
export const leagueOf = (rows: ReadonlyArray<AnalyticsRow>): ReadonlyArray<AnalyticsRow> => {
  const simulated = rows.filter((r) => r.mode === "simulation")
  if (new Set(simulated.map((r) => r.policy)).size < 2) return []
  const rank = (p: string) => (POLICY_ORDER.indexOf(p) + POLICY_ORDER.length + 1) % (POLICY_ORDER.length + 1)
  return [...simulated].sort((a, b) => (a.breaches ?? 0) - (b.breaches ?? 0) || a.netCost - b.netCost || rank(a.policy) - rank(b.policy))
}

/** Analytics rows (newest date first) grouped by date, in the order given. */
export const byDate = (rows: ReadonlyArray<AnalyticsRow>) => {
  const days = new Map<string, { date: string; dayOfWeek: string; index: string; rows: Array<AnalyticsRow> }>()
  for (const r of rows) {
    const day = days.get(r.sessionDate) ?? { date: r.sessionDate, dayOfWeek: r.dayOfWeek, index: r.index, rows: [] }
    day.rows.push(r)
    days.set(r.sessionDate, day)
  }
  return [...days.values()]
}
