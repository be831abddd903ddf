// The engine's database: one SQL code path (@effect/sql-pg's PgClient) against two servers.
//
// - `url` set (DATABASE_URL): @effect/sql-pg connects to that PostgreSQL server over TCP / a socket.
// - otherwise: an embedded PGlite (PostgreSQL compiled to WASM, in this process), in memory or
//   persisted in a data directory, and the SAME @effect/sql-pg client is connected to it.
//
// How the client reaches PGlite: through @effect/sql-pg's `stream` option and an in-process Duplex
// (./pglite-wire.ts), not through @electric-sql/pglite-socket on a loopback port or Unix socket.
// Both carry the same wire protocol into the same `execProtocolRawStream`; the stream bridge was
// chosen because
//   - it needs no port and no socket file: parallel test files cannot clash, nothing is exposed to
//     other local users (pglite-socket has no authentication), and nothing is left behind;
//   - PGlite is a single backend session, and the bridge hands that session to one client
//     connection per whole query cycle / transaction, where pglite-socket queues single protocol
//     messages (Parse, Bind, Execute…) from different connections and can interleave them;
//   - shutdown is ordered and awaited inside the layer's scope: pool closed → bridge drained →
//     PGlite closed; no server sockets or handles remain;
//   - it is faster (no TCP round trip per statement).
// The pool to PGlite is kept to one connection anyway: PGlite executes one statement at a time, so
// more connections would only queue inside the bridge. A PGlite data directory is locked
// (autohedge.lock) while open, since PGlite itself lets two instances corrupt one directory.
// See docs/persistence.md.
import { mkdir, open, readFile, unlink } from "node:fs/promises"
import { join, resolve } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Context, Duration, Effect, Layer, Redacted, Schema } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { PgliteWire } from "./pglite-wire.ts"

export interface DatabaseOptions {
  /** A PostgreSQL connection URL (`postgres://user:password@host:port/database`). Wins over `dataDir`. */
  readonly url?: string | undefined
  /** PGlite data directory; `undefined` or `"memory:"` keeps the database in memory. */
  readonly dataDir?: string | undefined
  /**
   * Commits return before the server has flushed them to disk (`synchronous_commit = off`): a crash
   * of a PostgreSQL server may lose its last fraction of a second of commits. On PGlite the server is
   * this process, so a kill of the process loses them too (measured: every row of a day killed at
   * 12 s of 14). Nothing in the product uses it any more (`npm run bench:db` compares both ways).
   */
  readonly asynchronousCommit?: boolean | undefined
}

/** The daemon's default PGlite data directory. */
export const defaultDataDir = "./data"

/**
 * Options from the environment: `DATABASE_URL` (a PostgreSQL server) or else `AUTOHEDGE_DATA_DIR`
 * (an embedded PGlite; `fallbackDataDir` when unset, `./data` for the daemon; simulations pass
 * `"memory:"`). Empty values count as unset.
 */
export const databaseOptionsFromEnv = (
  env: Readonly<Record<string, string | undefined>>,
  fallbackDataDir: string = defaultDataDir
): DatabaseOptions => {
  const url = env["DATABASE_URL"]?.trim()
  if (url !== undefined && url !== "") return { url }
  const dataDir = env["AUTOHEDGE_DATA_DIR"]?.trim()
  return { dataDir: dataDir !== undefined && dataDir !== "" ? dataDir : fallbackDataDir }
}

/** True when `dataDir` means "in memory". */
export const isMemory = (dataDir: string | undefined): boolean =>
  dataDir === undefined || dataDir === "" || dataDir === "memory:" || dataDir.startsWith("memory://")

/** A connection URL with its password (in the authority or a `password=` parameter) replaced by `***`. */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***")
    // URL re-encodes "***" in the query; keep it readable.
    return parsed.toString().replace(/password=%2A%2A%2A/g, "password=***")
  } catch {
    // Unparseable: still hide anything between "user:" and "@", and password parameters.
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, "$1***@").replace(/(password=)[^&]*/gi, "$1***")
  }
}

