// Random and malformed requests at every endpoint (bodies, query strings, headers, methods, paths):
// the server never answers 5xx, and every 4xx is JSON `{ error, field? }` whose message names the
// field it is about, with no stack trace.
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"

const DAY = "simulations/days/2026-02-09-NIFTY.jsonl"
const TOKEN = "robust-test-token-0123456789"

let server: SimulationServer
beforeAll(async () => {
  server = await serveSimulation({ file: DAY, speed: "max", port: 0, token: TOKEN })
  await server.done
})
afterAll(() => server?.close())

const ENDPOINTS = [
  ["GET", "/api/hedge/status"],
  ["POST", "/api/hedge/toggle"],
  ["POST", "/api/hedge/manual/buy"],
  ["POST", "/api/hedge/manual/exit"],
  ["GET", "/api/hedge/transactions"],
  ["GET", "/api/hedge/schedule"],
  ["PUT", "/api/hedge/schedule"],
  ["GET", "/api/hedge/analytics"],
  ["GET", "/api/hedge/history"],
  ["GET", "/api/hedge/history/day"],
  ["GET", "/api/hedge/manual/strikes"],
  ["GET", "/api/hedge/manual/preview"],
  ["GET", "/api/hedge/session"],
  ["POST", "/api/hedge/session"],
  ["GET", "/api/inspector/actors"],
  ["GET", "/api/inspector/transitions"],
  ["GET", "/api/inspector/utilisation"],
  ["GET", "/api/inspector/stream"],
  ["GET", "/api/risk"],
  ["GET", "/openapi.json"],
  ["GET", "/"],
  ["GET", "/assets/app.js"]
] as const

/** Bodies an endpoint might be sent: right ones with a field spoiled, random JSON, not JSON at all. */
const validBodies: ReadonlyArray<Record<string, unknown>> = [
  { enabled: false, reason: "r" },
  { strike: 24000, optionType: "PE", lots: 1, limitPrice: 2.5 },
  { hedgeId: "hedge-1" },
  { date: "2026-02-11", baskets: 10, budgetPerBasket: 1_000_000, autoHedgeEnabled: true },
  { version: 1, days: { Monday: { index: "NIFTY", expiryType: "1DTE", entries: [{ portfolio: "P", entryTime: "09:20:00", exitTime: null, legs: [{ side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 }] }] } } }
]
const spoiled = fc
  .tuple(fc.constantFrom(...validBodies), fc.string({ maxLength: 12 }), fc.oneof(fc.jsonValue(), fc.constant(undefined)))
  .map(([body, key, value]) => {
    const keys = Object.keys(body)
    const target = keys.includes(key) || key === "" ? (keys[key.length % keys.length] ?? key) : key
    return JSON.stringify({ ...body, [target]: value })
  })
const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength })
const body = fc.oneof(
  spoiled,
  fc.constantFrom(...validBodies).map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc.constantFrom("", "{", "[", "null", '{"enabled":', '{"a":1}}', "\u0000", "\uFEFF{}", "[".repeat(500), `{"x":"${"y".repeat(5000)}"}`)
)
const queryValue = fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom("2026-02-09", "2026-13-45", "0", "-1", "1e3", "NaN", "5001", "hedge-1", "session", "CE", "PE", "25000", "0.05"))
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom("date", "days", "actor", "after", "limit", "lastEventId", "token", "strike", "optionType", "lots", "limitPrice"), fc.string({ maxLength: 8 })), queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`))
const contentType = fc.oneof(
  fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"),
  printable(30)
)
const authorization = fc.oneof(fc.constant(`Bearer ${TOKEN}`), fc.constant("Bearer "), printable(40).map((s) => `Bearer ${s}`), printable(40).map((s) => `Basic ${s}`), printable(40))
const headers = fc.record(
  { "content-type": contentType, authorization, "last-event-id": fc.oneof(printable(20), fc.nat().map(String)), accept: fc.constantFrom("application/json", "text/event-stream", "*/*", "text/html") },
  { requiredKeys: [] }
)
const request = fc.record({
  endpoint: fc.constantFrom(...ENDPOINTS),
  method: fc.option(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), { freq: 4, nil: undefined }),
  path: fc.option(fc.oneof(printable(20).map((s) => `/api/${encodeURIComponent(s)}`), fc.constantFrom("/api/hedge", "/assets/", "/assets/%E0%A4%A", "/assets/..%2f..%2fpackage.json", "/api/hedge/status/extra")), { freq: 8, nil: undefined }),
  query,
  body,
  headers
})

describe("random and malformed requests", () => {
  it("never answer 5xx; every 4xx is { error, field? } naming the field, without a stack trace", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const method = r.method ?? r.endpoint[0]
        const url = new URL(`${(r.path ?? r.endpoint[1]).slice(1)}${r.query}`, server.url)
        const controller = new AbortController()
        const response = await fetch(url, { method, headers: r.headers, signal: controller.signal, ...(method === "GET" ? {} : { body: r.body }) })
        const what = `${method} ${url.pathname}${url.search} ${JSON.stringify(r.headers)} ${r.body.slice(0, 200)}`
        expect(response.status, what).toBeLessThan(500)
        // A stream that opened is the stream, not an answer to read to its end.
        if (response.headers.get("content-type")?.includes("text/event-stream") === true) {
          expect(response.status).toBe(200)
          controller.abort()
          return
        }
        const text = await response.text()
        expect(text, what).not.toMatch(/\n\s+at /)
        if (response.status < 400) return
        expect(response.headers.get("content-type"), what).toContain("application/json")
        const error = JSON.parse(text) as { error?: unknown; field?: unknown }
        expect(Object.keys(error).every((k) => k === "error" || k === "field"), `${what} -> ${text}`).toBe(true)
        expect(typeof error.error, `${what} -> ${text}`).toBe("string")
        expect((error.error as string).trim().length, `${what} -> ${text}`).toBeGreaterThan(0)
        if (error.field !== undefined) {
          expect(typeof error.field).toBe("string")
          expect((error.error as string).toLowerCase(), `${what} -> ${text}`).toContain((error.field as string).toLowerCase())
        }
        if (response.status === 400 && url.pathname.startsWith("/api/")) expect(error.field, `${what} -> ${text}`).toBeDefined()
      }),
      { numRuns: 1000 }
    )
  }, 120_000)
})
