// The inspector's Server-Sent Events while a day replays: every transition, in seq order, as it is
// recorded, with a utilisation sample at every instant; a client that reconnects with Last-Event-ID
// (header, or ?lastEventId= as EventSource reconnects cannot set one) carries on with no gap and no
// duplicate; many clients at once each get everything.
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Transitions } from "../../src/http/schemas.ts"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { call, expectError, readSse, type SseEvent } from "./client.ts"

const DAY = "simulations/days/2026-02-10-NIFTY.jsonl"
/** The day in about 8 s: long enough to join it live. */
const SPEED = 3000

let server: SimulationServer
const stream = (query = "") => new URL(`api/inspector/stream${query}`, server.url).toString()

interface Row {
  readonly seq: number
  readonly actorId: string
  readonly to: string
  readonly event: string
}
const transitions = (events: ReadonlyArray<SseEvent>) => events.filter((e) => e.event === "transition")
const rowsOf = (events: ReadonlyArray<SseEvent>): ReadonlyArray<Row> =>
  transitions(events).map((e) => {
    const row = JSON.parse(e.data) as Row
    expect(e.id).toBe(String(row.seq))
    return row
  })
const dayClosed = (latest: SseEvent) => latest.event === "transition" && (JSON.parse(latest.data) as Row).actorId === "session" && (JSON.parse(latest.data) as Row).to === "closed"
/** Stop after `n` transitions. */
const count = (n: number) => (_: SseEvent, events: ReadonlyArray<SseEvent>) => events.filter((e) => e.event === "transition").length >= n

beforeAll(async () => {
  server = await serveSimulation({ file: DAY, speed: SPEED, port: 0, token: "stream-test-token-0123456789" })
})
afterAll(() => server?.close())

describe("the inspector stream", () => {
  it("delivers every transition in seq order while the day replays, resumes from Last-Event-ID without gap or duplicate, and serves many clients", async () => {
    // One client from the day's start to its end; meanwhile another stops after 60 transitions and
    // comes back with the last id it saw (once as a header, once as EventSource's query form).
    const whole = readSse(stream("?lastEventId=0"), dayClosed)
    const crowd = Array.from({ length: 20 }, () => readSse(stream("?lastEventId=0"), dayClosed))
    const first = await readSse(stream("?lastEventId=0"), count(60))
    const firstRows = rowsOf(first)
    const lastSeen = firstRows.at(-1)!.seq
    const resumed = await readSse(stream(), count(40), { headers: { "last-event-id": String(lastSeen) } })
    const resumedRows = rowsOf(resumed)
    const lastResumed = resumedRows.at(-1)!.seq
    const rest = await readSse(stream(`?lastEventId=${lastResumed}`), dayClosed)

    const all = rowsOf(await whole)
    expect(all.length).toBeGreaterThan(300)
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1))
    expect((await whole).filter((e) => e.event === "utilisation").length).toBeGreaterThan(300)
    for (const e of (await whole).filter((x) => x.event === "utilisation")) {
      expect(e.id).toBeUndefined()
      expect(Object.keys(JSON.parse(e.data)).sort()).toEqual(["at", "pct", "spot"])
    }
    // The three pieces join up to the whole day.
    expect([...firstRows, ...resumedRows, ...rowsOf(rest)].map((r) => r.seq)).toEqual(all.map((r) => r.seq))
    expect(resumedRows[0]!.seq).toBe(lastSeen + 1)
    // Every client of the crowd got every row.
    for (const events of await Promise.all(crowd)) expect(rowsOf(events).map((r) => r.seq)).toEqual(all.map((r) => r.seq))

    // What the stream said is what the trail says.
    await server.done
    const { rows } = Schema.decodeUnknownSync(Transitions)((await call(server.url, "api/inspector/transitions?limit=5000")).json)
    expect(transitions(await whole).map((e) => JSON.parse(e.data))).toEqual(rows)
  }, 60_000)

  it("without a Last-Event-ID starts at the log's end; a bad one is named", async () => {
    await server.done
    const fresh = await readSse(stream(), () => false, { timeoutMs: 400 })
    expect(transitions(fresh)).toEqual([])
    const fromTen = await readSse(stream(), count(5), { headers: { "last-event-id": "10" } })
    expect(rowsOf(fromTen).map((r) => r.seq)).toEqual([11, 12, 13, 14, 15])
    expect(expectError(await call(server.url, "api/inspector/stream", { headers: { "last-event-id": "ten" } }), 400, "last-event-id").error).toBe(
      'last-event-id header: expected a finite number, got "ten"'
    )
    expect(expectError(await call(server.url, "api/inspector/stream?lastEventId=-1"), 400, "lastEventId").error).toBe(
      `lastEventId: expected a value between 0 and ${Number.MAX_SAFE_INTEGER}, got "-1"`
    )
  })
})