/** Where a URL points, for messages: `host:port` (or the socket directory); undefined if unparseable. */
const endpointOf = (url: string): string | undefined => {
  try {
    const parsed = new URL(url)
    const host = parsed.searchParams.get("host") ?? (parsed.hostname === "" ? "localhost" : parsed.hostname)
    const port = parsed.searchParams.get("port") ?? (parsed.port === "" ? "5432" : parsed.port)
    return `${host}:${port}`
  } catch {
    return undefined
  }
}

/** Which server a set of options selects, for logs: a redacted URL, or the PGlite location. */
export const describeDatabase = (options: DatabaseOptions): string =>
  options.url !== undefined && options.url.trim() !== "" ? `PostgreSQL ${redactUrl(options.url)}` :
  isMemory(options.dataDir) ? "PGlite (in memory)" :
  `PGlite (${resolve(options.dataDir!)})`

/**
 * The database could not be opened. `message` is one line, names the server (host and port, or the
 * PGlite directory) and never contains a password.
 */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String
}) {}

/** Which kind of server the layer opened; provided next to the SQL client. */
export class DatabaseInfo extends Context.Service<DatabaseInfo, {
  readonly kind: "postgres" | "pglite"
  /** Redacted URL or PGlite location, as in `describeDatabase`. */
  readonly description: string
  /** The embedded instance (for dumps, diagnostics, tests); undefined on a PostgreSQL server. */
  readonly pglite: PGlite | undefined
}>()("auto-hedge/adapters/postgres/DatabaseInfo") {}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()

/** The most specific human-readable reason inside a SqlError (the driver's cause, e.g. ECONNREFUSED). */
const reasonOf = (error: SqlError): string => {
  const reason = error.reason
  const cause: unknown = reason.cause
  const detail = cause instanceof Error && cause.message !== "" ? cause.message : undefined
  const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined
  const base = reason.message?.replace(/^PgConnection: /, "") ?? reason._tag
  if (detail === undefined) return oneLine(base)
  return oneLine(code === undefined || detail.includes(code) ? detail : `${detail} (${code})`)
}

const connectionFailed = (url: string) => (error: SqlError) => {
  const endpoint = endpointOf(url)
  return new DatabaseError({
    message: endpoint === undefined
      // Not even a URL: echo nothing of it, it may be mostly password.
      ? `invalid database URL (expected postgres://user@host:port/database): ${redactText(reasonOf(error), url)}`
      : `cannot connect to PostgreSQL at ${endpoint} (${redactUrl(url)}): ${redactText(reasonOf(error), url)}`
  })
}

/** Defensive: a driver message must never carry the password through. */
const redactText = (text: string, url: string): string => {
  try {
    const password = decodeURIComponent(new URL(url).password)
    return password === "" ? text : text.split(password).join("***")
  } catch {
    return text
  }
}

const ping = (client: PgClient.PgClient) => client`SELECT 1 AS ok`.pipe(Effect.asVoid)

const postgres = (url: string, asynchronousCommit: boolean) =>
  Effect.gen(function*() {
    const client = yield* PgClient.make({
      url: Redacted.make(url),
      applicationName: "auto-hedge",
      connectTimeout: Duration.seconds(5),
      // Set on every pooled connection as it opens.
      ...(asynchronousCommit ? { startupParameters: { synchronous_commit: "off" } } : {})
    })
    // The pool connects lazily; fail now, with a clear message, rather than at the first query.
    yield* ping(client)
    return client
  }).pipe(Effect.mapError(connectionFailed(url)))

/** The lock file kept in a PGlite data directory while it is open. */
export const lockFileName = "autohedge.lock"

/** Data directories this process has open (a lock file naming our pid is ours only if listed here). */
const heldDirectories = new Set<string>()

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it just is not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * PGlite does not lock its data directory: a second instance (another process, or another layer in
 * this one) opens it happily and the two corrupt each other. So we keep a lock file in it naming the
 * owner's pid; a lock whose process is gone is stale and taken over.
 */
