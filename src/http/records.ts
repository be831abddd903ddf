// Past days as the daemon keeps them in the database: hedge transactions of a date (the original design's
// hedge_transactions, written when a day ends) and the analytics per day. The operator API reads them
// here; the running day is read live from its engine instead.
import { Context, Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { analytics, type AnalyticsRow } from "../../adapters/postgres/engine-store.ts"
import { isoOf } from "../views/day-view.ts"
import type { Transaction } from "../views/schemas.ts"

export interface DayRecords {
  /** The hedge transactions of a date's session in this mode; null when there is no such session. */
  readonly transactions: (date: string) => Promise<ReadonlyArray<Transaction> | null>
  readonly analytics: (days: number) => Promise<ReadonlyArray<AnalyticsRow>>
}

/** The records of one mode (the daemon's), read through the given database connection. */
export const databaseRecords = (mode: string, sql: Context.Context<SqlClient>): DayRecords => {
  const run = <A, E>(effect: Effect.Effect<A, E, SqlClient>) => Effect.runPromise(Effect.provideContext(effect, sql))
  return {
    transactions: (date) =>
      run(
        Effect.gen(function*() {
          const db = yield* SqlClient
          const sessions = yield* db<{ id: number }>`
            SELECT id FROM auto_hedge.daily_session WHERE session_date = ${date} AND mode = ${mode} AND policy = 'engine'`
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
    analytics: (days) => run(analytics(days))
  }
}
