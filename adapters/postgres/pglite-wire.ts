// An in-process PostgreSQL wire for PGlite: every call to `connect()` returns a Duplex that speaks the
// frontend/backend protocol, so @effect/sql-pg (through its `stream` option) talks to an embedded
// PGlite exactly as it talks to a PostgreSQL server over TCP. No port, no socket file.
//
// PGlite is ONE backend session. Several client connections therefore share one session, and the
// wire must keep their protocol traffic from interleaving. It does so at the granularity of a whole
// extended-query cycle (Parse … Sync) or simple Query, and of a whole transaction: a connection
// takes the session when it sends its first message and gives it back only once it has sent Sync
// (or Query) and the backend is outside a transaction block. Other connections wait for their turn.
// (pglite-socket queues single protocol messages instead, so two connections' Parse/Bind/Execute
// messages can interleave outside explicit transactions; see docs/persistence.md.)
//
// When a connection goes away (Terminate, end, destroy) the wire cleans up the session state that
// connection left behind: an unfinished cycle (a Sync is sent), an open transaction (ROLLBACK), and
// the named prepared statements it created (DEALLOCATE), so a reconnecting pool does not leak them.
import { Buffer } from "node:buffer"
import { Duplex } from "node:stream"
import type { PGlite } from "@electric-sql/pglite"

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const PROTOCOL_3 = 196608
/** A Sync message: ends an extended-query cycle and makes the backend answer ReadyForQuery. */
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4)

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

/** A simple-protocol Query message. */
const query = (text: string): Uint8Array => {
  const body = Buffer.from(`${text}\0`, "utf8")
  const message = Buffer.alloc(5 + body.length)
  message[0] = 0x51
  message.writeInt32BE(4 + body.length, 1)
  body.copy(message, 5)
  return message
}

const discard = () => {}

/** Reads a NUL-terminated string starting at `offset` (returns it and the offset after the NUL). */
const cString = (buf: Buffer, offset: number): string => {
  const end = buf.indexOf(0, offset)
  return buf.toString("utf8", offset, end === -1 ? buf.length : end)
}

export class PgliteWire {
  readonly #db: PGlite
  /** The connection that currently owns the backend session, if any. */
  #owner: WireConnection | undefined = undefined
  readonly #waiting: Array<{ readonly conn: WireConnection; readonly resume: (granted: boolean) => void }> = []
  readonly #connections = new Set<WireConnection>()
  /** Work still running against PGlite (batches, cleanups); `close` waits for it. */
  readonly #pending = new Set<Promise<unknown>>()
  #closed = false

  constructor(db: PGlite) {
    this.#db = db
  }

  get db(): PGlite {
    return this.#db
  }

  /**
   * @internal Runs protocol bytes on PGlite, sending its output to `onData`. Always pass a callback:
   * PGlite keeps the last raw-stream callback and would otherwise hand output to a stale one.
   */
  run(bytes: Uint8Array, onData: (data: Uint8Array) => void): Promise<void> {
    const db = this.#db
    return db.runExclusive(() => db.execProtocolRawStream(bytes, { onRawData: onData }))
  }

  /** Number of open client connections (for tests and diagnostics). */
  get connectionCount(): number {
    return this.#connections.size
  }

