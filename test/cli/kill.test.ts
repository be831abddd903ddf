// The process killed for real (SIGKILL, no clean-up) at service calls spread over a simulated day,
// and started again with --resume on the same embedded database: the day ends with the hedges,
// spend and breaches of an uninterrupted run, no order twice at the broker, one continuous audit.
import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { describe, expect, it } from "vitest"
import { databaseLayer } from "../../adapters/postgres/database.ts"
import { runEffect } from "../../adapters/postgres/test-support.ts"

const DAY = "simulations/days/2026-02-10-NIFTY.jsonl"

const simulate = async (dataDir: string, extra: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  try {
    const { stdout } = await promisify(execFile)("node", ["bin/autohedge.js", "simulate", DAY, "--db", "--policy", "engine", "--json", ...extra], {
      env: { ...process.env, DATABASE_URL: "", AUTOHEDGE_DATA_DIR: dataDir, ...env },
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

const stored = (dataDir: string) =>
  runEffect(
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const seqs = yield* sql<{ seq: bigint | number }>`SELECT seq FROM auto_hedge.transitions ORDER BY seq`
      const orders = yield* sql<{ n: bigint | number; distinct_ids: bigint | number }>`
        SELECT COUNT(*) AS n, COUNT(DISTINCT client_order_id) AS distinct_ids FROM auto_hedge.orders`
      const restores = yield* sql<{ n: bigint | number }>`SELECT COUNT(*) AS n FROM auto_hedge.transitions WHERE event_type = 'RESTORED'`
      return { seqs: seqs.map((r) => Number(r.seq)), orders: Number(orders[0]!.n), distinctOrders: Number(orders[0]!.distinct_ids), restores: Number(restores[0]!.n) }
    }),
    databaseLayer({ dataDir })
  )

describe("autohedge simulate --db, killed with SIGKILL and resumed", () => {
  it("ends every time as the uninterrupted day", async () => {
    const whole = await simulate(mkdtempSync(join(tmpdir(), "autohedge-whole-")), [])
    expect(whole.killed).toBe(false)
    // One kill each at several points of the day, and one run killed twice (again while resuming).
    for (const kills of [[40], [300], [700], [1100], [250, 500]]) {
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
  }, 300_000)
})
