// The progress line of long commands, driven by a held clock: on a terminal one line rewritten in place
// with counts and an ETA; off a terminal (piped, --json) nothing at all.
import { describe, expect, it } from "vitest"
import { formatDuration, progressOn } from "../../src/cli/progress.ts"

/** A target whose clock moves only when told, and which keeps what is written. */
const target = (isTTY: boolean) => {
  let now = 1_000_000
  const written: Array<string> = []
  return { isTTY, now: () => now, write: (text: string) => void written.push(text), advance: (ms: number) => void (now += ms), written }
}

describe("progress on a terminal", () => {
  it("rewrites one line with the count done and the ETA from the pace so far", () => {
    const t = target(true)
    const progress = progressOn(t, "days")
    progress.update(0, 48)
    t.advance(20_000)
    progress.update(12, 48) // 20 s for 12 days: 36 to go take 60 s
    t.advance(20_000)
    progress.update(24, 48) // 40 s for 24 days: 24 to go take 40 s
    t.advance(40_000)
    progress.update(48, 48)
    expect(t.written).toEqual([
      "\r0/48 days\x1b[K",
      "\r12/48 days, ETA 1m00s\x1b[K",
      "\r24/48 days, ETA 40s\x1b[K",
      "\r48/48 days\x1b[K"
    ])
  })

  it("clears the line at the end, so that the results start on a clean line", () => {
    const t = target(true)
    const progress = progressOn(t, "weeks")
    progress.update(1, 4)
    progress.end()
    expect(t.written.at(-1)).toBe("\r\x1b[K")
    expect(t.written.join("")).not.toContain("\n")
  })

  it("writes nothing at the end when no progress was shown", () => {
    const t = target(true)
    progressOn(t, "days").end()
    expect(t.written).toEqual([])
  })
})

describe("progress off a terminal (piped, redirected, --json)", () => {
  it("writes nothing at all", () => {
    const t = target(false)
    const progress = progressOn(t, "days")
    for (let done = 0; done <= 48; done++) {
      t.advance(1000)
      progress.update(done, 48)
    }
    progress.end()
    expect(t.written).toEqual([])
  })
})

describe("formatDuration", () => {
  it("reads as seconds, minutes and seconds, or hours and minutes", () => {
    expect(formatDuration(45_000)).toBe("45s")
    expect(formatDuration(80_000)).toBe("1m20s")
    expect(formatDuration(2 * 3600_000 + 5 * 60_000 + 10_000)).toBe("2h05m")
    expect(formatDuration(-5)).toBe("0s")
  })
})
