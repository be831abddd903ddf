// The page's actions over the API, on a replayed day held at a chosen instant: the strike picker reads
// the chain near the engine's band, the manual-buy preview says what the buy would cost and free (its
// margin change checked against the engine's own margin model called directly on the broker's
// positions), places nothing, and refuses what the buy would refuse; the buy itself needs the token;
// the schedule editor's refusals name the field and the value; history answers for the replayed day.
import { readFile } from "node:fs/promises"
import { Effect, Schema } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { netPositions } from "../../src/domain/margin.ts"
import { priceOf, toTick, type Position } from "../../src/domain/market.ts"
import { readRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import { RiskViewSchema } from "../../src/domain/risk.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { instantOf } from "../../src/domain/time.ts"
import { BuyPreviewSchema, History, HistoryDay, Status, Strikes, Transitions } from "../../src/http/schemas.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { replayOptionsFor, truthModelOf } from "../../simulations/simulate.ts"
import { SteppingClock } from "../daemon/stepping-clock.ts"
import { bearer, call, expectError, postJson } from "./client.ts"

const FILE = "simulations/days/2026-02-10-NIFTY.jsonl"
const DATE = "2026-02-10"
const TOKEN = "actions-test-token-0123456789"
/** Entries 1–3 are in; entry 4 (10:16:30) is the next to come. */
const HELD = "10:05:00"
const config = { ...defaultConfig, maxHedgeCostPerDay: 200_000 }

let server: SimulationServer
let day: RecordedDay
const clock = new SteppingClock(instantOf(DATE, "09:15:00"))
const get = (path: string) => call(server.url, path)
const status = async () => Schema.decodeUnknownSync(Status)((await get("api/hedge/status")).json)
const strikes = async (side: "CE" | "PE") => Schema.decodeUnknownSync(Strikes)((await get(`api/hedge/manual/strikes?optionType=${side}`)).json)
const preview = async (q: string) => {
  const reply = await get(`api/hedge/manual/preview?${q}`)
  expect(reply.status, reply.text).toBe(200)
  return Schema.decodeUnknownSync(BuyPreviewSchema)(reply.json)
}
/** The recorded chain the replay serves at the held instant. */
const tickAt = (at: number) => day.ticks.filter((t) => t.at <= at).at(-1)!
const sessionRows = async () => Schema.decodeUnknownSync(Transitions)((await get("api/inspector/transitions?actor=session&limit=5000")).json).rows

beforeAll(async () => {
  day = await Effect.runPromise(readRecordedDay(FILE))
  clock.hold(instantOf(DATE, HELD))
  server = await serveSimulation({ file: FILE, speed: clock, port: 0, token: TOKEN, config })
  await clock.asleep()
})
afterAll(async () => {
  clock.release()
  await server?.close()
})

describe("the manual buy's strike picker and preview", () => {
  it("offers the chain's out-of-the-money strikes near the band, at their recorded prices", async () => {
    const puts = await strikes("PE")
    const tick = tickAt(clock.now())
    expect(puts.spot).toBe(tick.spot)
    expect(puts.lotSize).toBe(65)
    expect(puts.strikes.length).toBeGreaterThan(3)
    for (const s of puts.strikes) {
      expect(s.strike).toBeLessThan(puts.spot)
      expect(s.ltp).toBe(priceOf(tick.chain, s.strike, "PE"))
      const band = puts.band
      expect(s.inBand, `${s.strike}`).toBe(s.ltp >= band.minPremium && s.ltp <= band.maxPremium && s.otmDistance >= band.minOtmDistance && s.otmDistance <= band.maxOtmDistance)
    }
    expect(puts.strikes.some((s) => s.inBand)).toBe(true)
    expect((await strikes("CE")).strikes.every((s) => s.strike > puts.spot)).toBe(true)
    expectError(await get("api/hedge/manual/strikes?optionType=XX"), 400, "optionType")
  })

  it("projects the buy's cost, the cap left and the margin it frees by the engine's model, placing nothing", async () => {
    const calls = await strikes("CE")
    const pick = calls.strikes.find((s) => s.inBand)!
    const lots = calls.unitLots
    const before = await status()
    const rowsBefore = (await sessionRows()).length
    const p = await preview(`strike=${pick.strike}&optionType=CE&lots=${lots}`)

    const quantity = lots * 65
    const limit = toTick(pick.ltp + config.limitPriceBuffer)
    expect(p).toMatchObject({ index: "NIFTY", strike: pick.strike, optionType: "CE", lots, quantity, ltp: pick.ltp, limitPrice: limit, limitGiven: false })
    expect(p.cost).toBeCloseTo(limit * quantity, 2)
    expect(p.spend).toEqual({ cap: 200_000, left: before.spend.left, leftAfter: Math.round((before.spend.left - p.cost) * 100) / 100 })

    // The day's short straddles need most margin on a rise: a call wing frees margin (a put alone would not).
    // The margin now is the broker's; the change is the engine's model on the broker's positions with and without the hedge.
    const m = p.margin
    expect(m.marginNow).toBeCloseTo(before.utilisation.marginInUse, 2)
    expect(m.pctNow).toBeCloseTo((m.marginNow / 15_000_000) * 100, 2)
    const risk = Schema.decodeUnknownSync(RiskViewSchema)((await get("api/risk")).json)
    const held: Array<Position> = risk.legs.map((l) => ({ strike: l.strike, optionType: l.optionType, quantity: l.quantity, expiry: l.expiry }))
    const model = replayOptionsFor(policyPlan("engine", config), config, truthModelOf("span", config)).estimate
    const tick = tickAt(clock.now())
    const query = { index: "NIFTY" as const, date: DATE, expiry: DATE, lotSize: 65, spot: tick.spot, at: clock.now(), chain: tick.chain }
    const marginOf = (positions: ReadonlyArray<Position>) => Effect.runPromise(model.margin({ ...query, positions: netPositions(positions) }))
    const change = (await marginOf([...held, { strike: pick.strike, optionType: "CE", quantity, expiry: DATE }])) - (await marginOf(held))
    expect(change).toBeLessThan(0)
    expect(m.marginAfter - m.marginNow).toBeCloseTo(change, 1)
    expect(m.marginSaved).toBeCloseTo(-change, 1)
    expect(m.pctAfter).toBeLessThan(m.pctNow)

    // The next entry as the engine projects it, without and with the hedge: it needs less with it.
    expect(m.nextEntry).toMatchObject({ portfolio: "ITJ_NF_EXP 4", at: "2026-02-10T10:16:30.000+05:30" })
    expect(m.nextEntry!.projectedPctAfter).toBeLessThan(m.nextEntry!.projectedPct)
    expect(m.nextEntry!.marginSaved).toBeCloseTo(m.nextEntry!.projectedMargin - m.nextEntry!.projectedMarginAfter, 1)

    // Nothing was placed: no row, no reservation, the replay still held where it was.
    expect((await sessionRows()).length).toBe(rowsBefore)
    expect((await status()).spend).toEqual(before.spend)

    // A limit of the trader's is taken as the order's.
    const limited = await preview(`strike=${pick.strike}&optionType=CE&lots=${lots}&limitPrice=0.5`)
    expect(limited).toMatchObject({ limitPrice: 0.5, limitGiven: true })
    expect(limited.cost).toBeCloseTo(0.5 * quantity, 2)
  })

  it("refuses what the buy would refuse, naming the field and the value", async () => {
    const pick = (await strikes("PE")).strikes.find((s) => s.inBand)!
    expect(expectError(await get(`api/hedge/manual/preview?strike=${pick.strike}&optionType=PE&lots=0`), 400, "lots").error).toMatch(/^lots: .*got "0"/)
    expect(expectError(await get(`api/hedge/manual/preview?strike=${pick.strike + 10}&optionType=PE&lots=1`), 400, "strike").error).toBe(
      `strike: ${pick.strike + 10} is not a NIFTY strike (they are every 50)`
    )
    expect(expectError(await get(`api/hedge/manual/preview?strike=${pick.strike}&optionType=PE&lots=1&limitPrice=0.33`), 400, "limitPrice").error).toContain("0.33")
    expect(expectError(await get(`api/hedge/manual/preview?strike=${pick.strike}&optionType=PE&lots=9000`), 409, "lots").error).toMatch(/^lots: spend cap: this buy would cost ₹[\d,.]+ .* is left of today's ₹2,00,000$/)
    expectError(await get(`api/hedge/manual/preview?strike=${pick.strike}&lots=1`), 400, "optionType")

    // Any mix of strikes, lots and limits on the open day: a preview, or a refusal naming its field; never a 5xx.
    const value = fc.oneof(fc.integer({ min: -5, max: 40_000 }).map(String), fc.double({ noNaN: false }).map(String), fc.constantFrom("", "0.05", "1e3", "CE", "PE", "x"))
    await fc.assert(
      fc.asyncProperty(fc.record({ strike: fc.oneof(value, fc.integer({ min: 480, max: 540 }).map((k) => String(k * 50))), optionType: fc.constantFrom("CE", "PE", "XE"), lots: value, limitPrice: fc.option(value, { nil: undefined }) }), async (q) => {
        const query = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined))
        const reply = await get(`api/hedge/manual/preview?${query}`)
        expect(reply.status, `${query} -> ${reply.text}`).toBeLessThan(500)
        if (reply.status === 200) return void Schema.decodeUnknownSync(BuyPreviewSchema)(reply.json)
        const body = reply.json as { error: string; field?: string }
        expect(body.field, `${query} -> ${reply.text}`).toBeDefined()
        expect(body.error.startsWith(`${body.field}: `), `${query} -> ${reply.text}`).toBe(true)
      }),
      { numRuns: 150 }
    )
  })

  it("the buy needs the token; once queued its cost is reserved, as the next preview shows", async () => {
    const pick = (await strikes("PE")).strikes.find((s) => s.inBand)!
    const body = { strike: pick.strike, optionType: "PE", lots: 1 }
    expectError(await postJson(server.url, "api/hedge/manual/buy", body), 401, "authorization")
    expectError(await postJson(server.url, "api/hedge/manual/buy", body, bearer("not-the-token-at-all")), 401, "authorization")
    const first = await preview(`strike=${pick.strike}&optionType=PE&lots=1`)
    const held = await clock.asleep()
    const bought = await postJson(server.url, "api/hedge/manual/buy", body, bearer(TOKEN))
    expect(bought.status, bought.text).toBe(200)
    expect(await clock.asleep()).toBe(held)
    const rows = await sessionRows()
    expect(rows.filter((r) => r.event === "MANUAL_BUY").map((r) => r.payload)).toEqual([expect.objectContaining({ strike: pick.strike, optionType: "PE", quantity: 65, cost: first.cost })])
    // Reserved by the hedge it became (at that instant's price): the preview's cap left is the session's.
    const again = await preview(`strike=${pick.strike}&optionType=PE&lots=1`)
    expect(again.spend.left).toBe((await status()).spend.left)
    expect(again.spend.left).toBeLessThan(first.spend.left - 0.9 * first.cost)
  })
})

