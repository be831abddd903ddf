// The background queue alerts leave by: the Notifier writes an alert's row and hands it here, and
// returns; one worker sends the queue in order, oldest first. A rate limit waits Telegram's
// retry_after; an unreachable Telegram is waited out with doubling back-off (capped), so an alert
// behind the one in flight keeps its place. After `attemptsBeforeFailed` tries an alert is marked
// failed in the table, said in the log, and still tried at the longest back-off: none is dropped
// silently. The queue is bounded: when full, the oldest alert that is not critical gives way (marked
// failed and logged); a critical alert is always queued.
import type { Alert } from "../../machines/protocol.ts"
import type { AlertRecord, AlertStore, DeliveryChange } from "./alert-store.ts"
import { TelegramSendFailed, type OutgoingMessage, type SendFailure, type Transport } from "./transport.ts"

export type DeliveryLog = (level: "info" | "warn" | "error", message: string, fields?: Readonly<Record<string, unknown>>) => void

export interface QueuedAlert {
  /** Its row in the alerts table; null when the row could not be written (it is sent all the same). */
  readonly id: number | null
  readonly kind: Alert["kind"]
  readonly severity: Alert["severity"]
  readonly message: OutgoingMessage
  readonly attempts: number
}

export interface DeliveryOptions {
  readonly store: AlertStore
  readonly transport: Transport
  readonly log: DeliveryLog
  /** Takes the token and chat id out of anything logged or stored. */
  readonly redact: (text: string) => string
  /** Wait `ms` before trying again; resolves early when `signal` aborts. Tests pass a fake clock's. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
  readonly capacity?: number
  readonly attemptsBeforeFailed?: number
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number }
}

export const DELIVERY_DEFAULTS = { capacity: 500, attemptsBeforeFailed: 5, backoff: { firstMs: 1000, maxMs: 60_000 } } as const

/** A wall-clock sleep that a stop cuts short. */
export const wallSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done, { once: true })
  })

const MAX_TEXT = 4096 // Telegram's limit on a message's text

/** A row read back after a restart: sent as it was written, without buttons (the day they acted on may be over). */
export const queuedOf = (r: AlertRecord): QueuedAlert => ({
  id: r.id,
  kind: r.kind,
  severity: r.severity,
  message: { text: r.text, parseMode: "Markdown", buttons: [] },
  attempts: r.attempts
})

export class AlertDelivery {
  private readonly queue: Array<QueuedAlert> = []
  private readonly stopped = new AbortController()
  private wake: (() => void) | null = null
  private idleWaiters: Array<() => void> = []
  private worker: Promise<void> | null = null
  /** Failures in a row on the channel (any alert): the next back-off. */
  private failuresInRow = 0
  private readonly capacity: number
  private readonly attemptsBeforeFailed: number
  private readonly backoff: { readonly firstMs: number; readonly maxMs: number }

  constructor(private readonly o: DeliveryOptions) {
    this.capacity = o.capacity ?? DELIVERY_DEFAULTS.capacity
    this.attemptsBeforeFailed = o.attemptsBeforeFailed ?? DELIVERY_DEFAULTS.attemptsBeforeFailed
    this.backoff = o.backoff ?? DELIVERY_DEFAULTS.backoff
  }

  /** Start the worker, first with what an earlier run left unsent in the table (oldest first). */
  start(backlog: ReadonlyArray<AlertRecord> = []): void {
    if (backlog.length > 0) this.o.log("warn", `telegram: ${backlog.length} alert(s) an earlier run did not deliver are sent first`, { ids: backlog.map((r) => r.id) })
    this.queue.unshift(...backlog.map(queuedOf))
    this.worker ??= this.run()
    this.wake?.()
  }

  /** Hand an alert over; never waits. */
  enqueue(alert: QueuedAlert): void {
    if (this.queue.length >= this.capacity) {
      if (alert.severity !== "critical") return void this.giveUp(alert, `the delivery queue is full (${this.capacity} alerts waiting)`)
      // The head may be in flight: only an alert behind it gives way. All critical: the bound yields.
      const victim = this.queue.findIndex((q, i) => i > 0 && q.severity !== "critical")
      if (victim > 0) void this.giveUp(this.queue.splice(victim, 1)[0]!, `the delivery queue is full (${this.capacity} alerts waiting): gave way to a critical alert`)
    }
    this.queue.push(alert)
    this.wake?.()
  }

