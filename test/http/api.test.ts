// Every endpoint of the operator API over real HTTP (loopback, any free port), against a day the
// simulator replayed: the answers decode with the API's own schemas and say what the same day replayed
// on its own says (whatever the engine decided), the OpenAPI document lists every endpoint, changes need
// the token, and refusals name what is wrong.
import { readFile } from "node:fs/promises"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OperatorCommands } from "../../src/commands/operator.ts"
import { ScheduleStore } from "../../src/commands/schedule-store.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { readRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay, type ReplayResult } from "../../simulations/replay.ts"
import { replayOptionsFor, truthModelOf } from "../../simulations/simulate.ts"
import { DayView } from "../../src/views/day-view.ts"
import { Actors, Analytics, Sessions, Status, Transactions, Transitions, Utilisation } from "../../src/http/schemas.ts"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { startOperatorServer } from "../../src/http/server.ts"
import { bearer, call, expectError, postJson } from "./client.ts"

const DAY = "simulations/days/2026-02-10-NIFTY.jsonl"
const TOKEN = "api-test-token-0123456789"
const scheduleText = await readFile("config/schedule.json", "utf8")

let server: SimulationServer
/** The same day replayed on its own, as the simulator replays it: what the API must tell. */
let alone: ReplayResult
const get = (path: string, headers: Record<string, string> = {}) => call(server.url, path, { headers })
const round2 = (x: number) => Math.round(x * 100) / 100

/** The hedge fills of a trail: a hedge's move to `open` from ordering is a buy, to `sold` a sale. */
const fillsOf = (rows: ReadonlyArray<TransitionRow>) =>
  rows
    .filter((r) => r.kind === "hedge" && ((r.to === "open" && r.from.startsWith("ordering")) || r.to === "sold"))
    .map((r) => ({ kind: r.to === "open" ? "buy" : "sell", hedgeId: r.actorId, at: r.at, ...((r.payload as { output: { filledQuantity: number; averagePrice: number } }).output) }))
    .filter((f) => f.filledQuantity > 0)

beforeAll(async () => {
  server = await serveSimulation({ file: DAY, speed: "max", port: 0, token: TOKEN })
  const day = await Effect.runPromise(readRecordedDay(DAY))
  alone = await replayDay(day, { ...replayOptionsFor(policyPlan("engine", defaultConfig), defaultConfig, truthModelOf("span", defaultConfig)), file: DAY })
  await server.done
})
afterAll(() => server?.close())

const MUTATIONS = [
  { method: "POST", path: "api/hedge/toggle", body: { enabled: false } },
  { method: "POST", path: "api/hedge/manual/buy", body: { strike: 24000, optionType: "PE", lots: 1 } },
  { method: "POST", path: "api/hedge/manual/exit", body: { hedgeId: "hedge-1" } },
  { method: "POST", path: "api/hedge/now", body: {} },
  { method: "PUT", path: "api/hedge/schedule", body: parseSchedule(scheduleText, "schedule") },
  { method: "POST", path: "api/hedge/session", body: { date: "2026-02-11", baskets: 10 } }
] as const

