// The daemon with Telegram configured and the operator API off (`--http off`): a paper day against the
// fake OpenAlgo (a recorded day on a sped-up clock, PGlite in memory) with the fake Bot API as
// Telegram. Every alert the daemon logged reaches the chat, in the order logged, and is `sent` in the
// alerts table (the day view's entry breached alerts too); every command and a button are answered
// while the day runs, through the command layer; no log line holds the token or the chat id.
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
  it("with --http off: sends every alert of a paper day to the chat, in order, recorded as sent; answers every command and button while the day runs", async () => {
    const clock = new ScaledClock(instantOf(h.date, "08:59:30"), SPEED)
    const openalgo = await startFakeOpenAlgo({ day, now: () => clock.now(), apiKey: API_KEY, mode: "analyze" })
    const { scheduleFile, schedule, settings } = await paperDaemonSetup({ day, openalgoUrl: openalgo.url, apiKey: API_KEY, tickMs: 15_000, scratchPrefix: "autohedge-telegram-" })
    const lines: Array<string> = []
    const log = makeLog("json", (line) => lines.push(line), "-", () => clock.now())
    const env = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: CHAT_ID, TELEGRAM_API_ROOT: bot.apiRoot }
    // No operator API: Telegram runs on the day view and the command layer alone.
    const api = { bind: null, token: null, mode: "paper", config: settings.config, scheduleFile, schedule, clock, log, env }
    const chat = { id: Number(CHAT_ID), type: "private" }
    let updateId = 1
    /** The bot's answer (plain text; alerts are Markdown) to a command or a press. */
    const answerTo = async (update: Record<string, unknown>): Promise<string> => {
      const before = bot.sent().length
      bot.push(update)
      const answer = () => bot.sent().slice(before).find((m) => m.parse_mode !== "Markdown")
      await bot.until(() => answer() !== undefined)
      return String(answer()!.text)
    }
    const ask = (text: string) => {
      const command = text.split(" ")[0]!
      return answerTo({ message: { message_id: updateId++, date: 0, chat, text, entities: [{ type: "bot_command", offset: 0, length: command.length }] } })
    }
    const press = (data: string) => answerTo({ callback_query: { id: `cb${updateId++}`, from: { id: Number(CHAT_ID), is_bot: false, first_name: "Trader" }, chat_instance: "1", data, message: { message_id: 1, date: 0, chat, text: "alert" } } })
    const answers: Record<string, string> = {}
    const sentText = (pattern: string) => (calls: ReadonlyArray<{ method: string; body: Record<string, unknown> }>) => calls.some((c) => c.method === "sendMessage" && String(c.body.text).includes(pattern))
    // Once the day has started, the trader asks for everything; once a hedge is bought, exits it and presses its button.
    const conversation = bot.until(sentText("Auto-Hedge Started")).then(async () => {
      for (const command of ["/help", "/status", "/schedule", "/summary", "/hedges", "/risk", "/hedge_now", "/auto_hedge off", "/auto_hedge on"]) answers[command] = await ask(command)
      await bot.until(sentText("HEDGE BOUGHT"))
      const bought = bot.sent().find((m) => String(m.text).includes("HEDGE BOUGHT"))!
      const exit = (bought.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard[0]![0]!.callback_data
      answers["/exit"] = await ask(`/exit ${exit.slice("exit:".length)}`)
      answers["button Exit hedge"] = await press(exit)
      answers["button Hedge now"] = await press("now")
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
    const logged = lines.map((l) => JSON.parse(l) as { alert?: string; message: string; by?: string; command?: string; outcome?: string })
    await conversation
    // Telegram started without the operator API.
    expect(logged.some((l) => l.message.includes("operator API off (--http off): Telegram takes the operator's commands"))).toBe(true)
    expect(logged.some((l) => l.message.includes("operator API and inspector at"))).toBe(false)
    // Every command answered: reads in DayView's texts, actions accepted or refused with the reason.
    expect(answers["/help"]).toContain("/hedge_now")
    expect(answers["/status"]).toMatch(new RegExp(`^${h.index} ${h.date}`))
    expect(answers["/status"]).toContain("auto-hedge on")
    expect(answers["/schedule"]).toMatch(new RegExp(`^${h.date} \\(Tuesday\\): ${h.index}`))
    expect(answers["/summary"]).not.toBe("no trading day is running")
    expect(answers["/hedges"]).not.toBe("")
    expect(answers["/risk"]).toMatch(new RegExp(`^${h.index} ${h.date} \\d\\d:\\d\\d IST · spot`))
    expect(answers["/risk"]).toContain("1-day VaR 99 %")
    for (const action of ["/hedge_now", "/auto_hedge off", "/auto_hedge on", "/exit", "button Exit hedge", "button Hedge now"]) expect(answers[action], action).toMatch(/^(✅|⛔ Refused: )/)
    expect(answers["/auto_hedge off"]).toMatch(/^✅ auto-hedge off/)
    // Audited by the command layer as Telegram's, accepted or refused.
    for (const command of ["hedge_now", "toggle", "exit"]) {
      expect(logged.some((l) => l.by === "telegram" && l.command === command && (l.outcome === "accepted" || l.outcome === "refused")), command).toBe(true)
    }
    const alerts = logged.filter((l) => l.alert !== undefined && /^\W/.test(l.message))
    expect(alerts.length).toBeGreaterThan(2)
    expect(alerts.at(-1)!.alert).toBe("EOD_SUMMARY")
    // The same alerts, and in the same order but for the watchdog's: its patrol raises them beside the
    // engine (a loaded machine falls behind the market clock), so their log line and row may swap places.
    const bySort = (kinds: ReadonlyArray<string | undefined>) => [...kinds].sort()
    expect(bySort(rows.map((r) => r.kind))).toEqual(bySort(alerts.map((a) => a.alert)))
    const notWatchdog = (kind: string | undefined) => kind !== "WATCHDOG"
    expect(rows.map((r) => r.kind).filter(notWatchdog)).toEqual(alerts.map((a) => a.alert).filter(notWatchdog))
    expect(rows.every((r) => r.status === "sent" && r.telegramMessageId !== null)).toBe(true)
    // The kinds this paper day raises (the others are covered by their texts: alert-texts.test.ts).
    const kinds = [...new Set(rows.map((r) => r.kind))].sort()
    console.log(`alert kinds sent on the paper day: ${kinds.join(", ")}`)
    expect(kinds).toEqual(expect.arrayContaining(["SESSION_STARTED", "HEDGES_CHOSEN", "HEDGE_BOUGHT", "EOD_SUMMARY"]))
    // The day view's own alert reaches the chat too, once per entry that breached.
    const breached = rows.filter((r) => r.kind === "ENTRY_BREACHED").map((r) => r.actor)
    expect(new Set(breached).size).toBe(breached.length)
    const texts = bot.sent().filter((m) => m.parse_mode === "Markdown").map((m) => m.text)
    expect(texts).toEqual(rows.map((r) => r.text))
    expect(leaks(lines)).toEqual([])
    expect(leaks(bot.sent().map((m) => String(m.text)))).toEqual([])
  }, 300_000)
})
