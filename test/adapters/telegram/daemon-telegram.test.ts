// The daemon with Telegram configured: a paper day against the fake OpenAlgo (a recorded day on a
// sped-up clock, PGlite in memory) with the fake Bot API as Telegram. Every alert the daemon logged
// reaches the chat, in the order logged, and is `sent` in the alerts table (the day view's entry
// breached alerts too); /status is answered from DayView while the day runs; no log line holds the token or the chat id.
import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startFakeOpenAlgo } from "../../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../../adapters/postgres/database.ts"
import { migrate } from "../../../adapters/postgres/migrations.ts"
import { postgresAlertStore, type AlertRecord } from "../../../adapters/telegram/alert-store.ts"
import { ScaledClock } from "../../../src/daemon/clock.ts"
import { runDaemon } from "../../../src/daemon/daemon.ts"
import { makeLog } from "../../../src/daemon/log.ts"
import { loadInstruments } from "../../../src/domain/instruments.ts"
import { instantOf } from "../../../src/domain/time.ts"
import { withOperatorApi } from "../../../src/http/daemon-http.ts"
import { paperDaemonSetup } from "../../fixtures/paper-daemon.ts"
import { parseRecordedDay } from "../../../src/domain/recorded-day.ts"
import { FakeBotApi } from "./fake-bot-api.ts"
import { CHAT_ID, leaks, TOKEN } from "./support.ts"

const day = parseRecordedDay(await readFile("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const h = day.header
const API_KEY = "telegram-e2e-key-4711"
const SPEED = 300

let bot: FakeBotApi
beforeAll(async () => {
  bot = await FakeBotApi.start(TOKEN)
})
afterAll(() => bot.close())

describe("the daemon with Telegram", () => {
  it("sends every alert of a paper day to the chat, in order, recorded as sent; answers /status while the day runs", async () => {
    const clock = new ScaledClock(instantOf(h.date, "08:59:30"), SPEED)
    const openalgo = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: API_KEY, mode: "analyze" })
    const { scheduleFile, schedule, settings } = await paperDaemonSetup({ day, openalgoUrl: openalgo.url, apiKey: API_KEY, tickMs: 15_000, scratchPrefix: "autohedge-telegram-" })
    const lines: Array<string> = []
    const log = makeLog("json", (line) => lines.push(line), "-", () => clock.now())
    const env = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: CHAT_ID, TELEGRAM_API_ROOT: bot.apiRoot }
    const api = { bind: { host: "127.0.0.1", port: 0 }, token: null, mode: "paper", config: settings.config, scheduleFile, schedule, clock, log, env }
    // Once the day has started, the trader asks for the status.
    const status = bot.until((calls) => calls.some((c) => c.method === "sendMessage" && String(c.body.text).includes("Auto-Hedge Started"))).then(async () => {
      const before = bot.sent().length
      bot.push({ message: { message_id: 1, date: 0, chat: { id: Number(CHAT_ID), type: "private" }, text: "/status", entities: [{ type: "bot_command", offset: 0, length: 7 }] } })
      await bot.until(() => bot.sent().slice(before).some((m) => String(m.text).startsWith(`${h.index} ${h.date}`)))
      return String(bot.sent().slice(before).find((m) => String(m.text).startsWith(`${h.index} ${h.date}`))!.text)
    })
    let rows: ReadonlyArray<AlertRecord> = []
    try {
      rows = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function*() {
            yield* migrate
            const store = postgresAlertStore(yield* Effect.context<SqlClient>())
            yield* withOperatorApi(api, (operator) =>
              runDaemon({ settings, schedule, calendar: { years: [] }, instruments: loadInstruments(), clock, log, signal: new AbortController().signal, days: 1, ...(operator === undefined ? {} : { operator }) })
            )
            return yield* Effect.promise(() => store.all())
          })
        ).pipe(Effect.provide(databaseLayer({ dataDir: "memory:" })))
      )
    } finally {
      await openalgo.close()
    }
    const logged = lines.map((l) => JSON.parse(l) as { alert?: string; message: string })
    // An alert's log line carries its kind and its text (which opens with the alert's emoji).
    const alerts = logged.filter((l) => l.alert !== undefined && /^\W/.test(l.message))
    expect(alerts.length).toBeGreaterThan(2)
    expect(alerts.at(-1)!.alert).toBe("EOD_SUMMARY")
    expect(rows.map((r) => r.kind)).toEqual(alerts.map((a) => a.alert))
    expect(rows.every((r) => r.status === "sent" && r.telegramMessageId !== null)).toBe(true)
    // The day view's own alert reaches the chat too, once per entry that breached.
    const breached = rows.filter((r) => r.kind === "ENTRY_BREACHED").map((r) => r.actor)
    expect(new Set(breached).size).toBe(breached.length)
    const texts = bot.sent().filter((m) => m.parse_mode === "Markdown").map((m) => m.text)
    expect(texts).toEqual(rows.map((r) => r.text))
    expect(await status).toContain("auto-hedge on")
    expect(leaks(lines)).toEqual([])
  }, 240_000)
})
