// The operator acting on a day while the simulator replays it, over HTTP with the token: auto-hedge
// switched off holds an entry's hedges back, a hedge bought and sold by hand, refusals that name the
// field; every action is a transition row of the session, and the day's trail, read back over HTTP,
// still verifies through the machines. The replay runs on a stepping clock the test holds: each action
// comes while the day is held at a chosen instant, so what it meets never depends on the machine's speed.
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { instantOf } from "../../src/domain/time.ts"
import { Actors, Day, Status, Transactions, Transitions, Utilisation } from "../../src/http/schemas.ts"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { formatVerification, verifyDay } from "../../src/runtime/verify.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { SteppingClock } from "../daemon/stepping-clock.ts"
import { bearer, call, expectError, postJson } from "./client.ts"

const DAY = "simulations/days/2026-02-10-NIFTY.jsonl"
const DATE = "2026-02-10"
const TOKEN = "operate-test-token-0123456789"

let server: SimulationServer
const clock = new SteppingClock(instantOf(DATE, "09:15:00"))
const auth = bearer(TOKEN)
const status = async () => Schema.decodeUnknownSync(Status)((await call(server.url, "api/hedge/status")).json)
const actors = async () => Schema.decodeUnknownSync(Actors)((await call(server.url, "api/inspector/actors")).json).actors

/** The replay on from where it is held to the last instant before `time`, and held there again. */
const holdBefore = (time: string): Promise<number> => {
  clock.release()
  clock.hold(instantOf(DATE, time))
  return clock.asleep()
}

/** An action sent while the day is held: the session takes it at an instant of its own, and the day is held again. */
const actWhileHeld = async <R extends { readonly status: number; readonly text: string }>(action: () => Promise<R>): Promise<R> => {
  const held = await clock.asleep()
  const answer = await action()
  expect(answer.status, answer.text).toBe(200)
  expect(await clock.asleep(), "held again before the same instant").toBe(held)
  return answer
}

beforeAll(async () => {
  clock.hold(instantOf(DATE, "09:20:00"))
  // A cap the engine's own hedges before the first action cannot use up: the trader's buy must fit.
  server = await serveSimulation({ file: DAY, speed: clock, port: 0, token: TOKEN, config: { ...defaultConfig, maxHedgeCostPerDay: 1_000_000 } })
})
afterAll(async () => {
  clock.release()
  await server?.close()
})

