// The process killed for real (SIGKILL, no clean-up) at service calls spread over a simulated day,
// and started again with --resume on the same database: the day ends with the hedges, spend and
// breaches of an uninterrupted run, no order twice at the broker, one continuous audit, a trail that
// `replay` verifies, and the uninterrupted run's decisions. A sample of kill points over several
// days and both servers runs here; AUTOHEDGE_KILL_SWEEP=full sweeps every bundled day on each server.
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isDeepStrictEqual, promisify } from "node:util"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { describe, expect, it } from "vitest"
import { databaseLayer, type DatabaseOptions } from "../../adapters/postgres/database.ts"
import { findSession, loadTransitions } from "../../adapters/postgres/engine-store.ts"
import { createThrowawayDatabase, dropThrowawayDatabase, runEffect, testServers, withDatabase, type ServerName } from "../fixtures/databases.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { isQuiet } from "../../src/runtime/engine.ts"
import { policyPlan } from "../../src/runtime/policies.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { replayOptionsFor, truthModelOf } from "../../simulations/simulate.ts"
import { FULL_KILL_SWEEP } from "../kill-sweep.ts"

const DAY = "simulations/days/2026-02-10-NIFTY.jsonl"

/** Where a run keeps its records: a PGlite directory, or a PostgreSQL database of its own. */
type Place = { readonly dataDir: string } | { readonly url: string }

const envOf = (place: Place): Record<string, string> => ("url" in place ? { DATABASE_URL: place.url } : { DATABASE_URL: "", AUTOHEDGE_DATA_DIR: place.dataDir })
const optionsOf = (place: Place): DatabaseOptions => ("url" in place ? { url: place.url } : { dataDir: place.dataDir })

const simulate = async (at: string | Place, extra: ReadonlyArray<string>, env: Record<string, string> = {}, day = DAY) => {
  const place = typeof at === "string" ? { dataDir: at } : at
  try {
    const { stdout } = await promisify(execFile)("node", ["--import", "tsx", "test/cli/autohedge-with-faults.ts", "simulate", day, "--db", "--policy", "engine", "--json", ...extra], {
      env: { ...process.env, ...envOf(place), ...env },
      maxBuffer: 64 * 1024 * 1024
    })
    return { killed: false, day: (JSON.parse(stdout) as { days: Array<Record<string, unknown>> }).days[0]! }
  } catch (e) {
    const err = e as { signal?: string; stderr?: string }
    if (err.signal !== "SIGKILL") throw new Error(`the run failed: ${err.stderr ?? String(e)}`)
    return { killed: true, day: undefined }
  }
}

const outcome = (d: Record<string, unknown>) => ({
  hedges: d.hedges,
  grossSpend: d.grossSpend,
  recovered: d.recovered,
  netSpend: d.netSpend,
  breaches: d.breaches,
  peakUtilization: d.peakUtilization,
  entries: d.entries
})

const stored = (at: string | Place) =>
  runEffect(
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const seqs = yield* sql<{ seq: bigint | number }>`SELECT seq FROM auto_hedge.transitions ORDER BY seq`
      const orders = yield* sql<{ n: bigint | number; distinct_ids: bigint | number }>`
        SELECT COUNT(*) AS n, COUNT(DISTINCT client_order_id) AS distinct_ids FROM auto_hedge.orders`
      const restores = yield* sql<{ n: bigint | number }>`SELECT COUNT(*) AS n FROM auto_hedge.transitions WHERE event_type = 'RESTORED'`
      return { seqs: seqs.map((r) => Number(r.seq)), orders: Number(orders[0]!.n), distinctOrders: Number(orders[0]!.distinct_ids), restores: Number(restores[0]!.n) }
    }),
    databaseLayer(optionsOf(typeof at === "string" ? { dataDir: at } : at))
  )

