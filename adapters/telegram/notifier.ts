// The Notifier over Telegram. `notify` renders the alert as a trader reads it, writes its row in the
// alerts table, hands it to the background delivery queue and returns: the engine's decision thread
// waits for one insert, never for Telegram. It remembers what later alerts need to say more than their
// own details carry: the decision behind a hedge (its entry's projected utilisation without and with
// the set).
import { Effect } from "effect"
import type { Alert } from "../../machines/protocol.ts"
import { formatAlert, type AlertContext } from "../../src/domain/alerts.ts"
import { NotifyFailed, type Notifier } from "../../src/services/services.ts"
import type { AlertStore } from "./alert-store.ts"
import { buttonsFor } from "./buttons.ts"
import type { AlertDelivery, DeliveryLog } from "./delivery.ts"

export interface TelegramNotifierOptions {
  readonly store: AlertStore
  readonly delivery: AlertDelivery
  readonly log: DeliveryLog
  readonly redact: (text: string) => string
  /** What the running day knows that an alert does not (lot size, mode, the day's peak). */
  readonly context: () => Omit<AlertContext, "decision">
}

export interface TelegramNotifier {
  readonly notifier: Notifier["Service"]
}

type Decision = NonNullable<AlertContext["decision"]>

export const telegramNotifier = (o: TelegramNotifierOptions): TelegramNotifier => {
  const decisions = new Map<string, Decision>()

  const render = (alert: Alert, at: number) => {
    const d = alert.details
    // A new day: yesterday's decisions say nothing about today's entries.
    if (alert.kind === "SESSION_STARTED") decisions.clear()
    if (d.projectedAfterPct !== undefined && d.projectedAfterPct !== null) decisions.set(alert.actor, { projectedPct: d.projectedPct, projectedAfterPct: d.projectedAfterPct })
    const base = o.context()
    const decision = typeof d.entry === "string" ? decisions.get(d.entry) : undefined
    const context: AlertContext = decision === undefined ? base : { ...base, decision }
    return { text: formatAlert(alert, at, context), buttons: buttonsFor(alert, base.mode) }
  }

  const notify = (alert: Alert, at: number) =>
    Effect.tryPromise({
      try: async () => {
        const { text, buttons } = render(alert, at)
        const id = await o.store.add({ kind: alert.kind, severity: alert.severity, actor: alert.actor, text, raisedAt: at }).catch((e: unknown) => {
          // Without its row the alert still goes out: the log keeps the record instead.
          o.log("error", `telegram: alert ${alert.severity} ${alert.kind} not written to the alerts table (${o.redact(e instanceof Error ? e.message : String(e))}); sending it all the same`)
          return null
        })
        o.delivery.enqueue({ id, kind: alert.kind, severity: alert.severity, message: { text, parseMode: "Markdown", buttons }, attempts: 0 })
      },
      catch: (e) => new NotifyFailed({ message: o.redact(e instanceof Error ? e.message : String(e)) })
    })

  return { notifier: { notify } }
}

/** Alerts to both: the log keeps every alert whatever happens to the messenger. */
export const bothNotifiers = (first: Notifier["Service"], second: Notifier["Service"]): Notifier["Service"] => ({
  notify: (alert, at) => Effect.andThen(Effect.ignore(first.notify(alert, at)), second.notify(alert, at))
})
