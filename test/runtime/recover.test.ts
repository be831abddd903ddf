// Restart from a checkpoint plus the rows written after it. Checkpoints are taken now and then, rows at
// every instant; a restart re-drives the rows after the latest checkpoint through the machines. The
// tree it gets must be the tree the process had, and rows that do not re-drive must refuse the restart.
import { readFileSync } from "node:fs"
import { Context, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { memoryAuditLog, memoryOrderJournal } from "../../adapters/memory/recorders.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { SessionEngine } from "../../src/runtime/engine.ts"
import { engineSetupFor } from "../../src/runtime/session-plan.ts"
import { recoverCheckpoint } from "../../src/runtime/verify.ts"
import { AuditLog, type Checkpoint, type EngineServices, type TransitionRow } from "../../src/services/services.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"

const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const model = constantsMarginModel(defaultConfig.marginConstants)

/** A whole day, with every checkpoint the engine wrote (in memory, through JSON as a database gives it). */
const dayWithCheckpoints = async () => {
  const rows: Array<TransitionRow> = []
  const checkpoints: Array<Checkpoint> = []
  const local = memoryAuditLog(rows)
  const audit: AuditLog["Service"] = {
    ...local,
    append: (batch, checkpoint) => {
      if (checkpoint !== null) checkpoints.push(JSON.parse(JSON.stringify(checkpoint)) as Checkpoint)
      return local.append(batch, checkpoint)
    }
  }
  await replayDay(day, { config: defaultConfig, policy: "engine", truth: model, estimate: model, store: { audit, journal: memoryOrderJournal() } })
  return { rows, checkpoints }
}

/** The recovered checkpoint as it would be stored (through JSON, like the ones compared with). */
const recovered = async (latest: Checkpoint | null, after: ReadonlyArray<TransitionRow>) => {
  const r = await recoverCheckpoint(latest, after)
  if (!r.ok) throw new Error(JSON.stringify(r.verification))
  return JSON.parse(JSON.stringify(r.checkpoint)) as Checkpoint
}

describe("a checkpoint brought forward by re-driving the rows after it", () => {
  it("is the tree the process ended with, from any earlier checkpoint", async () => {
    const { rows, checkpoints } = await dayWithCheckpoints()
    // Checkpoints are sparse: far fewer than the writes, yet more than the day's first and last.
    expect(checkpoints.length).toBeGreaterThan(5)
    expect(checkpoints.length).toBeLessThan(rows.length / 20)
    const last = checkpoints.at(-1)!
    expect(last.seq).toBe(rows.at(-1)!.seq)
    for (const from of checkpoints.slice(0, -1)) {
      const forward = await recovered(from, rows.filter((r) => r.seq > from.seq))
      expect(forward.seq, `from seq ${from.seq}`).toBe(last.seq)
      expect(forward.snapshot, `from seq ${from.seq}`).toEqual(last.snapshot)
      expect(forward.latestRows, `from seq ${from.seq}`).toEqual(last.latestRows)
    }
  }, 60_000)

  it("is the same from the day's start when no checkpoint was written yet", async () => {
    const { rows, checkpoints } = await dayWithCheckpoints()
    const fromStart = await recovered(null, rows)
    expect(fromStart.snapshot).toEqual(checkpoints.at(-1)!.snapshot)
  })

  it("is the latest checkpoint itself when nothing was written after it", async () => {
    const { checkpoints } = await dayWithCheckpoints()
    expect(await recoverCheckpoint(checkpoints[3]!, [])).toEqual({ ok: true, checkpoint: checkpoints[3] })
  })
})

describe("rows after the checkpoint that do not re-drive", () => {
  it("refuse the restart, naming the first row that differs", async () => {
    const { rows, checkpoints } = await dayWithCheckpoints()
    const from = checkpoints[2]!
    const answer = rows.find((r) => r.seq > from.seq && r.event === "xstate.done.actor.projectEntry")!
    expect(answer).toBeDefined()
    // An answer that is not what the machines were given: a forged or corrupted row.
    const forged = rows.map((r) => (r.seq === answer.seq ? { ...r, to: "hedging.selecting.nowhere" } : r))
    const audit: AuditLog["Service"] = {
      ...memoryAuditLog(forged),
      latest: Effect.succeed(from),
      after: (seq) => Effect.succeed(forged.filter((r) => r.seq > seq))
    }
    const setup = engineSetupFor({ day: day.header, config: defaultConfig, policy: "engine", model, enabled: true })
    // Only the audit is asked before refusing: no other service is reached.
    const exit = await Effect.runPromiseExit(
      Effect.provideContext(SessionEngine.resume(setup), Context.make(AuditLog, audit) as Context.Context<EngineServices>)
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const message = JSON.stringify(exit)
    expect(message).toContain("RestoreRefused")
    expect(message).toContain(`the rows written after the checkpoint at seq ${from.seq} do not re-drive`)
    expect(message).toContain(`diverges at seq ${answer.seq}`)
  })
})
