// The daemon's start-up check: every problem of the environment, the flags and the hedge
// configuration reported at once, each naming the variable and the value, and the API key never.
import { Effect, Exit, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { loadDaemonSettings } from "../../src/daemon/settings.ts"

const failure = async (env: Record<string, string>, flags: { mode: string; paperBroker?: string }) => {
  const exit = await Effect.runPromiseExit(loadDaemonSettings(env, flags))
  if (Exit.isSuccess(exit)) throw new Error("expected the settings to be refused")
  return JSON.stringify(exit)
}

describe("daemon settings", () => {
  it("take OpenAlgo's address and key from the environment, the key redacted", async () => {
    const s = await Effect.runPromise(loadDaemonSettings({ OPENALGO_BASE_URL: "http://10.0.0.5:5000/", OPENALGO_API_KEY: " k-123 " }, { mode: "paper" }))
    expect(s.openalgoUrl).toBe("http://10.0.0.5:5000/api/v1")
    expect(Redacted.value(s.apiKey)).toBe("k-123")
    expect(String(s.apiKey)).not.toContain("k-123")
    expect(JSON.stringify(s)).not.toContain("k-123")
    expect([s.mode, s.paperBroker, s.tickMs, s.logFormat]).toEqual(["paper", "openalgo", 1000, "text"])
  })

  it("list every problem at once: flags, environment and hedge configuration", async () => {
    const message = await failure(
      { OPENALGO_BASE_URL: "ftp://x", AUTOHEDGE_TICK_SECONDS: "0", AUTOHEDGE_LOG_FORMAT: "xml", HEDGE_ENTRY_TRIGGER_PCT: "abc" },
      { mode: "yolo", paperBroker: "mine" }
    )
    for (const expected of ["--mode", "yolo", "--paper-broker", "OPENALGO_BASE_URL", "ftp://x", "OPENALGO_API_KEY", "AUTOHEDGE_TICK_SECONDS", "AUTOHEDGE_LOG_FORMAT", "xml", "HEDGE_ENTRY_TRIGGER_PCT", "abc"]) {
      expect(message).toContain(expected)
    }
  })

  it("assume OpenAlgo's own rate limits when none is set: 10/s per order and data route, 50/s on /margin (issue 21)", async () => {
    const limits = async (env: Record<string, string>) => (await Effect.runPromise(loadDaemonSettings({ OPENALGO_API_KEY: "k", ...env }, { mode: "paper" }))).rateLimits
    expect(await limits({})).toEqual({ ordersPerSecond: 10, dataPerSecond: 10, marginPerSecond: 50 })
    // OpenAlgo's API_RATE_LIMIT, once set, governs /margin too; the margin limit can be set apart.
    expect(await limits({ OPENALGO_API_RATE_LIMIT: "50" })).toEqual({ ordersPerSecond: 10, dataPerSecond: 50, marginPerSecond: 50 })
    expect(await limits({ OPENALGO_API_RATE_LIMIT: "20", OPENALGO_MARGIN_RATE_LIMIT: "5" })).toEqual({ ordersPerSecond: 10, dataPerSecond: 20, marginPerSecond: 5 })
    expect(await failure({ OPENALGO_API_KEY: "k", OPENALGO_MARGIN_RATE_LIMIT: "fast" }, { mode: "paper" })).toContain("OPENALGO_MARGIN_RATE_LIMIT")
  })

  it("never echo the key, even when everything else is wrong", async () => {
    const message = await failure({ OPENALGO_API_KEY: "secret-key-987", OPENALGO_BASE_URL: "nope" }, { mode: "live" })
    expect(message).toContain("OPENALGO_BASE_URL")
    expect(message).not.toContain("secret-key-987")
  })
})

describe("the committed .env.example", () => {
  it("names only settings the daemon reads and passes the start-up check once the key is filled in", async () => {
    const { readFileSync } = await import("node:fs")
    const env = Object.fromEntries(
      readFileSync(".env.example", "utf8")
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
    )
    expect(Object.keys(env)).toContain("OPENALGO_API_KEY")
    const s = await Effect.runPromise(loadDaemonSettings({ ...env, OPENALGO_API_KEY: "k" }, { mode: "recommend" }))
    expect(s.config.entryTriggerPct).toBe(Number(env.HEDGE_ENTRY_TRIGGER_PCT))
    expect(s.openalgoUrl).toBe("http://127.0.0.1:5000/api/v1")
  })
})
