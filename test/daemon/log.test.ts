// The daemon's log: IST timestamps as the alerts', one line per event (a multi-line alert folded), the
// clock's transitions at debug only, and every connection checked at start.
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { forEachServer } from "../fixtures/databases.ts"
import { checkConnections } from "../../src/daemon/connections.ts"
import { loggedAudit, logNotifier, makeLog, type LogLevel } from "../../src/daemon/log.ts"
import { instantOf } from "../../src/domain/time.ts"
import { memoryAuditLog } from "../../adapters/memory/recorders.ts"
import type { TransitionRow } from "../../src/services/services.ts"

const at = instantOf("2026-02-10", "09:16:00")
const logInto = (lines: Array<string>, format: "text" | "json" = "text", level?: LogLevel) => makeLog(format, (l) => lines.push(l), "s", () => at, level)

describe("the daemon's log", () => {
  it("stamps lines in IST and writes a multi-line alert as one line", async () => {
    const lines: Array<string> = []
    await Effect.runPromise(logNotifier(logInto(lines)).notify({ kind: "ENTRY_INFO", severity: "info", actor: "entry:A", details: { portfolio: "A", currentPct: 40, projectedPct: 60 } }, at))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^2026-02-10T09:16:00\.000\+05:30 INFO  \[s\] entry:A: ℹ️ \*Entry coming\* \| Portfolio: A \| Current: 40\.0% \| .* \| \*Time:\* 09:16:00 {"alert":"ENTRY_INFO"}$/)
    const json: Array<string> = []
    logInto(json, "json").write("warn", "daemon", "first\nsecond")
    expect(JSON.parse(json[0]!)).toMatchObject({ time: "2026-02-10T09:16:00.000+05:30", level: "warn", message: "first | second" })
  })

  it("logs the clock's transitions at debug, the others at info", async () => {
    const row = (seq: number, event: string): TransitionRow =>
      ({ seq, at, actorId: "session", kind: "session", event, from: "open", to: "open", payload: {}, causation: null })
    const written = async (level?: LogLevel) => {
      const lines: Array<string> = []
      await Effect.runPromise(loggedAudit(memoryAuditLog([]), logInto(lines, "text", level)).append([row(1, "CLOCK"), row(2, "ENTRY_DUE")], null))
      return lines.map((l) => l.split(" ")[1])
    }
    expect(await written()).toEqual(["INFO"])
    expect(await written("debug")).toEqual(["DEBUG", "INFO"])
  })
})

describe("the connections checked at start", () => {
  let server: Server | undefined
  afterEach(() => new Promise<void>((done) => (server === undefined ? done() : server.close(() => done()))))
  const openAlgo = async (status: number): Promise<string> => {
    // No keep-alive: once this server is closed, the next check must find nothing listening (ECONNREFUSED),
    // not a pooled socket the server already shut ("other side closed").
    server = createServer((_, res) => res.writeHead(status, { "content-type": "application/json", connection: "close" }).end(JSON.stringify({ status: status === 200 ? "success" : "error" })))
    await new Promise<void>((listening) => server!.listen(0, "127.0.0.1", listening))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`
  }
  const apiKey = Redacted.make("secret-key")

  forEachServer("with the database", (db) => {
    it("reports OpenAlgo and the database answering, an unreachable or refusing OpenAlgo as an error at once", async () => {
      const check = async (openalgoUrl: string) => {
        const lines: Array<string> = []
        await db.run(checkConnections({ openalgoUrl, apiKey }, logInto(lines, "json")))
        return lines.map((l) => JSON.parse(l) as { level: string; message: string })
      }
      const up = await check(await openAlgo(200))
      expect(up.map((l) => [l.level, l.message])).toEqual([["info", expect.stringMatching(/^OpenAlgo answers at http:\/\/127\.0\.0\.1:\d+\/api\/v1$/)], ["info", "the database answers"]])
      const refused = await check(await openAlgo(403))
      expect(refused[0]).toMatchObject({ level: "error", message: expect.stringContaining("answered HTTP 403") })
      const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/api/v1`
      await new Promise<void>((done) => server!.close(() => done()))
      server = undefined
      const down = await check(url)
      expect(down[0]).toMatchObject({ level: "error", message: expect.stringMatching(/unreachable: .*ECONNREFUSED/) })
      expect(JSON.stringify(down)).not.toContain("secret-key")
    })
  })
})
