// A small HTTP client for the operator API tests: JSON requests, and a Server-Sent Events reader.
import { request } from "node:http"
import { expect } from "vitest"

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: unknown
}

export const call = async (base: string, path: string, init: RequestInit = {}): Promise<Reply> => {
  const response = await fetch(new URL(path, base), init)
  const text = await response.text()
  let json: unknown = undefined
  try {
    json = text === "" ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export const postJson = (base: string, path: string, body: unknown, headers: Record<string, string> = {}, method = "POST") =>
  call(base, path, { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })

/** An error reply: the status, and a body `{ error, field? }` whose message names the field it is about. */
export const expectError = (reply: Reply, status: number, field?: string) => {
  expect(reply.status, reply.text).toBe(status)
  const body = reply.json as { error?: unknown; field?: unknown }
  expect(typeof body?.error, reply.text).toBe("string")
  expect((body.error as string).length).toBeGreaterThan(0)
  if (field !== undefined) expect(body.field, reply.text).toBe(field)
  return body as { error: string; field?: string }
}

export interface SseEvent {
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

/**
 * Read a Server-Sent Events response until `enough` says so of the latest event (or it ends); the
 * connection is then closed.
 */
export const readSse = async (
  url: string,
  enough: (latest: SseEvent, events: ReadonlyArray<SseEvent>) => boolean,
  o: { readonly headers?: Record<string, string>; readonly timeoutMs?: number } = {}
): Promise<ReadonlyArray<SseEvent>> => {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), o.timeoutMs ?? 30_000)
  const events: Array<SseEvent> = []
  try {
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...o.headers }, signal: controller.signal })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ""
    let stop = false
    while (!stop) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let id: string | undefined
        let event = "message"
        const data: Array<string> = []
        for (const line of block.split("\n")) {
          if (line.startsWith(":") || line.startsWith("retry:")) continue
          const colon = line.indexOf(":")
          const [key, value] = colon < 0 ? [line, ""] : [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, "")]
          if (key === "id") id = value
          else if (key === "event") event = value
          else if (key === "data") data.push(value)
        }
        if (data.length === 0) continue
        const latest = { id, event, data: data.join("\n") }
        events.push(latest)
        stop = enough(latest, events)
        if (stop) break
      }
    }
  } catch (e) {
    if (!controller.signal.aborted) throw e
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  return events
}

export interface Answer {
  readonly status: number
  readonly body: { readonly error?: string; readonly field?: string }
}

/** One request with whatever headers (fetch will not send another Host), its body sent as given. */
export const sendRaw = (token: string, url: string, o: { readonly method?: string; readonly path: string; readonly headers?: Record<string, string>; readonly body?: string; readonly chunked?: boolean }): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...o.headers }
    if (o.body !== undefined) headers["content-type"] = "application/json"
    if (o.body !== undefined && o.chunked !== true) headers["content-length"] = String(Buffer.byteLength(o.body))
    const req = request({ host: hostname, port, method: o.method ?? "GET", path: o.path, headers }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (text += c))
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer["body"] })
        } catch (e) {
          reject(new Error(`${res.statusCode}: not JSON: ${text.slice(0, 200)} (${String(e)})`))
        }
      })
    })
    req.on("error", reject)
    if (o.body !== undefined) req.write(o.body)
    req.end()
  })