describe("the schedule editor's API", () => {
  const scheduleText = readFile("config/schedule.json", "utf8")

  it("refuses a bad entry naming its field and value, needs the token, and saves a good one", async () => {
    const schedule = parseSchedule(await scheduleText, "schedule") as unknown as { days: Record<string, { entries: Array<Record<string, unknown>> }> }
    const bad = structuredClone(schedule)
    bad.days.Monday!.entries[1]!.entryTime = "25:61:00"
    const refusal = expectError(await postJson(server.url, "api/hedge/schedule", bad, bearer(TOKEN), "PUT"), 400, "days.Monday.entries[1].entryTime")
    expect(refusal.error).toContain('"25:61:00"')

    const late = structuredClone(schedule)
    late.days.Monday!.entries[0]!.exitTime = "09:00:00"
    expect(expectError(await postJson(server.url, "api/hedge/schedule", late, bearer(TOKEN), "PUT"), 400, "days.Monday.entries[0].exitTime").error).toMatch(/must be after entryTime/)

    const good = structuredClone(schedule)
    good.days.Monday!.entries[0]!.entryTime = "09:21:00"
    expectError(await postJson(server.url, "api/hedge/schedule", good, {}, "PUT"), 401, "authorization")
    const saved = await postJson(server.url, "api/hedge/schedule", good, bearer(TOKEN), "PUT")
    expect(saved.status, saved.text).toBe(200)
    const back = (await get("api/hedge/schedule")).json as typeof schedule
    expect(back.days.Monday!.entries[0]!.entryTime).toBe("09:21:00")
    // Audited as every operator action: on the day's feed with who asked.
    const feed = ((await get("api/hedge/day")).json as { feed: Array<{ source: string; kind: string; text: string }> }).feed
    expect(feed.filter((f) => f.source === "operator" && f.kind === "schedule").map((f) => f.text)).toEqual([expect.stringMatching(/^schedule \(api\): schedule saved to .*schedule\.json; it applies from the next day set up/)])
  })
})

