// The watchdog on a clock the test moves: each problem appears once its limit is passed, not before,
// and goes away with the next answer.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { defaultWatchdog } from "../../src/domain/config.ts"
import { Watchdog } from "../../src/runtime/watchdog.ts"
import type { AuditLog, StrategyFeed } from "../../src/services/services.ts"

const kinds = (w: Watchdog, held: number) => w.check(held).problems.map((p) => p.kind)

describe("the watchdog", () => {
  it("flags a held instant behind the market clock past lagSeconds", () => {
    let now = 1_000_000
    const w = new Watchdog(defaultWatchdog, () => now)
    const feed = w.watchBroker<StrategyFeed["Service"]>({ seen: Effect.succeed([]) })
    const market = w.watchMarket({ snapshot: Effect.succeed({}) } as never)
    const answer = () => Effect.runSync(Effect.andThen(feed.seen, (market as { snapshot: Effect.Effect<unknown> }).snapshot))
    answer()
    now += 60_000
    answer()
    expect(kinds(w, now - 60_000)).toEqual([])
    expect(kinds(w, now - 60_001)).toEqual(["lag"])
    expect(w.check(now - 90_000).problems[0]!.message).toBe("the engine's held instant is behind the market clock 90 s (limit 60 s)")
  })

  it("flags the lag while the daemon is behind the market, within the limit too, and shows the episode", () => {
    const now = Date.UTC(2026, 1, 10, 4, 40)
    const w = new Watchdog(defaultWatchdog, () => now)
    expect(w.check(now - 10_000).behind).toBeNull()
    w.behindMarket({ since: now - 45_000, worstMs: 45_000, ticksSkipped: 3 })
    const h = w.check(now - 10_000)
    expect(h.ok).toBe(false)
    expect(h.problems.map((p) => p.kind)).toEqual(["lag"])
    expect(h.problems[0]!.message).toBe("behind the market since 10:09:15 IST (an instant up to 45 s late): holding the market's current instant, 3 ticks skipped")
    expect(h.behind).toEqual({ since: now - 45_000, worstSeconds: 45, ticksSkipped: 3 })
    expect(h.lagSeconds).toBe(10)
    w.behindMarket(null)
    expect(w.check(now - 10_000)).toMatchObject({ ok: true, problems: [], behind: null })
  })

  it("flags the broker and the market silent past their limits, and clears when they answer", () => {
    let now = 0
    const w = new Watchdog(defaultWatchdog, () => now)
    const feed = w.watchBroker<StrategyFeed["Service"]>({ seen: Effect.succeed([]) })
    Effect.runSync(feed.seen)
    now = 90_000
    expect(kinds(w, now)).toEqual([])
    now = 90_001
    expect(kinds(w, now)).toEqual(["quote", "broker"])
    Effect.runSync(feed.seen)
    expect(kinds(w, now)).toEqual(["quote"])
    expect(w.check(now).lastBrokerAt).toBe(90_001)
  })

  it("flags an audit write waiting past writeSeconds (a failed write is no wait)", async () => {
    let now = 0
    const w = new Watchdog({ ...defaultWatchdog, quoteSeconds: 3600, brokerSeconds: 3600 }, () => now)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const audit = w.watchWrites({ append: () => Effect.promise(() => gate) } as unknown as AuditLog["Service"])
    const write = Effect.runPromise(audit.append([], null))
    now = 120_000
    expect(kinds(w, now)).toEqual([])
    now = 120_001
    expect(kinds(w, now)).toEqual(["write"])
    release()
    await write
    expect(kinds(w, now)).toEqual([])
    expect(w.check(now).lastWriteAt).toBe(120_001)
  })

  it("counts limits in wall seconds on a sped-up clock", () => {
    let now = 0
    const w = new Watchdog(defaultWatchdog, () => now, 300)
    now = 300 * 61_000
    expect(kinds(w, now - 300 * 61_000)).toEqual(["lag"])
    expect(kinds(w, now - 300 * 59_000)).toEqual([])
  })
})
