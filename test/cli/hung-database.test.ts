// A PostgreSQL that stops answering (a TCP proxy in front of it stops forwarding, as a frozen network
// path or a SIGSTOPped proxy does): the daemon and `simulate --db` take the refused connection's path
// within the configured deadline (critical alert, halt), and SIGTERM stops them within seconds.
// Needs DATABASE_URL (a real server); skipped otherwise.
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, connect, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { describe, expect, it } from "vitest"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { createThrowawayDatabase, dropThrowawayDatabase, runEffect, withDatabase } from "../fixtures/databases.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"

const admin = process.env.DATABASE_URL?.trim() ?? ""

/** A TCP proxy to `target` that can freeze: from then on it forwards nothing either way and closes nothing. */
const freezableProxy = async (target: URL) => {
  let frozen = false
  const sockets: Array<Socket> = []
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    sockets.push(client, upstream)
    client.on("data", (d) => void (frozen || upstream.write(d)))
    upstream.on("data", (d) => void (frozen || client.write(d)))
    const end = () => (frozen ? undefined : (client.destroy(), upstream.destroy()))
    client.on("close", end).on("error", () => undefined)
    upstream.on("close", end).on("error", () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: (database: string) => {
      const u = new URL(withDatabase(admin, database))
      u.hostname = "127.0.0.1"
      u.port = String(port)
      return u.toString()
    },
    freeze: () => void (frozen = true),
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    }
  }
}

interface Run {
  readonly child: ChildProcess
  readonly out: () => string
  readonly exited: Promise<{ code: number | null; signal: string | null; at: number }>
  readonly waitFor: (pattern: RegExp, ms?: number) => Promise<number>
}

const run = (args: ReadonlyArray<string>, env: Record<string, string>): Run => {
  const child = spawn("node", ["bin/autohedge.js", ...args], { env: { ...process.env, ...env } })
  let out = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()))
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })))
  const waitFor = (pattern: RegExp, ms = 90_000) =>
    new Promise<number>((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        if (pattern.test(out)) return resolve(Date.now())
        if (child.exitCode !== null || Date.now() - started > ms) return reject(new Error(`never printed ${pattern}:\n${out}`))
        setTimeout(check, 50)
      }
      check()
    })
  return { child, out: () => out, exited, waitFor }
}

const rowsIn = (database: string) =>
  runEffect(
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const [r] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM auto_hedge.transitions`.pipe(Effect.orElseSucceed(() => [{ n: 0 }]))
      return r!.n
    }),
    databaseLayer({ url: withDatabase(admin, database) })
  )

const until = async (condition: () => Promise<boolean>, ms: number) => {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error("condition never met")
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// Generous bounds: what they rule out is waiting forever (before the deadlines, minutes and more).
const DEADLINE_S = 2
const SHUTDOWN_S = 3
const deadlines = { AUTOHEDGE_DEADLINE_DATABASE_SECONDS: String(DEADLINE_S), AUTOHEDGE_SHUTDOWN_SECONDS: String(SHUTDOWN_S) }

/** A throwaway database behind a proxy of its own, for one test. */
const frozenLater = async <A>(body: (db: { readonly name: string; readonly url: string; readonly freeze: () => void }) => Promise<A>) => {
  const name = await createThrowawayDatabase(admin)
  const proxy = await freezableProxy(new URL(admin))
  try {
    return await body({ name, url: proxy.url(name), freeze: proxy.freeze })
  } finally {
    proxy.close()
    await dropThrowawayDatabase(admin, name).catch(() => undefined)
  }
}

/** simulate --db of a day through the proxy, frozen once it has written rows. */
const simulateThenFreeze = (db: { readonly name: string; readonly url: string; readonly freeze: () => void }, env: Record<string, string>) =>
  (async () => {
    const sim = run(["simulate", "simulations/days/2026-02-12-SENSEX.jsonl", "--db", "--policy", "engine"], { ...env, DATABASE_URL: db.url })
    await until(async () => (await rowsIn(db.name)) > 0, 90_000)
    db.freeze()
    return sim
  })()

describe.skipIf(admin === "")("a PostgreSQL that stops answering", () => {
  it("simulate --db fails at the deadline, one line naming the database", () =>
    frozenLater(async (db) => {
      const sim = await simulateThenFreeze(db, deadlines)
      const { code } = await sim.exited
      expect(code).toBe(1)
      expect(sim.out()).toMatch(/the database did not answer \w+ within 2 s/)
      expect(sim.out()).not.toMatch(/\n\s+at /)
    }), 180_000)

  it("simulate --db stops within seconds of SIGTERM while it waits on the frozen database", () =>
    frozenLater(async (db) => {
      const sim = await simulateThenFreeze(db, { ...deadlines, AUTOHEDGE_DEADLINE_DATABASE_SECONDS: "600" })
      await new Promise((resolve) => setTimeout(resolve, 500))
      const termAt = Date.now()
      sim.child.kill("SIGTERM")
      const exit = await sim.exited
      expect(exit.at - termAt, "gone within the shutdown deadline and some slack").toBeLessThan(20_000)
      expect(sim.out()).toMatch(/still not stopped 3 s after SIGTERM/)
    }), 180_000)

  it("the daemon halts with a critical alert within the deadline, and SIGTERM ends it within seconds", async () => {
    const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "day")
    const speed = 300
    const wallStart = Date.now()
    const start = instantOf(day.header.date, "09:05:00")
    const fake: FakeOpenAlgo = await startFakeOpenAlgo({ day, now: () => start + (Date.now() - wallStart) * speed, apiKey: "k", mode: "analyze" })
    try {
      const dir = mkdtempSync(join(tmpdir(), "autohedge-hung-"))
      const schedule = join(dir, "schedule.json")
      writeFileSync(schedule, JSON.stringify({ version: 1, days: { Tuesday: { index: "NIFTY", expiryType: "0DTE", entries: day.header.entries } } }))
      await frozenLater(async (db) => {
        const env = {
          ...deadlines,
          DATABASE_URL: db.url,
          OPENALGO_BASE_URL: fake.url.replace(/\/api\/v1$/, ""),
          OPENALGO_API_KEY: "k",
          AUTOHEDGE_SCHEDULE: schedule,
          AUTOHEDGE_TICK_SECONDS: "5",
          AUTOHEDGE_LOG_FORMAT: "json"
        }
        const d = run(["daemon", "--mode", "paper", "--speed", String(speed), "--start", "2026-02-10T09:05:00", "--days", "1", "--http", "off"], env)
        await d.waitFor(/"message":"session started"/)
        await d.waitFor(/ENTRY_SEEN|HEDGE BOUGHT|LOOKAHEAD|lookahead/i)
        const frozenAt = Date.now()
        db.freeze()
        const haltedAt = await d.waitFor(/"alert":"ENGINE_HALTED"/, 60_000)
        expect(d.out()).toMatch(/"level":"error"[^\n]*the database did not answer/)
        expect(haltedAt - frozenAt, "halted within the deadline and some slack").toBeLessThan(30_000)
        const termAt = Date.now()
        d.child.kill("SIGTERM")
        const exit = await d.exited
        expect(exit.at - termAt, "gone within the shutdown deadline and some slack").toBeLessThan(20_000)
      })
    } finally {
      fake.close()
    }
  }, 240_000)
})
