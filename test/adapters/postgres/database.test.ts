// The persistence foundation on every server: PGlite in memory always, and the PostgreSQL server of
// DATABASE_URL when set (a throwaway database per block). Plus what only PGlite or only a URL can show.
import { existsSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Cause, Effect, Exit, Layer } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "vitest"
import {
  DatabaseInfo,
  databaseLayer,
  type DatabaseOptions,
  databaseOptionsFromEnv,
  describeDatabase,
  lockFileName,
  redactUrl
} from "../../../adapters/postgres/database.ts"
import { migrate, migrations, migrationsTable, schemaName, tableNames } from "../../../adapters/postgres/migrations.ts"
import { forEachServer, runEffect, testServers } from "../../fixtures/databases.ts"

/** A daily_session row for `policy` on `date`; returns its id. */
const newSession = (date: string, policy: "engine" | "static" | "none" = "engine", mode = "simulation") =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ id: number }>`
      INSERT INTO auto_hedge.daily_session
        (session_date, mode, policy, day_of_week, index_name, expiry_type, expiry_date, num_baskets)
      VALUES (${date}, ${mode}, ${policy}, 'Tuesday', 'NIFTY', '0DTE', ${date}, 15)
      RETURNING id`
    return rows[0]!.id
  })

/** Every migration, as PgMigrator reports it: `<id>_<name>` without the id's leading zeros. */
const allMigrations = Object.keys(migrations).sort().map((key) => key.replace(/^0*(\d+)_/, "$1_"))

const sqlErrorReason = (error: unknown) =>
  typeof error === "object" && error !== null && "reason" in error
    ? (error.reason as { readonly _tag: string })._tag
    : String(error)

