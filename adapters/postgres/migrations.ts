// The engine's schema, `auto_hedge`, as PgMigrator migrations. Each migration is a list of plain
// statements run one at a time (the extended protocol takes one statement per Parse) inside the
// migrator's transaction. PgMigrator records applied ids in auto_hedge.schema_migrations, so
// `migrate` is a no-op the second time. Everything here runs unchanged on PGlite and PostgreSQL 15.
//
// Never edit a migration that has shipped: add the next one.
import * as NodeChildProcessSpawner from "@effect/platform-node/NodeChildProcessSpawner"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as PgMigrator from "@effect/sql-pg/PgMigrator"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

export const schemaName = "auto_hedge"
/** Where PgMigrator records the applied migrations. */
export const migrationsTable = `${schemaName}.schema_migrations`

/** Every table the migrations create in `auto_hedge` (not counting the migrations table). */
export const tableNames = [
  "strategy_schedule",
  "daily_session",
  "hedge_transactions",
  "strategy_executions",
  "active_hedges",
  "transitions",
  "snapshots",
  "orders",
  "paper_broker",
  "market_calendar",
  "alerts"
] as const
export type TableName = typeof tableNames[number]

/**
 * The tables of the original design (the design document this product grew from), corrected:
 * - daily_session: `mode` (live | paper | recommend | simulation) and `policy` (engine | static |
 *   none) added; unique on (session_date, mode, policy) instead of session_date alone, since
 *   simulations run several policies over the same date;
 * - strategy_executions: UNIQUE (session_id, portfolio_name), so an entry is recorded once and can be
 *   upserted.
 */
const originTables = [
  `CREATE SCHEMA IF NOT EXISTS auto_hedge`,
  `CREATE TABLE auto_hedge.strategy_schedule (
    id SERIAL PRIMARY KEY,
    day_of_week VARCHAR(10) NOT NULL,
    index_name VARCHAR(10) NOT NULL,
    expiry_type VARCHAR(10) NOT NULL,
    portfolio_name VARCHAR(50) NOT NULL,
    entry_time TIME NOT NULL,
    exit_time TIME,
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE (day_of_week, portfolio_name)
  )`,
  `CREATE TABLE auto_hedge.daily_session (
    id SERIAL PRIMARY KEY,
    session_date DATE NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'paper', 'recommend', 'simulation')),
    policy TEXT NOT NULL CHECK (policy IN ('engine', 'static', 'none')),
    day_of_week VARCHAR(10) NOT NULL,
    index_name VARCHAR(10) NOT NULL,
    expiry_type VARCHAR(10) NOT NULL,
    expiry_date DATE NOT NULL,
    num_baskets INTEGER NOT NULL,
    budget_per_basket DECIMAL(12,2) DEFAULT 1000000.00,
    total_budget DECIMAL(14,2) GENERATED ALWAYS AS (num_baskets * budget_per_basket) STORED,
    baseline_margin DECIMAL(14,2),
    baseline_captured_at TIMESTAMPTZ,
    auto_hedge_enabled BOOLEAN DEFAULT true,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    CONSTRAINT daily_session_date_mode_policy_key UNIQUE (session_date, mode, policy)
  )`,
  `CREATE TABLE auto_hedge.hedge_transactions (
    id SERIAL PRIMARY KEY,
    session_id INTEGER REFERENCES auto_hedge.daily_session(id),
    timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    action VARCHAR(10) NOT NULL,
    trigger_reason VARCHAR(100) NOT NULL,
    symbol VARCHAR(50) NOT NULL,
    exchange VARCHAR(10) NOT NULL,
    strike INTEGER NOT NULL,
    option_type VARCHAR(2) NOT NULL,
    quantity INTEGER NOT NULL,
    lots INTEGER NOT NULL,
    order_price DECIMAL(10,2) NOT NULL,
    executed_price DECIMAL(10,2),
    total_cost DECIMAL(12,2),
    utilization_before DECIMAL(5,2) NOT NULL,
    utilization_after DECIMAL(5,2),
    margin_impact DECIMAL(14,2),
    order_id VARCHAR(50),
    order_status VARCHAR(20) NOT NULL,
    error_message TEXT,
    telegram_sent BOOLEAN DEFAULT false,
    telegram_message_id VARCHAR(50),
    created_at TIMESTAMPTZ DEFAULT NOW()
  )`,
  `CREATE TABLE auto_hedge.strategy_executions (
    id SERIAL PRIMARY KEY,
    session_id INTEGER REFERENCES auto_hedge.daily_session(id),
    portfolio_name VARCHAR(50) NOT NULL,
    scheduled_entry_time TIME NOT NULL,
    utilization_before DECIMAL(5,2),
    projected_utilization DECIMAL(5,2),
    hedge_required BOOLEAN DEFAULT false,
    hedge_transaction_id INTEGER REFERENCES auto_hedge.hedge_transactions(id),
    actual_entry_time TIMESTAMPTZ,
    utilization_after DECIMAL(5,2),
    entry_successful BOOLEAN,
    scheduled_exit_time TIME,
    actual_exit_time TIMESTAMPTZ,
    exit_reason VARCHAR(20),
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    CONSTRAINT strategy_executions_session_portfolio_key UNIQUE (session_id, portfolio_name)
  )`,
  `CREATE TABLE auto_hedge.active_hedges (
    id SERIAL PRIMARY KEY,
    session_id INTEGER REFERENCES auto_hedge.daily_session(id),
    transaction_id INTEGER REFERENCES auto_hedge.hedge_transactions(id),
    symbol VARCHAR(50) NOT NULL,
    exchange VARCHAR(10) NOT NULL,
    strike INTEGER NOT NULL,
    option_type VARCHAR(2) NOT NULL,
    quantity INTEGER NOT NULL,
    entry_price DECIMAL(10,2) NOT NULL,
    current_price DECIMAL(10,2),
    is_active BOOLEAN DEFAULT true,
    exit_transaction_id INTEGER REFERENCES auto_hedge.hedge_transactions(id),
    otm_distance INTEGER,
    margin_benefit DECIMAL(14,2),
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
  )`,
  `CREATE INDEX idx_hedge_transactions_session ON auto_hedge.hedge_transactions(session_id)`,
  `CREATE INDEX idx_hedge_transactions_timestamp ON auto_hedge.hedge_transactions(timestamp)`,
  // strategy_executions(session_id) is covered by its unique constraint's index.
  `CREATE INDEX idx_active_hedges_session ON auto_hedge.active_hedges(session_id, is_active)`
]

