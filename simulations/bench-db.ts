// `npm run bench:db`: what persistence costs. Audit rows per second into PGlite and (with DATABASE_URL)
// PostgreSQL, and the bundled week simulated with its records in the database versus in memory.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { databaseLayer } from "../adapters/postgres/database.ts"
import { openSession, postgresAuditLog } from "../adapters/postgres/engine-store.ts"
import { migrate } from "../adapters/postgres/migrations.ts"
import { defaultConfig } from "../src/domain/config.ts"
import { tradingSessionOf } from "../src/domain/session.ts"
import type { TransitionRow } from "../src/services/services.ts"
import { parseRecordedDay } from "./recorded-day.ts"
import { databaseStore, simulate } from "./simulate.ts"

const dir = "simulations/days"
const days = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((file) => ({ file, day: parseRecordedDay(readFileSync(join(dir, file), "utf8"), file) }))
const servers: Array<[string, { url?: string; dataDir?: string }]> = [["PGlite (memory)", { dataDir: "memory:" }]]
if ((process.env.DATABASE_URL ?? "") !== "") servers.push(["PostgreSQL", { url: process.env.DATABASE_URL! }])

const seconds = async <A>(f: () => Promise<A>) => {
  const t = performance.now()
  await f()
  return (performance.now() - t) / 1000
}

const RUNS = 3
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
// Warm the JIT once, then take the median of RUNS runs, for both ways: cold or noisy runs mislead.
await Effect.runPromise(simulate(days, ["engine"], defaultConfig))
const memoryRuns: Array<number> = []
for (let i = 0; i < RUNS; i++) memoryRuns.push(await seconds(() => Effect.runPromise(simulate(days, ["engine"], defaultConfig))))
const memory = median(memoryRuns)
console.log(`week in memory (engine):            ${memory.toFixed(2)} s (median of ${RUNS})`)
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
          yield* audit.append(rows, { seq: (b + 1) * 50, machineVersion: "1", snapshot: { value: "x" }, enteredAt: {} })
        }
        const rate = (batches * 50) / ((performance.now() - t) / 1000)
        const weekRuns: Array<number> = []
        for (let i = 0; i < RUNS; i++) {
          const started = performance.now()
          yield* simulate(days, ["engine"], defaultConfig, databaseStore())
          weekRuns.push((performance.now() - started) / 1000)
        }
        const week = median(weekRuns)
        console.log(`${name.padEnd(16)} audit rows/s:       ${Math.round(rate)}`)
        console.log(`${name.padEnd(16)} week with --db:      ${week.toFixed(2)} s  (${(week / memory).toFixed(2)}× in memory; median of ${RUNS})`)
      })
    ).pipe(Effect.provide(databaseLayer(options)))
  )
}
