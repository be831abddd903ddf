// The alerts table (migration 0009_alerts): every alert is written here before it is sent, and its
// delivery is written back (sent with Telegram's message id, retrying, failed with the reason), so an
// alert never sent is still on record and is tried again after a restart.
import { Context, Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { Alert } from "../../machines/protocol.ts"

export type DeliveryStatus = "queued" | "retrying" | "sent" | "failed"

export interface AlertRecord {
  readonly id: number
  readonly kind: Alert["kind"]
  readonly severity: Alert["severity"]
  readonly actor: string
  readonly text: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly telegramMessageId: number | null
  readonly lastError: string | null
  /** Market time the alert was raised, epoch ms. */
  readonly raisedAt: number
}

export interface DeliveryChange {
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly telegramMessageId?: number
  readonly lastError?: string | null
}

export interface AlertStore {
  /** Write a new alert (status queued); answers its id. */
  readonly add: (alert: Pick<AlertRecord, "kind" | "severity" | "actor" | "text" | "raisedAt">) => Promise<number>
  readonly update: (id: number, change: DeliveryChange) => Promise<void>
  /** Alerts not delivered yet (queued, retrying, failed), oldest first. */
  readonly unsent: () => Promise<ReadonlyArray<AlertRecord>>
  /** Every alert, oldest first (tests, the operator). */
  readonly all: () => Promise<ReadonlyArray<AlertRecord>>
}

/** A row as the driver gives it: bigints and timestamps not yet numbers. */
type Row = Omit<AlertRecord, "id" | "telegramMessageId" | "raisedAt"> & {
  readonly id: string | number
  readonly telegramMessageId: string | number | null
  readonly raisedAt: Date | string
}

const recordOf = (r: Row): AlertRecord => ({
  ...r,
  id: Number(r.id),
  telegramMessageId: r.telegramMessageId === null ? null : Number(r.telegramMessageId),
  raisedAt: new Date(r.raisedAt).getTime()
})

/** The table in the engine's database; the context holds the open SqlClient. */
export const postgresAlertStore = (context: Context.Context<SqlClient>): AlertStore => {
  const sql = Context.get(context, SqlClient)
  const select = (unsentOnly: boolean) =>
    Effect.runPromise(
      sql<Row>`SELECT id, kind, severity, actor, text, status, attempts, telegram_message_id AS "telegramMessageId",
                 last_error AS "lastError", raised_at AS "raisedAt"
               FROM auto_hedge.alerts ${unsentOnly ? sql`WHERE status <> 'sent'` : sql``} ORDER BY id`
    ).then((rows) => rows.map(recordOf))
  return {
    add: (a) =>
      Effect.runPromise(
        sql<{ id: string | number }>`
          INSERT INTO auto_hedge.alerts (kind, severity, actor, text, raised_at)
          VALUES (${a.kind}, ${a.severity}, ${a.actor}, ${a.text}, ${new Date(a.raisedAt)})
          RETURNING id`
      ).then((rows) => Number(rows[0]!.id)),
    update: (id, c) =>
      Effect.runPromise(
        sql`UPDATE auto_hedge.alerts SET status = ${c.status}, attempts = ${c.attempts},
              telegram_message_id = COALESCE(${c.telegramMessageId ?? null}, telegram_message_id),
              last_error = ${c.lastError ?? null}, updated_at = NOW(),
              sent_at = ${c.status === "sent" ? new Date() : null}
            WHERE id = ${id}`
      ).then(() => undefined),
    unsent: () => select(true),
    all: () => select(false)
  }
}

/** The same in memory: the simulator, and a daemon test without a database. */
export const memoryAlertStore = (): AlertStore => {
  const rows: Array<AlertRecord> = []
  return {
    add: async (a) => {
      const id = rows.length + 1
      rows.push({ ...a, id, status: "queued", attempts: 0, telegramMessageId: null, lastError: null })
      return id
    },
    update: async (id, c) => {
      const i = id - 1
      const prev = rows[i]
      if (prev !== undefined) rows[i] = { ...prev, ...c, telegramMessageId: c.telegramMessageId ?? prev.telegramMessageId, lastError: c.lastError ?? null }
    },
    unsent: async () => rows.filter((r) => r.status !== "sent"),
    all: async () => [...rows]
  }
}
