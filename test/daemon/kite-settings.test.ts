// Kite Connect access in the settings: optional, both values or neither, redacted, never echoed.
import { Effect, Exit, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { loadDaemonSettings } from "../../src/daemon/settings.ts"

const base = { OPENALGO_API_KEY: "oa-key" }

describe("KITE_API_KEY / KITE_ACCESS_TOKEN", () => {
  it("are optional", async () => {
    const s = await Effect.runPromise(loadDaemonSettings(base, { mode: "recommend" }))
    expect(s.kite).toBeUndefined()
  })

  it("are kept redacted when both are set", async () => {
    const s = await Effect.runPromise(loadDaemonSettings({ ...base, KITE_API_KEY: " app-key-1 ", KITE_ACCESS_TOKEN: "tok-secret-55" }, { mode: "recommend" }))
    expect(Redacted.value(s.kite!.apiKey)).toBe("app-key-1")
    expect(Redacted.value(s.kite!.accessToken)).toBe("tok-secret-55")
    expect(JSON.stringify(s)).not.toContain("tok-secret-55")
    expect(String(s.kite!.accessToken)).not.toContain("tok-secret-55")
  })

  it("name the missing half, never the value given", async () => {
    for (const [env, missing] of [[{ KITE_API_KEY: "app-key-1" }, "KITE_ACCESS_TOKEN"], [{ KITE_ACCESS_TOKEN: "tok-secret-55" }, "KITE_API_KEY"]] as const) {
      const exit = await Effect.runPromiseExit(loadDaemonSettings({ ...base, ...env }, { mode: "recommend" }))
      expect(Exit.isFailure(exit)).toBe(true)
      const message = Exit.isFailure(exit) ? String((exit.cause.reasons[0] as { error?: { message?: string } }).error?.message) : ""
      expect(message).toContain(`${missing}`)
      expect(message).toContain("Kite Connect needs both")
      expect(message).not.toContain("tok-secret-55")
      expect(message).not.toContain("app-key-1")
    }
  })
})
