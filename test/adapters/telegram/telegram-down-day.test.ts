// A whole simulated day with the Telegram notifier: with Telegram answering, every alert the engine
// raised reaches the chat in the order raised; with Telegram unreachable all day, the engine decides
// exactly as it does without Telegram (the same audit digest, orders and hedges), every alert is in
// the table, and once Telegram is back they all go, still in order.
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { defaultConfig } from "../../../src/domain/config.ts"
import { constantsMarginModel } from "../../../src/domain/margin.ts"
import { parseRecordedDay } from "../../../src/domain/recorded-day.ts"
import { replayDay, type ReplayResult } from "../../../simulations/replay.ts"
import { FakeBotApi } from "./fake-bot-api.ts"
import { harness, leaks, TOKEN, type Harness } from "./support.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const model = constantsMarginModel(defaultConfig.marginConstants)
const options = { config: defaultConfig, policy: "engine" as const, truth: model, estimate: model }

const decisions = (r: ReplayResult) => ({ digest: r.report.auditDigest, transitions: r.report.transitions, orders: r.orders, hedges: r.report.hedges, spend: r.report.grossSpend, failure: r.failure })

const replayWith = (h: Harness) =>
  replayDay(day, { ...options, alsoNotify: { notify: (alert, at) => Effect.promise(() => h.notify(alert, at)) } })


let fake: FakeBotApi
beforeEach(async () => {
  fake = await FakeBotApi.start(TOKEN)
})
afterEach(() => fake.close())

describe("a simulated day with the Telegram notifier", () => {
  it("decides the same with Telegram up, down all day, or absent; no alert is lost", async () => {
    const without = await replayDay(day, options)
    expect(without.alerts.length).toBeGreaterThan(3)

    const up = harness(fake, {}, { lotSize: day.header.lotSize, mode: "paper" })
    const withUp = await replayWith(up)
    await up.delivery.idle()
    expect(decisions(withUp)).toEqual(decisions(without))
    const kinds = without.alerts.map((a) => a.alert.kind)
    expect((await up.store.all()).map((r) => [r.kind, r.status])).toEqual(kinds.map((k) => [k, "sent"]))
    expect(fake.sent().map((m) => m.text)).toEqual((await up.store.all()).map((r) => r.text))

    fake.calls.length = 0
    fake.down = true
    const down = harness(fake, {}, { lotSize: day.header.lotSize, mode: "paper" })
    const withDown = await replayWith(down)
    expect(decisions(withDown)).toEqual(decisions(without))
    // Every alert is on record although none went out: the first waits its back-off, the rest queue behind it.
    const rows = await down.store.all()
    expect(rows.map((r) => r.kind)).toEqual(kinds)
    expect(rows.filter((r) => r.status === "sent")).toEqual([])
    expect(rows[0]).toMatchObject({ status: "retrying", attempts: 1 })
    expect(down.delivery.waiting).toBe(kinds.length)

    // Telegram back: the day's alerts go, in the order raised.
    fake.down = false
    down.sleeps.release()
    await down.delivery.idle()
    expect(fake.sent().map((m) => m.text)).toEqual(rows.map((r) => r.text))
    expect((await down.store.all()).every((r) => r.status === "sent")).toBe(true)
    expect(leaks([...up.lines, ...down.lines, JSON.stringify(await down.store.all())])).toEqual([])
  }, 120_000)
})
