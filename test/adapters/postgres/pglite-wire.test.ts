// The in-process wire between @effect/sql-pg and PGlite: several client connections share PGlite's one
// backend session without interleaving their cycles or transactions, and a connection that goes away
// leaves nothing behind (open transaction, prepared statements).
import { Buffer } from "node:buffer"
import type { Duplex } from "node:stream"
import { PGlite } from "@electric-sql/pglite"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Layer } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import type { Scope } from "effect/Scope"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PgliteWire } from "../../../adapters/postgres/pglite-wire.ts"

let db: PGlite
let wire: PgliteWire

beforeAll(async () => {
  db = await PGlite.create()
  wire = new PgliteWire(db)
  await db.exec("CREATE TABLE t (id int PRIMARY KEY, note text)")
}, 120_000)

afterAll(async () => {
  await wire.close()
  await db.close()
})

/** Runs `f` with a client of `maxConnections` connections over the wire; the client closes after. */
const withClient = <A, E>(
  f: (client: PgClient.PgClient) => Effect.Effect<A, E, Scope>,
  options: { readonly maxConnections?: number; readonly multiplex?: boolean } = {}
) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const client = yield* PgClient.make({
        stream: () => wire.connect(),
        username: "postgres",
        database: "postgres",
        maxConnections: options.maxConnections ?? 4,
        multiplex: options.multiplex ?? false
      })
      return yield* f(client)
    })).pipe(Effect.provide(Layer.mergeAll(Reactivity.layer)))
  )

/** Frontend messages, for driving a raw connection. */
const startup = () => {
  const params = Buffer.from("user\0postgres\0database\0postgres\0\0")
  const message = Buffer.alloc(8 + params.length)
  message.writeInt32BE(message.length, 0)
  message.writeInt32BE(196608, 4)
  params.copy(message, 8)
  return message
}
const simpleQuery = (text: string) => {
  const body = Buffer.from(`${text}\0`)
  const message = Buffer.alloc(5 + body.length)
  message[0] = 0x51
  message.writeInt32BE(4 + body.length, 1)
  body.copy(message, 5)
  return message
}
/** Writes `bytes` and resolves with the output up to (and including) the next ReadyForQuery. */
const roundTrip = (conn: Duplex, bytes: Buffer) =>
  new Promise<Buffer>((resolve) => {
    let out = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      out = Buffer.concat([out, chunk])
      // ReadyForQuery: 'Z', length 5, status.
      if (out.length >= 6 && out[out.length - 6] === 0x5a) {
        conn.off("data", onData)
        resolve(out)
      }
    }
    conn.on("data", onData)
    conn.write(bytes)
  })
const closed = (conn: Duplex) => new Promise<void>((resolve) => conn.once("close", () => resolve()))

describe("the PGlite wire", () => {
  it("keeps many connections' concurrent statements, errors included, apart", async () => {
    const outcomes = await withClient((client) =>
      Effect.all(
        Array.from({ length: 400 }, (_, i) =>
          Effect.result(
            i % 7 === 0
              ? client`SELECT ${i}::int / 0 AS x`
              : i % 3 === 0
              ? client`SELECT ${`s${i}`} AS s, ${i}::int AS n`
              : client`INSERT INTO t VALUES (${i}, ${`note ${i}`}) RETURNING id`
          )
        ),
        { concurrency: 32 }
      ), { maxConnections: 8 })
    outcomes.forEach((outcome, i) => {
      if (i % 7 === 0) expect(outcome._tag, `statement ${i}`).toBe("Failure")
      else if (outcome._tag === "Failure") throw new Error(`statement ${i} failed: ${String(outcome.failure)}`)
      else if (i % 3 === 0) expect(outcome.success).toEqual([{ s: `s${i}`, n: i }])
      else expect(outcome.success).toEqual([{ id: i }])
    })
  })

  it("runs another connection's statements after a transaction, never inside it", async () => {
    const ids = await withClient((client) =>
      Effect.gen(function*() {
        yield* Effect.all([
          Effect.flip(client.withTransaction(Effect.gen(function*() {
            yield* client`INSERT INTO t VALUES (1001, 'in a transaction')`
            yield* Effect.sleep("40 millis")
            yield* client`INSERT INTO t VALUES (1002, 'in a transaction')`
            return yield* Effect.fail("roll back")
          }))),
          Effect.gen(function*() {
            yield* Effect.sleep("5 millis")
            yield* client`INSERT INTO t VALUES (1003, 'beside it')`
          }),
          Effect.gen(function*() {
            yield* Effect.sleep("10 millis")
            yield* client.withTransaction(client`INSERT INTO t VALUES (1004, 'another transaction')`)
          })
        ], { concurrency: "unbounded" })
        const rows = yield* client<{ id: number }>`SELECT id FROM t WHERE id > 1000 ORDER BY id`
        return rows.map((r) => r.id)
      }), { maxConnections: 4 })
    expect(ids).toEqual([1003, 1004])
  })

  it("pipelines statements of a multiplexed connection", async () => {
    const rows = await withClient((client) =>
      Effect.all(Array.from({ length: 100 }, (_, i) => client<{ n: number }>`SELECT ${i}::int AS n`), {
        concurrency: "unbounded"
      }), { maxConnections: 1, multiplex: true })
    expect(rows.map((r) => r[0]!.n)).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it("rolls back the open transaction of a connection that disappears, and frees the session", async () => {
    const conn = wire.connect()
    await roundTrip(conn, startup())
    const inTx = await roundTrip(conn, simpleQuery("BEGIN; INSERT INTO t VALUES (2001, 'lost')"))
    expect(String.fromCharCode(inTx[inTx.length - 1]!)).toBe("T")
    expect(db.isInTransaction()).toBe(true)
    const gone = closed(conn)
    conn.destroy()
    await gone
    expect(db.isInTransaction()).toBe(false)
    const rows = await withClient((client) => client`SELECT id FROM t WHERE id = 2001`)
    expect(rows).toEqual([])
  })

  it("deallocates a closed connection's prepared statements", async () => {
    await withClient((client) =>
      Effect.all([client`SELECT 1 AS a`, client`SELECT 2 AS b`, client`SELECT count(*) FROM t`]), {
        maxConnections: 1
      })
    // The pool has closed its connection; its cleanup runs as the stream ends.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(wire.connectionCount).toBe(0)
    const left = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements")
    expect(left.rows[0]!.n).toBe(0)
  })

  it("answers SSLRequest with N and ends a CancelRequest connection", async () => {
    const conn = wire.connect()
    const ssl = Buffer.alloc(8)
    ssl.writeInt32BE(8, 0)
    ssl.writeInt32BE(80877103, 4)
    const answer = await new Promise<Buffer>((resolve) => {
      conn.once("data", resolve)
      conn.write(ssl)
    })
    expect(answer.toString()).toBe("N")
    conn.destroy()
    const cancel = wire.connect()
    const request = Buffer.alloc(16)
    request.writeInt32BE(16, 0)
    request.writeInt32BE(80877102, 4)
    const ended = closed(cancel)
    cancel.resume()
    cancel.write(request)
    await ended
  })

  it("carries a message larger than one chunk", async () => {
    const note = "x".repeat(3 * 1024 * 1024)
    const length = await withClient((client) =>
      Effect.gen(function*() {
        yield* client`INSERT INTO t VALUES (3001, ${note})`
        const rows = yield* client<{ note: string }>`SELECT note FROM t WHERE id = 3001`
        return rows[0]!.note.length
      }))
    expect(length).toBe(note.length)
  })
})
