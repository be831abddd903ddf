// What one instant costs at OpenAlgo (issue 16 item 1): OpenAlgo allows 10 reads a second on each data
// route, so the reads an instant makes bound how many instants a second the daemon can hold, and with
// it whether a sped-up day keeps pace. The daemon's whole day against the fake OpenAlgo on a clock
// that stands still while it works: every request the fake received is counted at the instant it came in.
import { describe, expect, it } from "vitest"
import { wallTimeOf } from "../../src/domain/time.ts"
import { paperDay } from "./daemon-day.ts"

const ORDER_CALLS = ["placeorder", "cancelorder", "orderstatus", "orderbook", "tradebook"]
const SET_UP = ["market/holidays", "expiry", "symbol", "analyzer", "ping"]

describe("requests per instant (fake OpenAlgo, PGlite)", () => {
  it("reads each of positions, funds, the chain and the spot at most once an instant, and again only after an order call", async () => {
    const d = await paperDay()
    const byInstant = new Map<number, Map<string, number>>()
    for (const r of d.fake.requests) {
      const routes = byInstant.get(r.at) ?? new Map<string, number>()
      routes.set(r.path, (routes.get(r.path) ?? 0) + 1)
      byInstant.set(r.at, routes)
    }
    const count = (routes: Map<string, number>, paths: ReadonlyArray<string>) => paths.reduce((n, p) => n + (routes.get(p) ?? 0), 0)
    const instants = [...byInstant].filter(([, routes]) => count(routes, SET_UP) === 0)
    expect(instants.length).toBeGreaterThan(1000)
    let quiet = 0
    for (const [at, routes] of instants) {
      const orderCalls = count(routes, ORDER_CALLS)
      const what = `${wallTimeOf(at)}: ${JSON.stringify([...routes])}`
      // The market: one chain and one spot, whatever happens in the instant.
      expect(routes.get("optionchain") ?? 0, what).toBeLessThanOrEqual(1)
      expect(routes.get("quotes") ?? 0, what).toBeLessThanOrEqual(1)
      // The account: once, and once more after each order call at most (a fill changes it).
      expect(routes.get("positionbook") ?? 0, what).toBeLessThanOrEqual(1 + orderCalls)
      expect(routes.get("funds") ?? 0, what).toBeLessThanOrEqual(1 + orderCalls)
      if (orderCalls === 0) {
        quiet++
        expect(count(routes, [...routes.keys()]), what).toBeLessThanOrEqual(4)
      }
    }
    expect(quiet).toBeGreaterThan(1000)
    // Printed, not asserted: the reads of the day per route and per instant.
    const totals = new Map<string, number>()
    for (const [, routes] of instants) for (const [p, n] of routes) totals.set(p, (totals.get(p) ?? 0) + n)
    console.log(`${instants.length} instants; per route: ${[...totals].map(([p, n]) => `${p} ${n} (${(n / instants.length).toFixed(2)}/instant)`).join(", ")}`)
  }, 600_000)
})