describe("autohedge simulate --db, killed with SIGKILL and resumed", () => {
  it("ends every time as the uninterrupted day", async () => {
    const whole = await simulate(mkdtempSync(join(tmpdir(), "autohedge-whole-")), [])
    expect(whole.killed).toBe(false)
    // One kill each at points of the day, and one run killed twice (again while resuming).
    for (const kills of FULL_KILL_SWEEP ? [[40], [300], [700], [1100], [250, 500]] : [[700], [250, 500]]) {
      const dir = mkdtempSync(join(tmpdir(), "autohedge-kill-"))
      let first = true
      for (const k of kills) {
        const r = await simulate(dir, first ? [] : ["--resume"], { AUTOHEDGE_FAULT_KILL_AFTER_CALLS: String(k) })
        expect(r.killed, `killed at call ${k}`).toBe(true)
        first = false
      }
      const resumed = await simulate(dir, ["--resume"])
      expect(resumed.killed).toBe(false)
      expect(outcome(resumed.day!), `kills at ${kills.join(", ")}`).toEqual(outcome(whole.day!))
      const db = await stored(dir)
      expect(db.seqs, "one continuous audit sequence").toEqual(db.seqs.map((_, i) => i + 1))
      expect(db.distinctOrders).toBe(db.orders)
      expect(db.restores).toBeLessThanOrEqual(kills.length)
      // And the restarted day rebuilds, transition by transition, from its records.
      const { stdout } = await promisify(execFile)("node", ["bin/autohedge.js", "replay", "--date", "2026-02-10"], {
        env: { ...process.env, DATABASE_URL: "", AUTOHEDGE_DATA_DIR: dir }
      })
      expect(stdout).toMatch(/^verified: \d+ transitions/)
    }
  }, 600_000)
})

// ---- the sweep: several days, both servers

const dayFile = (name: string) => `simulations/days/${name}.jsonl`
const dateOf = (name: string) => name.slice(0, 10)

const replayOptions = replayOptionsFor(policyPlan("engine", defaultConfig), defaultConfig, truthModelOf("span", defaultConfig))
const recordedDay = (name: string) => parseRecordedDay(readFileSync(dayFile(name), "utf8"), name)

const trailOf = (place: Place, date: string) =>
  runEffect(
    Effect.gen(function*() {
      const id = yield* findSession(date, "simulation", "engine")
      return id === null ? [] : yield* loadTransitions(id)
    }),
    databaseLayer(optionsOf(place))
  )

const sameRow = (a: TransitionRow, b: TransitionRow) =>
  a.actorId === b.actorId && a.kind === b.kind && a.from === b.from && a.to === b.to && a.event === b.event && a.at === b.at && isDeepStrictEqual(a.payload, b.payload)

/**
 * The resumed trail is the uninterrupted one, but for its RESTORED rows and the quiet rows (clock
 * ticks, exit reviews that sold nothing) recorded after the dead process's last write: those are lost
 * with it (docs/persistence.md). Returns what differs, in words (empty when nothing else does).
 */
const decisionDifferences = (resumed: ReadonlyArray<TransitionRow>, whole: ReadonlyArray<TransitionRow>): Array<string> => {
  let i = 0
  const lost: Array<TransitionRow> = []
  for (const r of resumed.filter((x) => x.event !== "RESTORED")) {
    const j = whole.findIndex((w, k) => k >= i && sameRow(w, r))
    if (j < 0) return [`resumed row ${r.seq} (${r.actorId} ${r.from} -> ${r.to} on ${r.event} at ${new Date(r.at).toISOString()}) is not in the uninterrupted trail after row ${i}`]
    lost.push(...whole.slice(i, j))
    i = j + 1
  }
  lost.push(...whole.slice(i))
  return lost.filter((r) => !isQuiet(r)).map((r) => `lost row ${r.seq}: ${r.actorId} ${r.from} -> ${r.to} on ${r.event}`)
}

/** A fresh place on `server`, and how to clean it up. */
const freshPlace = async (server: ServerName): Promise<{ place: Place; drop: () => Promise<void> }> => {
  if (server === "pglite") return { place: { dataDir: mkdtempSync(join(tmpdir(), "autohedge-kill-")) }, drop: async () => undefined }
  const admin = process.env.DATABASE_URL!
  const name = await createThrowawayDatabase(admin)
  return { place: { url: withDatabase(admin, name) }, drop: () => dropThrowawayDatabase(admin, name) }
}

