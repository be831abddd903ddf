// The engine's records in Postgres: the session row, the audit trail (transitions with the checkpoint
// each batch leads to, in one transaction) and the order journal. The same code runs on PGlite and on
// a PostgreSQL server.
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type * as Statement from "effect/sql/Statement"
import type { PolicyName } from "../../src/runtime/policies.ts"
import type { TradingSession } from "../../src/domain/session.ts"
import type { Position } from "../../src/domain/market.ts"
import { instantOf, weekdayOf } from "../../src/domain/time.ts"
import type { DayReport } from "../../src/runtime/day-report.ts"
import type { PaperBrokerStore } from "../paper/world.ts"
import {
  AuditWriteFailed,
  JournalWriteFailed,
  type AuditLog,
  type Checkpoint,
  type OrderIntent,
  type OrderIntentStatus,
  type OrderJournal,
  type TransitionRow
} from "../../src/services/services.ts"

const oneLine = (e: SqlError): string => String(e.message ?? e).split("\n")[0] ?? ""

/**
 * The session row of a day, mode and policy; its id keys everything else. `fresh` clears what an
 * earlier run of the same day left (a re-simulation); the daemon keeps it, to carry on from it.
 */
export const openSession = (trading: TradingSession, policy: PolicyName, fresh: boolean) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ id: number }>`
      INSERT INTO auto_hedge.daily_session
        (session_date, mode, policy, day_of_week, index_name, expiry_type, expiry_date, num_baskets, budget_per_basket, auto_hedge_enabled)
      VALUES (${trading.date}, ${trading.mode}, ${policy}, ${weekdayOf(trading.date)}, ${trading.index}, ${trading.expiryType},
        ${trading.expiry}, ${trading.baskets}, ${trading.budgetPerBasket}, ${trading.autoHedgeEnabled})
      ON CONFLICT (session_date, mode, policy) DO UPDATE SET updated_at = NOW()
      RETURNING id`
    const id = rows[0]!.id
    if (fresh) {
      yield* sql.withTransaction(
        Effect.gen(function*() {
          yield* sql`DELETE FROM auto_hedge.paper_broker WHERE session_id = ${id}`
          yield* sql`DELETE FROM auto_hedge.transitions WHERE session_id = ${id}`
          yield* sql`DELETE FROM auto_hedge.snapshots WHERE session_id = ${id}`
          yield* sql`DELETE FROM auto_hedge.orders WHERE session_id = ${id}`
          yield* sql`DELETE FROM auto_hedge.active_hedges WHERE session_id = ${id}`
          yield* sql`DELETE FROM auto_hedge.strategy_executions WHERE session_id = ${id}`
          yield* sql`DELETE FROM auto_hedge.hedge_transactions WHERE session_id = ${id}`
          yield* sql`UPDATE auto_hedge.daily_session SET carried_shorts = NULL WHERE id = ${id}`
        })
      )
    }
    return id
  })

/** The session of a date, mode and policy, if one was recorded. */
export const findSession = (date: string, mode: string, policy: PolicyName) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ id: number }>`
      SELECT id FROM auto_hedge.daily_session WHERE session_date = ${date} AND mode = ${mode} AND policy = ${policy}`
    return rows[0]?.id ?? null
  })

/**
 * The shorts of the day's expiry the account held at the open, as first recorded (null: never), and
 * whether the session has run before (it has audit rows).
 */
export const carriedShortsOf = (sessionId: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ carried_shorts: ReadonlyArray<Position> | null; started: boolean }>`
      SELECT s.carried_shorts, EXISTS (SELECT 1 FROM auto_hedge.transitions t WHERE t.session_id = s.id) AS started
      FROM auto_hedge.daily_session s WHERE s.id = ${sessionId}`
    return { shorts: rows[0]?.carried_shorts ?? null, started: rows[0]?.started === true }
  })

/** Record the shorts held at the open, once: the first record stands (it is what the day started from). */
export const recordCarriedShorts = (sessionId: number, shorts: ReadonlyArray<Position>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* sql`UPDATE auto_hedge.daily_session SET carried_shorts = ${JSON.stringify(shorts)}::jsonb
      WHERE id = ${sessionId} AND carried_shorts IS NULL`
  })

