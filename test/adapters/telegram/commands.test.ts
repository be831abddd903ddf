// The bot against the fake Bot API server, polling as it does in the daemon, through the OperatorPort
// every front end uses: the configured chat's reads answer DayView's texts (those texts on a replayed
// day are tested in test/views), its commands and button presses go through the command layer
// (queued for the session's next instant, refused with the reason, audited as Telegram's); any other
// chat gets no answer and a log line. The reads come from a DayView with no day attached, the
// commands act on a running day of the test's: each answer shows which of the two it came from.
import { readFileSync } from "node:fs"
import type { Bot } from "grammy"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { SessionContext, SessionEvent } from "../../../machines/session.ts"
import { telegramBot } from "../../../adapters/telegram/commands.ts"
import { redactorOf } from "../../../adapters/telegram/config.ts"
import { OperatorCommands, type RunningDay } from "../../../src/commands/operator.ts"
import { operatorPort } from "../../../src/commands/operator-port.ts"
import { ScheduleStore } from "../../../src/commands/schedule-store.ts"
import { parseSchedule } from "../../../src/domain/schedule.ts"
import { instantOf } from "../../../src/domain/time.ts"
import { hedgesText, statusText, summaryText } from "../../../src/views/day-text.ts"
import { DayView } from "../../../src/views/day-view.ts"
import { Effect } from "effect"
import { riskText } from "../../../adapters/telegram/risk-text.ts"
import type { RiskView } from "../../../src/domain/risk.ts"
import { straddleRisk } from "./risk-fixture.ts"
import { FakeBotApi } from "./fake-bot-api.ts"
import { CHAT_ID, configFor, leaks, TOKEN } from "./support.ts"

const DATE = "2026-02-10" // a Tuesday
const now = instantOf(DATE, "11:30:00")
const context = {
  date: DATE,
  index: "NIFTY",
  now,
  enabled: true,
  policy: "engine",
  turnHolder: null,
  turnQueue: [],
  budget: 4_000_000,
  spendCap: 50_000,
  grossSpend: 8235,
  recovered: 0,
  entries: [
    { id: "entry:E1", portfolio: "E1", entryAt: instantOf(DATE, "09:20:00") },
    { id: "entry:E4", portfolio: "E4", entryAt: instantOf(DATE, "13:00:00") }
  ],
  leftEntries: [],
  // The rules the command layer checks against: the buy's limit buffer, the exit's minimum price.
  hedgeRules: { limitPriceBuffer: 0.05, minExitPrice: 0.5 },
  hedges: {
    H1: { id: "H1", forEntry: "entry:E1", symbol: "NIFTY10FEB2625450CE", strike: 25450, optionType: "CE", status: "open", held: 2700, reserved: 0, paid: 8235, received: 0 }
  }
} as unknown as SessionContext
/** The next entry's rounds of hedge buying so far (what the day view reads from its actor). */
let roundsSoFar = 0
const day: RunningDay = {
  key: `${DATE}#1`,
  context,
  state: "trading.watching",
  done: false,
  lotSize: 75,
  strikeStep: 50,
  quote: async () => 3,
  utilisationPct: () => 71.25,
  entryOf: () => ({ state: "idle", hedgeRounds: roundsSoFar }),
  rowsAfter: () => [],
  lastSeq: () => 0
}

