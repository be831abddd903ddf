// `npm run bench:db`: what persistence costs. Audit rows per second into PGlite and (with DATABASE_URL)
// PostgreSQL, and the bundled week simulated with its records in the database versus in memory.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { databaseLayer, type DatabaseOptions } from "../adapters/postgres/database.ts"
import { openSession, postgresAuditLog } from "../adapters/postgres/engine-store.ts"
import { migrate } from "../adapters/postgres/migrations.ts"
import { defaultConfig } from "../src/domain/config.ts"
import { tradingSessionOf } from "../src/domain/session.ts"
import type { TransitionRow } from "../src/services/services.ts"
import { parseRecordedDay } from "../src/domain/recorded-day.ts"
import { databaseStore, simulate } from "./simulate.ts"

const dir = "simulations/days"
const days = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((file) => ({ file, day: parseRecordedDay(readFileSync(join(dir, file), "utf8"), file) }))
// As `simulate --db` opens them (commits synchronous: a kill loses nothing), and with asynchronous
// commits for comparison (what they would save; see docs/persistence.md).
const diskDir = (name: string) => mkdtempSync(join(tmpdir(), `autohedge-bench-${name}-`))
const servers: Array<[string, DatabaseOptions]> = [
  ["PGlite (memory)", { dataDir: "memory:" }],
  ["PGlite (disk)", { dataDir: diskDir("sync") }],
  ["PGlite (disk, async)", { dataDir: diskDir("async"), asynchronousCommit: true }]
]
if ((process.env.DATABASE_URL ?? "") !== "") {
  servers.push(["PostgreSQL", { url: process.env.DATABASE_URL! }], ["PostgreSQL (async)", { url: process.env.DATABASE_URL!, asynchronousCommit: true }])
}

const seconds = async <A>(f: () => Promise<A>) => {
  const t = performance.now()
  await f()
  return (performance.now() - t) / 1000
}

const RUNS = 5
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const inMemory = () => Effect.runPromise(simulate(days, ["engine"], defaultConfig))
for (const [name, options] of servers) {
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        yield* migrate
        // Audit rows in batches of 50 (about one instant's worth), each with a small checkpoint.
        const trading = tradingSessionOf({ date: "2030-01-01", index: "NIFTY", expiry: "2030-01-01", baskets: 1, budgetPerBasket: 1, autoHedgeEnabled: true, mode: "simulation" })
        const audit = yield* postgresAuditLog(yield* openSession(trading, "engine", true))
        const batches = 200
        const t = performance.now()
        for (let b = 0; b < batches; b++) {
          const rows: Array<TransitionRow> = Array.from({ length: 50 }, (_, i) => ({
            seq: b * 50 + i + 1, actorId: "entry:X", kind: "entry", from: "idle", to: "lookahead", event: "CLOCK", payload: { at: i, spot: 25_000 }, at: 1_770_000_000_000 + i, causation: null
          }))
          yield* audit.append(rows, { seq: (b + 1) * 50, at: 1_770_000_000_000, machineVersion: "1", snapshot: { value: "x" } })
        }
        const rate = (batches * 50) / ((performance.now() - t) / 1000)
        // Both ways warmed up once, then run in turn (so a machine that speeds up or slows down
        // weighs on both alike), and the medians compared: cold or noisy runs mislead.
        const withDb = () => simulate(days, ["engine"], defaultConfig, databaseStore())
        yield* Effect.promise(inMemory)
        yield* withDb()
        const memoryRuns: Array<number> = []
        const dbRuns: Array<number> = []
        for (let i = 0; i < RUNS; i++) {
          memoryRuns.push(yield* Effect.promise(() => seconds(inMemory)))
          const started = performance.now()
          yield* withDb()
          dbRuns.push((performance.now() - started) / 1000)
        }
        const [memory, week] = [median(memoryRuns), median(dbRuns)]
        console.log(`${name.padEnd(20)} audit rows/s:       ${Math.round(rate)}`)
        console.log(`${name.padEnd(20)} week in memory:      ${memory.toFixed(2)} s  (median of ${RUNS})`)
        console.log(`${name.padEnd(20)} week with --db:      ${week.toFixed(2)} s  (${(week / memory).toFixed(2)}× in memory; median of ${RUNS})`)
      })
    ).pipe(Effect.provide(databaseLayer(options)))
  )
  if (options.dataDir !== undefined && options.dataDir !== "memory:") rmSync(options.dataDir, { recursive: true, force: true })
}
