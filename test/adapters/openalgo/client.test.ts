// The OpenAlgo client: request shape, every documented error shape and status turned into one typed
// error naming endpoint, status and message; replies decoded field by field; reads retried and sends
// never; timeouts; the rate limiter; and the API key kept out of everything.
import { Cause, Clock, Effect, Exit, Fiber, Redacted, Result, Schema } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it } from "vitest"
import {
  decodeReply,
  errorDetail,
  makeRateLimiter,
  Numeric,
  openAlgoClient,
  openAlgoSettings,
  type OpenAlgoConfig,
  type OpenAlgoError
} from "../../../adapters/openalgo/client.ts"
import { startScriptedServer, type ScriptedReply, type ScriptedServer } from "./scripted-http.ts"

const KEY = "OA-KEY-7f3c9e1d-never-show-me"

let server: ScriptedServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const config = (url: string, over: Partial<OpenAlgoConfig> = {}): OpenAlgoConfig => ({
  baseUrl: url,
  apiKey: Redacted.make(KEY),
  index: "NIFTY",
  expiry: "2026-02-10",
  timeouts: { readMs: 300, sendMs: 300 },
  retry: { times: 2, baseDelayMs: 10 },
  ...over
})

const Funds = Schema.Struct({ data: Schema.Struct({ utiliseddebits: Numeric }) })

const clientFor = async (reply: (path: string, body: Record<string, unknown>, i: number) => ScriptedReply, over: Partial<OpenAlgoConfig> = {}) => {
  server = await startScriptedServer(reply)
  return Effect.runPromise(openAlgoClient(config(server.url, over)))
}

const failureOf = <A>(effect: Effect.Effect<A, OpenAlgoError>) => Effect.runPromise(Effect.flip(effect))

describe("reading OpenAlgo's error replies", () => {
  it("reads every documented message shape", () => {
    expect(errorDetail(`{"status":"error","message":"{'quantity': ['Missing data for required field.']}"}`)).toBe("{'quantity': ['Missing data for required field.']}")
    expect(errorDetail(`{"status":"error","message":{"symbol":["Missing data for required field."],"exchange":["Invalid","Unknown"]}}`))
      .toBe("symbol: Missing data for required field.; exchange: Invalid, Unknown")
    expect(errorDetail(`{"status":"error","message":"Validation error","errors":{"expiry_date":["Invalid format"]}}`)).toBe("Validation error: expiry_date: Invalid format")
    expect(errorDetail(`{"status":"error","message":"Not found","path":"/api/v1/nope"}`)).toBe("Not found: path /api/v1/nope")
    expect(errorDetail(`{"message":"10 per 1 second"}`)).toBe("10 per 1 second")
    expect(errorDetail("Access Denied: Your IP has been banned")).toBe("Access Denied: Your IP has been banned")
    expect(errorDetail("")).toBe("(empty body)")
  })

  it("accepts numbers and numeric strings, and names the field and value of a bad reply", () => {
    const ok = decodeReply("/funds", 200, Funds, { data: { utiliseddebits: "12345.60" } })
    expect(ok).toEqual(Result.succeed({ data: { utiliseddebits: 12345.6 } }))
    expect(decodeReply("/funds", 200, Funds, { data: { utiliseddebits: 7 } })).toEqual(Result.succeed({ data: { utiliseddebits: 7 } }))
    const bad = decodeReply("/funds", 200, Funds, { data: { utiliseddebits: "12,345" } })
    expect(Result.isFailure(bad) && bad.failure).toMatch(/^\/funds: HTTP 200: unexpected reply: data\.utiliseddebits = "12,345": /)
    const missing = decodeReply("/funds", 200, Funds, { status: "success", data: {} })
    expect(Result.isFailure(missing) && missing.failure).toBe("/funds: HTTP 200: unexpected reply: data.utiliseddebits: missing")
    const empty = decodeReply("/funds", 200, Funds, { data: { utiliseddebits: "" } })
    expect(Result.isFailure(empty)).toBe(true)
  })
})