describe("reads", () => {
  it("status: the day at a glance", async () => {
    const reply = await get("api/hedge/status")
    expect(reply.status).toBe(200)
    const status = Schema.decodeUnknownSync(Status)(reply.json)
    expect(status.session).toEqual({ id: "sim-2026-02-10-NIFTY-2026-02-10-NIFTY", date: "2026-02-10", index: "NIFTY", expiry: "2026-02-10", mode: "simulation", policy: "engine" })
    expect(status).toMatchObject({ enabled: true, state: "closed", nextEntry: null, activeHedges: [], cooldownRemainingSeconds: 0 })
    expect(status.now).toBe("2026-02-10T15:35:00.000+05:30")
    expect(status.utilisation).toMatchObject({ budget: 15_000_000, triggerPct: 95, targetPct: 85, exitTriggerPct: 70 })
    expect(status.spend).toEqual({ today: alone.report.grossSpend, cap: 50_000, left: round2(50_000 - alone.report.grossSpend) })
  })

  it("actors: the session, every entry and every hedge, finished ones too, with what each holds", async () => {
    const { actors } = Schema.decodeUnknownSync(Actors)((await get("api/inspector/actors")).json)
    const byKind = (kind: string) => actors.filter((a) => a.kind === kind)
    expect(byKind("session")).toHaveLength(1)
    expect(byKind("entry")).toHaveLength(10)
    expect(byKind("hedge").map((a) => a.id).sort()).toEqual(alone.report.hedges.map((h) => h.id).sort())
    const session = actors.find((a) => a.id === "session")!
    expect(session).toMatchObject({ parent: null, state: "closed", since: "2026-02-10T15:35:00.000+05:30" })
    expect(session.summary).toMatchObject({ date: "2026-02-10", policy: "engine", enabled: true, grossSpend: alone.report.grossSpend, hedges: alone.report.hedges.length })
    // Each actor's state is the last its rows reached.
    for (const a of actors) expect(a.state, a.id).toBe(alone.rows.filter((r) => r.actorId === a.id).at(-1)!.to)
    for (const h of alone.report.hedges) {
      const hedge = actors.find((a) => a.id === h.id)!
      expect(hedge.parent).toBe("session")
      expect(hedge.summary).toMatchObject({ symbol: h.symbol, strike: h.strike, optionType: h.optionType, trigger: h.trigger, status: h.status, forEntry: h.forEntry, manual: false })
    }
    const entry = actors.find((a) => a.id === "entry:ITJ_NF_EXP 4")!
    expect(entry.summary).toMatchObject({ portfolio: "ITJ_NF_EXP 4", entryAt: "10:16:30", hedges: alone.report.hedges.filter((h) => h.forEntry === entry.id).map((h) => h.id).join(", ") })
    // The day needs hedges at that entry (it breaches without): its first projection says so; its
    // summary holds the latest (after a re-check, with the hedges bought).
    const projections = alone.rows.filter((r) => r.actorId === entry.id && r.event === "xstate.done.actor.projectEntry").map((r) => (r.payload as { output: { projectedPct: number } }).output.projectedPct)
    expect(projections[0]).toBeGreaterThan(95)
    expect(entry.summary.projectedPct).toBe(projections.at(-1))
  })

  it("transitions: in seq order, paged by after and limit, by actor", async () => {
    const all: Array<{ seq: number; actorId: string }> = []
    for (let after = 0; ; ) {
      const { rows } = Schema.decodeUnknownSync(Transitions)((await get(`api/inspector/transitions?after=${after}&limit=200`)).json)
      if (rows.length === 0) break
      all.push(...rows)
      after = rows.at(-1)!.seq
    }
    expect(all.length).toBeGreaterThan(300)
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1))
    // The rows are the day's, as the day replayed on its own records them.
    expect(all).toEqual(JSON.parse(JSON.stringify(alone.rows)))
    const { rows: entryRows } = Schema.decodeUnknownSync(Transitions)((await get(`api/inspector/transitions?actor=${encodeURIComponent("entry:ITJ_NF_EXP 4")}`)).json)
    expect(entryRows.map((r) => r.seq)).toEqual(alone.rows.filter((r) => r.actorId === "entry:ITJ_NF_EXP 4").map((r) => r.seq))
  })

  it("utilisation: a point per instant, the thresholds, the trades as markers", async () => {
    const u = Schema.decodeUnknownSync(Utilisation)((await get("api/inspector/utilisation")).json)
    expect(u).toMatchObject({ budget: 15_000_000, triggerPct: 95, targetPct: 85, exitTriggerPct: 70 })
    expect(u.points.length).toBeGreaterThan(370)
    expect(u.points.map((p) => p.at)).toEqual([...u.points.map((p) => p.at)].sort((a, b) => a - b))
    expect(Math.max(...u.points.map((p) => p.pct))).toBeCloseTo(alone.report.peakUtilization, 0)
    expect(u.markers.map((m) => [m.at, m.kind, m.hedgeId])).toEqual(fillsOf(alone.rows).map((f) => [f.at, f.kind, f.hedgeId]))
    for (const [i, m] of u.markers.entries()) {
      const f = fillsOf(alone.rows)[i]!
      const symbol = alone.report.hedges.find((h) => h.id === f.hedgeId)!.symbol
      expect(m.label).toBe(`${f.kind === "buy" ? "bought" : "sold"} ${f.filledQuantity} ${symbol} @ ${f.averagePrice} (${f.hedgeId})`)
    }
  })

  it("transactions of the day; another date is not known here; a bad date is named", async () => {
    const t = Schema.decodeUnknownSync(Transactions)((await get("api/hedge/transactions?date=2026-02-10")).json)
    expect(t.source).toBe("live")
    expect(t.transactions.map((x) => [x.action, x.hedgeId, x.quantity, x.price])).toEqual(fillsOf(alone.rows).map((f) => [f.kind.toUpperCase(), f.hedgeId, f.filledQuantity, f.averagePrice]))
    const bought = t.transactions.filter((x) => x.action === "BUY").reduce((sum, x) => sum + x.total, 0)
    expect(round2(bought)).toBe(alone.report.grossSpend)
    expect(Schema.decodeUnknownSync(Transactions)((await get("api/hedge/transactions")).json).date).toBe("2026-02-10")
    expect(expectError(await get("api/hedge/transactions?date=2026-02-09"), 404, "date").error).toBe("date: no session on 2026-02-09 (this server knows only the day it replays)")
    expect(expectError(await get("api/hedge/transactions?date=10-02-2026"), 400, "date").error).toBe('date: expected a date "YYYY-MM-DD", got "10-02-2026"')
  })

  it("analytics, schedule and session", async () => {
    const a = Schema.decodeUnknownSync(Analytics)((await get("api/hedge/analytics?days=7")).json)
    expect(a.days).toBe(7)
    const hedgesBought = alone.report.hedges.filter((h) => h.boughtAt !== null).length
    expect(a.rows).toEqual([
      expect.objectContaining({ sessionDate: "2026-02-10", dayOfWeek: "Tuesday", index: "NIFTY", mode: "simulation", hedgeCount: hedgesBought, totalCost: alone.report.grossSpend, netCost: alone.report.netSpend })
    ])
    expect(expectError(await get("api/hedge/analytics?days=0"), 400, "days").error).toBe('days: expected a value between 1 and 3650, got "0"')
    expect((await get("api/hedge/schedule")).json).toEqual(parseSchedule(scheduleText, "x"))
    const s = Schema.decodeUnknownSync(Sessions)((await get("api/hedge/session")).json)
    expect(s.current).toMatchObject({ date: "2026-02-10", baskets: 15, budgetPerBasket: 1_000_000, totalBudget: 15_000_000, expiryType: "0DTE", state: "closed" })
    expect(s.planned).toEqual([])
  })

  it("the page at /, its assets and uPlot under /assets/; nothing outside the page's folder", async () => {
    const page = await get("")
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.text).toContain("assets/app.js")
    const uplot = await get("assets/uplot.js")
    expect(uplot.headers.get("content-type")).toContain("javascript")
    expect(uplot.text).toContain("uPlot")
    expect((await get("assets/uplot.css")).headers.get("content-type")).toContain("text/css")
    expect((await get("assets/app.js")).status).toBe(200)
    expectError(await get("assets/no-such-file.js"), 404)
    expectError(await get("assets/%2E%2E%2F%2E%2E%2Fpackage.json"), 404)
    expectError(await get("nothing/here"), 404)
  })
})