const lockDataDir = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        await mkdir(dataDir, { recursive: true })
        const lock = join(dataDir, lockFileName)
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            const handle = await open(lock, "wx")
            await handle.writeFile(`${process.pid}\n`)
            await handle.close()
            heldDirectories.add(dataDir)
            return lock
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
          }
          const owner = Number((await readFile(lock, "utf8").catch(() => "")).trim())
          const ours = owner === process.pid && heldDirectories.has(dataDir)
          if (Number.isInteger(owner) && owner > 0 && (ours || (owner !== process.pid && isAlive(owner)))) {
            throw new Error(`it is in use by ${ours ? "this process" : `process ${owner}`} (${lock})`)
          }
          await unlink(lock).catch(() => undefined)
        }
        throw new Error(`could not take its lock file (${lock})`)
      },
      catch: (cause) =>
        new DatabaseError({
          message: `cannot open PGlite in ${dataDir}: ${oneLine(cause instanceof Error ? cause.message : String(cause))}`
        })
    }),
    (lock) =>
      Effect.promise(async () => {
        heldDirectories.delete(dataDir)
        await unlink(lock).catch(() => undefined)
      })
  )

const openPglite = (dataDir: string | undefined) =>
  Effect.gen(function*() {
    if (dataDir !== undefined) yield* lockDataDir(dataDir)
    return yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => dataDir === undefined ? PGlite.create() : PGlite.create({ dataDir }),
        catch: (cause) =>
          new DatabaseError({
            message: `cannot open PGlite ${dataDir === undefined ? "in memory" : `in ${dataDir}`}: ${
              oneLine(cause instanceof Error ? cause.message : String(cause))
            }`
          })
      }),
      (db) => Effect.promise(() => db.close().catch(() => undefined))
    )
  })

const pglite = (dataDir: string | undefined, asynchronousCommit: boolean) =>
  Effect.gen(function*() {
    const db = yield* openPglite(dataDir)
    const wire = yield* Effect.acquireRelease(
      Effect.sync(() => new PgliteWire(db)),
      (wire) => Effect.promise(() => wire.close())
    )
    const client = yield* PgClient.make({
      stream: () => wire.connect(),
      username: "postgres",
      database: "postgres",
      applicationName: "auto-hedge",
      maxConnections: 1,
      minConnections: 1,
      // Never bounce the connection for idleness; a replaced connection is harmless but pointless.
      idleTimeout: Duration.infinity
    })
    yield* ping(client)
    // PGlite is one session: a SET holds for every statement to come.
    if (asynchronousCommit) yield* client`SET synchronous_commit TO off`
    return { client, db }
  }).pipe(
    Effect.mapError((error) =>
      error._tag === "DatabaseError" ? error : new DatabaseError({
        message: `cannot open PGlite ${dataDir === undefined ? "in memory" : `in ${dataDir}`}: ${reasonOf(error)}`
      })
    )
  )

/**
 * A scoped layer providing @effect/sql-pg's `PgClient` and Effect's `SqlClient` (the same client),
 * plus `DatabaseInfo`. With `url`, a PostgreSQL server; otherwise an embedded PGlite, in memory or in
 * `dataDir` (created if missing). Building the layer checks the connection (`SELECT 1`), so a bad URL
 * fails here with a one-line `DatabaseError`. Closing the layer's scope closes the pool and PGlite.
 */
export const databaseLayer = (
  options: DatabaseOptions
): Layer.Layer<PgClient.PgClient | SqlClient | DatabaseInfo, DatabaseError> =>
  Layer.effectContext(
    Effect.gen(function*() {
      const url = options.url?.trim() === "" ? undefined : options.url
      const dataDir = isMemory(options.dataDir) ? undefined : resolve(options.dataDir!)
      const { client, db } = url !== undefined
        ? { client: yield* postgres(url, options.asynchronousCommit === true), db: undefined }
        : yield* pglite(dataDir, options.asynchronousCommit === true)
      const info = DatabaseInfo.of({
        kind: url !== undefined ? "postgres" : "pglite",
        description: describeDatabase(options),
        pglite: db
      })
      return Context.make(PgClient.PgClient, client).pipe(
        Context.add(SqlClient, client),
        Context.add(DatabaseInfo, info)
      )
    })
  ).pipe(Layer.provide(Reactivity.layer))