describe("the rate limiter", () => {
  it("starts at most `limit` requests per window, each slot free again one window after its request ended", async () => {
    // Time is the test clock's: it moves only when the test moves it, so the instants are exact.
    const starts = await Effect.runPromise(
      Effect.gen(function*() {
        const limiter = yield* makeRateLimiter(5, 100)
        // Each request takes 20 ms, as a reply would.
        const request = Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          yield* Effect.sleep(20)
          return start
        })
        const all = yield* Effect.forkChild(Effect.forEach(Array.from({ length: 12 }), () => limiter.limit(request), { concurrency: "unbounded" }))
        for (let ms = 0; ms < 300; ms += 5) yield* TestClock.adjust(5)
        return yield* Fiber.join(all)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    // Five at once; the next five when the first slots come back (20 ms + 100 ms), the last two 120 ms later.
    expect([...starts].sort((a, b) => a - b)).toEqual([0, 0, 0, 0, 0, 120, 120, 120, 120, 120, 240, 240])
  })
})

describe("requests", () => {
  it("POSTs JSON with the key in the body", async () => {
    const client = await clientFor(() => ({ status: 200, body: { status: "success", data: { utiliseddebits: "1.50" } } }))
    const funds = await Effect.runPromise(client.read("/funds", { extra: 1 }, Funds))
    expect(funds.data.utiliseddebits).toBe(1.5)
    expect(server!.requests).toEqual([{ path: "/funds", contentType: "application/json", body: { apikey: KEY, extra: 1 }, at: expect.any(Number) }])
  })

  it("names endpoint, status and OpenAlgo's message for each error status, without retrying a definite answer", async () => {
    const cases: Array<[number, string | object, string]> = [
      [400, { status: "error", message: { symbol: ["Missing data for required field."] } }, "/funds: HTTP 400: symbol: Missing data for required field."],
      [403, { status: "error", message: "Invalid openalgo apikey" }, "/funds: HTTP 403: Invalid openalgo apikey"],
      [403, "Access Denied: Your IP has been banned", "/funds: HTTP 403: Access Denied: Your IP has been banned"],
      [404, { status: "error", message: "Not found", path: "/api/v1/funds" }, "/funds: HTTP 404: Not found: path /api/v1/funds"],
      [200, { status: "error", message: "broker said no" }, "/funds: HTTP 200: broker said no"]
    ]
    for (const [status, body, message] of cases) {
      const client = await clientFor(() => ({ status, body, contentType: typeof body === "string" ? "text/plain" : "application/json" }))
      const error = await failureOf(client.read("/funds", {}, Funds))
      expect(error).toMatchObject({ _tag: "OpenAlgoError", endpoint: "/funds", kind: "answered", status, message })
      expect(server!.requests).toHaveLength(1)
      await server!.close()
      server = undefined
    }
  })

  it("retries a read after 429 and 5xx with backoff, and gives up after a bounded number", async () => {
    const client = await clientFor((_, __, i) =>
      i === 0 ? { status: 429, body: { message: "50 per 1 second" } } : i === 1 ? { status: 500, body: { status: "error", message: "boom" } } : { status: 200, body: { data: { utiliseddebits: 3 } } }
    )
    expect(await Effect.runPromise(client.read("/funds", {}, Funds))).toEqual({ data: { utiliseddebits: 3 } })
    expect(server!.requests).toHaveLength(3)
    expect(server!.requests[2]!.at - server!.requests[1]!.at).toBeGreaterThanOrEqual(15) // 10 ms, then 20 ms

    await server!.close()
    const failing = await clientFor(() => ({ status: 503, body: { status: "error", message: "Failed to fetch funds" } }))
    const error = await failureOf(failing.read("/funds", {}, Funds))
    expect(error.message).toBe("/funds: HTTP 503: Failed to fetch funds")
    expect(server!.requests).toHaveLength(3) // one try and two retries
  })

  it("says a 429 was a rate limit", async () => {
    const client = await clientFor(() => ({ status: 429, body: { message: "10 per 1 second" } }))
    const error = await failureOf(client.send("/placeorder", {}, Funds))
    expect(error.message).toBe("/placeorder: HTTP 429: rate limited: 10 per 1 second")
  })

  it("never retries an order send, whatever the failure", async () => {
    const replies: Array<ScriptedReply> = [
      { status: 429, body: { message: "10 per 1 second" } },
      { status: 500, body: { status: "error", message: "Failed to place order due to internal error" } },
      { status: 200, body: {}, delayMs: 1000 },
      "hangUp"
    ]
    for (const reply of replies) {
      const client = await clientFor(() => reply)
      const error = await failureOf(client.send("/placeorder", { symbol: "X" }, Schema.Struct({ orderid: Schema.String })))
      expect(server!.requests, JSON.stringify(reply)).toHaveLength(1)
      expect(error.endpoint).toBe("/placeorder")
      await server!.close()
      server = undefined
    }
  })

  it("times a call out, and reports no answer apart from an answer", async () => {
    // The answer comes long after the test's own timeout: only the client's 300 ms can end the call.
    const slow = await clientFor(() => ({ status: 200, body: { orderid: "1" }, delayMs: 120_000 }))
    const timedOut = await failureOf(slow.send("/placeorder", {}, Schema.Struct({ orderid: Schema.String })))
    expect(timedOut).toMatchObject({ kind: "timeout", status: null, message: "/placeorder: no answer within 300 ms" })
    await server!.close()

    const hangUp = await clientFor(() => "hangUp")
    const broken = await failureOf(hangUp.read("/funds", {}, Funds))
    expect(broken).toMatchObject({ kind: "transport", status: null })
    expect(broken.message).toMatch(/^\/funds: no answer: TransportError: /)
    expect(server!.requests).toHaveLength(3) // a read with no answer is asked again
  })

  it("reports a reply that is not JSON, or not as documented, naming the field", async () => {
    const html = await clientFor(() => ({ status: 200, body: "<html>proxy</html>", contentType: "text/html" }))
    expect((await failureOf(html.read("/funds", {}, Funds))).message).toBe("/funds: HTTP 200: reply is not JSON: <html>proxy</html>")
    await server!.close()
    const odd = await clientFor(() => ({ status: 200, body: { status: "success", data: { utiliseddebits: null } } }))
    const error = await failureOf(odd.read("/funds", {}, Funds))
    expect(error).toMatchObject({ kind: "badReply", status: 200 })
    expect(error.message).toMatch(/^\/funds: HTTP 200: unexpected reply: data\.utiliseddebits = null: /)
    expect(server!.requests).toHaveLength(1)
  })
})

describe("the API key", () => {
  it("never appears in an error, its message, its string form or its JSON, whatever the failure", async () => {
    const replies: Array<ScriptedReply> = [
      { status: 400, body: { status: "error", message: `{'apikey': ['${KEY} is not valid']}` } },
      { status: 403, body: { status: "error", message: `Invalid openalgo apikey ${KEY}` } },
      { status: 404, body: { status: "error", message: "Order 1 not found" } },
      { status: 429, body: { message: KEY } },
      { status: 500, body: `Traceback: apikey=${KEY}`, contentType: "text/plain" },
      { status: 501, body: { status: "error", message: "Not implemented" } },
      { status: 200, body: { status: "success", data: { utiliseddebits: KEY } } },
      { status: 200, body: `not json ${KEY}`, contentType: "text/plain" },
      { status: 200, body: {}, delayMs: 1000 },
      "hangUp"
    ]
    const seen: Array<string> = []
    for (const reply of replies) {
      const client = await clientFor(() => reply)
      for (const call of [client.read("/funds", {}, Funds), client.send("/placeorder", {}, Funds)]) {
        const exit = await Effect.runPromiseExit(call)
        if (!Exit.isFailure(exit)) throw new Error("the call should have failed")
        const error = Cause.squash(exit.cause)
        seen.push((error as Error).message, String(error), JSON.stringify(error), String(exit), JSON.stringify(exit), Cause.pretty(exit.cause))
      }
      await server!.close()
      server = undefined
    }
    // Refused connection: nothing listens any more.
    const gone = await startScriptedServer(() => "hangUp")
    await gone.close()
    const closed = await Effect.runPromise(openAlgoClient(config(gone.url)))
    const refused = await failureOf(closed.send("/placeorder", {}, Funds))
    seen.push(refused.message, String(refused), JSON.stringify(refused))
    expect(refused.kind).toBe("transport")

    expect(seen.length).toBeGreaterThan(100)
    for (const text of seen) expect(text).not.toContain(KEY)
    expect(seen.some((t) => t.includes("<redacted>"))).toBe(true)
    expect(String(openAlgoSettings(config("x")).apiKey)).toBe("<redacted>")
    expect(JSON.stringify(openAlgoSettings(config("x")))).not.toContain(KEY)
  })
})