  /** Resolves once every queued alert has been delivered or given up (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.length === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  get waiting(): number {
    return this.queue.length
  }

  /**
   * Stop the worker; what is still queued stays in the table for the next start. A send in flight is
   * not waited for (a Telegram that hangs must not hold a shutdown): its answer is still recorded.
   */
  stop(): void {
    this.stopped.abort()
    this.wake?.()
  }

  private async run(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      const head = this.queue[0]
      if (head === undefined) {
        for (const w of this.idleWaiters.splice(0)) w()
        await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = null
        continue
      }
      await this.attempt(head)
    }
  }

  private async attempt(item: QueuedAlert): Promise<void> {
    const attempts = item.attempts + 1
    const text = item.message.text.length > MAX_TEXT ? `${item.message.text.slice(0, MAX_TEXT - 1)}…` : item.message.text
    try {
      const messageId = await this.o.transport.send({ ...item.message, text })
      this.queue.shift()
      this.failuresInRow = 0
      await this.record(item, { status: "sent", attempts, telegramMessageId: messageId, lastError: null })
      if (attempts > 1) this.o.log("info", `telegram: alert ${this.name(item)} delivered after ${attempts} attempts`, { alertId: item.id, attempts })
    } catch (e) {
      const failure: SendFailure = e instanceof TelegramSendFailed ? e.failure : { kind: "unreachable", message: String(e) }
      await this.failed(item, attempts, { ...failure, message: this.o.redact(failure.message) })
    }
  }

  private async failed(item: QueuedAlert, attempts: number, f: SendFailure): Promise<void> {
    const retried = { ...item, attempts }
    if (f.kind === "badMessage") {
      this.queue.shift()
      if (item.message.parseMode !== null) {
        // Telegram could not take the Markdown: the same words as plain text, at once, in the same place.
        this.o.log("warn", `telegram: alert ${this.name(item)} refused as Markdown (${f.message}); sending it as plain text`, { alertId: item.id })
        this.queue.unshift({ ...retried, message: { ...item.message, parseMode: null } })
        return
      }
      return this.giveUp(retried, f.message)
    }
    this.queue[0] = retried
    // A rate limit says how long; only an unreachable Telegram doubles the back-off.
    const waitMs = f.kind === "rateLimited" ? f.retryAfterMs : Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** this.failuresInRow++)
    const failedNow = attempts >= this.attemptsBeforeFailed
    await this.record(retried, { status: failedNow ? "failed" : "retrying", attempts, lastError: f.message })
    const what = `telegram: alert ${this.name(item)} not delivered (attempt ${attempts}): ${f.message}`
    if (f.kind === "rateLimited") this.o.log("warn", `${what}; waiting the ${waitMs / 1000} s Telegram asked for`, { alertId: item.id, retryAfterMs: waitMs })
    else if (attempts === this.attemptsBeforeFailed) {
      this.o.log("error", `${what}; marked failed in the alerts table and still tried every ${this.backoff.maxMs / 1000} s at most, in order`, { alertId: item.id, severity: item.severity })
    } else if (attempts === 1) this.o.log("warn", `${what}; trying again with back-off`, { alertId: item.id, waitMs })
    await this.o.sleep(waitMs, this.stopped.signal)
  }

  /** A message Telegram will never take, or one the full queue dropped: failed in the table, said loudly. */
  private async giveUp(item: QueuedAlert, why: string): Promise<void> {
    this.o.log("error", `telegram: alert ${this.name(item)} NOT delivered and not tried again: ${why}; it stays in the alerts table`, { alertId: item.id, severity: item.severity })
    await this.record(item, { status: "failed", attempts: item.attempts, lastError: why })
  }

  private async record(item: QueuedAlert, change: DeliveryChange): Promise<void> {
    if (item.id === null) return
    await this.o.store.update(item.id, change).catch((e: unknown) =>
      this.o.log("error", `telegram: could not write the delivery of alert ${this.name(item)}: ${this.o.redact(e instanceof Error ? e.message : String(e))}`, { alertId: item.id })
    )
  }

  private name(item: QueuedAlert): string {
    return `${item.id === null ? "(no row)" : `#${item.id}`} ${item.severity} ${item.kind}`
  }
}
