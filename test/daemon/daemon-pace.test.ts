// The daemon keeping pace with the market, end to end (issue 16 item 1): the whole day against the fake
// OpenAlgo over HTTP on loopback, with PGlite, on a clock the test moves. Over a venue slower than the
// market, the daemon holds the market's instants and says so (logged at start and end, one alert, the
// status); and what one instant costs at OpenAlgo, whose 10 reads a second per data route bound how
// many instants a second the daemon can hold, with it whether a sped-up day keeps pace.
import { describe, expect, it } from "vitest"
import { IN_STEP_MS } from "../../src/daemon/trading-day.ts"
import { instantOf, wallTimeOf } from "../../src/domain/time.ts"
import { DayView } from "../../src/views/day-view.ts"
import type { Status } from "../../src/views/schemas.ts"
import type { DayAttachment } from "../../src/views/day-view.ts"
import { daemonDay, paperDay } from "./daemon-day.ts"

const at = (time: string) => instantOf("2026-02-10", time)
const ORDER_CALLS = ["placeorder", "cancelorder", "orderstatus", "orderbook", "tradebook"]
const SET_UP = ["market/holidays", "expiry", "symbol", "analyzer", "ping"]

describe("the daemon over a venue slower than the market (fake OpenAlgo, PGlite, a clock the venue moves)", () => {
  it("holds the market's instants, logs the episode's start and end, alerts once and shows it in the status", async () => {
    // From 10:00 to 10:10 every answer takes 30 s of market time: with a 15 s tick the engine cannot look at every tick.
    const slowFrom = at("10:00:00")
    const slowUntil = at("10:10:00")
    const seen: Array<{ readonly at: number; readonly health: Status["health"] }> = []
    let view: DayView | undefined
    const d = await daemonDay({
      venueTakes: (_path, now) => (now >= slowFrom && now < slowUntil ? 30_000 : 0),
      operator: (schedule) => ({
        live: {
          attach: (day: DayAttachment) => {
            view = new DayView({ now: () => at("09:00:00"), thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
            view.attach(day)
          },
          // The status as the page and /api/hedge/status read it, about once a market minute.
          afterInstant: async (instant) => {
            if (seen.length > 0 && instant - seen.at(-1)!.at < 60_000) return
            seen.push({ at: instant, health: (await view!.status()).health })
          }
        },
        commands: { deliver: () => {}, onQueued: () => () => {} },
        schedule: { current: () => schedule, onChange: () => () => {} },
        plans: { get: () => undefined }
      })
    })
    expect(d.rows.at(-1)?.to).toBe("closed")
    const messages = d.log.map((l) => String(l.message))
    // Logged: once as it starts (in the slow stretch), once as it ends (after it), in IST.
    const started = d.log.filter((l) => String(l.message).startsWith("behind the market:"))
    const ended = d.log.filter((l) => String(l.message).startsWith("in step with the market again"))
    expect(started).toHaveLength(1)
    expect(ended).toHaveLength(1)
    const startedAt = Date.parse(String(started[0]!.time))
    const endedAt = Date.parse(String(ended[0]!.time))
    expect(startedAt).toBeGreaterThanOrEqual(slowFrom)
    expect(startedAt).toBeLessThan(slowUntil)
    expect(endedAt).toBeGreaterThanOrEqual(slowUntil + IN_STEP_MS - 15_000)
    expect(String(started[0]!.time)).toMatch(/\+05:30$/)
    // Alerted once, as the watchdog's lag (a venue this slow also trips the quote limit: another problem).
    const alerts = d.log.filter((l) => l.alert === "WATCHDOG" && String(l.message).includes("FALLING BEHIND THE MARKET CLOCK"))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]!.message).toContain("behind the market since 10:0")
    // Shown: the status during the episode has the lag problem and `behind`; before and after, none.
    const during = seen.filter((s) => s.at > startedAt && s.at < slowUntil)
    expect(during.length).toBeGreaterThan(3)
    for (const s of during) {
      expect(s.health.ok).toBe(false)
      expect(s.health.problems.map((p) => p.kind)).toContain("lag")
      expect(s.health.behind).toMatchObject({ since: expect.stringMatching(/^2026-02-10T10:0/), worstSeconds: expect.any(Number), ticksSkipped: expect.any(Number) })
      expect(s.health.behind!.ticksSkipped).toBeGreaterThan(0)
    }
    for (const s of seen.filter((s) => s.at < slowFrom || s.at > endedAt)) {
      expect(s.health.behind).toBeNull()
      expect(s.health.problems.filter((p) => p.kind === "lag")).toEqual([])
    }
    // What was skipped: far fewer instants held in the slow stretch than its 40 ticks, none of them stale.
    const clockInstants = [...new Set(d.rows.filter((r) => r.event === "CLOCK" && r.at >= slowFrom && r.at < slowUntil).map((r) => r.at))]
    expect(clockInstants.length).toBeLessThan(20)
    expect(messages.some((m) => m.startsWith("day done"))).toBe(true)
  }, 600_000)
})

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
