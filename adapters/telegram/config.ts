// The Telegram settings, read from the environment here (the adapter's own reader, so the config
// module need not know the messenger). Both secrets are redacted wherever a string could leave the
// process: logs, the alerts table, errors.
import { Schema } from "effect"

export const TELEGRAM_ENV = { token: "TELEGRAM_BOT_TOKEN", chatId: "TELEGRAM_CHAT_ID", apiRoot: "TELEGRAM_API_ROOT" } as const

export interface TelegramConfig {
  /** From BotFather: "<bot id>:<secret>". */
  readonly token: string
  /** The one chat alerts go to and commands are taken from (a user, group or channel id). */
  readonly chatId: string
  /** The Bot API server (a local fake in tests, a self-hosted server); default Telegram's. */
  readonly apiRoot?: string
}

export class TelegramConfigError extends Schema.TaggedError<TelegramConfigError>()("TelegramConfigError", {
  message: Schema.String
}) {}

/** Long enough to recognise, short enough to give nothing away: "12…89" (all stars when short). */
export const mask = (secret: string): string => (secret.length <= 8 ? "*".repeat(secret.length) : `${secret.slice(0, 2)}…${secret.slice(-2)}`)

/** Null when neither variable is set (alerts stay in the log); an error naming the variable when one is wrong. */
export const telegramConfigFrom = (env: Readonly<Record<string, string | undefined>>): TelegramConfig | null => {
  const token = env[TELEGRAM_ENV.token]?.trim() ?? ""
  const chatId = env[TELEGRAM_ENV.chatId]?.trim() ?? ""
  const apiRoot = env[TELEGRAM_ENV.apiRoot]?.trim() ?? ""
  if (token === "" && chatId === "") return null
  if (token === "") throw new TelegramConfigError({ message: `${TELEGRAM_ENV.token}: not set, but ${TELEGRAM_ENV.chatId} is (set both, or neither to keep alerts in the log)` })
  if (chatId === "") throw new TelegramConfigError({ message: `${TELEGRAM_ENV.chatId}: not set, but ${TELEGRAM_ENV.token} is (set both, or neither to keep alerts in the log)` })
  if (!/^\d+:[A-Za-z0-9_-]{20,}$/.test(token)) {
    throw new TelegramConfigError({ message: `${TELEGRAM_ENV.token}: expected BotFather's "<digits>:<secret>", got ${JSON.stringify(mask(token))} (${token.length} characters)` })
  }
  if (!/^-?\d+$/.test(chatId) && !/^@[A-Za-z0-9_]{5,}$/.test(chatId)) {
    throw new TelegramConfigError({ message: `${TELEGRAM_ENV.chatId}: expected a numeric chat id (negative for groups) or @channelname, got ${JSON.stringify(mask(chatId))}` })
  }
  if (apiRoot !== "" && !/^https?:\/\/[^\s]+$/.test(apiRoot)) {
    throw new TelegramConfigError({ message: `${TELEGRAM_ENV.apiRoot}: expected an http(s) URL, got ${JSON.stringify(apiRoot)}` })
  }
  return apiRoot === "" ? { token, chatId } : { token, chatId, apiRoot: apiRoot.replace(/\/+$/, "") }
}

/** Replace the token (and its secret half) and the chat id in a string that may leave the process. */
export const redactorOf = (c: Pick<TelegramConfig, "token" | "chatId">) => {
  const secrets = [c.token, c.token.split(":")[1] ?? "", c.chatId].filter((s) => s.length >= 4)
  return (text: string): string => secrets.reduce((t, s) => t.split(s).join(s === c.chatId ? "[chat id]" : "[token]"), text)
}
