// Sending one message through the Bot API with grammy, and what a failure means for trying again:
// 429 says how long to wait (retry_after), a network error or a 5xx is waited out with back-off, a
// 401/403/404 means the bot cannot reach the chat at all (waited out too: fixing it fixes every
// message), and any other 4xx is about this message (Markdown it cannot parse: sent again as plain text).
import { Api, GrammyError, HttpError } from "grammy"
import type { TelegramConfig } from "./config.ts"

export interface Button {
  readonly text: string
  /** At most 64 bytes (Telegram's limit): what the button does, read back by the command handler. */
  readonly data: string
}

export interface OutgoingMessage {
  readonly text: string
  /** Markdown as the alert texts are written; null: plain text. */
  readonly parseMode: "Markdown" | null
  readonly buttons: ReadonlyArray<Button>
}

export type SendFailure =
  | { readonly kind: "rateLimited"; readonly retryAfterMs: number; readonly message: string }
  | { readonly kind: "unreachable"; readonly message: string }
  | { readonly kind: "badMessage"; readonly message: string }

export class TelegramSendFailed extends Error {
  constructor(readonly failure: SendFailure) {
    super(failure.message)
  }
}

export interface Transport {
  /** Answers Telegram's message id; fails with TelegramSendFailed. */
  readonly send: (message: OutgoingMessage) => Promise<number>
}

export const failureOf = (e: unknown): SendFailure => {
  if (e instanceof GrammyError) {
    const message = `Telegram answered ${e.error_code}: ${e.description}`
    if (e.error_code === 429) return { kind: "rateLimited", retryAfterMs: Math.max(1, e.parameters.retry_after ?? 1) * 1000, message }
    if (e.error_code >= 500 || e.error_code === 401 || e.error_code === 403 || e.error_code === 404) return { kind: "unreachable", message }
    return { kind: "badMessage", message }
  }
  if (e instanceof HttpError) return { kind: "unreachable", message: `${e.message} ${e.error instanceof Error ? e.error.message : ""}`.trim() }
  return { kind: "unreachable", message: e instanceof Error ? e.message : String(e) }
}

export const keyboardOf = (buttons: ReadonlyArray<Button>) => ({ inline_keyboard: [buttons.map((b) => ({ text: b.text, callback_data: b.data }))] })

/** The Bot API client: grammy's Api, at the configured root, with a deadline on each call. */
export const grammyApi = (c: TelegramConfig, timeoutSeconds = 10): Api =>
  new Api(c.token, { timeoutSeconds, ...(c.apiRoot === undefined ? {} : { apiRoot: c.apiRoot }) })

export const grammyTransport = (api: Api, chatId: string): Transport => ({
  send: async (m) => {
    try {
      const sent = await api.sendMessage(chatId, m.text, {
        ...(m.parseMode === null ? {} : { parse_mode: m.parseMode }),
        ...(m.buttons.length === 0 ? {} : { reply_markup: keyboardOf(m.buttons) })
      })
      return sent.message_id
    } catch (e) {
      throw new TelegramSendFailed(failureOf(e))
    }
  }
})