const schedule = new ScheduleStore("config/schedule.json", parseSchedule(readFileSync("config/schedule.json", "utf8"), "schedule.json"))
const lines: Array<string> = []
const log = (level: string, message: string, fields: Readonly<Record<string, unknown>> = {}) => void lines.push(JSON.stringify({ level, message, ...fields }))
const commands = new OperatorCommands({ day: () => day, log, schedule, today: () => DATE })
const view = new DayView({ now: () => now, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
const port = operatorPort("telegram", { commands, view, schedule })
/** What the daemon's live risk answers: a view, or why there is none. */
let riskNow: Effect.Effect<RiskView, { readonly message: string }> = Effect.fail({ message: "no trading day is running" })

let fake: FakeBotApi
let bot: Bot
let polling: Promise<void>
beforeAll(async () => {
  fake = await FakeBotApi.start(TOKEN)
  const config = configFor(fake)
  bot = telegramBot({ config, operator: port, risk: () => riskNow, log, redact: redactorOf(config), now: () => now })
  polling = bot.start()
})
afterAll(async () => {
  await bot.stop()
  await polling
  await fake.close()
})

let messageId = 1
const chat = (id: string | number) => ({ id: Number(id), type: "private", first_name: "Trader" })
const say = (text: string, from: string | number = CHAT_ID) => {
  const command = text.split(" ")[0]!
  fake.push({ message: { message_id: messageId++, date: 0, chat: chat(from), from: { id: Number(from), is_bot: false, first_name: "Trader" }, text, entities: [{ type: "bot_command", offset: 0, length: command.length }] } })
}
const press = (data: string, from: string | number = CHAT_ID) =>
  fake.push({ callback_query: { id: `cb${messageId++}`, from: { id: Number(from), is_bot: false, first_name: "Trader" }, chat_instance: "1", data, message: { message_id: 7, date: 0, chat: chat(from), text: "alert" } } })

/** The bot's next answer to the configured chat. */
const answer = async (): Promise<string> => {
  const before = fake.sent().length
  await fake.until(() => fake.sent().length > before)
  const reply = fake.sent().at(-1)!
  expect(String(reply.chat_id)).toBe(CHAT_ID)
  return String(reply.text)
}
const asked = async (text: string) => {
  const reply = answer()
  say(text)
  return reply
}
const delivered = (): Array<SessionEvent> => {
  const events: Array<SessionEvent> = []
  commands.deliver(now, (e) => events.push(e))
  return events
}

describe("commands from the configured chat", () => {
  it("/status, /hedges and /summary answer DayView's texts", async () => {
    const status = await asked("/status")
    expect(status).toBe("no trading day is running (market time 11:30:00)")
    expect(status).toBe(statusText(await view.status()))
    expect(await asked("/hedges")).toBe(hedgesText(await view.hedges()))
    expect(await asked("/summary")).toBe(summaryText(view.summary()))
    expect(await asked("/summary")).toBe("no trading day is running")
  })

  it("/schedule shows a day's entries: today by default, a weekday or a date", async () => {
    const today = await asked("/schedule")
    expect(today).toMatch(/^2026-02-10 \(Tuesday\): NIFTY/)
    expect(await asked("/schedule tue")).toBe(today.replace("2026-02-10 (Tuesday)", "Tuesday"))
    expect(await asked("/schedule someday")).toContain("Refused")
  })

  it("/auto_hedge and /exit go through the command layer, queued for the session's next instant; refusals say why", async () => {
    expect(await asked("/auto_hedge off")).toBe("✅ auto-hedge off (from Telegram): queued; the session takes it at the next market instant")
    expect(await asked("/auto_hedge off")).toContain("⛔ Refused: auto-hedge is already off (a toggle is waiting for the next instant)")
    expect(await asked("/auto_hedge maybe")).toContain("Refused: /auto_hedge takes on or off")
    expect(await asked("/exit H9")).toBe('⛔ Refused: no hedge "H9" today (hedges: H1)')
    expect(await asked("/exit H1")).toContain("✅ exit H1 (NIFTY10FEB2625450CE, last ₹3.00): queued")
    expect(delivered()).toEqual([{ type: "TOGGLE", enabled: false, reason: "from Telegram" }, { type: "MANUAL_EXIT", hedgeId: "H1" }])
    expect(lines.some((l) => l.includes("telegram: exit H1") && l.includes('"by":"telegram"'))).toBe(true)
    // The command layer audits each command with who asked: Telegram, not the HTTP API.
    expect(lines.some((l) => l.includes("operator exit (telegram): exit H1") && l.includes('"outcome":"accepted"'))).toBe(true)
    expect(lines.some((l) => l.includes("operator toggle (telegram) refused: auto-hedge is already off"))).toBe(true)
  })

  it("/hedge_now asks the next entry to come to decide now, through the command layer; refused with the reason when it cannot", async () => {
    expect(await asked("/hedge_now")).toBe("✅ hedge now: entry E4 (at 13:00) decides now: queued; the session takes it at the next market instant")
    expect(await asked("/hedge_now")).toBe("⛔ Refused: a hedge-now is already waiting for the next instant")
    expect(delivered()).toEqual([{ type: "HEDGE_NOW" }])
    // The next entry has had both its rounds of buying: the trader buys by hand.
    roundsSoFar = 2
    expect(await asked("/hedge_now")).toBe("⛔ Refused: entry E4 has had its 2 rounds of hedge buying today: buy by hand if it needs more")
    roundsSoFar = 0
    expect(lines.some((l) => l.includes("operator hedge_now (telegram): hedge now: entry E4") && l.includes('"outcome":"accepted"'))).toBe(true)
    // Auto-hedge switched off (waiting for the next instant): nothing would be bought.
    await asked("/auto_hedge off")
    expect(await asked("/hedge_now")).toContain("⛔ Refused: auto-hedge is off")
    expect(delivered().map((e) => e.type)).toEqual(["TOGGLE"])
  })

  it("/risk answers the account's risk view in a phone's text, or why there is none", async () => {
    expect(await asked("/risk")).toBe("No risk view now: no trading day is running.")
    const v = straddleRisk()
    riskNow = Effect.succeed(v)
    expect(await asked("/risk")).toBe(riskText(v))
  })

  it("/help lists the commands", async () => {
    const help = await asked("/help")
    for (const c of ["/status", "/hedges", "/auto_hedge on|off", "/hedge_now", "/exit <hedge>", "/schedule [day]", "/summary", "/risk"]) expect(help).toContain(c)
  })
})

describe("buttons on alerts", () => {
  it("Off for today, Exit hedge and Hedge now act through the command layer and answer the press; a button it never sent is refused", async () => {
    const pressed = async (data: string) => {
      const before = fake.sent("answerCallbackQuery").length
      const reply = answer()
      press(data)
      const text = await reply
      await fake.until(() => fake.sent("answerCallbackQuery").length > before)
      expect(fake.sent("answerCallbackQuery").at(-1)!.text).toBe(text.slice(0, 190))
      return text
    }
    expect(await pressed("now")).toContain("✅ hedge now: entry E4")
    expect(await pressed("auto:off")).toContain("✅ auto-hedge off")
    expect(await pressed("exit:H1")).toContain("✅ exit H1")
    expect(delivered().map((e) => e.type)).toEqual(["HEDGE_NOW", "TOGGLE", "MANUAL_EXIT"])
    // A button of an older version (the buy of a failed order's contract) is not acted on.
    const before = fake.sent("answerCallbackQuery").length
    press("buy:25450:CE:2")
    await fake.until(() => fake.sent("answerCallbackQuery").length > before)
    expect(fake.sent("answerCallbackQuery").at(-1)!.text).toBe("This button is not one of mine.")
    expect(commands.pending).toBe(0)
  })
})

describe("another chat", () => {
  it("gets no answer, to a command or a button, and each is logged", async () => {
    const stranger = "555000111"
    const callsBefore = fake.calls.length
    say("/status", stranger)
    press("auto:off", stranger)
    // The configured chat's next command is answered after both: they were seen and passed over.
    expect(await asked("/help")).toContain("/status")
    const since = fake.calls.slice(callsBefore)
    expect(since.map((c) => c.method)).toEqual(["sendMessage"])
    expect(commands.pending).toBe(0)
    expect(lines.filter((l) => l.includes("ignored an update from a chat that is not the configured one"))).toHaveLength(2)
    expect(leaks(lines)).toEqual([])
  })
})
