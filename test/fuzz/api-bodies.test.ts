// Fuzzing the operator API's bodies: every endpoint that takes one, sent valid bodies with a field
// spoiled, any JSON, absurd numbers, deep nesting, large bodies, not JSON at all, under allowed and
// foreign Host headers, with the token. Never a 5xx; every refusal is `{ error, field? }` in one line
// naming its field, with no stack trace. (test/http/robustness.test.ts fuzzes whole requests against a
// replayed day.)
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OperatorCommands } from "../../src/commands/operator.ts"
import { ScheduleStore } from "../../src/commands/schedule-store.ts"
import { SessionPlans } from "../../src/commands/session-plans.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { DayView } from "../../src/views/day-view.ts"
import { type OperatorServer, startOperatorServer } from "../../src/http/server.ts"
import { sendRaw } from "../http/client.ts"
import { fuzzParameters, fuzzTimeout, isOperatorMessage } from "./runs.ts"

const TOKEN = "fuzz-test-token-0123456789"
const scheduleText = await readFile("config/schedule.json", "utf8")
const schedule = JSON.parse(scheduleText) as Record<string, unknown>

let server: OperatorServer
let dir = ""
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fuzz-api-"))
  const view = new DayView({ now: () => 0, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
  const store = new ScheduleStore(join(dir, "schedule.json"), parseSchedule(scheduleText, "x"))
  const plans = new SessionPlans()
  const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule: store, plans, today: () => "2026-02-10" })
  server = await startOperatorServer({ view, commands, schedule: store, plans, now: () => 0, log: () => undefined, port: 0, token: TOKEN, host: "127.0.0.1" })
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const ENDPOINTS = [
  { method: "POST", path: "/api/hedge/toggle", valid: { enabled: false, reason: "r" } },
  { method: "POST", path: "/api/hedge/manual/buy", valid: { strike: 24000, optionType: "PE", lots: 1, limitPrice: 2.5 } },
  { method: "POST", path: "/api/hedge/manual/exit", valid: { hedgeId: "hedge-1" } },
  { method: "POST", path: "/api/hedge/session", valid: { date: "2026-02-11", baskets: 10, budgetPerBasket: 1_000_000, autoHedgeEnabled: true } },
  { method: "PUT", path: "/api/hedge/schedule", valid: schedule }
] as const

const absurd = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(0, -1, 1e-300, 1e308, -1e308, 30_000_000, 2 ** 53, 0.000001, "", "2026-02-30", "9999-12-31", null, [], {}, true),
  fc.double(),
  fc.string({ maxLength: 30 })
)
const spoil = (valid: Record<string, unknown>) =>
  fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(valid)), fc.string({ maxLength: 10 })), fc.option(absurd, { nil: undefined })).map(([key, value]) => {
    const body: Record<string, unknown> = { ...valid }
    if (value === undefined) delete body[key]
    else body[key] = value
    return JSON.stringify(body)
  })
const deep = fc.tuple(fc.integer({ min: 30, max: 50_000 }), fc.boolean()).map(([depth, array]) =>
  array ? "[".repeat(depth) + "]".repeat(depth) : `{"enabled":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`
)
const bodyFor = (valid: Record<string, unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: spoil(valid) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(valid)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 400 }).map((kib) => JSON.stringify({ ...valid, pad: "x".repeat(kib * 1024) })) }
  )
const request = fc.constantFrom(...ENDPOINTS).chain((e) =>
  fc.record({
    endpoint: fc.constant(e),
    body: bodyFor(e.valid as Record<string, unknown>),
    chunked: fc.boolean(),
    host: fc.option(fc.constantFrom("evil.example", "localhost", "127.0.0.1.nip.io", "[::1]"), { freq: 5, nil: undefined })
  })
)

describe("fuzzing API bodies", () => {
  it("never a 5xx; every refusal names its field in one line", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = r.host === undefined ? {} : { host: r.host }
        const answer = await sendRaw(TOKEN, server.url, { method: r.endpoint.method, path: r.endpoint.path, body: r.body, chunked: r.chunked, headers })
        const what = `${r.endpoint.method} ${r.endpoint.path} host=${r.host} ${r.body.slice(0, 120)} -> ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`
        expect(answer.status, what).toBeLessThan(500)
        if (answer.status < 400) return
        expect(Object.keys(answer.body).every((k) => k === "error" || k === "field"), what).toBe(true)
        expect(isOperatorMessage(answer.body.error ?? ""), what).toBe(true)
        if (answer.status === 400) expect(answer.body.field, what).toBeDefined()
        if (answer.body.field !== undefined) expect(answer.body.error!.toLowerCase(), what).toContain(answer.body.field.toLowerCase())
      }),
      fuzzParameters(150)
    )
  }, fuzzTimeout(60_000))
})