/**
 * Kill points by server. The sample: one per day, the days taken in turn by the servers there are
 * (1320 on 2026-02-12 is where a resume on PostgreSQL once wrote a trail `replay` rejected; 264 on
 * 2026-02-10, where a resumed session once skipped an exit review because it judged it at the last
 * tick the dead process had written). The full sweep: 16 spread over each bundled day's service
 * calls, on every server.
 */
const SAMPLE: ReadonlyArray<[string, number]> = [["2026-02-09-NIFTY", 700], ["2026-02-12-SENSEX", 1320], ["2026-02-10-NIFTY", 264], ["2026-02-13-NIFTY", 400]]
const killPoints = async (server: ServerName): Promise<Record<string, ReadonlyArray<number>>> => {
  const servers = testServers()
  if (!FULL_KILL_SWEEP) return Object.fromEntries(SAMPLE.filter((_, i) => servers[i % servers.length] === server).map(([name, k]) => [name, [k]]))
  const sweep: Record<string, ReadonlyArray<number>> = {}
  for (const [name] of SAMPLE) {
    const calls = (await replayDay(recordedDay(name), { ...replayOptions, killAfterCalls: Number.MAX_SAFE_INTEGER })).serviceCalls
    sweep[name] = Array.from({ length: 16 }, (_, i) => 1 + Math.floor(((i + 0.5) * (calls - 1)) / 16))
  }
  return sweep
}
const KILL_POINTS = Object.fromEntries(await Promise.all(testServers().map(async (server) => [server, await killPoints(server)] as const)))

describe.each(testServers())("autohedge simulate --db on %s, killed and resumed on several days", (server) => {
  it.each(Object.keys(KILL_POINTS[server]!))("%s: the resumed trail verifies and holds the uninterrupted run's decisions", async (name) => {
    const whole = await replayDay(recordedDay(name), replayOptions)
    for (const k of KILL_POINTS[server]![name]!) {
      const { place, drop } = await freshPlace(server)
      try {
        const killed = await simulate(place, [], { AUTOHEDGE_FAULT_KILL_AFTER_CALLS: String(k) }, dayFile(name))
        expect(killed.killed, `killed at call ${k}`).toBe(true)
        const resumed = await simulate(place, ["--resume"], {}, dayFile(name))
        expect(resumed.killed).toBe(false)
        const { stdout } = await promisify(execFile)("node", ["bin/autohedge.js", "replay", "--date", dateOf(name)], { env: { ...process.env, ...envOf(place) } })
        expect(stdout, `${name}, kill at call ${k}`).toMatch(/^verified: \d+ transitions/)
        const trail = await trailOf(place, dateOf(name))
        expect(trail.map((r) => r.seq), "one continuous audit sequence").toEqual(trail.map((_, i) => i + 1))
        expect(decisionDifferences(trail, whole.rows), `${name}, kill at call ${k}`).toEqual([])
      } finally {
        await drop()
      }
    }
  }, FULL_KILL_SWEEP ? 3_600_000 : 300_000)

  it("loses nothing the killed process wrote (commits are synchronous)", async () => {
    const name = "2026-02-10-NIFTY"
    const k = 1100
    // What the dying process had written: the in-process run's rows before its restart.
    const inProcess = await replayDay(recordedDay(name), { ...replayOptions, killAfterCalls: k })
    const written = inProcess.rows.slice(0, inProcess.rows.findIndex((r) => r.event === "RESTORED"))
    expect(written.length).toBeGreaterThan(500)
    const { place, drop } = await freshPlace(server)
    try {
      expect((await simulate(place, [], { AUTOHEDGE_FAULT_KILL_AFTER_CALLS: String(k) }, dayFile(name))).killed).toBe(true)
      const trail = await trailOf(place, dateOf(name))
      expect(trail.length, "rows kept after SIGKILL").toBe(written.length)
      expect(trail.every((r, i) => sameRow(r, written[i]!))).toBe(true)
    } finally {
      await drop()
    }
  }, 120_000)
})
