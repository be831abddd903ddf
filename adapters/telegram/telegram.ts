// Telegram as the daemon uses it: the alert notifier with its delivery queue (started with what an
// earlier run left unsent) and the bot that takes commands by long polling, both reading the day
// through DayView. `stop` ends both; alerts still queued stay in the table for the next start.
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { Notifier } from "../../src/services/services.ts"
import type { AlertContext } from "../../src/domain/alerts.ts"
import { postgresAlertStore, type AlertStore } from "./alert-store.ts"
import type { OperatorPort } from "../../src/commands/operator-port.ts"
import type { DayView } from "../../src/views/day-view.ts"
import type { RiskView } from "../../src/domain/risk.ts"
import { COMMANDS, telegramBot } from "./commands.ts"
import { redactorOf, telegramConfigFrom, TelegramConfigError, type TelegramConfig } from "./config.ts"
import { AlertDelivery, wallSleep, type DeliveryLog, type DeliveryOptions } from "./delivery.ts"
import { telegramNotifier } from "./notifier.ts"
import { grammyApi, grammyTransport } from "./transport.ts"

/** At a stop, how long the bot may take to stop polling, and queued alerts to go (within the daemon's shutdown bound). */
const STOP_MS = 2000
const DRAIN_MS = 5000

export interface TelegramSetup {
  readonly config: TelegramConfig
  readonly store: AlertStore
  readonly log: DeliveryLog
  /** The day's reads and the command layer, bound to Telegram (`operatorPort("telegram", …)`). */
  readonly operator: OperatorPort
  /** The read model the port reads, for what an alert's text says beyond the alert (lot size, the day's facts). */
  readonly view: DayView
  readonly mode: NonNullable<AlertContext["mode"]>
  /** Market time now. */
  readonly now: () => number
  /** The account's risk now, for /risk (the daemon's LiveRisk). */
  readonly risk?: () => Effect.Effect<RiskView, { readonly message: string }>
  /** Delivery's timing (tests: a fake clock's sleep, short back-off). */
  readonly delivery?: Partial<Pick<DeliveryOptions, "sleep" | "capacity" | "attemptsBeforeFailed" | "backoff">>
}

export interface RunningTelegram {
  readonly notifier: Notifier["Service"]
  readonly delivery: AlertDelivery
  readonly stop: () => Promise<void>
}

/** What the day view knows that an alert does not: the lot size, and for the day's summary its entries, peak, breaches and hedges left to expire. */
const alertContextOf = (view: DayView, mode: NonNullable<AlertContext["mode"]>): Omit<AlertContext, "decision"> => {
  const day = view.running()
  const summary = view.summary()
  if (day === null || summary === null) return { mode }
  const expired = Object.values(day.context.hedges).filter((h) => h.status === "expired").map((h) => `${h.id} (${h.symbol})`)
  return { mode, lotSize: day.lotSize, day: { entries: summary.entries.scheduled, peakPct: summary.peakUtilisationPct, breaches: summary.breaches.length, expired } }
}

export const startTelegram = async (s: TelegramSetup): Promise<RunningTelegram> => {
  const redact = redactorOf(s.config)
  const delivery = new AlertDelivery({ store: s.store, transport: grammyTransport(grammyApi(s.config), s.config.chatId), log: s.log, redact, sleep: wallSleep, ...s.delivery })
  const alerts = telegramNotifier({
    store: s.store,
    delivery,
    log: s.log,
    redact,
    context: () => alertContextOf(s.view, s.mode)
  })
  delivery.start(await s.store.unsent())
  const bot = telegramBot({ config: s.config, operator: s.operator, log: s.log, redact, now: s.now, ...(s.risk === undefined ? {} : { risk: s.risk }) })
  // Telegram's command menu; not worth waiting for.
  void bot.api.setMyCommands(COMMANDS.map((c) => ({ command: c.command, description: c.description }))).catch(() => undefined)
  const polling = bot.start({ allowed_updates: ["message", "callback_query"], onStart: () => s.log("info", "telegram: taking commands from the configured chat") })
    .catch((e: unknown) => s.log("error", `telegram: commands stopped: ${redact(e instanceof Error ? e.message : String(e))}`))
  s.log("info", "telegram: alerts go to the configured chat")
  return {
    notifier: alerts.notifier,
    delivery,
    stop: async () => {
      // Within the daemon's shutdown bound whatever Telegram does: grammy's last getUpdates at a stop,
      // then the day's last alerts (the summary) get a moment to go; what does not stays in the table.
      const waited = new AbortController()
      const atMost = (ms: number, p: Promise<unknown>) => Promise.race([p, wallSleep(ms, waited.signal)])
      await atMost(STOP_MS, Promise.all([bot.isRunning() ? bot.stop() : undefined, polling]))
      await atMost(DRAIN_MS, delivery.idle())
      waited.abort()
      delivery.stop()
    }
  }
}

/**
 * Telegram beside the daemon when TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID are set: alerts through the
 * alerts table of the daemon's database, commands through `operator`. Undefined when they are not
 * set; stopped with the scope.
 */
export const telegramForDaemon = (o: Omit<TelegramSetup, "config" | "store"> & { readonly env: Readonly<Record<string, string | undefined>> }) =>
  Effect.gen(function*() {
    const config = yield* Effect.try({ try: () => telegramConfigFrom(o.env), catch: (e) => (e instanceof TelegramConfigError ? e : new TelegramConfigError({ message: String(e) })) })
    if (config === null) return undefined
    const store = postgresAlertStore(yield* Effect.context<SqlClient>())
    const running = yield* Effect.acquireRelease(
      Effect.promise(() => startTelegram({ ...o, config, store })),
      (t) => Effect.promise(() => t.stop())
    )
    return running.notifier
  })