describe("the OpenAPI document", () => {
  it("lists every endpoint, with its schemas, the error shape and who may call it", async () => {
    const doc = (await get("openapi.json")).json as {
      paths: Record<string, Record<string, { security?: ReadonlyArray<Record<string, unknown>>; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: ReadonlyArray<string> }> }
    }
    const endpoints = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)).sort()
    expect(endpoints).toEqual(
      [
        "GET /api/hedge/status",
        "GET /api/hedge/day",
        "POST /api/hedge/toggle",
        "POST /api/hedge/manual/buy",
        "POST /api/hedge/manual/exit",
        "POST /api/hedge/now",
        "GET /api/hedge/transactions",
        "GET /api/hedge/schedule",
        "PUT /api/hedge/schedule",
        "GET /api/hedge/analytics",
        "GET /api/hedge/history",
        "GET /api/hedge/history/day",
        "GET /api/hedge/manual/strikes",
        "GET /api/hedge/manual/preview",
        "GET /api/hedge/session",
        "POST /api/hedge/session",
        "GET /api/inspector/actors",
        "GET /api/inspector/transitions",
        "GET /api/inspector/utilisation",
        "GET /api/inspector/stream",
        "GET /api/risk"
      ].sort()
    )
    for (const m of MUTATIONS) {
      const op = doc.paths[`/${m.path}`]![m.method.toLowerCase()]!
      expect(op.security, `${m.method} ${m.path}`).toEqual([{ bearer: [] }])
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "403"]))
    }
    expect(Object.keys(doc.paths["/api/inspector/stream"]!.get!.responses["200"]!.content!)).toEqual(["text/event-stream"])
    const badRequest = doc.components.schemas.BadRequestEncoded ?? doc.components.schemas.BadRequest
    expect(Object.keys(badRequest!.properties!).sort()).toEqual(["error", "field"])
    expect(badRequest!.required).toEqual(["error"])
  })
})