describe("operating a replaying day over HTTP", () => {
  it("toggle, manual buy and exit change the day, are audited, and the day still verifies", async () => {
    // Held while trading, long before the hedged entry looks ahead (10:11:30).
    expect(await clock.asleep()).toBe(instantOf(DATE, "09:20:00"))
    expect((await status()).state).toMatch(/^trading/)

    // Off before the hedged entry looks ahead: it needs hedges and buys none.
    const off = await actWhileHeld(() => postJson(server.url, "api/hedge/toggle", { enabled: false, reason: "operator test" }, auth))
    expect(off.json).toEqual({ accepted: true, message: "auto-hedge off (operator test): queued; the session takes it at the next market instant" })
    expect((await status()).enabled).toBe(false)
    expect(expectError(await postJson(server.url, "api/hedge/toggle", { enabled: false }, auth), 409, "enabled").error).toBe("enabled: auto-hedge is already off")

    // A put 500 below the index, bought by hand.
    const spot = (await actors()).find((a) => a.id === "session")!.summary.spot as number
    const strike = Math.round((spot - 500) / 50) * 50
    await actWhileHeld(() => postJson(server.url, "api/hedge/manual/buy", { strike, optionType: "PE", lots: 15 }, auth))
    await holdBefore("09:25:00")
    const manual = (await status()).activeHedges.find((h) => h.strike === strike && h.state === "open")!
    expect(manual).toMatchObject({ optionType: "PE", lots: 15, quantity: 975 })
    expect(manual.buyPrice).toBeGreaterThan(0)
    expect(manual.cost).toBeGreaterThan(0)

    await actWhileHeld(() => postJson(server.url, "api/hedge/manual/exit", { hedgeId: manual.hedgeId }, auth))
    await holdBefore("09:30:00")
    expect((await status()).activeHedges.map((h) => h.hedgeId)).not.toContain(manual.hedgeId)
    expectError(await postJson(server.url, "api/hedge/manual/exit", { hedgeId: manual.hedgeId }, auth), 409, "hedgeId")
    expect(expectError(await postJson(server.url, "api/hedge/manual/exit", { hedgeId: "hedge-99" }, auth), 404, "hedgeId").error).toMatch(/^hedgeId: no hedge "hedge-99" today/)

    // Switched back on once the entry has decided at its look-ahead (switched off, it bought nothing),
    // while it is still ahead.
    await holdBefore("10:12:00")
    expect((await actors()).find((a) => a.id === "entry:ITJ_NF_EXP 4")?.state).toBe("awaitingEntry.disabled")
    await actWhileHeld(() => postJson(server.url, "api/hedge/toggle", { enabled: true }, auth))
    clock.release()
    await server.done
    expect((await status()).enabled).toBe(true)

    const rows: Array<TransitionRow> = []
    for (let after = 0; ; ) {
      const page = Schema.decodeUnknownSync(Transitions)((await call(server.url, `api/inspector/transitions?after=${after}&limit=5000`)).json).rows
      if (page.length === 0) break
      rows.push(...(page as ReadonlyArray<TransitionRow>))
      after = page.at(-1)!.seq
    }
    const session = (event: string) => rows.filter((r) => r.actorId === "session" && r.event === event)
    expect(session("TOGGLE").map((r) => r.payload)).toEqual([{ enabled: false, reason: "operator test" }, { enabled: true }])
    expect(session("MANUAL_BUY").map((r) => r.payload)).toEqual([expect.objectContaining({ strike, optionType: "PE", quantity: 975, limitPrice: null })])
    expect(session("MANUAL_EXIT").map((r) => r.payload)).toEqual([{ hedgeId: manual.hedgeId }])
    expect(rows.filter((r) => r.actorId === "entry:ITJ_NF_EXP 4").map((r) => r.to)).toContain("awaitingEntry.disabled")
    // Switched off, the engine bought nothing for that entry: a buy for it comes, if at all, from a
    // re-check after the switch back on, while the entry is still ahead.
    const backOn = session("TOGGLE").at(-1)!
    for (const buy of session("BUY_HEDGES").filter((r) => (r.payload as { entryId: string }).entryId === "entry:ITJ_NF_EXP 4")) {
      expect(buy.seq).toBeGreaterThan(backOn.seq)
      expect(buy.at).toBeLessThan(instantOf("2026-02-10", "10:16:30"))
    }
    expect((await actors()).find((a) => a.id === manual.hedgeId)!.summary).toMatchObject({ trigger: "MANUAL", forEntry: "MANUAL", manual: true, status: "closed" })
    // Each action at a market instant, stamped with it, before that instant's clock event.
    for (const r of [...session("TOGGLE"), ...session("MANUAL_BUY"), ...session("MANUAL_EXIT")]) {
      expect(r.at).toBeGreaterThanOrEqual(instantOf("2026-02-10", "09:15:00"))
      const clock = rows.find((x) => x.actorId === "session" && x.event === "CLOCK" && x.at === r.at)
      expect(clock, `the clock event of ${r.event}'s instant`).toBeDefined()
      expect(clock!.seq).toBeGreaterThan(r.seq)
    }
    // The trader's trades are on the chart and in the day's transactions.
    const markers = Schema.decodeUnknownSync(Utilisation)((await call(server.url, "api/inspector/utilisation")).json).markers.filter((m) => m.hedgeId === manual.hedgeId)
    expect(markers.map((m) => m.kind)).toEqual(["buy", "sell"])
    expect(markers[0]!.label).toMatch(new RegExp(`^bought 975 NIFTY10FEB26${strike}PE @ [\\d.]+ \\(${manual.hedgeId}, manual\\)$`))
    const trades = Schema.decodeUnknownSync(Transactions)((await call(server.url, "api/hedge/transactions")).json).transactions.filter((t) => t.hedgeId === manual.hedgeId)
    expect(trades.map((t) => [t.action, t.quantity, t.trigger])).toEqual([["BUY", 975, "MANUAL"], ["SELL", 975, "EXIT"]])
    expect(trades[0]!.price).toBe(manual.buyPrice)
    const v = await verifyDay(rows)
    expect(v.ok, formatVerification(v)).toBe(true)

    // The day at a glance, as the dashboard and Telegram read it: the trader's hedge closed with its
    // P&L, every command in the feed beside the engine's alerts, the summary of a closed day.
    const day = Schema.decodeUnknownSync(Day)((await call(server.url, "api/hedge/day")).json)
    const closed = day.hedges.closed.find((h) => h.hedgeId === manual.hedgeId)!
    expect(closed).toMatchObject({ manual: true, held: 0, stateInWords: "sold" })
    expect(closed.pnl).toBeCloseTo(closed.received - closed.paid, 2)
    expect(day.feed.filter((f) => f.source === "operator").map((f) => f.kind)).toEqual(expect.arrayContaining(["toggle", "toggle refused", "buy", "exit", "exit refused", "taken"]))
    expect(day.feed.some((f) => f.source === "engine" && f.kind === "EOD_SUMMARY")).toBe(true)
    expect(day.summary).toMatchObject({ closed: true, hedges: { held: 0 } })
    expect(day.entries.every((e) => e.enteredAt !== null && e.stateInWords === "exited")).toBe(true)
  }, 60_000)
})
