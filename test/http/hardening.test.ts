// The API against hostile clients (issue 19): a page of another origin rebinding its DNS name to this
// machine, bodies too large or too deep, more connections than the server keeps, a token in the address
// of an ordinary read. Each is refused with `{ error, field }`, never a 500.
import { readFile } from "node:fs/promises"
import { connect, type Socket } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OperatorCommands } from "../../src/commands/operator.ts"
import { ScheduleStore } from "../../src/commands/schedule-store.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { DayView } from "../../src/views/day-view.ts"
import { type OperatorServer, startOperatorServer, type OperatorServerOptions } from "../../src/http/server.ts"
import { type Answer, sendRaw } from "./client.ts"

const TOKEN = "hardening-test-token-0123456789"
const scheduleText = await readFile("config/schedule.json", "utf8")

const serverOn = (host: string, extra: Partial<OperatorServerOptions> = {}): Promise<OperatorServer> => {
  const view = new DayView({ now: () => 0, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
  const schedule = new ScheduleStore("/nonexistent/schedule.json", parseSchedule(scheduleText, "x"))
  const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule, today: () => "2026-02-10" })
  return startOperatorServer({ view, commands, schedule, now: () => 0, log: () => undefined, port: 0, token: TOKEN, host, ...extra })
}

describe("on loopback", () => {
  let server: OperatorServer
  beforeAll(async () => {
    server = await serveOn()
  })
  afterAll(() => server?.close())
  const serveOn = () => serverOn("127.0.0.1", { allowedHosts: ["hedge.lan"] })

  it("answers only to its own names: another Host (DNS rebinding) is 403, naming the host", async () => {
    const port = new URL(server.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "hedge.lan", `HEDGE.lan:${port}`]) {
      expect((await sendRaw(TOKEN, server.url, { path: "/api/hedge/status", headers: { host } })).status, host).toBe(200)
    }
    for (const host of [`evil.example:${port}`, "attacker.test", `127.0.0.1.evil.example:${port}`, "user@127.0.0.1", "%%%"]) {
      for (const path of ["/api/hedge/status", "/api/inspector/transitions", "/", "/nothing"]) {
        const answer = await sendRaw(TOKEN, server.url, { path, headers: { host } })
        expect(answer.status, `${host} ${path}`).toBe(403)
        expect(answer.body.field).toBe("host")
        expect(answer.body.error).toContain("is not this server's address")
      }
    }
  })

  it("refuses a body over the limit with 413, whether its length is announced or not", async () => {
    const big = JSON.stringify({ hedgeId: "x".repeat(300 * 1024) })
    for (const chunked of [false, true]) {
      const answer = await sendRaw(TOKEN, server.url, { method: "POST", path: "/api/hedge/manual/exit", body: big, chunked })
      expect(answer.status, `chunked ${chunked}`).toBe(413)
      expect(answer.body).toEqual({ error: `body: larger than ${256 * 1024} bytes`, field: "body" })
    }
  })

  it("refuses JSON nested too deep with 400 before parsing it, with a valid token, on every body endpoint", async () => {
    for (const [method, path] of [["POST", "/api/hedge/toggle"], ["POST", "/api/hedge/manual/buy"], ["PUT", "/api/hedge/schedule"], ["POST", "/api/hedge/session"]] as const) {
      for (const body of ["[".repeat(100_000) + "]".repeat(100_000), `{"enabled":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`]) {
        const answer = await sendRaw(TOKEN, server.url, { method, path, body })
        expect(answer.status, path).toBe(400)
        expect(answer.body.field).toBe("body")
        expect(answer.body.error).toMatch(/^body: JSON nested deeper than 32 levels/)
      }
    }
  })
})

describe("connections", () => {
  it("keeps at most the configured number open; the next is dropped and the server still answers", async () => {
    const server = await serverOn("127.0.0.1", { limits: { maxConnections: 3 } })
    const { port } = new URL(server.url)
    const open = (): Promise<Socket> => new Promise((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => resolve(socket))
      socket.on("error", reject)
    })
    const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.on("close", () => resolve())))
    try {
      // Half-open: connected, never sending a request.
      const held = [await open(), await open(), await open()]
      const extra = await open()
      await closed(extra) // dropped by the server, not by us
      held[0]!.destroy()
      await closed(held[0]!)
      // A slot is free again: a request gets its answer.
      let answer: Answer | undefined
      for (let attempt = 0; answer === undefined && attempt < 50; attempt++) {
        answer = await sendRaw(TOKEN, server.url, { path: "/api/hedge/status" }).catch(() => undefined)
      }
      expect(answer?.status).toBe(200)
      for (const s of held) s.destroy()
    } finally {
      await server.close()
    }
  })
})

describe("half-open connections", () => {
  it("a connection that sends nothing, or half a head, is closed after the head's time limit; a stream is not", async () => {
    const server = await serverOn("127.0.0.1", { limits: { headersTimeoutMs: 300 } })
    const { port } = new URL(server.url)
    try {
      const silent = connect(Number(port), "127.0.0.1")
      const halfHead = connect(Number(port), "127.0.0.1", () => halfHead.write("GET /api/hedge/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
      for (const s of [silent, halfHead]) s.on("error", () => undefined)
      await Promise.all([silent, halfHead].map((s) => new Promise<void>((resolve) => s.on("close", () => resolve()))))
      const controller = new AbortController()
      const stream = await fetch(`${server.url}api/inspector/stream`, { signal: controller.signal })
      let ended = false
      stream.body!.pipeTo(new WritableStream()).then(() => (ended = true), () => (ended = true))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(ended).toBe(false)
      controller.abort()
    } finally {
      await server.close()
    }
  })
})

describe("a token in the address", () => {
  it("is taken only by the stream; every other read off loopback needs the header", async () => {
    const server = await serverOn("0.0.0.0")
    const base = `http://127.0.0.1:${new URL(server.url).port}`
    try {
      for (const path of ["/api/hedge/status", "/api/inspector/utilisation", "/api/inspector/actors", "/api/hedge/analytics"]) {
        const answer = await sendRaw(TOKEN, base, { path: `${path}?token=${TOKEN}`, headers: { authorization: "" } })
        expect(answer.status, path).toBe(401)
        expect(answer.body.field).toBe("authorization")
        expect((await sendRaw(TOKEN, base, { path })).status, path).toBe(200)
      }
      const controller = new AbortController()
      const stream = await fetch(`${base}/api/inspector/stream?token=${TOKEN}`, { signal: controller.signal })
      expect(stream.status).toBe(200)
      expect(stream.headers.get("content-type")).toContain("text/event-stream")
      controller.abort()
    } finally {
      await server.close()
    }
  })
})