/**
 * The audit trail of one session: a batch of transitions and its checkpoint, when it has one, are
 * written by one statement, so they commit together (one round trip, no explicit transaction).
 * Superseded checkpoints are pruned now and then; restores read the latest and the rows after it.
 */
export const postgresAuditLog = (sessionId: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const failed = (e: SqlError) => new AuditWriteFailed({ message: oneLine(e) })
    let checkpoints = 0
    const audit: AuditLog["Service"] = {
      append: (rows, checkpoint) =>
        Effect.gen(function*() {
          // The batch goes as one JSON parameter: the statement's text never changes (prepared once),
          // and encoding one parameter costs the client far less than ten per row.
          const insertRows = sql`INSERT INTO auto_hedge.transitions
              (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, event_payload, market_time, causation_seq)
            SELECT ${sessionId}, r.seq, r."actorId", r.kind, r."from", r."to", r.event, r.payload, TIMESTAMPTZ 'epoch' + r.at * INTERVAL '1 millisecond', r.causation
            FROM jsonb_to_recordset(${sql.json(rows)}) AS r(seq BIGINT, "actorId" TEXT, kind TEXT, "from" TEXT, "to" TEXT, event TEXT, payload JSONB, at BIGINT, causation BIGINT)`
          if (checkpoint === null) {
            if (rows.length > 0) yield* insertRows
            return
          }
          const { seq, machineVersion, ...document } = checkpoint
          const insertCheckpoint = sql`INSERT INTO auto_hedge.snapshots (session_id, seq, machine_version, snapshot)
                VALUES (${sessionId}, ${seq}, ${machineVersion}, ${sql.json(document)})
                ON CONFLICT (session_id, seq) DO UPDATE SET snapshot = EXCLUDED.snapshot, taken_at = NOW()`
          yield* rows.length === 0 ? insertCheckpoint : sql`WITH written AS (${insertRows}) ${insertCheckpoint}`
          if (++checkpoints % 20 === 0) yield* sql`DELETE FROM auto_hedge.snapshots WHERE session_id = ${sessionId} AND seq < ${seq}`
        }).pipe(Effect.mapError(failed)),
      latest: sql<{ seq: string | number; machine_version: string; snapshot: Omit<Checkpoint, "seq" | "machineVersion"> }>`
        SELECT seq, machine_version, snapshot FROM auto_hedge.snapshots WHERE session_id = ${sessionId} ORDER BY seq DESC LIMIT 1`.pipe(
        Effect.map((rows) => {
          const row = rows[0]
          return row === undefined ? null : { ...row.snapshot, seq: Number(row.seq), machineVersion: row.machine_version }
        }),
        Effect.mapError(failed)
      ),
      after: (seq) => Effect.provideService(loadTransitions(sessionId, seq), SqlClient, sql).pipe(Effect.mapError(failed)),
      trail: Effect.provideService(loadTransitions(sessionId), SqlClient, sql).pipe(Effect.mapError(failed))
    }
    return audit
  })

/** A paper broker's state for a session (it outlives the engine's process, as a broker does). */
export const postgresPaperBrokerStore = <S>(sessionId: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const store: PaperBrokerStore<S> = {
      load: sql<{ state: S }>`SELECT state FROM auto_hedge.paper_broker WHERE session_id = ${sessionId}`.pipe(
        Effect.map((rows) => rows[0]?.state ?? null),
        Effect.orDie
      ),
      save: (state) =>
        sql`INSERT INTO auto_hedge.paper_broker (session_id, state) VALUES (${sessionId}, ${sql.json(state)})
            ON CONFLICT (session_id) DO UPDATE SET state = EXCLUDED.state, updated_at = NOW()`.pipe(Effect.asVoid, Effect.orDie)
    }
    return store
  })

