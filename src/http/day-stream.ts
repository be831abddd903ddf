// The day's log as the inspector's Server-Sent Events: every transition row (`event: transition`, `id:`
// its seq) and every utilisation sample (`event: utilisation`), in the order DayView recorded them.
//
// Each stream keeps a cursor into the view's log, not a buffer of its own: a slow client only falls
// behind in the log (the socket's backpressure stops it pulling), and a reconnect with Last-Event-ID
// carries on from the row after that seq.
import { Cause, Effect, Schema, Stream } from "effect"
import type { DayLogEntry, DayView } from "../views/day-view.ts"
import { TransitionRowSchema } from "../views/schemas.ts"

const HEARTBEAT_MS = 15_000
/** How long new rows wait for more before the streams are woken (what a person cannot see). */
const WAKE_EVERY_MS = 25
const BATCH_BYTES = 64 * 1024
const encodeRow = Schema.encodeSync(TransitionRowSchema)
const RETRY = Buffer.from("retry: 1000\n\n")
const KEEP_ALIVE = Buffer.from(": keep-alive\n\n")

export class DayStream {
  private closed = false
  private readonly waiters = new Set<() => void>()
  private wakeScheduled = false
  /** Each log entry's SSE text, made once for every client. */
  private readonly texts = new WeakMap<DayLogEntry, Buffer>()
  private lastBatch: { readonly from: number; readonly logLength: number; readonly generation: number; readonly batch: readonly [Buffer, number] } | null = null
  private readonly unsubscribe: () => void

  constructor(private readonly view: DayView) {
    this.unsubscribe = view.onChange(() => this.wake())
  }

  /** No more streams: the server is closing. */
  close(): void {
    this.closed = true
    this.unsubscribe()
    this.wake()
  }

  /**
   * The day's log as Server-Sent Events from after `lastEventId` (a transition's seq; null: from now
   * on). An id the log does not reach (another day's, or a tail a restart re-recorded) starts from the
   * day's first row. The stream ends when the log is rebuilt or the server closes; EventSource then
   * reconnects with its Last-Event-ID.
   */
  stream(lastEventId: number | null): Stream.Stream<Uint8Array> {
    return Stream.suspend(() => {
      const view = this.view
      const generation = view.generation
      let cursor = lastEventId === null ? view.logLength : lastEventId > view.lastSeq() ? 0 : view.positionAfter(lastEventId)
      let greeted = false
      const ended = () => this.closed || view.generation !== generation
      const pull: Effect.Effect<readonly [Uint8Array, ...Array<Uint8Array>], Cause.Done> = Effect.suspend(() => {
        if (ended()) return Cause.done()
        if (!greeted) {
          greeted = true
          return Effect.succeed([RETRY] as const)
        }
        if (cursor < view.logLength) {
          const [bytes, next] = this.render(cursor)
          cursor = next
          return Effect.succeed([bytes] as const)
        }
        return Effect.flatMap(this.waitForMore(), (woken) => (woken ? pull : Effect.succeed([KEEP_ALIVE] as const)))
      })
      return Stream.fromPull(Effect.succeed(pull))
    })
  }

  /**
   * Wake the waiting streams at most every WAKE_EVERY_MS, not once per row: a burst of rows (a busy
   * instant, a replay at full speed) goes out as one write per client, and the decision loop, which
   * shares this thread, is not interleaved with a write per row per client.
   */
  private wake(): void {
    if (this.wakeScheduled || this.waiters.size === 0) return
    this.wakeScheduled = true
    setTimeout(() => {
      this.wakeScheduled = false
      const waiting = [...this.waiters]
      this.waiters.clear()
      for (const w of waiting) w()
    }, this.closed ? 0 : WAKE_EVERY_MS)
  }

  /** SSE text of the log from `from`, up to a batch's worth; and where the next batch starts. */
  private render(from: number): readonly [Buffer, number] {
    // Clients that are caught up all ask for the same batch when woken: it is made once for them all.
    const last = this.lastBatch
    const { logLength, generation } = this.view
    if (last !== null && last.from === from && last.logLength === logLength && last.generation === generation) return last.batch
    const batch = this.renderBatch(from)
    this.lastBatch = { from, logLength, generation, batch }
    return batch
  }

  private renderBatch(from: number): readonly [Buffer, number] {
    const parts: Array<Buffer> = []
    let bytes = 0
    let i = from
    for (; i < this.view.logLength && bytes < BATCH_BYTES; i++) {
      const text = this.textOf(this.view.logEntry(i)!)
      parts.push(text)
      bytes += text.length
    }
    return [parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes), i]
  }

  private textOf(entry: DayLogEntry): Buffer {
    let text = this.texts.get(entry)
    if (text === undefined) {
      text = Buffer.from(
        entry.row !== undefined
          ? `id: ${entry.row.seq}\nevent: transition\ndata: ${JSON.stringify(encodeRow(entry.row))}\n\n`
          : `event: utilisation\ndata: ${JSON.stringify(entry.point)}\n\n`
      )
      this.texts.set(entry, text)
    }
    return text
  }

  /** Wait for the log to grow (true) or for the keep-alive interval to pass (false). */
  private waitForMore(): Effect.Effect<boolean> {
    return Effect.callback<boolean>((resume) => {
      const woken = () => {
        clearTimeout(timer)
        resume(Effect.succeed(true))
      }
      const timer = setTimeout(() => {
        this.waiters.delete(woken)
        resume(Effect.succeed(false))
      }, HEARTBEAT_MS)
      this.waiters.add(woken)
      return Effect.sync(() => {
        clearTimeout(timer)
        this.waiters.delete(woken)
      })
    })
  }
}