/**
 * The engine's own log: every machine transition (the audit log), machine snapshots for restart,
 * and broker orders keyed by the engine's client order id (idempotent placement).
 */
const engineLog = [
  `CREATE TABLE auto_hedge.transitions (
    session_id INTEGER NOT NULL REFERENCES auto_hedge.daily_session(id),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    actor_id TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('session', 'entry', 'hedge')),
    state_from TEXT NOT NULL,
    state_to TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_payload JSONB,
    market_time TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    causation_seq BIGINT CHECK (causation_seq IS NULL OR causation_seq < seq),
    PRIMARY KEY (session_id, seq)
  )`,
  `CREATE INDEX idx_transitions_session_actor ON auto_hedge.transitions(session_id, actor_id, seq)`,
  `CREATE TABLE auto_hedge.snapshots (
    session_id INTEGER NOT NULL REFERENCES auto_hedge.daily_session(id),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    machine_version TEXT NOT NULL,
    snapshot JSONB NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (session_id, seq)
  )`,
  `CREATE TABLE auto_hedge.orders (
    client_order_id TEXT PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES auto_hedge.daily_session(id),
    hedge_id TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    symbol TEXT NOT NULL,
    strike INTEGER NOT NULL,
    option_type TEXT NOT NULL CHECK (option_type IN ('CE', 'PE')),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    limit_price NUMERIC(10,2),
    status TEXT NOT NULL DEFAULT 'PENDING'
      CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'UNKNOWN', 'FILLED', 'CANCELLED')),
    broker_order_id TEXT,
    filled_quantity INTEGER NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
    average_price NUMERIC(10,2),
    message TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
  )`,
  `CREATE INDEX idx_orders_session_status ON auto_hedge.orders(session_id, status)`,
  `CREATE INDEX idx_orders_hedge ON auto_hedge.orders(hedge_id)`
]

const statements = (list: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    for (const statement of list) yield* sql.unsafe(statement)
  })