/** The session's transitions (those numbered after `afterSeq`), in order, as the engine wrote them. */
export const loadTransitions = (sessionId: number, afterSeq = 0) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{
      seq: string | number
      actor_id: string
      actor_kind: TransitionRow["kind"]
      state_from: string
      state_to: string
      event_type: string
      event_payload: unknown
      market_time: Date | string
      causation_seq: string | number | bigint | null
    }>`SELECT seq, actor_id, actor_kind, state_from, state_to, event_type, event_payload, market_time, causation_seq
       FROM auto_hedge.transitions WHERE session_id = ${sessionId} AND seq > ${afterSeq} ORDER BY seq`
    return rows.map(
      (r): TransitionRow => ({
        seq: Number(r.seq),
        actorId: r.actor_id,
        kind: r.actor_kind,
        from: r.state_from,
        to: r.state_to,
        event: r.event_type,
        payload: r.event_payload,
        at: new Date(r.market_time).getTime(),
        causation: r.causation_seq === null ? null : Number(r.causation_seq)
      })
    )
  })

/** The order journal of one session. */
export const postgresOrderJournal = (sessionId: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const fail = (e: SqlError) => new JournalWriteFailed({ message: oneLine(e) })
    const intents = (where: Statement.Fragment) =>
      sql<{
        client_order_id: string
        hedge_id: string
        side: "BUY" | "SELL"
        symbol: string
        strike: number
        option_type: "CE" | "PE"
        quantity: number
        limit_price: string | number
        sent_at: Date | string | null
        created_at: Date | string
        status: OrderIntentStatus
        broker_order_id: string | null
        message: string | null
        filled_quantity: number
        average_price: string | number | null
      }>`SELECT * FROM auto_hedge.orders WHERE session_id = ${sessionId} AND ${where} ORDER BY created_at, client_order_id`.pipe(
        Effect.map((rows) =>
          rows.map((r): OrderIntent => ({
            clientOrderId: r.client_order_id,
            hedgeId: r.hedge_id,
            side: r.side,
            symbol: r.symbol,
            strike: r.strike,
            optionType: r.option_type,
            quantity: r.quantity,
            limitPrice: Number(r.limit_price),
            // Rows from before market time was kept: the wall time they were written.
            sentAt: new Date(r.sent_at ?? r.created_at).getTime(),
            status: r.status,
            brokerOrderId: r.broker_order_id,
            message: r.message,
            filledQuantity: r.filled_quantity,
            averagePrice: r.average_price === null ? null : Number(r.average_price)
          }))
        ),
        Effect.mapError(fail)
      )
    const journal: OrderJournal["Service"] = {
      find: (clientOrderId) => Effect.map(intents(sql`client_order_id = ${clientOrderId}`), (rows) => rows[0] ?? null),
      all: intents(sql`TRUE`),
      record: (i) =>
        sql`INSERT INTO auto_hedge.orders (client_order_id, session_id, hedge_id, side, symbol, strike, option_type, quantity, limit_price, sent_at, status, broker_order_id, message)
            VALUES (${i.clientOrderId}, ${sessionId}, ${i.hedgeId}, ${i.side}, ${i.symbol}, ${i.strike}, ${i.optionType}, ${i.quantity}, ${i.limitPrice},
              ${new Date(i.sentAt).toISOString()}, ${i.status}, ${i.brokerOrderId}, ${i.message})`.pipe(
          Effect.asVoid,
          Effect.mapError(fail)
        ),
      update: (clientOrderId, change) =>
        sql`UPDATE auto_hedge.orders SET status = ${change.status},
              broker_order_id = COALESCE(${change.brokerOrderId ?? null}, broker_order_id),
              message = COALESCE(${change.message ?? null}, message),
              filled_quantity = COALESCE(${change.filledQuantity ?? null}, filled_quantity),
              average_price = COALESCE(${change.averagePrice ?? null}, average_price),
              updated_at = NOW()
            WHERE session_id = ${sessionId} AND client_order_id = ${clientOrderId}`.pipe(Effect.asVoid, Effect.mapError(fail))
    }
    return journal
  })

/**
 * The original design's tables as a read model of a finished day: one BUY row per hedge bought that day and
 * one SELL row per hedge sold in hedge_transactions, every hedge in active_hedges (active: still held at the
 * close, with the units held and the price it was bought at — what the next day may carry), one row per
 * entry in strategy_executions, and the day's peak utilisation and breaches on the session row. A wing
 * carried in was bought on an earlier day, which has its BUY: today writes only its sale, if sold.
 */
