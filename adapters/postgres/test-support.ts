// Test helpers: run a block of tests against every available server, each with its own database.
//
//   forEachServer("audit log", (db) => {
//     it("appends", () => db.run(Effect.gen(function*() { const sql = yield* SqlClient; ... })))
//   }, { migrated: true })
//
// - PGlite, in memory: always.
// - PostgreSQL: when DATABASE_URL is set. Each `forEachServer` block gets a throwaway database
//   (`autohedge_test_<unix time>_<pid>_<random>`) created before its tests and dropped after them,
//   so test files running in parallel never see each other's rows. (A schema per file would not do:
//   the migrations own the fixed schema name `auto_hedge`.) Databases left behind by a killed run are
//   dropped by a later run once they are six hours old.
//
// The block's database is opened once (beforeAll) and shared by its tests; tests that need a clean
// slate use distinct keys. There is no @effect/vitest here: effects run with Effect.runPromise.
import { randomBytes } from "node:crypto"
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Exit, Layer, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe } from "vitest"
import { type DatabaseInfo, type DatabaseOptions, databaseLayer } from "./database.ts"
import { migrate } from "./migrations.ts"

export type ServerName = "pglite" | "postgres"
export type DatabaseServices = PgClient.PgClient | SqlClient | DatabaseInfo

/**
 * Runs an effect to a promise with a fresh scope (closed when the effect ends), optionally providing
 * a layer. A failure rejects with the error itself, so vitest shows its message.
 */
export const runEffect = <A, E, R = never, E2 = never>(
  effect: Effect.Effect<A, E, R | Scope.Scope>,
  layer?: Layer.Layer<R, E2>
): Promise<A> => {
  const scoped = Effect.scoped(effect) as Effect.Effect<A, E, R>
  return Effect.runPromise(
    layer === undefined ? scoped as Effect.Effect<A, E> : Effect.provide(scoped, layer)
  )
}

/** The servers tests run against: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const testServers = (
  env: Readonly<Record<string, string | undefined>> = process.env
): ReadonlyArray<ServerName> => {
  const url = env["DATABASE_URL"]?.trim()
  return url !== undefined && url !== "" ? ["pglite", "postgres"] : ["pglite"]
}

export interface TestDatabase {
  readonly server: ServerName
  /**
   * Options that reach this block's database, once the block has started (in a test or hook).
   * Opening them again gives a second client on the same PostgreSQL database, but a NEW empty
   * PGlite (in memory).
   */
  readonly options: () => DatabaseOptions
  /** The block's open database: providing it is free, it is built once before the tests. */
  readonly layer: Layer.Layer<DatabaseServices>
  /** `runEffect(effect, layer)`. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, DatabaseServices | Scope.Scope>) => Promise<A>
}

export interface ForEachServerOptions {
  /** Run the migrations before the tests (default false). */
  readonly migrated?: boolean
}

const prefix = "autohedge_test_"
const staleAfterSeconds = 6 * 60 * 60

export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  parsed.searchParams.delete("dbname")
  return parsed.toString()
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

/** Creates a throwaway database on the server at `url` (dropping stale ones first); returns its name. */
export const createThrowawayDatabase = (url: string): Promise<string> =>
  runEffect(
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const now = Math.floor(Date.now() / 1000)
      const existing = yield* sql<{ datname: string }>`
        SELECT datname FROM pg_database WHERE datname LIKE ${`${prefix}%`}`
      for (const { datname } of existing) {
        const created = Number(datname.slice(prefix.length).split("_")[0])
        if (Number.isFinite(created) && now - created > staleAfterSeconds) {
          yield* sql.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).pipe(Effect.ignore)
        }
      }
      const name = `${prefix}${now}_${process.pid}_${randomBytes(4).toString("hex")}`
      yield* sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}`)
      return name
    }),
    databaseLayer({ url })
  )

/** Drops a database made by `createThrowawayDatabase`, disconnecting anyone still on it. */
export const dropThrowawayDatabase = (url: string, name: string): Promise<void> =>
  runEffect(
    Effect.gen(function*() {
      const sql = yield* SqlClient
      yield* sql.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
    }),
    databaseLayer({ url })
  )

const makeFixture = (server: ServerName, adminUrl: string | undefined, options: ForEachServerOptions) => {
  let scope: Scope.Closeable | undefined
  let services: Layer.Layer<DatabaseServices> | undefined
  let dbOptions: DatabaseOptions | undefined
  let throwaway: string | undefined

  const open = async () => {
    if (server === "postgres") {
      throwaway = await createThrowawayDatabase(adminUrl!)
      dbOptions = { url: withDatabase(adminUrl!, throwaway) }
    } else {
      dbOptions = { dataDir: "memory:" }
    }
    const s = Scope.makeUnsafe()
    scope = s
    const context = await Effect.runPromise(Layer.buildWithScope(databaseLayer(dbOptions), s))
    services = Layer.succeedContext(context)
    if (options.migrated === true) await runEffect(migrate, services)
  }

  const close = async () => {
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    scope = undefined
    if (throwaway !== undefined) await dropThrowawayDatabase(adminUrl!, throwaway)
    throwaway = undefined
  }

  const notOpen = () => new Error("forEachServer: the database is opened in beforeAll; use it inside tests or hooks")
  const layer: Layer.Layer<DatabaseServices> = Layer.unwrap(Effect.suspend(() =>
    services === undefined ? Effect.die(notOpen()) : Effect.succeed(services)
  ))
  const db: TestDatabase = {
    server,
    options: () => {
      if (dbOptions === undefined) throw notOpen()
      return dbOptions
    },
    layer,
    run: (effect) => runEffect(effect, layer)
  }
  return { db, open, close }
}

/**
 * Declares `describe("<name> [<server>]", …)` once per available server; `body` declares the tests
 * with the block's `TestDatabase`.
 */
export const forEachServer = (
  name: string,
  body: (db: TestDatabase) => void,
  options: ForEachServerOptions = {}
): void => {
  const env = process.env
  for (const server of testServers(env)) {
    describe(`${name} [${server}]`, () => {
      const fixture = makeFixture(server, env["DATABASE_URL"], options)
      // PGlite needs a few seconds to initialise, more when test files run in parallel.
      beforeAll(fixture.open, 120_000)
      afterAll(fixture.close, 60_000)
      body(fixture.db)
    })
  }
}
