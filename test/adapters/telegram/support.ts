// What the Telegram tests share: a token and chat id that must never show, a notifier wired to a fake
// Bot API server with a sleep the test releases (time passes only when the test says so), and every
// log line kept.
import { Effect } from "effect"
import type { Alert } from "../../../machines/protocol.ts"
import { memoryAlertStore, type AlertStore } from "../../../adapters/telegram/alert-store.ts"
import { redactorOf, type TelegramConfig } from "../../../adapters/telegram/config.ts"
import { AlertDelivery, type DeliveryOptions } from "../../../adapters/telegram/delivery.ts"
import { telegramNotifier } from "../../../adapters/telegram/notifier.ts"
import { grammyApi, grammyTransport } from "../../../adapters/telegram/transport.ts"
import type { AlertContext } from "../../../src/domain/alerts.ts"
import type { FakeBotApi } from "./fake-bot-api.ts"

export const TOKEN = "123456789:AAHsecretSECRETsecret_0123456789xyz"
export const CHAT_ID = "987654321"

export const configFor = (fake: FakeBotApi): TelegramConfig => ({ token: TOKEN, chatId: CHAT_ID, apiRoot: fake.apiRoot })

/** Waits the delivery asks for, held until the test releases them: no wall clock in the test. */
export class HeldSleeps {
  readonly asked: Array<number> = []
  private held: Array<() => void> = []
  private listeners: Array<() => void> = []

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      this.asked.push(ms)
      this.held.push(resolve)
      signal.addEventListener("abort", () => resolve(), { once: true })
      for (const l of this.listeners.splice(0)) l()
    })

  /** Resolves once the delivery has asked for `n` waits in all. */
  until(n: number): Promise<void> {
    return this.asked.length >= n ? Promise.resolve() : new Promise((resolve) => this.listeners.push(() => void this.until(n).then(resolve)))
  }

  /** Let every wait asked for so far end. */
  release(): void {
    for (const r of this.held.splice(0)) r()
  }
}

export interface Harness {
  readonly store: AlertStore
  readonly delivery: AlertDelivery
  readonly notify: (alert: Alert, at?: number) => Promise<void>
  readonly lines: Array<string>
  readonly sleeps: HeldSleeps
}

export const harness = (
  fake: FakeBotApi,
  options: Partial<Pick<DeliveryOptions, "capacity" | "attemptsBeforeFailed" | "backoff">> = {},
  context: Omit<AlertContext, "decision"> = { lotSize: 75, mode: "paper" },
  store: AlertStore = memoryAlertStore()
): Harness => {
  const lines: Array<string> = []
  const log = (level: string, message: string, fields: Readonly<Record<string, unknown>> = {}) => void lines.push(JSON.stringify({ level, message, ...fields }))
  const config = configFor(fake)
  const redact = redactorOf(config)
  const sleeps = new HeldSleeps()
  const delivery = new AlertDelivery({ store, transport: grammyTransport(grammyApi(config), CHAT_ID), log, redact, sleep: sleeps.sleep, ...options })
  const alerts = telegramNotifier({ store, delivery, log, redact, context: () => context })
  delivery.start()
  return { store, delivery, lines, sleeps, notify: (alert, at = AT) => Effect.runPromise(alerts.notifier.notify(alert, at)) }
}

export const AT = Date.UTC(2026, 1, 10, 6, 0) // 11:30 IST

export const alertOf = (kind: Alert["kind"], severity: Alert["severity"], actor: string, details: Alert["details"]): Alert => ({ kind, severity, actor, details })

/** Nothing that left the process may hold the token, its secret half or the chat id. */
export const leaks = (texts: ReadonlyArray<string>): ReadonlyArray<string> =>
  texts.filter((t) => t.includes(TOKEN) || t.includes(TOKEN.split(":")[1]!) || t.includes(CHAT_ID))