export const writeDayRecords = (sessionId: number, report: DayReport, exchange: "NFO" | "BFO") =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const stamp = (time: string | null) => (time === null ? null : instantOf(report.date, time))
    yield* sql.withTransaction(
      Effect.gen(function*() {
        yield* sql`DELETE FROM auto_hedge.active_hedges WHERE session_id = ${sessionId}`
        yield* sql`DELETE FROM auto_hedge.hedge_transactions WHERE session_id = ${sessionId}`
        for (const h of report.hedges) {
          if (h.boughtAt === null) continue
          const lots = h.lots
          const common = { session_id: sessionId, trigger_reason: h.trigger, symbol: h.symbol, exchange, strike: h.strike, option_type: h.optionType, quantity: h.quantity, lots }
          const buy = h.carried !== undefined
            ? undefined
            : (yield* sql<{ id: number }>`INSERT INTO auto_hedge.hedge_transactions ${sql.insert({
                ...common,
                timestamp: new Date(stamp(h.boughtAt)!).toISOString(),
                action: "BUY",
                order_price: h.buyPrice ?? 0,
                executed_price: h.buyPrice,
                total_cost: h.paid,
                utilization_before: h.utilisationBefore,
                order_status: "SUCCESS"
              })} RETURNING id`)[0]
          const sold = h.status === "closed" && h.closedAt !== null
          const sell = sold
            ? (yield* sql<{ id: number }>`INSERT INTO auto_hedge.hedge_transactions ${sql.insert({
                ...common,
                timestamp: new Date(stamp(h.closedAt)!).toISOString(),
                action: "SELL",
                trigger_reason: "EXCESS_MARGIN",
                order_price: h.quantity > 0 ? h.received / h.quantity : 0,
                executed_price: h.quantity > 0 ? h.received / h.quantity : 0,
                total_cost: h.received,
                utilization_before: h.utilisationBefore,
                order_status: "SUCCESS"
              })} RETURNING id`)[0]
            : undefined
          // Still held at the close: open, or its sale still working (the broker holds it until that fills).
          const held = h.held > 0 && (h.status === "open" || h.status === "exiting")
          yield* sql`INSERT INTO auto_hedge.active_hedges ${sql.insert({
            session_id: sessionId,
            transaction_id: buy?.id ?? null,
            symbol: h.symbol,
            exchange,
            strike: h.strike,
            option_type: h.optionType,
            // What the engine holds (not what it ordered): the next day claims no more of the broker's long.
            quantity: held ? h.held : h.quantity,
            entry_price: h.carried?.entryPrice ?? h.buyPrice ?? 0,
            is_active: held,
            exit_transaction_id: sell?.id ?? null,
            otm_distance: h.otmDistance
          })}`
        }
        yield* sql`UPDATE auto_hedge.daily_session SET peak_utilization = ${report.peakUtilization}, breaches = ${report.breaches.length},
                     gross_spend = ${report.grossSpend}, recovered = ${report.recovered}, updated_at = NOW()
                   WHERE id = ${sessionId}`
      })
    )
  })

/** A hedge the engine still held at a session's close (active_hedges), in that session's expiry. */
export interface WingHeld {
  readonly strike: number
  readonly optionType: "CE" | "PE"
  readonly quantity: number
  readonly entryPrice: number
  readonly expiry: string
}

/**
 * The hedges still held at the close of the index's latest session before `date` in this mode (the
 * engine's): what it may carry into `date`. None when there is no earlier session.
 */
export const wingsHeldAtPreviousClose = (index: string, mode: string, date: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ strike: number; option_type: string; quantity: number; entry_price: string | number; expiry_date: Date | string }>`
      SELECT h.strike, h.option_type, h.quantity, h.entry_price, s.expiry_date
      FROM auto_hedge.active_hedges h JOIN auto_hedge.daily_session s ON s.id = h.session_id
      WHERE h.is_active AND s.id = (
        SELECT id FROM auto_hedge.daily_session
        WHERE mode = ${mode} AND policy = 'engine' AND index_name = ${index} AND session_date < ${date}
        ORDER BY session_date DESC LIMIT 1)
      ORDER BY h.id`
    return rows.map((r): WingHeld => ({
      strike: Number(r.strike),
      optionType: r.option_type === "PE" ? "PE" : "CE",
      quantity: Number(r.quantity),
      entryPrice: Number(r.entry_price),
      expiry: typeof r.expiry_date === "string" ? r.expiry_date.slice(0, 10) : dateOfLocal(r.expiry_date)
    }))
  })

