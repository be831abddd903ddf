// `autohedge status`: the day as a served simulation's operator API tells it, as text (the same text a
// chat command answers with) and as the API's JSON; an API that does not answer is one line.
import { execFile } from "node:child_process"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { promisify } from "node:util"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { hedgesText, summaryText } from "../../src/views/day-text.ts"
import { Day } from "../../src/views/schemas.ts"
import { call } from "../http/client.ts"

const FILE = "simulations/days/2026-02-13-NIFTY.jsonl"
let server: SimulationServer

const autohedge = (...args: Array<string>) =>
  promisify(execFile)("node", ["bin/autohedge.js", ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr })
  )

beforeAll(async () => {
  server = await serveSimulation({ file: FILE, speed: "max", port: 0, token: "day-text-test-token-0123456789" })
  await server.done
})
afterAll(() => server?.close())

describe("autohedge status", () => {
  it("prints the day: status, entries in words, hedges closed with their P&L, the summary; --json is the API's day", { timeout: 60_000 }, async () => {
    const bind = new URL(server.url).host
    const day = Schema.decodeUnknownSync(Day)((await call(server.url, "api/hedge/day")).json)
    const [text, json] = await Promise.all([autohedge("status", "--http", bind), autohedge("status", "--http", bind, "--json")])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain("NIFTY 2026-02-13 · simulation · policy engine\nauto-hedge on · closed")
    expect(text.stdout).toContain("09:19:00 NIFTY_FRI 1 · exited · projected 19.6 %")
    expect(text.stdout).toContain(`${hedgesText(day.hedges)}\n\n${summaryText(day.summary)}`)
    expect(summaryText(day.summary)).toMatch(/^day closed: 6 entries \(6 entered, 0 missed\)\nbreaches: NIFTY_FRI 6 1\d\d\.\d % at 11:38:10\nhedges: 1 bought, 0 held, 1 closed\n/)
    expect(hedgesText(day.hedges)).toMatch(/^closed:\n {2}hedge-1 NIFTY\d{2}FEB26\d+(CE|PE) \d+ lots? · bought \d\d:\d\d:\d\d @ [\d.]+ · sold \d\d:\d\d:\d\d @ [\d.]+ · P&L -₹234$/)
    expect(json.code, json.stderr).toBe(0)
    expect(Schema.decodeUnknownSync(Day)(JSON.parse(json.stdout))).toEqual(day)
  })

  it("says in one line when no operator API answers", { timeout: 60_000 }, async () => {
    // A port nothing listens on: one that was free a moment ago.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const r = await autohedge("status", "--http", `127.0.0.1:${port}`)
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain(`no operator API answers at http://127.0.0.1:${port}/api/hedge/day (ECONNREFUSED): is the daemon running with --http 127.0.0.1:${port}?`)
  })
})