  /** A new client connection; pass `() => wire.connect()` as @effect/sql-pg's `stream` option. */
  connect(): Duplex {
    if (this.#closed) throw new Error("PGlite wire is closed")
    const conn = new WireConnection(this)
    this.#connections.add(conn)
    return conn
  }

  /** Ends every client connection and waits for their cleanup. Does not close PGlite itself. */
  async close(): Promise<void> {
    this.#closed = true
    for (const conn of this.#connections) conn.destroy()
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** @internal */
  track<A>(promise: Promise<A>): Promise<A> {
    this.#pending.add(promise)
    const done = () => void this.#pending.delete(promise)
    promise.then(done, done)
    return promise
  }

  /** @internal Waits until `conn` owns the backend session; false if the wait was cancelled. */
  acquire(conn: WireConnection): Promise<boolean> {
    if (this.#owner === conn) return Promise.resolve(true)
    if (this.#owner === undefined) {
      this.#owner = conn
      return Promise.resolve(true)
    }
    return new Promise((resume) => this.#waiting.push({ conn, resume }))
  }

  /** @internal Hands the session to the next waiting connection. */
  release(conn: WireConnection): void {
    if (this.#owner !== conn) return
    const next = this.#waiting.shift()
    this.#owner = next?.conn
    next?.resume(true)
  }

  /** @internal Stops `conn` waiting for the session (its pending `acquire` resolves to false). */
  cancelWait(conn: WireConnection): void {
    const i = this.#waiting.findIndex((w) => w.conn === conn)
    if (i !== -1) this.#waiting.splice(i, 1)[0]!.resume(false)
  }

  /** @internal */
  owns(conn: WireConnection): boolean {
    return this.#owner === conn
  }

  /** @internal Forget a connection: drop it from the queue and release the session if it held it. */
  forget(conn: WireConnection): void {
    this.#connections.delete(conn)
    this.cancelWait(conn)
    this.release(conn)
  }
}

class WireConnection extends Duplex {
  readonly #wire: PgliteWire
  /** Bytes received and not yet executed. */
  #buffer: Buffer = Buffer.alloc(0)
  /** Chunks received after `#buffer`, merged only once `#need` bytes are there (large messages). */
  #chunks: Array<Buffer> = []
  #chunked = 0
  /** How many bytes the next incomplete message needs in total. */
  #need = 0
  #started = false
  #finished = false
  #finishing: Promise<void> | undefined = undefined
  /** The batch being executed, if any (writes are serialized by the Writable machinery). */
  #inflight: Promise<void> = Promise.resolve()
  /** Named prepared statements this connection created (and has not closed). */
  readonly #statements = new Set<string>()

  constructor(wire: PgliteWire) {
    super({ allowHalfOpen: false })
    this.#wire = wire
  }

  override _read(): void {
    // Data is pushed as PGlite produces it.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#chunks.push(chunk)
    this.#chunked += chunk.length
    if (this.#buffer.length + this.#chunked < this.#need) return callback()
    this.#buffer = Buffer.concat([this.#buffer, ...this.#chunks])
    this.#chunks = []
    this.#chunked = 0
    this.#need = 0
    const drained = this.#wire.track(this.#drain())
    this.#inflight = drained.then(() => undefined, () => undefined)
    drained.then((ended) => {
      callback()
      // Terminate or CancelRequest: clean up, then end the stream (the client sees "close").
      if (ended) this.#wire.track(this.#finish()).then(() => this.push(null))
    }, (error: unknown) => callback(asError(error)))
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#wire.track(this.#finish()).then(() => {
      this.push(null)
      callback()
    }, (error: unknown) => callback(asError(error)))
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#wire.track(this.#finish()).then(() => callback(error), () => callback(error))
  }

  #send(data: Uint8Array): void {
    if (data.length > 0 && !this.destroyed && !this.#finished) this.push(Buffer.from(data))
  }

  /** Processes every complete message in the buffer; true when the client ended the connection. */
  async #drain(): Promise<boolean> {
    while (!this.#finished) {
      if (!this.#started) {
        if (this.#buffer.length < 8) return false
        const length = this.#buffer.readInt32BE(0)
        if (this.#buffer.length < length) {
          this.#need = length
          return false
        }
        const code = this.#buffer.readInt32BE(4)
        const message = this.#buffer.subarray(0, length)
        this.#buffer = this.#buffer.subarray(length)
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.#send(Buffer.from("N"))
        } else if (code === CANCEL_REQUEST) {
          // PGlite runs each statement to completion synchronously; there is nothing to cancel.
          return true
        } else if (code === PROTOCOL_3) {
          await this.#exec(message, true)
          this.#started = true
        } else {
          throw new Error(`PGlite wire: unsupported startup code ${code}`)
        }
        continue
      }
      // Typed messages: 1 byte type, int32 length (counting itself).
      let end = 0
      let last = 0
      let terminate = false
      while (this.#buffer.length - end >= 5) {
        const type = this.#buffer[end]!
        const length = 1 + this.#buffer.readInt32BE(end + 1)
        if (this.#buffer.length - end < length) {
          this.#need = length
          break
        }
        if (type === 0x58 /* X: Terminate */) {
          terminate = true
          break
        }
        this.#track(type, this.#buffer.subarray(end, end + length))
        last = type
        end += length
      }
      if (end > 0) {
        const batch = this.#buffer.subarray(0, end)
        this.#buffer = this.#buffer.subarray(end)
        // A cycle is complete after Sync or a simple Query; keep the session otherwise.
        await this.#exec(batch, last === 0x53 /* S */ || last === 0x51 /* Q */)
      }
      return terminate
    }
    return false
  }

  /** Remembers named statements created by Parse and forgotten by Close. */
  #track(type: number, message: Buffer): void {
    if (type === 0x50 /* P: Parse */) {
      const name = cString(message, 5)
      if (name !== "") this.#statements.add(name)
    } else if (type === 0x43 /* C: Close */ && message[5] === 0x53 /* 'S' statement */) {
      this.#statements.delete(cString(message, 6))
    }
  }

  /** Runs protocol bytes on PGlite while owning the session; releases it when the cycle is done. */
  async #exec(bytes: Uint8Array, cycleDone: boolean): Promise<void> {
    const wire = this.#wire
    const db = wire.db
    if (!(await wire.acquire(this)) || this.#finished) throw new Error("PGlite wire: connection closed")
    try {
      await wire.run(bytes, (data) => this.#send(data))
    } catch (error) {
      wire.forget(this)
      throw error
    }
    if (cycleDone && !db.isInTransaction()) wire.release(this)
  }

  /** Leaves the session clean for the next connection; runs once, every caller waits for it. */
  #finish(): Promise<void> {
    this.#finishing ??= this.#cleanUp()
    return this.#finishing
  }

  async #cleanUp(): Promise<void> {
    this.#finished = true
    const wire = this.#wire
    const db = wire.db
    try {
      // Let a batch already handed to PGlite complete first, so the session is in a known state.
      wire.cancelWait(this)
      await this.#inflight
      const statements = [...this.#statements]
      this.#statements.clear()
      if (db.closed) return
      if (wire.owns(this)) {
        // An unfinished cycle, then an open transaction.
        await wire.run(SYNC, discard)
        if (db.isInTransaction()) await wire.run(query("ROLLBACK"), discard)
      }
      if (statements.length > 0 && (await wire.acquire(this))) {
        // One simple Query with several statements would stop at the first failure; go one by one.
        for (const name of statements) await wire.run(query(`DEALLOCATE ${quoteIdent(name)}`), discard)
      }
    } catch {
      // PGlite closing or closed: nothing left to clean.
    } finally {
      wire.forget(this)
    }
  }
}

const asError = (error: unknown): Error => error instanceof Error ? error : new Error(String(error))
