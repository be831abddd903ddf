// End to end: the daemon against the fake OpenAlgo as OpenAlgo really answers (issue 21): transient
// Kite statuses and 500s, freeze quantities, its rate limits, the broker's margin estimate.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadDaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { formatVerification, verifyDay } from "../../src/runtime/verify.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import type { MarginModel } from "../../src/domain/margin.ts"
import { replayDay } from "../../simulations/replay.ts"
import { API_KEY, settingsConfig, quickerClock, daemonDay, expectNoOrderTwice, expectNoHedgeBeforeFilled, decisions } from "./daemon-day.ts"

describe("the daemon against OpenAlgo as it really answers (issue 21)", () => {
  it("transient Kite statuses, and 500s from the order book and order status: no hedge counted before it is filled", async () => {
    const d = await daemonDay({
      // Live: the fake answers as OpenAlgo's Zerodha adapter does (the sandbox has no transient statuses).
      mode: "live",
      faults: [
        // The first hedge orders sit in OPEN PENDING for half a minute: their rows carry the previous row's "complete".
        { path: "placeorder", kind: "transientStatus", times: 4, reads: 4, ms: 30_000 },
        { path: "orderstatus", kind: "status500", times: 3 },
        { path: "orderbook", kind: "status500", times: 2 }
      ]
    })
    expect(d.rows.at(-1)?.to).toBe("closed")
    expectNoOrderTwice(d)
    expectNoHedgeBeforeFilled(d)
    const v = await verifyDay(d.rows)
    expect(v.ok, formatVerification(v)).toBe(true)
  }, 600_000)

  it("freeze_qty 1 on BFO: SENSEX orders split at the configured exchange limit, with a warning naming it", async () => {
    const sensex = parseRecordedDay(readFileSync("simulations/days/2026-02-12-SENSEX.jsonl", "utf8"), "2026-02-12-SENSEX.jsonl")
    // A limit below the day's hedge quantities, so that every hedge order must be split.
    const FREEZE = 100
    const bundled = loadInstruments()
    const d = await daemonDay({
      day: sensex,
      fake: { unseededFreeze: true, freezeQuantity: FREEZE },
      instruments: { ...bundled, SENSEX: { ...bundled.SENSEX, freezeQuantity: FREEZE } }
    })
    expect(d.rows.at(-1)?.to).toBe("closed")
    expectNoOrderTwice(d)
    expectNoHedgeBeforeFilled(d)
    // Every order at the exchange below its freeze limit; the hedges went in parts; none was refused.
    expect(d.fake.orders.length).toBeGreaterThan(0)
    for (const o of d.fake.orders) expect(o.quantity, o.orderid).toBeLessThan(FREEZE)
    expect(d.orders.some((o) => (o.broker_order_id ?? "").includes("+"))).toBe(true)
    expect(d.log.filter((l) => l.alert === "HEDGE_ORDER_FAILED")).toEqual([])
    expect(d.log.some((l) => l.level === "warn" && String(l.message).includes("freeze_qty 1") && String(l.message).includes(`SENSEX orders at the exchange's ${FREEZE}`))).toBe(true)
  }, 600_000)

  it("OpenAlgo's default rate limits, per route in a moving window, and app.py's 429 body: no 429 storm", async () => {
    // OpenAlgo's windows of one second pass five times faster, for the daemon and the fake alike.
    const quicker = quickerClock(5)
    const d = await daemonDay({
      fake: { rateLimits: { order: 10, data: 10, margin: 50 }, rateLimitBody: "app", rateLimitClock: quicker.now },
      effectClock: quicker.clock,
      // What the daemon assumes when OPENALGO_*_RATE_LIMIT are unset.
      rateLimits: (await Effect.runPromise(loadDaemonSettings({ OPENALGO_API_KEY: API_KEY }, { mode: "paper" }))).rateLimits,
      // A 429 that names a retry_after of one second, twice on the chain.
      faults: [{ path: "optionchain", kind: "status429", retryAfter: 1, times: 2 }]
    })
    expect(d.rows.at(-1)?.to).toBe("closed")
    expect(d.fake.rateLimited).toBe(0)
    expectNoOrderTwice(d)
    expectNoHedgeBeforeFilled(d)
    const started = d.log.find((l) => String(l.message).startsWith("assuming OpenAlgo's rate limits"))
    expect(started).toMatchObject({ ordersPerSecond: 10, dataPerSecond: 10, marginPerSecond: 50 })
  }, 600_000)

  it("the broker estimate over /margin (one order priced alone): the day's decisions are the simulator's with the broker's own margin", async () => {
    const recordDir = mkdtempSync(join(tmpdir(), "autohedge-recorded-"))
    const config = { ...settingsConfig, marginEstimate: "broker" as const }
    const d = await daemonDay({ mode: "live", config, recordInto: recordDir })
    expect(d.rows.at(-1)?.to).toBe("closed")
    expectNoHedgeBeforeFilled(d)
    // The fake asked for single-order baskets would have priced them alone: the estimate never sends one.
    const baskets = d.fake.requests.filter((r) => r.path === "margin").map((r) => (r.body as { positions: ReadonlyArray<unknown> }).positions)
    expect(baskets.length).toBeGreaterThan(0)
    for (const b of baskets) expect(b.length).toBeGreaterThanOrEqual(2)
    // Replayed with the simulated broker's margin as the estimate, the engine decides exactly the same.
    const file = join(recordDir, readdirSync(recordDir)[0]!)
    const recorded = parseRecordedDay(readFileSync(file, "utf8"), file)
    const truth = spanMarginModel(defaultConfig.span)
    // The broker's margin has no linear form, so the engine selects greedily on it: so does the replay.
    const brokersOwn: MarginModel = { name: "broker", margin: (q) => truth.margin(q) }
    const replayed = await replayDay(recorded, { config, policy: "engine", truth, estimate: brokersOwn })
    expect(decisions(replayed.rows).length).toBeGreaterThan(0)
    expect(decisions(d.rows)).toEqual(decisions(replayed.rows))
  }, 600_000)
})