/** The migrations, keyed `<id>_<name>` as PgMigrator.fromRecord expects. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient>> = {
  "0001_origin_tables": statements(originTables),
  "0002_engine_log": statements(engineLog),
  // The day's outcome on its session row, for analytics over days without hedges too.
  "0003_day_summary_and_order_keys": statements([
    `ALTER TABLE auto_hedge.daily_session
       ADD COLUMN peak_utilization DECIMAL(6,2),
       ADD COLUMN breaches INTEGER,
       ADD COLUMN gross_spend DECIMAL(12,2),
       ADD COLUMN recovered DECIMAL(12,2)`,
    // Client order ids are unique within a session (a day, mode and policy), not across sessions.
    `ALTER TABLE auto_hedge.orders DROP CONSTRAINT orders_pkey`,
    `ALTER TABLE auto_hedge.orders ADD PRIMARY KEY (session_id, client_order_id)`
  ]),
  // The paper broker's own state: a broker outlives the engine's process.
  "0004_paper_broker": statements([
    `CREATE TABLE auto_hedge.paper_broker (
       session_id INTEGER PRIMARY KEY REFERENCES auto_hedge.daily_session(id),
       state JSONB NOT NULL,
       updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
     )`
  ]),
  // When each order's send started, in market time: a broker without client order ids (OpenAlgo)
  // recognises an order after a restart by what was sent and when.
  "0005_order_sent_at": statements([`ALTER TABLE auto_hedge.orders ADD COLUMN sent_at TIMESTAMPTZ`]),
  // The reference policy is simulated as a policy of its own, kept beside the others.
  "0006_reference_policy": statements([
    `ALTER TABLE auto_hedge.daily_session DROP CONSTRAINT daily_session_policy_check`,
    `ALTER TABLE auto_hedge.daily_session ADD CONSTRAINT daily_session_policy_check CHECK (policy IN ('engine', 'reference', 'static', 'none'))`
  ]),
  // The broker's holiday list per exchange and year, as last received: the calendar when the broker is down.
  "0007_market_calendar": statements([
    `CREATE TABLE auto_hedge.market_calendar (
       exchange TEXT NOT NULL CHECK (exchange IN ('NSE', 'BSE')),
       year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
       days JSONB NOT NULL,
       fetched_at TIMESTAMPTZ NOT NULL,
       PRIMARY KEY (exchange, year)
     )`
  ]),
  // A fill's average price as the broker answers it (an average of several fills has more than two decimals).
  "0008_order_fill_price": statements([`ALTER TABLE auto_hedge.orders ALTER COLUMN average_price TYPE NUMERIC(12,4)`]),
  // Every alert as the trader is told it, written before it is sent (adapters/telegram): what was
  // delivered, what is still being tried, and what failed stay here, so none is lost silently.
  "0009_alerts": statements([
    `CREATE TABLE auto_hedge.alerts (
       id BIGSERIAL PRIMARY KEY,
       kind TEXT NOT NULL,
       severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
       actor TEXT NOT NULL,
       text TEXT NOT NULL,
       status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
       attempts INTEGER NOT NULL DEFAULT 0,
       telegram_message_id BIGINT,
       last_error TEXT,
       raised_at TIMESTAMPTZ NOT NULL,
       created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
       updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
       sent_at TIMESTAMPTZ
     )`,
    `CREATE INDEX alerts_unsent ON auto_hedge.alerts (id) WHERE status <> 'sent'`
  ]),
  // The shorts the account held at the day's open (carried from an earlier day), as the daemon's first
  // start before the first entry saw them: a restart later in the day cannot tell them from the day's
  // entries by looking (src/daemon/carried.ts). Null: never recorded.
  "0010_carried_shorts_at_open": statements([`ALTER TABLE auto_hedge.daily_session ADD COLUMN carried_shorts JSONB`])
}

// PgMigrator's type asks for the services its optional `pg_dump` schema dump uses; we never ask for
// a dump (no `schemaDirectory`), but provide the Node implementations to satisfy it.
const migratorPlatform = Layer.provideMerge(
  NodeChildProcessSpawner.layer,
  Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)
)

/** 42P06 duplicate_schema, 23505 unique_violation: another process created the schema first. */
const isDuplicateSchema = (error: SqlError) => {
  const cause: unknown = error.reason.cause
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined
  return code === "42P06" || code === "23505"
}

/**
 * Applies the pending migrations; returns the ones it applied (`[id, name]`), none when up to date.
 * Safe to run twice and from two processes at once (PgMigrator locks its table).
 */
export const migrate: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  PgMigrator.MigrationError | SqlError,
  SqlClient | PgClient.PgClient
> = Effect.gen(function*() {
  const sql = yield* SqlClient
  // The migrations table lives in the schema, so the schema must exist before the migrator runs.
  yield* sql`CREATE SCHEMA IF NOT EXISTS auto_hedge`.pipe(
    Effect.catchIf(isDuplicateSchema, () => Effect.void)
  )
  return yield* PgMigrator.run({
    loader: PgMigrator.fromRecord(migrations),
    table: migrationsTable
  })
}).pipe(Effect.provide(migratorPlatform), Effect.withSpan("auto-hedge/migrate"))
