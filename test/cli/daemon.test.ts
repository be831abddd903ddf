// `autohedge daemon` as a process: a bad start lists every problem at once and exits non-zero; a
// running paper daemon (against the fake OpenAlgo over HTTP, its embedded PGlite in a directory)
// stops cleanly on SIGTERM with exit 0 and its audit and checkpoint written, and the next start
// resumes the day from its records and stops as cleanly on SIGINT.
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { runEffect } from "../fixtures/databases.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "day")
const SPEED = 300
const START = "2026-02-10T09:05:00"

interface Run {
  readonly child: ChildProcess
  readonly out: () => string
  readonly exited: Promise<{ code: number | null; signal: string | null }>
  /** Resolves once a line matching `pattern` has been printed. */
  readonly waitFor: (pattern: RegExp, ms?: number) => Promise<void>
}

const daemon = (args: ReadonlyArray<string>, env: Record<string, string>): Run => {
  const child = spawn("node", ["bin/autohedge.js", "daemon", ...args], { env: { ...process.env, DATABASE_URL: "", ...env } })
  let out = ""
  child.stdout.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr.on("data", (d: Buffer) => (out += d.toString()))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })))
  const waitFor = (pattern: RegExp, ms = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        if (pattern.test(out)) return resolve()
        if (child.exitCode !== null || Date.now() - started > ms) return reject(new Error(`never printed ${pattern}:\n${out}`))
        setTimeout(check, 50)
      }
      check()
    })
  return { child, out: () => out, exited, waitFor }
}

describe("autohedge daemon (process)", () => {
  it("a bad start lists every problem at once, one line each, no stack trace, and exits non-zero", async () => {
    const run = daemon(["--mode", "paper"], { OPENALGO_API_KEY: "", OPENALGO_BASE_URL: "ftp://nowhere", AUTOHEDGE_TICK_SECONDS: "x", HEDGE_MIN_PREMIUM: "-2" })
    const { code } = await run.exited
    expect(code).not.toBe(0)
    const out = run.out()
    for (const name of ["OPENALGO_API_KEY", "OPENALGO_BASE_URL", "AUTOHEDGE_TICK_SECONDS", "HEDGE_MIN_PREMIUM"]) expect(out).toContain(name)
    expect(out).not.toMatch(/\n\s+at /)
  }, 60_000)

  describe("in paper mode against the fake OpenAlgo", () => {
    let fake: FakeOpenAlgo
    const dataDir = mkdtempSync(join(tmpdir(), "autohedge-daemon-"))
    const schedule = join(dataDir, "schedule.json")
    let env: Record<string, string> = {}
    beforeAll(async () => {
      // The fake's market clock runs from the same start at the same speed as the daemon's.
      const wallStart = Date.now()
      const start = instantOf(day.header.date, "09:05:00")
      fake = await startFakeOpenAlgo({ day, now: () => start + (Date.now() - wallStart) * SPEED, apiKey: "cli-key", mode: "analyze" })
      writeFileSync(schedule, JSON.stringify({ version: 1, days: { Tuesday: { index: "NIFTY", expiryType: "0DTE", entries: day.header.entries } } }))
      env = { OPENALGO_BASE_URL: fake.url.replace(/\/api\/v1$/, ""), OPENALGO_API_KEY: "cli-key", AUTOHEDGE_DATA_DIR: join(dataDir, "db"), AUTOHEDGE_SCHEDULE: schedule, AUTOHEDGE_TICK_SECONDS: "5", AUTOHEDGE_LOG_FORMAT: "json" }
    })
    afterAll(() => fake?.close())

    it("stops cleanly on SIGTERM (exit 0, audit and checkpoint written), and the next start resumes the day", async () => {
      const first = daemon(["--mode", "paper", "--speed", String(SPEED), "--start", START, "--days", "1"], env)
      await first.waitFor(/"message":"session started"/)
      // Let it trade a while, then stop it.
      await first.waitFor(/HEDGE BOUGHT|ENTRY_SEEN/)
      first.child.kill("SIGTERM")
      expect(await first.exited).toEqual({ code: 0, signal: null })
      expect(first.out()).toContain("SIGTERM: stopping after the work in flight")
      expect(first.out()).toContain("stopped on request")
      expect(first.out()).not.toContain("cli-key")
      const stored = await runEffect(
        Effect.gen(function*() {
          const sql = yield* SqlClient
          const [rows] = yield* sql<{ n: number; last: string | number }>`SELECT count(*)::int AS n, max(seq) AS last FROM auto_hedge.transitions`
          const [snapshot] = yield* sql<{ seq: string | number }>`SELECT max(seq) AS seq FROM auto_hedge.snapshots`
          return { rows: rows!.n, last: Number(rows!.last), checkpoint: Number(snapshot!.seq) }
        }),
        databaseLayer({ dataDir: join(dataDir, "db") })
      )
      expect(stored.rows).toBeGreaterThan(0)
      // The last thing written is a checkpoint consistent with the last row.
      expect(stored.checkpoint).toBe(stored.last)

      const second = daemon(["--mode", "paper", "--speed", String(SPEED), "--start", START, "--days", "1"], env)
      await second.waitFor(/"message":"session resumed from its records"/)
      second.child.kill("SIGINT")
      expect(await second.exited).toEqual({ code: 0, signal: null })
      expect(second.out()).toContain("SIGINT: stopping after the work in flight")
    }, 180_000)
  })
})