forEachServer("the auto_hedge schema", (db) => {
  it("migrates once; migrating again applies nothing", async () => {
    const first = await db.run(migrate)
    expect(first.map(([id, name]) => `${id}_${name}`)).toEqual(allMigrations)
    expect(allMigrations.slice(0, 2)).toEqual(["1_origin_tables", "2_engine_log"])
    expect(await db.run(migrate)).toEqual([])
    const recorded = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      return yield* sql<{ migration_id: number }>`
        SELECT migration_id FROM ${sql(migrationsTable)} ORDER BY migration_id`
    }))
    expect(recorded.map((r) => `${r.migration_id}`)).toEqual(allMigrations.map((m) => m.split("_")[0]))
  })

  it("has every table in auto_hedge, each with its primary key and the corrected unique keys", async () => {
    await db.run(migrate)
    const { tables, keys } = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const tables = yield* sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = ${schemaName} AND table_type = 'BASE TABLE' ORDER BY table_name`
      const keys = yield* sql<{ table_name: string; constraint_type: string; columns: string }>`
        SELECT tc.table_name, tc.constraint_type,
               string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS columns
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
        WHERE tc.table_schema = ${schemaName} AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
        GROUP BY tc.table_name, tc.constraint_type, tc.constraint_name`
      return { tables: tables.map((t) => t.table_name), keys }
    }))
    expect(tables).toEqual([...tableNames, "schema_migrations"].sort())
    const key = (table: string, type: string) =>
      keys.filter((k) => k.table_name === table && k.constraint_type === type).map((k) => k.columns).sort()
    expect(key("strategy_schedule", "PRIMARY KEY")).toEqual(["id"])
    expect(key("strategy_schedule", "UNIQUE")).toEqual(["day_of_week,portfolio_name"])
    expect(key("daily_session", "PRIMARY KEY")).toEqual(["id"])
    expect(key("daily_session", "UNIQUE")).toEqual(["session_date,mode,policy"])
    expect(key("hedge_transactions", "PRIMARY KEY")).toEqual(["id"])
    expect(key("strategy_executions", "PRIMARY KEY")).toEqual(["id"])
    expect(key("strategy_executions", "UNIQUE")).toEqual(["session_id,portfolio_name"])
    expect(key("active_hedges", "PRIMARY KEY")).toEqual(["id"])
    expect(key("transitions", "PRIMARY KEY")).toEqual(["session_id,seq"])
    expect(key("snapshots", "PRIMARY KEY")).toEqual(["session_id,seq"])
    // The order key is the engine's client order id (later migrations may scope it to the session).
    expect(key("orders", "PRIMARY KEY")).toHaveLength(1)
    expect(key("orders", "PRIMARY KEY")[0]!.split(",")).toContain("client_order_id")
  })

  it("daily_session: one row per date, mode and policy; total_budget is generated", async () => {
    await db.run(migrate)
    const result = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const ids = [
        yield* newSession("2026-01-05", "engine"),
        yield* newSession("2026-01-05", "static"),
        yield* newSession("2026-01-05", "none"),
        yield* newSession("2026-01-05", "engine", "paper")
      ]
      const duplicate = yield* Effect.flip(newSession("2026-01-05", "engine"))
      const budget = yield* sql<{ total_budget: string }>`
        SELECT total_budget FROM auto_hedge.daily_session WHERE id = ${ids[0]!}`
      const badMode = yield* Effect.flip(newSession("2026-01-06", "engine", "backtest"))
      return { ids, duplicate, budget: budget[0]!.total_budget, badMode }
    }))
    expect(new Set(result.ids).size).toBe(4)
    expect(sqlErrorReason(result.duplicate)).toBe("UniqueViolation")
    expect(Number(result.budget)).toBe(15_000_000)
    expect(sqlErrorReason(result.badMode)).toBe("ConstraintError")
  })

  it("strategy_executions: a second row for the same session and portfolio is refused; the upsert works", async () => {
    await db.run(migrate)
    const result = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const sessionId = yield* newSession("2026-01-06")
      const insert = (utilization: number) =>
        sql`INSERT INTO auto_hedge.strategy_executions
              (session_id, portfolio_name, scheduled_entry_time, utilization_before)
            VALUES (${sessionId}, 'ITJ_NF_EXP 1', '09:16:00', ${utilization})`
      yield* insert(40)
      const duplicate = yield* Effect.flip(insert(41))
      const upsert = (utilization: number) =>
        sql`INSERT INTO auto_hedge.strategy_executions
              (session_id, portfolio_name, scheduled_entry_time, utilization_before)
            VALUES (${sessionId}, 'ITJ_NF_EXP 1', '09:16:00', ${utilization})
            ON CONFLICT (session_id, portfolio_name)
            DO UPDATE SET utilization_before = excluded.utilization_before, updated_at = now()`
      yield* upsert(55.5)
      yield* upsert(60.25)
      const rows = yield* sql<{ utilization_before: string }>`
        SELECT utilization_before FROM auto_hedge.strategy_executions WHERE session_id = ${sessionId}`
      return { duplicate, rows }
    }))
    expect(sqlErrorReason(result.duplicate)).toBe("UniqueViolation")
    expect(result.rows.map((r) => Number(r.utilization_before))).toEqual([60.25])
  })

  it("orders and transitions check their enumerations and keys", async () => {
    await db.run(migrate)
    const result = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const sessionId = yield* newSession("2026-01-07")
      const order = (id: string, side: string, status = "PENDING") =>
        sql`INSERT INTO auto_hedge.orders
              (client_order_id, session_id, hedge_id, side, symbol, strike, option_type, quantity, limit_price, status)
            VALUES (${id}, ${sessionId}, 'hedge-1', ${side}, 'NIFTY26JAN23000PE', 23000, 'PE', 75, 3.1, ${status})`
      yield* order("AH-1", "BUY")
      const duplicateOrder = yield* Effect.flip(order("AH-1", "BUY"))
      const badSide = yield* Effect.flip(order("AH-2", "HOLD"))
      const badStatus = yield* Effect.flip(order("AH-3", "SELL", "LOST"))
      const transition = (seq: number, kind: string) =>
        sql`INSERT INTO auto_hedge.transitions
              (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, market_time)
            VALUES (${sessionId}, ${seq}, 'session', ${kind}, 'idle', 'watching', 'START', now())`
      yield* transition(1, "session")
      const duplicateSeq = yield* Effect.flip(transition(1, "session"))
      const badKind = yield* Effect.flip(transition(2, "broker"))
      const orphan = yield* Effect.flip(sql`INSERT INTO auto_hedge.transitions
          (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, market_time)
        VALUES (-1, 1, 'x', 'session', 'a', 'b', 'E', now())`)
      const defaults = yield* sql<{ filled_quantity: number; status: string }>`
        SELECT filled_quantity, status FROM auto_hedge.orders WHERE client_order_id = 'AH-1'`
      return { duplicateOrder, badSide, badStatus, duplicateSeq, badKind, orphan, defaults: defaults[0] }
    }))
    expect(sqlErrorReason(result.duplicateOrder)).toBe("UniqueViolation")
    expect(sqlErrorReason(result.badSide)).toBe("ConstraintError")
    expect(sqlErrorReason(result.badStatus)).toBe("ConstraintError")
    expect(sqlErrorReason(result.duplicateSeq)).toBe("UniqueViolation")
    expect(sqlErrorReason(result.badKind)).toBe("ConstraintError")
    expect(sqlErrorReason(result.orphan)).toBe("ConstraintError")
    expect(result.defaults).toEqual({ filled_quantity: 0, status: "PENDING" })
  })

  it("round-trips a nested jsonb payload, and a large one", async () => {
    await db.run(migrate)
    const payload = {
      event: { type: "ORDER_FILLED", order: { id: "AH-7", legs: [{ strike: 22500, type: "PE", qty: 975 }] } },
      numbers: [0, -1, 1.5, 1e-7, 123456789012],
      flags: { live: false, retry: true, note: null },
      text: "₹ margin — “quotes” \\ backslash \u0001 control",
      deep: { a: { b: { c: { d: { e: [[], {}, [{ f: "g" }]] } } } } }
    }
    const large = {
      ticks: Array.from({ length: 25_000 }, (_, i) => ({ i, spot: 22_000 + (i % 300), chain: { pe: i % 7, ce: i % 11 } }))
    }
    const result = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const pg = yield* PgClient.PgClient
      const sessionId = yield* newSession("2026-01-08")
      yield* sql`INSERT INTO auto_hedge.transitions
          (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, event_payload, market_time, causation_seq)
        VALUES (${sessionId}, 1, 'hedge-1', 'hedge', 'placing', 'open', 'ORDER_FILLED', ${pg.json(payload)},
                '2026-01-08T09:16:00+05:30', NULL)`
      yield* sql`INSERT INTO auto_hedge.snapshots (session_id, seq, machine_version, snapshot)
        VALUES (${sessionId}, 1, 'session@1', ${pg.json(large)})`
      const read = yield* sql<{ event_payload: unknown; market_time: Date }>`
        SELECT event_payload, market_time FROM auto_hedge.transitions WHERE session_id = ${sessionId}`
      const snapshot = yield* sql<{ snapshot: unknown }>`
        SELECT snapshot FROM auto_hedge.snapshots WHERE session_id = ${sessionId} AND seq = 1`
      const path = yield* sql<{ strike: number }>`
        SELECT (event_payload #>> '{event,order,legs,0,strike}')::int AS strike
        FROM auto_hedge.transitions WHERE session_id = ${sessionId}`
      return { read: read[0]!, snapshot: snapshot[0]!.snapshot, strike: path[0]!.strike }
    }))
    expect(result.read.event_payload).toEqual(payload)
    expect(new Date(result.read.market_time).toISOString()).toBe("2026-01-08T03:46:00.000Z")
    expect(result.snapshot).toEqual(large)
    expect(result.strike).toBe(22500)
  })

  it("runs concurrent queries", async () => {
    await db.run(migrate)
    const result = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const sessionId = yield* newSession("2026-01-09")
      const outcomes = yield* Effect.all(
        Array.from({ length: 100 }, (_, i) =>
          i % 2 === 0
            ? sql`INSERT INTO auto_hedge.transitions
                    (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, event_payload, market_time)
                  VALUES (${sessionId}, ${i}, ${`entry-${i % 5}`}, 'entry', 'a', 'b', 'E', ${JSON.stringify({ i })}::jsonb, now())
                  RETURNING seq`.pipe(Effect.map((rows) => Number(rows[0]!["seq"])))
            : sql<{ n: number }>`SELECT ${i}::int AS n`.pipe(Effect.map((rows) => rows[0]!.n))),
        { concurrency: 16 }
      )
      const count = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM auto_hedge.transitions WHERE session_id = ${sessionId}`
      return { outcomes, count: count[0]!.n }
    }))
    expect(result.outcomes).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(result.count).toBe(50)
  })

  it("rolls a failed transaction back, and keeps what ran beside it", async () => {
    await db.run(migrate)
    const result = await db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const sessionId = yield* newSession("2026-01-12")
      const order = (id: string) =>
        sql`INSERT INTO auto_hedge.orders
              (client_order_id, session_id, hedge_id, side, symbol, strike, option_type, quantity)
            VALUES (${id}, ${sessionId}, 'h', 'BUY', 'NIFTY', 23000, 'PE', 75)`
      // A domain failure after two writes.
      const failed = yield* Effect.flip(sql.withTransaction(Effect.gen(function*() {
        yield* order("TX-1")
        yield* order("TX-2")
        yield* Effect.sleep("20 millis")
        return yield* Effect.fail("broker said no" as const)
      })))
      // A statement failure inside the transaction.
      const violated = yield* Effect.flip(sql.withTransaction(Effect.gen(function*() {
        yield* order("TX-3")
        yield* order("TX-3")
      })))
      // A transaction and plain statements at the same time.
      yield* Effect.all([
        Effect.flip(sql.withTransaction(Effect.gen(function*() {
          yield* order("TX-4")
          yield* Effect.sleep("30 millis")
          return yield* Effect.fail("late failure" as const)
        }))),
        Effect.gen(function*() {
          yield* Effect.sleep("5 millis")
          yield* order("OUT-1")
          yield* order("OUT-2")
        })
      ], { concurrency: "unbounded" })
      const committed = yield* sql.withTransaction(order("TX-5"))
      const rows = yield* sql<{ client_order_id: string }>`
        SELECT client_order_id FROM auto_hedge.orders WHERE session_id = ${sessionId} ORDER BY client_order_id`
      return { failed, violated, committed, ids: rows.map((r) => r.client_order_id) }
    }))
    expect(result.failed).toBe("broker said no")
    expect(sqlErrorReason(result.violated)).toBe("UniqueViolation")
    expect(result.ids).toEqual(["OUT-1", "OUT-2", "TX-5"])
  })

  it("says which server it is", async () => {
    const info = await db.run(Effect.gen(function*() {
      return yield* DatabaseInfo
    }))
    expect(info.kind).toBe(db.server)
    expect(info.pglite === undefined).toBe(db.server === "postgres")
  })
})