describe("changes", () => {
  it("need the bearer token: none, a wrong one or another scheme is 401, naming the header", async () => {
    for (const m of MUTATIONS) {
      for (const headers of [{}, bearer("wrong-token-wrong-token"), { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` }, { authorization: TOKEN }]) {
        const e = expectError(await postJson(server.url, m.path, m.body, headers, m.method), 401, "authorization")
        expect(e.error).toMatch(/bearer token/)
      }
    }
  })

  it("a server without a token takes no changes (403); one off loopback without a token does not start", async () => {
    const view = new DayView({ now: () => 0, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
    const schedule = new ScheduleStore("/nonexistent/schedule.json", parseSchedule(scheduleText, "x"))
    const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule, today: () => "2026-02-10" })
    const base = { view, commands, schedule, now: () => 0, log: () => undefined, port: 0, token: null }
    const tokenless = await startOperatorServer({ ...base, host: "127.0.0.1" })
    try {
      for (const m of MUTATIONS) {
        const e = expectError(await postJson(tokenless.url, m.path, m.body, bearer(TOKEN), m.method), 403)
        expect(e.error).toBe("this server has no API token (AUTOHEDGE_API_TOKEN is unset): it takes no changes")
      }
      // Reads stay open on loopback, and say there is no day.
      expect(Schema.decodeUnknownSync(Status)((await call(tokenless.url, "api/hedge/status")).json)).toMatchObject({ session: null, state: "no session" })
    } finally {
      await tokenless.close()
    }
    await expect(startOperatorServer({ ...base, host: "0.0.0.0" })).rejects.toThrow("0.0.0.0:0: a non-loopback address needs AUTOHEDGE_API_TOKEN")
  })

  it("off loopback, reads need the token too (header, or ?token= for a stream)", async () => {
    const view = new DayView({ now: () => 0, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
    const schedule = new ScheduleStore("/nonexistent/schedule.json", parseSchedule(scheduleText, "x"))
    const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule, today: () => "2026-02-10" })
    const open = await startOperatorServer({ view, commands, schedule, now: () => 0, log: () => undefined, port: 0, token: TOKEN, host: "0.0.0.0" })
    try {
      const port = new URL(open.url).port
      const base = `http://127.0.0.1:${port}/`
      expectError(await call(base, "api/hedge/status"), 401, "authorization")
      expect((await call(base, "api/hedge/status", { headers: bearer(TOKEN) })).status).toBe(200)
      expect((await call(base, "api/inspector/utilisation", { headers: bearer(TOKEN) })).status).toBe(200)
      expectError(await call(base, "api/inspector/utilisation", { headers: bearer("nope-nope-nope-nope") }), 401, "authorization")
    } finally {
      await open.close()
    }
  })

  it("with the token, refusals name the field: the day has closed, the schedule is checked, sessions come from the day file", async () => {
    const auth = bearer(TOKEN)
    expect(expectError(await postJson(server.url, "api/hedge/toggle", { enabled: false }, auth), 409).error).toBe("the session of 2026-02-10 has closed: nothing more is decided today")
    expectError(await postJson(server.url, "api/hedge/manual/exit", { hedgeId: "hedge-1" }, auth), 409)
    expect(expectError(await postJson(server.url, "api/hedge/now", {}, auth), 409).error).toBe("the session of 2026-02-10 has closed: nothing more is decided today")
    const monday = parseSchedule(scheduleText, "x").days.Monday!
    const bad = { version: 1, days: { Monday: { ...monday, entries: [{ ...monday.entries[0]!, exitTime: "09:00:00" }] } } }
    expect(expectError(await postJson(server.url, "api/hedge/schedule", bad, auth, "PUT"), 400, "days.Monday.entries[0].exitTime").error).toBe(
      "days.Monday.entries[0].exitTime: must be after entryTime (09:19:00), got \"09:00:00\""
    )
    expectError(await postJson(server.url, "api/hedge/schedule", { version: 1, days: { Sunday: monday } }, auth, "PUT"), 400, "days.Sunday")
    const good = { version: 1, days: { Monday: monday } }
    const saved = await postJson(server.url, "api/hedge/schedule", good, auth, "PUT")
    expect(saved.status).toBe(200)
    expect(saved.json).toEqual({ accepted: true, message: expect.stringMatching(/^schedule saved to .*schedule\.json; it applies from the next day set up$/) })
    expect((await get("api/hedge/schedule")).json).toEqual(good)
    expect(expectError(await postJson(server.url, "api/hedge/session", { date: "2026-02-11", baskets: 10 }, auth), 409).error).toMatch(/replays a recorded day/)
  })
})

describe("status when the engine cannot be trusted", () => {
  it("a halted engine says halted and why, and the watchdog's problems show, never 'enabled … watching'", async () => {
    const view = new DayView({ now: () => 0, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
    const day = await Effect.runPromise(readRecordedDay(DAY))
    const problem = { kind: "broker" as const, seconds: 120, limitSeconds: 90, message: "no answer from the broker for 120 s (limit 90 s)" }
    const health = () => ({ ok: false, problems: [problem], lagSeconds: 3, behind: null, lastWriteAt: null, lastQuoteAt: 0, lastBrokerAt: null })
    const broken = await replayDay(day, {
      ...replayOptionsFor(policyPlan("engine", defaultConfig), defaultConfig, truthModelOf("span", defaultConfig)),
      auditFailsAfterBatches: 10,
      onEngine: (engine, setup, services) => view.attach({ engine, setup, services, mode: "simulation", sessionId: "halted", health })
    })
    expect(broken.failure).not.toBeNull()
    const status = Schema.decodeUnknownSync(Status)(await view.status())
    expect(status.state).toBe("halted")
    expect(status.enabled).toBe(false)
    expect(status.health).toMatchObject({ ok: false, halted: expect.stringMatching(/^audit write failed: /), problems: [problem], lagSeconds: 3, lastQuoteAt: "1970-01-01T05:30:00.000+05:30" })
  })
})
