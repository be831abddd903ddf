// In-memory Notifier and AuditLog: what the simulator and the tests use; Postgres and Telegram
// implementations come with their own issues.
import { Effect } from "effect"
import type { Alert } from "../../machines/protocol.ts"
import type { AuditLog, Checkpoint, Notifier, OrderIntent, OrderJournal, TransitionRow } from "../../src/services/services.ts"

/** The audit trail of one process: rows appended to `rows`, the latest checkpoint kept. */
export const memoryAuditLog = (rows: Array<TransitionRow>): AuditLog["Service"] => {
  let last: Checkpoint | null = null
  return {
    append: (batch, checkpoint) =>
      Effect.sync(() => {
        rows.push(...batch)
        if (checkpoint !== null) last = checkpoint
      }),
    // Read back as a database gives it: through JSON (so what cannot be stored fails here too).
    latest: Effect.sync(() => (last === null ? null : (JSON.parse(JSON.stringify(last)) as Checkpoint))),
    after: (seq) => Effect.sync(() => rows.filter((r) => r.seq > seq)),
    trail: Effect.sync(() => [...rows])
  }
}

export const memoryNotifier = (sent: Array<{ readonly at: number; readonly alert: Alert }>): Notifier["Service"] => ({
  notify: (alert, at) => Effect.sync(() => void sent.push({ at, alert }))
})

/** The order journal of one process (simulations): a map from client order id to intent. */
export const memoryOrderJournal = (intents: Map<string, OrderIntent> = new Map()): OrderJournal["Service"] => ({
  find: (id) => Effect.sync(() => intents.get(id) ?? null),
  all: Effect.sync(() => [...intents.values()]),
  record: (intent) => Effect.sync(() => void intents.set(intent.clientOrderId, intent)),
  update: (id, change) =>
    Effect.sync(() => {
      const prev = intents.get(id)
      if (prev !== undefined) intents.set(id, { ...prev, ...change })
    })
})
