// End to end: the daemon in paper mode (OpenAlgo's analyzer) against the fake OpenAlgo server over HTTP
// on loopback, with an in-memory PGlite, over a recorded day on a clock that steps through its instants. Asserted: the orders
// the fake received, the audit rows written (and that `replay` verifies them), the day's records; and
// the same day with faults injected ends with no order sent twice and every failure alerted.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { formatVerification, verifyDay } from "../../src/runtime/verify.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { marginModelOf } from "../../src/runtime/policies.ts"
import { API_KEY, settingsConfig, paperDay, expectNoOrderTwice, decisions, nifty } from "./daemon-day.ts"

const h = nifty.header

describe("the daemon in paper mode against a fake OpenAlgo (HTTP, PGlite)", () => {
  it("trades the day: hedges bought at the broker as journaled, every transition audited and verifiable", async () => {
    const recordDir = mkdtempSync(join(tmpdir(), "autohedge-recorded-"))
    const d = await paperDay([], recordDir)
    // The session ran to its end and was stored.
    expect(d.rows.filter((r) => r.actorId === "session" && r.event === "xstate.init")).toHaveLength(1)
    expect(d.rows.at(-1)?.to).toBe("closed")
    expect(d.rows.map((r) => r.seq)).toEqual(d.rows.map((_, i) => i + 1))
    // Replay rebuilds the live day through the same machines, row for row.
    const v = await verifyDay(d.rows)
    expect(v.ok, formatVerification(v)).toBe(true)
    // Hedges were needed and bought: LIMIT NRML buys on NFO in OpenAlgo's symbol format.
    const buys = d.fake.orders.filter((o) => o.action === "BUY")
    expect(buys.length).toBeGreaterThan(0)
    for (const o of buys) expect(o).toMatchObject({ strategy: "auto-hedge", pricetype: "LIMIT", product: "NRML", symbol: expect.stringMatching(/^NIFTY10FEB26\d+(CE|PE)$/) })
    expectNoOrderTwice(d)
    // The hedges the audit says were bought are the broker's filled buys, and the day's records hold them.
    const bought = new Set(d.rows.filter((r) => r.kind === "hedge" && r.to === "open").map((r) => r.actorId))
    expect(bought.size).toBeGreaterThan(0)
    expect(d.hedgeRows).toBe(bought.size)
    // Every line of the log names its session and actor; the key appears nowhere.
    for (const line of d.log) expect(line).toMatchObject({ session: expect.any(String), actor: expect.any(String) })
    expect(JSON.stringify(d.log)).not.toContain(API_KEY)
    expect(JSON.stringify(d.rows)).not.toContain(API_KEY)
    expect(d.log.some((l) => l.message === "day done")).toBe(true)

    // The day was recorded as the engine saw it: a valid recorded day that the simulator replays to
    // the daemon's decisions: the same hedges, for the same entries, at the same utilisation.
    const file = join(recordDir, readdirSync(recordDir)[0]!)
    const recorded = parseRecordedDay(readFileSync(file, "utf8"), file)
    expect(recorded.header).toMatchObject({ date: h.date, index: h.index, expiry: h.expiry, lotSize: h.lotSize, baskets: h.baskets, entries: h.entries })
    expect(recorded.ticks.length).toBeGreaterThan(75)
    expect(recorded.margins.length).toBe(recorded.ticks.length)
    // The fake broker's margin is the simulator's own truth (the SPAN model, issue 16 item 5); the daemon
    // decided on the config's estimate.
    const truth = spanMarginModel(defaultConfig.span)
    const estimate = marginModelOf(settingsConfig.marginEstimate, settingsConfig, () => truth)
    const replayed = await replayDay(recorded, { config: settingsConfig, policy: "engine", truth, estimate })
    expect(decisions(replayed.rows).length).toBeGreaterThan(0)
    expect(decisions(replayed.rows)).toEqual(decisions(d.rows))
  }, 600_000)

  it("with faults injected: no order sent twice, and every failure alerted", async () => {
    const d = await paperDay([
      // The first hedge order reaches the broker and fills, but its answer never comes back.
      { path: "placeorder", kind: "fillAfterTimeout" },
      // The next one is refused by the broker.
      { path: "placeorder", kind: "reject", message: "RMS: margin exceeds limit" },
      // Reads that fail and are retried.
      { path: "orderbook", kind: "status500", times: 2 },
      { path: "optionchain", kind: "status429", times: 3 },
      { path: "funds", kind: "latency", ms: 50, times: 5 }
    ])
    expectNoOrderTwice(d)
    expect(d.rows.at(-1)?.to).toBe("closed")
    // The order whose answer was lost was found at the broker, not sent again.
    const timedOut = d.fake.orders[0]!
    expect(d.orders.some((o) => (o.broker_order_id ?? "").split("+").includes(timedOut.orderid))).toBe(true)
    // The refusal was alerted, with the broker's words.
    const alerts = d.log.filter((l) => typeof l.alert === "string")
    expect(alerts.some((a) => a.alert === "HEDGE_ORDER_FAILED" && String(a.message).includes("RMS: margin exceeds limit"))).toBe(true)
    const v = await verifyDay(d.rows)
    expect(v.ok, formatVerification(v)).toBe(true)
  }, 600_000)
})