describe("PGlite data directory", () => {
  const dirs: Array<string> = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it("is created if missing and survives closing and reopening", async () => {
    const parent = await mkdtemp(join(tmpdir(), "autohedge-pglite-"))
    dirs.push(parent)
    const dataDir = join(parent, "nested", "data")
    const layer = databaseLayer({ dataDir })
    const first = await runEffect(Effect.gen(function*() {
      const applied = yield* migrate
      const sessionId = yield* newSession("2026-01-13", "engine", "live")
      const sql = yield* SqlClient
      yield* sql`INSERT INTO auto_hedge.transitions
          (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, event_payload, market_time)
        VALUES (${sessionId}, 1, 'session', 'session', 'idle', 'watching', 'START', ${JSON.stringify({ ok: true })}::jsonb, now())`
      const info = yield* DatabaseInfo
      return { applied: applied.length, sessionId, pglite: info.pglite! }
    }), layer)
    expect(first.applied).toBe(allMigrations.length)
    // The layer's scope closed PGlite.
    expect(first.pglite.closed).toBe(true)

    const second = await runEffect(Effect.gen(function*() {
      const applied = yield* migrate
      const sql = yield* SqlClient
      const rows = yield* sql<{ event_payload: unknown; mode: string }>`
        SELECT t.event_payload, s.mode FROM auto_hedge.transitions t
        JOIN auto_hedge.daily_session s ON s.id = t.session_id WHERE t.session_id = ${first.sessionId}`
      return { applied: applied.length, rows }
    }), layer)
    expect(second.applied).toBe(0)
    expect(second.rows).toEqual([{ event_payload: { ok: true }, mode: "live" }])
  })

  it("is opened by one database at a time; a stale lock is taken over", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "autohedge-pglite-"))
    dirs.push(dataDir)
    // A lock left by a process that no longer exists.
    await writeFile(join(dataDir, lockFileName), "2147483646\n")
    const second = await runEffect(Effect.gen(function*() {
      const info = yield* DatabaseInfo
      expect(info.description).toBe(`PGlite (${dataDir})`)
      return yield* Effect.flip(Effect.scoped(Layer.build(databaseLayer({ dataDir }))))
    }), databaseLayer({ dataDir }))
    expect(second._tag).toBe("DatabaseError")
    expect(second.message).toBe(
      `cannot open PGlite in ${dataDir}: it is in use by this process (${join(dataDir, lockFileName)})`
    )
    expect(existsSync(join(dataDir, lockFileName))).toBe(false)
    // A live process's lock (our parent's pid stands in for another daemon).
    await writeFile(join(dataDir, lockFileName), `${process.ppid}\n`)
    const third = await runEffect(Effect.flip(Layer.build(databaseLayer({ dataDir }))))
    expect(third.message).toContain(`it is in use by process ${process.ppid}`)
  })

  it("in memory starts empty every time", async () => {
    const count = () =>
      runEffect(Effect.gen(function*() {
        const sql = yield* SqlClient
        const rows = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'auto_hedge'`
        yield* migrate
        return rows[0]!.n
      }), databaseLayer({ dataDir: "memory:" }))
    expect(await count()).toBe(0)
    expect(await count()).toBe(0)
  })
})

describe("commit durability", () => {
  const servers: Array<[string, DatabaseOptions]> = [["PGlite", { dataDir: "memory:" }]]
  if ((process.env.DATABASE_URL ?? "") !== "") servers.push(["PostgreSQL", { url: process.env.DATABASE_URL! }])
  const setting = (options: DatabaseOptions) =>
    runEffect(Effect.gen(function*() {
      const sql = yield* SqlClient
      return (yield* sql<{ synchronous_commit: string }>`SHOW synchronous_commit`)[0]!.synchronous_commit
    }), databaseLayer(options))

  it.each(servers)("%s: synchronous by default (the daemon), asynchronous when asked (simulations)", async (_name, options) => {
    expect(await setting(options)).toBe("on")
    expect(await setting({ ...options, asynchronousCommit: true })).toBe("off")
  })
})

describe("a bad DATABASE_URL", () => {
  const failure = async (url: string) => {
    const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(databaseLayer({ url }))))
    if (Exit.isSuccess(exit)) throw new Error(`expected ${redactUrl(url)} to fail`)
    return Cause.squash(exit.cause)
  }

  it("fails with one line naming host and port, without the password", async () => {
    const error = await failure("postgres://autohedge:s3cr3t-pw@127.0.0.1:1/test")
    expect(error).toMatchObject({ _tag: "DatabaseError" })
    const message = (error as Error).message
    expect(message).toContain("127.0.0.1:1")
    expect(message).toContain("ECONNREFUSED")
    expect(message).toContain("postgres://autohedge:***@127.0.0.1:1/test")
    expect(message).not.toContain("s3cr3t-pw")
    expect(message).not.toMatch(/\n|\bat .*:\d+:\d+/)
    expect(String(error)).toBe(`DatabaseError: ${message}`)
  })

  it("does not echo an unparseable URL at all", async () => {
    const error = await failure("s3cr3t-pw not a url")
    const message = (error as Error).message
    expect(message).toMatch(/^invalid database URL/)
    expect(message).not.toContain("s3cr3t-pw")
  })
})

describe("database options", () => {
  it("come from DATABASE_URL, else AUTOHEDGE_DATA_DIR, else ./data (or the caller's fallback)", () => {
    expect(databaseOptionsFromEnv({ DATABASE_URL: "postgres://u@h/db", AUTOHEDGE_DATA_DIR: "/x" }))
      .toEqual({ url: "postgres://u@h/db" })
    expect(databaseOptionsFromEnv({ DATABASE_URL: " ", AUTOHEDGE_DATA_DIR: "/var/lib/autohedge" }))
      .toEqual({ dataDir: "/var/lib/autohedge" })
    expect(databaseOptionsFromEnv({})).toEqual({ dataDir: "./data" })
    expect(databaseOptionsFromEnv({}, "memory:")).toEqual({ dataDir: "memory:" })
  })

  it("redact passwords wherever they are", () => {
    expect(redactUrl("postgres://u:p%40ss@h:5433/db")).toBe("postgres://u:***@h:5433/db")
    expect(redactUrl("postgres://u@h/db?password=pw&sslmode=require")).toBe("postgres://u@h/db?password=***&sslmode=require")
    expect(redactUrl("postgres://u@h/db")).toBe("postgres://u@h/db")
    expect(describeDatabase({ url: "postgres://u:pw@h/db" })).toBe("PostgreSQL postgres://u:***@h/db")
    expect(describeDatabase({ dataDir: "memory:" })).toBe("PGlite (in memory)")
    expect(describeDatabase({})).toBe("PGlite (in memory)")
  })

  it("test servers: PGlite always, PostgreSQL with DATABASE_URL", () => {
    expect(testServers({})).toEqual(["pglite"])
    expect(testServers({ DATABASE_URL: "postgres://x@y/z" })).toEqual(["pglite", "postgres"])
  })
})