export interface AnalyticsRow {
  readonly sessionDate: string
  readonly dayOfWeek: string
  readonly index: string
  readonly mode: string
  readonly policy: string
  readonly baskets: number
  readonly hedgeCount: number
  readonly totalCost: number
  readonly totalRecovered: number
  readonly netCost: number
  readonly peakUtilization: number | null
  readonly breaches: number | null
}

/**
 * Cost, recovered, hedges and peak utilisation per day, over the last `days` session dates on record —
 * dates, not calendar days back from today, so simulated history counts. Money comes from the order
 * journal's fills (units × average price, as the broker answered), so the running day counts too;
 * a day journaled before fills were kept falls back to its hedge_transactions summary.
 */
export const analytics = (days: number, onDate?: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    // One date's sessions (the history's day), or the last `days` dates on record.
    const recent = onDate === undefined
      ? sql`SELECT DISTINCT session_date FROM auto_hedge.daily_session ORDER BY session_date DESC LIMIT ${days}`
      : sql`SELECT DISTINCT session_date FROM auto_hedge.daily_session WHERE session_date = ${onDate}`
    const rows = yield* sql<{
      session_date: Date | string
      day_of_week: string
      index_name: string
      mode: string
      policy: string
      num_baskets: number
      hedge_count: string | number
      total_cost: string | number
      total_recovered: string | number
      peak_utilization: string | number | null
      breaches: number | null
    }>`
      WITH recent AS (${recent}),
      fills AS (
        SELECT session_id,
               COUNT(DISTINCT hedge_id) FILTER (WHERE side = 'BUY') AS hedge_count,
               COALESCE(SUM(filled_quantity * average_price) FILTER (WHERE side = 'BUY'), 0) AS total_cost,
               COALESCE(SUM(filled_quantity * average_price) FILTER (WHERE side = 'SELL'), 0) AS total_recovered
        FROM auto_hedge.orders WHERE filled_quantity > 0 GROUP BY session_id
      ),
      summaries AS (
        SELECT session_id,
               COUNT(*) FILTER (WHERE action = 'BUY') AS hedge_count,
               COALESCE(SUM(total_cost) FILTER (WHERE action = 'BUY'), 0) AS total_cost,
               COALESCE(SUM(total_cost) FILTER (WHERE action = 'SELL'), 0) AS total_recovered,
               MAX(utilization_before) AS peak_utilization
        FROM auto_hedge.hedge_transactions GROUP BY session_id
      )
      SELECT s.session_date, s.day_of_week, s.index_name, s.mode, s.policy, s.num_baskets,
             COALESCE(f.hedge_count, t.hedge_count, 0) AS hedge_count,
             COALESCE(f.total_cost, t.total_cost, 0) AS total_cost,
             COALESCE(f.total_recovered, t.total_recovered, 0) AS total_recovered,
             COALESCE(s.peak_utilization, t.peak_utilization) AS peak_utilization,
             s.breaches
      FROM auto_hedge.daily_session s
      JOIN recent r ON r.session_date = s.session_date
      LEFT JOIN fills f ON f.session_id = s.id
      LEFT JOIN summaries t ON t.session_id = s.id
      ORDER BY s.session_date DESC, s.mode, s.policy`
    return rows.map(
      (r): AnalyticsRow => ({
        sessionDate: typeof r.session_date === "string" ? r.session_date.slice(0, 10) : dateOfLocal(r.session_date),
        dayOfWeek: r.day_of_week,
        index: r.index_name,
        mode: r.mode,
        policy: r.policy,
        baskets: r.num_baskets,
        hedgeCount: Number(r.hedge_count),
        totalCost: Number(r.total_cost),
        totalRecovered: Number(r.total_recovered),
        netCost: Math.round((Number(r.total_cost) - Number(r.total_recovered)) * 100) / 100,
        peakUtilization: r.peak_utilization === null ? null : Number(r.peak_utilization),
        breaches: r.breaches
      })
    )
  })

/** A DATE column read as a JS Date (midnight UTC of that date): its date. */
const dateOfLocal = (d: Date): string => d.toISOString().slice(0, 10)
