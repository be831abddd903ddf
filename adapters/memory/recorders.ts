// In-memory Notifier and AuditLog: what the simulator and the tests use; Postgres and Telegram
// implementations come with their own issues.
import { Effect } from "effect"
import type { Alert } from "../../machines/protocol.ts"
import type { AuditLog, Notifier, TransitionRow } from "../../src/services/services.ts"

export const memoryAuditLog = (rows: Array<TransitionRow>): AuditLog["Service"] => ({
  append: (batch) => Effect.sync(() => void rows.push(...batch))
})

export const memoryNotifier = (sent: Array<{ readonly at: number; readonly alert: Alert }>): Notifier["Service"] => ({
  notify: (alert, at) => Effect.sync(() => void sent.push({ at, alert }))
})
