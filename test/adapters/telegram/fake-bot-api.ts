// A Bot API server on loopback, as much of it as the notifier and the bot use: sendMessage,
// answerCallbackQuery, getMe, deleteWebhook, getUpdates (long polling over updates the test pushes).
// It records every call; it can answer the next calls with errors (429 with retry_after, 400) or be
// "down" (connections are cut, as an unreachable Telegram looks to a client) or hang (never answer).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface FakeCall {
  readonly method: string
  readonly body: Record<string, unknown>
  /** performance.now() when the request arrived. */
  readonly receivedAt: number
}

export interface FakeError {
  readonly error_code: number
  readonly description: string
  readonly retry_after?: number
}

export class FakeBotApi {
  readonly calls: Array<FakeCall> = []
  /** Cut every connection while set. */
  down = false
  /** Take requests and never answer them while set (a Telegram that hangs). */
  hang = false
  private errors: Array<FakeError> = []
  private updates: Array<Record<string, unknown>> = []
  private nextUpdateId = 1
  private nextMessageId = 100
  private pollers: Array<() => void> = []
  private listeners: Array<() => void> = []

  private constructor(private readonly server: Server, readonly token: string) {}

  static async start(token: string): Promise<FakeBotApi> {
    let fake: FakeBotApi | undefined
    const server = createServer((req, res) => void fake!.handle(req, res))
    fake = new FakeBotApi(server, token)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return fake
  }

  get apiRoot(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** The next `errors.length` calls of sendMessage answer these. */
  failSends(...errors: Array<FakeError>): void {
    this.errors.push(...errors)
  }

  /** An update from a chat, as Telegram would deliver it to getUpdates. */
  push(update: Record<string, unknown>): void {
    this.updates.push({ update_id: this.nextUpdateId++, ...update })
    for (const wake of this.pollers.splice(0)) wake()
  }

  sent(method = "sendMessage"): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.method === method).map((c) => c.body)
  }

  /** Resolves once `test` holds of the calls so far (checked at each call). */
  until(test: (calls: ReadonlyArray<FakeCall>) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!test(this.calls)) return
        this.listeners = this.listeners.filter((l) => l !== check)
        resolve()
      }
      this.listeners.push(check)
      check()
    })
  }

  close(): Promise<void> {
    for (const wake of this.pollers.splice(0)) wake()
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) return void req.socket.destroy()
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString("utf8")
    const body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>)
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "")
    const answer = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify(payload))
    }
    if (match === null || match[1] !== this.token) return answer(401, { ok: false, error_code: 401, description: "Unauthorized" })
    const method = match[2]!
    if (method !== "getUpdates") this.record({ method, body, receivedAt: performance.now() })
    if (this.hang) return
    switch (method) {
      case "getMe":
        return answer(200, { ok: true, result: { id: 42, is_bot: true, first_name: "AutoHedge", username: "autohedge_test_bot" } })
      case "deleteWebhook":
      case "answerCallbackQuery":
      case "setMyCommands":
        return answer(200, { ok: true, result: true })
      case "getUpdates":
        return answer(200, { ok: true, result: await this.poll(body) })
      case "sendMessage": {
        const error = this.errors.shift()
        if (error !== undefined) {
          return answer(error.error_code, { ok: false, error_code: error.error_code, description: error.description, ...(error.retry_after === undefined ? {} : { parameters: { retry_after: error.retry_after } }) })
        }
        return answer(200, { ok: true, result: { message_id: this.nextMessageId++, date: 0, chat: { id: Number(body.chat_id), type: "private" }, text: body.text } })
      }
      default:
        return answer(404, { ok: false, error_code: 404, description: `Not Found: method ${method}` })
    }
  }

  private record(call: FakeCall): void {
    this.calls.push(call)
    for (const l of [...this.listeners]) l()
  }

  /** Updates from `offset` on; waits (up to the request's timeout, at most 1 s here) while there are none. */
  private async poll(body: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    const offset = Number(body.offset ?? 0)
    this.updates = this.updates.filter((u) => Number(u.update_id) >= offset)
    if (this.updates.length === 0 && Number(body.timeout ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000)
        this.pollers.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.updates.slice(0, Number(body.limit ?? 100))
  }
}
