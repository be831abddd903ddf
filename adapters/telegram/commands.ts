// The bot's commands and buttons. Only the configured chat is answered; an update from any other
// chat gets no answer and a log line. The bot reads the day and acts through the OperatorPort every
// front end uses (DayView's reads and texts, the command layer's checks, queue and audit, with
// "telegram" as who asked); a refusal answers why. Answers are plain text.
import { Cause, Effect, Exit, Option } from "effect"
import { Bot, type Context } from "grammy"
import type { CommandAccepted, CommandRefused } from "../../src/commands/operator.ts"
import type { OperatorPort } from "../../src/commands/operator-port.ts"
import { dayScheduleFor, WEEKDAYS, type DaySchedule, type Schedule } from "../../src/domain/schedule.ts"
import { dateOf, isIsoDate, weekdayOf } from "../../src/domain/time.ts"
import { hedgesText, statusText, summaryText } from "../../src/views/day-text.ts"
import type { RiskView } from "../../src/domain/risk.ts"
import { decode, type ButtonAction } from "./buttons.ts"
import { riskText } from "./risk-text.ts"
import { mask, type TelegramConfig } from "./config.ts"
import type { DeliveryLog } from "./delivery.ts"

export interface TelegramCommandsOptions {
  readonly config: TelegramConfig
  /** The day's reads (DayView) and the command layer, bound to Telegram as who asks. */
  readonly operator: OperatorPort
  readonly log: DeliveryLog
  readonly redact: (text: string) => string
  /** Market time now (the day /schedule shows by default). */
  readonly now: () => number
  /** The account's risk now (the daemon's live risk view); absent where none is kept. */
  readonly risk?: () => Effect.Effect<RiskView, { readonly message: string }>
}

/** The commands, as /help lists them and Telegram's command menu shows them. */
export const COMMANDS: ReadonlyArray<{ readonly command: string; readonly usage: string; readonly description: string }> = [
  { command: "status", usage: "/status", description: "the day: auto-hedge, utilisation, spend, next entry" },
  { command: "hedges", usage: "/hedges", description: "today's hedges" },
  { command: "auto_hedge", usage: "/auto_hedge on|off", description: "switch auto-hedge for the rest of the day" },
  { command: "hedge_now", usage: "/hedge_now", description: "the next entry to come decides now (projects; buys hedges if it needs them)" },
  { command: "exit", usage: "/exit <hedge>", description: "sell an open hedge now" },
  { command: "schedule", usage: "/schedule [day]", description: "the entries of a day (a weekday or YYYY-MM-DD; default today)" },
  { command: "summary", usage: "/summary", description: "spend and hedges so far today" },
  { command: "risk", usage: "/risk", description: "the account's risk now: margin, greeks, VaR, stress" },
  { command: "help", usage: "/help", description: "this list" }
]

export const HELP = COMMANDS.map((c) => `${c.usage} — ${c.description}`).join("\n")

const scheduleDayText = (label: string, day: DaySchedule | undefined): string =>
  day === undefined
    ? `${label}: no entries scheduled.`
    : [`${label}: ${day.index} (${day.expiryType})`, ...day.entries.map((e) => `${e.portfolio}: ${e.entryTime} → ${e.exitTime ?? "expiry"}`)].join("\n")

export const scheduleText = (schedule: Schedule, arg: string, today: string): string => {
  if (arg === "" || isIsoDate(arg)) {
    const date = arg === "" ? today : arg
    return scheduleDayText(`${date} (${weekdayOf(date)})`, dayScheduleFor(schedule, date))
  }
  const weekday = WEEKDAYS.find((w) => w.toLowerCase().startsWith(arg.toLowerCase()) && arg.length >= 2)
  if (weekday === undefined) return `Refused: ${JSON.stringify(arg)} is neither a weekday (Monday…Friday) nor a date YYYY-MM-DD.`
  return scheduleDayText(weekday, schedule.days[weekday])
}

