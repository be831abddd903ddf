// `autohedge simulate --serve` as a user runs it: a real process that prints where the page is and the
// token it made up, serves the API and the page with nothing built by hand, and stops on Ctrl-C.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { describe, expect, it } from "vitest"
import { bearer, call, expectError, postJson } from "./client.ts"

const DAY = "test/fixtures/days/2026-02-03-nifty-example.jsonl"

describe("autohedge simulate --serve", () => {
  it("prints the page's address and a token of its own, serves the day, and stops on SIGINT", async () => {
    const env = { ...process.env }
    delete env.AUTOHEDGE_API_TOKEN
    const child = spawn("node", ["bin/autohedge.js", "simulate", "--serve", "--speed", "max", "--http", "127.0.0.1:0", DAY], { env, stdio: ["ignore", "pipe", "pipe"] })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    try {
      const printed: Record<string, string> = {}
      const lines = createInterface({ input: child.stdout })
      await new Promise<void>((resolve, reject) => {
        lines.on("line", (line) => {
          const m = /^([a-zA-Z ]+):\s+(\S+)/.exec(line)
          if (m !== null) printed[m[1]!] = m[2]!
          if (line.startsWith("the day is replayed")) resolve()
        })
        void exited.then(() => reject(new Error(`exited early: ${JSON.stringify(printed)}`)))
      })
      // The page's address carries the generated token, ready to act.
      const [url, fragment] = printed.inspector!.split("#") as [string, string]
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      expect(printed["OpenAPI"]).toBe(`${url}openapi.json`)
      const token = printed["API token"]!
      expect(token.length).toBeGreaterThanOrEqual(16)
      expect(fragment).toBe(`token=${token}`)
      expect((await call(url, "")).text).toContain("<title>auto-hedge inspector</title>")
      expect((await call(url, "api/hedge/status")).json).toMatchObject({ session: { date: "2026-02-03", mode: "simulation" }, state: "closed" })
      // The printed token is the one the server takes: the change is refused for the day, not for the token.
      expect(expectError(await postJson(url, "api/hedge/toggle", { enabled: false }, bearer(token)), 409).error).toMatch(/has closed/)
      expectError(await postJson(url, "api/hedge/toggle", { enabled: false }, bearer(`${token}x`)), 401, "authorization")
      child.kill("SIGINT")
      await exited
      await expect(call(url, "api/hedge/status")).rejects.toThrow()
    } finally {
      child.kill("SIGKILL")
    }
  }, 60_000)
})
