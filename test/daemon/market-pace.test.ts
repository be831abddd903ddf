// Keeping pace with the market (issue 16 item 1): an instant the market has left is not held late with
// the market read now (later prices stamped with an earlier time); the market's current second is held
// instead, and falling behind is logged when it starts and ends. Time is a clock the test moves. The
// daemon end to end (the alert, the status, requests per instant): daemon-pace.test.ts.
import { describe, expect, it } from "vitest"
import { BEHIND_MS, IN_STEP_MS, LATE_MS, MarketPace } from "../../src/daemon/trading-day.ts"
import { makeLog } from "../../src/daemon/log.ts"
import { instantOf } from "../../src/domain/time.ts"

const at = (time: string) => instantOf("2026-02-10", time)

const paceOn = (tickMs = 1000) => {
  let now = at("10:00:00")
  const lines: Array<Record<string, unknown>> = []
  const told: Array<unknown> = []
  const pace = new MarketPace(() => now, tickMs, makeLog("json", (l) => lines.push(JSON.parse(l) as Record<string, unknown>), "-", () => now), (b) => told.push(b))
  return { pace, lines, told, setNow: (t: number) => void (now = t) }
}

describe("MarketPace", () => {
  it("holds an instant the market is still at, and the market's current second for one it has left", () => {
    const p = paceOn()
    p.setNow(at("10:00:00") + LATE_MS)
    expect(p.pace.hold(at("10:00:00"))).toBe(at("10:00:00"))
    // Due 10:00:01, the market at 10:00:09.4: 10:00:09 is held, never the stale 10:00:01.
    p.setNow(at("10:00:09") + 400)
    expect(p.pace.hold(at("10:00:01"))).toBe(at("10:00:09"))
    expect(p.pace.behind()).toEqual({ since: at("10:00:01"), worstMs: 8_400, ticksSkipped: 8 })
    // A timer due between seconds, left behind, is held at the market's second after it.
    p.setNow(at("10:00:20") + 600)
    expect(p.pace.hold(at("10:00:19") + 500)).toBe(at("10:00:20"))
  })

  it("says once when it falls behind and once when it has kept pace for a minute, in IST", () => {
    const p = paceOn()
    p.setNow(at("10:00:07"))
    p.pace.hold(at("10:00:01"))
    for (let s = 8; s < 40; s += 8) {
      p.setNow(at(`10:00:${String(s + 7).padStart(2, "0")}`))
      p.pace.hold(at(`10:00:${String(s).padStart(2, "0")}`))
    }
    const behind = p.lines.filter((l) => String(l.message).startsWith("behind the market"))
    expect(behind).toHaveLength(1)
    expect(behind[0]).toMatchObject({ level: "warn", message: expect.stringContaining("the instant due at 10:00:01 IST is 6 s old (market at 10:00:07)") })
    expect(behind[0]!.time).toMatch(/\+05:30$/)
    // On time again, but not yet for a minute: still behind.
    p.setNow(at("10:01:00"))
    expect(p.pace.hold(at("10:01:00"))).toBe(at("10:01:00"))
    expect(p.pace.behind()).not.toBeNull()
    // A little late (under BEHIND_MS): skipped, but neither late enough to go on being behind nor a minute in step.
    p.setNow(at("10:01:20") + BEHIND_MS - 2000)
    expect(p.pace.hold(at("10:01:20"))).toBe(at("10:01:23"))
    expect(p.pace.behind()?.ticksSkipped).toBe(37)
    // A minute after the last instant held behind, on time: in step again.
    p.setNow(at("10:00:39") + IN_STEP_MS)
    p.pace.hold(at("10:00:39") + IN_STEP_MS)
    expect(p.pace.behind()).toBeNull()
    const inStep = p.lines.filter((l) => String(l.message).startsWith("in step with the market again"))
    expect(inStep).toHaveLength(1)
    expect(inStep[0]!.message).toBe("in step with the market again at 10:01:39 IST: behind from 10:00:01, at most 7 s, 37 ticks skipped")
    expect(p.told.at(-1)).toBeNull()
  })

  it("says how it ended when the day ends behind the market", () => {
    const p = paceOn()
    p.setNow(at("15:34:50"))
    p.pace.hold(at("15:34:40"))
    p.pace.close()
    expect(p.lines.at(-1)).toMatchObject({ level: "info", message: "the day's instants ended behind the market: behind from 15:34:40, at most 10 s, 10 ticks skipped" })
    expect(p.pace.behind()).toBeNull()
    expect(p.told.at(-1)).toBeNull()
  })

  it("is not behind when an instant is held a little late (an order's round trip at 1x)", () => {
    const p = paceOn()
    p.setNow(at("10:00:03"))
    expect(p.pace.hold(at("10:00:01"))).toBe(at("10:00:03"))
    expect(p.pace.behind()).toBeNull()
    expect(p.lines).toHaveLength(0)
  })
})
