// The two Telegram variables: both or neither, each of its shape, and errors that name the variable
// without showing the secret.
import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { redactorOf, telegramConfigFrom, TelegramConfigError } from "../../../adapters/telegram/config.ts"
import { CHAT_ID, TOKEN } from "./support.ts"

const refused = (env: Record<string, string>): string => {
  try {
    telegramConfigFrom(env)
  } catch (e) {
    expect(e).toBeInstanceOf(TelegramConfigError)
    return (e as TelegramConfigError).message
  }
  throw new Error("accepted")
}

describe("TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID", () => {
  it("neither: no Telegram; both: the config, the API root without its trailing slash", () => {
    expect(telegramConfigFrom({})).toBeNull()
    expect(telegramConfigFrom({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: "-1001234567890" })).toEqual({ token: TOKEN, chatId: "-1001234567890" })
    expect(telegramConfigFrom({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: CHAT_ID, TELEGRAM_API_ROOT: "http://127.0.0.1:8081/" })?.apiRoot).toBe("http://127.0.0.1:8081")
  })

  it("one without the other, or a value of the wrong shape, is refused naming the variable and never showing the secret", () => {
    expect(refused({ TELEGRAM_BOT_TOKEN: TOKEN })).toMatch(/^TELEGRAM_CHAT_ID: not set/)
    expect(refused({ TELEGRAM_CHAT_ID: CHAT_ID })).toMatch(/^TELEGRAM_BOT_TOKEN: not set/)
    const badToken = refused({ TELEGRAM_BOT_TOKEN: "AAHsecretSECRETsecret_0123456789xyz", TELEGRAM_CHAT_ID: CHAT_ID })
    expect(badToken).toMatch(/^TELEGRAM_BOT_TOKEN: expected BotFather's "<digits>:<secret>", got "AA…yz"/)
    expect(badToken).not.toContain("secret_0123")
    expect(refused({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: "my chat" })).toMatch(/^TELEGRAM_CHAT_ID: expected a numeric chat id/)
    expect(refused({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHAT_ID: CHAT_ID, TELEGRAM_API_ROOT: "localhost" })).toMatch(/^TELEGRAM_API_ROOT: expected an http\(s\) URL/)
  })

  it("the redactor takes out the token, its secret half and the chat id", () => {
    const redact = redactorOf({ token: TOKEN, chatId: CHAT_ID })
    expect(redact(`GET /bot${TOKEN}/sendMessage chat ${CHAT_ID} secret ${TOKEN.split(":")[1]}`)).toBe("GET /bot[token]/sendMessage chat [chat id] secret [token]")
  })

  it(".env.example documents both", () => {
    const example = readFileSync(".env.example", "utf8")
    for (const name of ["TELEGRAM_BOT_TOKEN=", "TELEGRAM_CHAT_ID=", "BotFather", "getUpdates"]) expect(example).toContain(name)
  })
})