export const telegramBot = (o: TelegramCommandsOptions): Bot => {
  const bot = new Bot(o.config.token, { client: { timeoutSeconds: 60, ...(o.config.apiRoot === undefined ? {} : { apiRoot: o.config.apiRoot }) } })
  const ours = (ctx: Context) => ctx.chat !== undefined && (String(ctx.chat.id) === o.config.chatId || ("username" in ctx.chat && `@${ctx.chat.username}` === o.config.chatId))

  bot.use(async (ctx, next) => {
    if (ours(ctx)) return next()
    const chat = ctx.chat === undefined ? "none" : mask(String(ctx.chat.id))
    o.log("warn", `telegram: ignored an update from a chat that is not the configured one (chat ${chat}); no answer`, { from: ctx.from?.username ?? null })
  })

  /** Run an action through the command layer; answer what it said (accepted, or refused and why). */
  const act = async (what: string, effect: Effect.Effect<CommandAccepted, CommandRefused>): Promise<string> => {
    const exit = await Effect.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return logged("info", what, `✅ ${exit.value.message}`)
    const refused = Cause.findErrorOption(exit.cause)
    if (Option.isSome(refused)) return logged("warn", what, `⛔ Refused: ${refused.value.message}`)
    // A command that broke still answers: the trader must not wait on silence.
    o.log("error", `telegram: ${what} failed: ${o.redact(Cause.pretty(exit.cause))}`, { by: "telegram" })
    return `⚠️ ${what} failed inside the daemon; nothing was queued. The log has the details.`
  }
  const logged = (level: "info" | "warn", what: string, answer: string) => {
    o.log(level, `telegram: ${what}: ${answer}`, { by: "telegram" })
    return answer
  }

  const run = (a: ButtonAction): Promise<string> => {
    switch (a.type) {
      case "exit":
        return act(`exit ${a.hedgeId}`, o.operator.exitHedge(a.hedgeId))
      case "autoHedge":
        return act(`auto-hedge ${a.enabled ? "on" : "off"}`, o.operator.setAutoHedge(a.enabled, "from Telegram"))
      case "hedgeNow":
        return act("hedge now", o.operator.hedgeNow())
    }
  }

  bot.command(["help", "start"], (ctx) => ctx.reply(HELP))
  bot.command("status", async (ctx) => ctx.reply(statusText(await o.operator.status())))
  bot.command("hedges", async (ctx) => ctx.reply(hedgesText(await o.operator.hedges())))
  bot.command("summary", (ctx) => ctx.reply(summaryText(o.operator.summary())))
  bot.command("risk", async (ctx) => {
    if (o.risk === undefined) return void (await ctx.reply("No risk view here: the daemon keeps it (autohedge risk --live)."))
    const exit = await Effect.runPromiseExit(o.risk())
    if (Exit.isSuccess(exit)) return void (await ctx.reply(riskText(exit.value)))
    const e = Cause.findErrorOption(exit.cause)
    await ctx.reply(`No risk view now: ${Option.isSome(e) ? o.redact(e.value.message) : "it failed inside the daemon (the log has the details)"}.`)
  })
  bot.command("schedule", (ctx) => ctx.reply(scheduleText(o.operator.schedule(), ctx.match.trim(), dateOf(o.now()))))
  bot.command("auto_hedge", async (ctx) => {
    const arg = ctx.match.trim().toLowerCase()
    if (arg !== "on" && arg !== "off") return void (await ctx.reply(`Refused: /auto_hedge takes on or off, got ${JSON.stringify(ctx.match.trim())}.`))
    await ctx.reply(await run({ type: "autoHedge", enabled: arg === "on" }))
  })
  bot.command("exit", async (ctx) => {
    const hedgeId = ctx.match.trim()
    if (hedgeId === "") return void (await ctx.reply(`Refused: /exit needs a hedge id (see /hedges).\n\n${hedgesText(await o.operator.hedges())}`))
    await ctx.reply(await run({ type: "exit", hedgeId }))
  })
  bot.command("hedge_now", async (ctx) => ctx.reply(await run({ type: "hedgeNow" })))
  bot.on("callback_query:data", async (ctx) => {
    const action = decode(ctx.callbackQuery.data)
    if (action === null) return void (await ctx.answerCallbackQuery({ text: "This button is not one of mine." }))
    const answer = await run(action)
    await ctx.answerCallbackQuery({ text: answer.slice(0, 190) })
    await ctx.reply(answer)
  })
  bot.catch((e) => o.log("error", `telegram: a command failed: ${o.redact(e.error instanceof Error ? e.error.message : String(e.error))}`))
  return bot
}
