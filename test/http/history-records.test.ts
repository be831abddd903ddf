// History from the database over the API: days simulated under several policies and kept in the
// database (`simulate --db`) are listed newest first with every policy's session, and a day's detail
// has its policy league, ordered by breaches then net spend, with the numbers the simulation reported,
// and the engine's hedge transactions (a paper daemon's server shows a simulated day's).
import { readFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, beforeAll, expect, it } from "vitest"
import { OperatorCommands } from "../../src/commands/operator.ts"
import { ScheduleStore } from "../../src/commands/schedule-store.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { databaseRecords } from "../../src/http/records.ts"
import { History, HistoryDay } from "../../src/http/schemas.ts"
import { startOperatorServer, type OperatorServer } from "../../src/http/server.ts"
import { DayView } from "../../src/views/day-view.ts"
import type { PolicyRun } from "../../simulations/report.ts"
import { databaseStore, simulate } from "../../simulations/simulate.ts"
import { forEachServer } from "../fixtures/databases.ts"
import { call, expectError } from "./client.ts"

const FILES = ["2026-02-09-NIFTY", "2026-02-10-NIFTY"]
const POLICIES = ["engine", "static", "none"] as const

forEachServer("history from the records", (db) => {
  let server: OperatorServer
  let results: ReadonlyArray<PolicyRun>
  let scratch: string

  beforeAll(async () => {
    const days = FILES.map((f) => ({ file: f, day: parseRecordedDay(readFileSync(`simulations/days/${f}.jsonl`, "utf8"), `${f}.jsonl`) }))
    results = await db.run(simulate(days, [...POLICIES], defaultConfig, databaseStore()))
    const sql = await db.run(Effect.context<SqlClient>())
    scratch = await mkdtemp(join(tmpdir(), "autohedge-history-"))
    const schedule = new ScheduleStore(join(scratch, "schedule.json"), parseSchedule(readFileSync("config/schedule.json", "utf8"), "schedule"))
    const view = new DayView({ now: () => Date.UTC(2026, 1, 11, 4), thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
    const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule, today: () => "2026-02-11" })
    server = await startOperatorServer({
      host: "127.0.0.1",
      port: 0,
      token: null,
      view,
      commands,
      schedule,
      // A paper daemon's records: the simulated days' trades are shown all the same.
      records: databaseRecords("paper", sql),
      now: () => Date.UTC(2026, 1, 11, 4),
      log: () => undefined
    })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  })

  const reportOf = (policy: string, date: string) => results.find((r) => r.policy === policy)!.days.find((d) => d.date === date)!

  it("lists the days newest first, each with every policy's session", async () => {
    const history = Schema.decodeUnknownSync(History)((await call(server.url, "api/hedge/history?days=30")).json)
    expect(history.source).toBe("records")
    expect(history.days.map((d) => d.date)).toEqual(["2026-02-10", "2026-02-09"])
    for (const d of history.days) {
      expect(d.rows.map((r) => r.policy).sort()).toEqual([...POLICIES].sort())
      for (const r of d.rows) {
        const report = reportOf(r.policy, d.date)
        expect(r.hedgeCount, `${d.date} ${r.policy}`).toBe(report.hedges.filter((h) => h.boughtAt !== null).length)
        expect(r.netCost).toBeCloseTo(report.netSpend, 2)
        expect(r.breaches).toBe(report.breaches.length)
      }
    }
    expect((Schema.decodeUnknownSync(History)((await call(server.url, "api/hedge/history?days=1")).json)).days.map((d) => d.date)).toEqual(["2026-02-10"])
  })

  it("a day's detail: the league by breaches then net spend, and the engine's transactions", async () => {
    for (const date of ["2026-02-09", "2026-02-10"]) {
      const detail = Schema.decodeUnknownSync(HistoryDay)((await call(server.url, `api/hedge/history/day?date=${date}`)).json)
      expect(detail).toMatchObject({ date, source: "records", transactionsOf: "simulation" })
      const expected = [...POLICIES]
        .map((p) => ({ policy: p, breaches: reportOf(p, date).breaches.length, net: reportOf(p, date).netSpend }))
        .sort((a, b) => a.breaches - b.breaches || a.net - b.net || POLICIES.indexOf(a.policy) - POLICIES.indexOf(b.policy))
      expect(detail.league.map((r) => r.policy), date).toEqual(expected.map((e) => e.policy))
      const engine = reportOf("engine", date)
      expect(detail.transactions.filter((t) => t.action === "BUY")).toHaveLength(engine.hedges.filter((h) => h.boughtAt !== null).length)
    }
    expect(expectError(await call(server.url, "api/hedge/history/day?date=2026-02-11"), 404, "date").error).toBe("date: no session on 2026-02-11 in the records")
  })
}, { migrated: true })