describe("history without a database", () => {
  it("lists the replayed day, and its detail; another date is not found", async () => {
    const history = Schema.decodeUnknownSync(History)((await get("api/hedge/history")).json)
    expect(history.source).toBe("live")
    expect(history.days.map((d) => d.date)).toEqual([DATE])
    expect(history.days[0]!.rows[0]).toMatchObject({ sessionDate: DATE, policy: "engine", mode: "simulation" })
    const detail = Schema.decodeUnknownSync(HistoryDay)((await get(`api/hedge/history/day?date=${DATE}`)).json)
    expect(detail).toMatchObject({ date: DATE, source: "live", league: [], transactionsOf: "simulation" })
    expect(detail.rows).toHaveLength(1)
    expect(expectError(await get("api/hedge/history/day?date=2026-01-05"), 404, "date").error).toMatch(/^date: no session on 2026-01-05/)
    expect(expectError(await get("api/hedge/history/day?date=2026-13-05"), 400, "date").error).toContain('"2026-13-05"')
  })
})

describe("after the close", () => {
  it("the picker and the preview are refused with the reason", async () => {
    clock.release()
    await server.done
    expect(expectError(await get("api/hedge/manual/strikes?optionType=CE"), 409).error).toBe("the session of 2026-02-10 has closed: nothing more is decided today")
    expect(expectError(await get("api/hedge/manual/preview?strike=25000&optionType=CE&lots=1"), 409).error).toBe("the session of 2026-02-10 has closed: nothing more is decided today")
  })
})
