// Verifying a day from its audit trail alone: the trail's inputs and service answers, run again through
// the same machines, must give the trail back row for row. Replayed and restarted days verify; a trail
// with an answer changed, a row dropped or a clock moved does not, and the first divergence is named.
import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import type { Policy } from "../../machines/protocol.ts"
import type { SessionEvent } from "../../machines/session.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { formatVerification, verifyDay, type Verification } from "../../src/runtime/verify.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import { generateDay, toJsonl } from "../../simulations/generator.ts"
import { straddle } from "../fixtures/entries.ts"
import { parseRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import { auditDigest } from "../../src/runtime/audit-recorder.ts"
import { replayDay, type ReplayResult } from "../../simulations/replay.ts"

const DAYS_DIR = "simulations/days"
const read = (file: string) => parseRecordedDay(readFileSync(file, "utf8"), file)
const tuesday = read(join(DAYS_DIR, "2026-02-10-NIFTY.jsonl"))
const model = constantsMarginModel(defaultConfig.marginConstants)
const replay = (day: RecordedDay, policy: Policy, more: { killAfterCalls?: number; commands?: ReadonlyArray<{ at: number; event: SessionEvent }>; foresight?: boolean } = {}) =>
  replayDay(day, { config: defaultConfig, policy, truth: model, estimate: model, ...more })

const expectVerified = (v: Verification, rows: ReadonlyArray<TransitionRow>) => {
  expect(v, formatVerification(v)).toEqual({ ok: true, transitions: rows.filter((r) => r.event !== "RESTORED").length, digest: auditDigest(rows) })
}

const divergence = (v: Verification) => {
  expect(v.ok, "expected a divergence").toBe(false)
  return v as Extract<Verification, { ok: false }>
}

/** The rows with the ones matching `which` rewritten by `change` (the trail as a forger leaves it). */
const tampered = (rows: ReadonlyArray<TransitionRow>, which: (r: TransitionRow) => boolean, change: (r: TransitionRow) => TransitionRow) =>
  rows.map((r) => (which(r) ? change(structuredClone(r)) : r))

describe("a replayed day verifies", () => {
  it.each(["engine", "static"] as const)("the bundled %s day: every row reproduced, digest of the trail", async (policy) => {
    const r = await replay(tuesday, policy)
    expect(r.rows.length).toBeGreaterThan(500)
    const v = await verifyDay(r.rows)
    expectVerified(v, r.rows)
    if (v.ok) expect(v.digest).toBe(r.report.auditDigest)
    expect(formatVerification(v)).toMatch(new RegExp(`^verified: ${r.rows.length} transitions .*${r.report.auditDigest}`))
  })

  it("every day of the bundled week, for each policy", async () => {
    const files = readdirSync(DAYS_DIR).filter((f) => f.endsWith(".jsonl")).sort()
    expect(files.length).toBeGreaterThanOrEqual(4)
    for (const f of files) {
      for (const policy of ["engine", "static", "none"] as const) {
        const r = await replay(read(join(DAYS_DIR, f)), policy)
        const v = await verifyDay(r.rows)
        expect(v.ok, `${f} ${policy}: ${formatVerification(v)}`).toBe(true)
      }
    }
  }, 60_000)

  it("a day with operator commands (toggles, a manual exit, an exit for an unknown hedge)", async () => {
    const date = "2026-02-10"
    const at = (time: string) => instantOf(date, time)
    const generated = generateDay({
      date,
      index: "NIFTY",
      expiry: date,
      lotSize: 65,
      strikeStep: 50,
      tickSeconds: 60,
      baskets: 15,
      budgetPerBasket: 400_000,
      entries: [straddle("A", "09:30:00", null), straddle("B", "11:00:00", "15:00:00")],
      seed: 11,
      regime: "calm",
      stopFraction: 100
    })
    const r = await replay(parseRecordedDay(toJsonl(generated), "crafted"), "engine", {
      commands: [
        { at: at("10:00:00"), event: { type: "TOGGLE", enabled: false } },
        { at: at("10:30:00"), event: { type: "TOGGLE", enabled: true } },
        { at: at("09:45:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-1" } },
        { at: at("11:00:00"), event: { type: "MANUAL_EXIT", hedgeId: "hedge-404" } }
      ]
    })
    const inputs = new Set(r.rows.filter((x) => x.actorId === "session").map((x) => x.event))
    expect([...inputs].filter((e) => ["TOGGLE", "MANUAL_EXIT", "ENTRY_SEEN", "ENTRY_EXITED"].includes(e)).sort()).toEqual(["ENTRY_EXITED", "ENTRY_SEEN", "MANUAL_EXIT", "TOGGLE"])
    expectVerified(await verifyDay(r.rows), r.rows)
  })
})

describe("a restarted day verifies", () => {
  const killed = async (policy: Policy, killAfterCalls: number): Promise<ReplayResult> => {
    const r = await replay(tuesday, policy, { killAfterCalls })
    expect(r.restarts, `kill at call ${killAfterCalls}`).toBe(1)
    expect(r.rows.filter((x) => x.event === "RESTORED")).toHaveLength(1)
    return r
  }

  it.each([
    ["engine", 400],
    ["engine", 150],
    ["engine", 1000],
    ["static", 400]
  ] as const)("%s, the process killed at service call %i: straight through, restart skipped", async (policy, k) => {
    const r = await killed(policy, k)
    expectVerified(await verifyDay(r.rows), r.rows)
  })

  it("at kill points spread over the whole day", async () => {
    const total = (await replay(tuesday, "engine", { killAfterCalls: Number.MAX_SAFE_INTEGER })).serviceCalls
    for (let i = 0; i < 12; i++) {
      const k = 1 + Math.floor((i * (total - 1)) / 12)
      const r = await replay(tuesday, "engine", { killAfterCalls: k })
      const v = await verifyDay(r.rows)
      expect(v.ok, `kill at call ${k}: ${formatVerification(v)}`).toBe(true)
    }
  }, 60_000)
})

describe("a tampered trail is caught where it diverges", () => {
  let rows: ReadonlyArray<TransitionRow> = []
  beforeAll(async () => {
    // Without foresight the day's first projection stays under the trigger: a forged one can push it over.
    rows = (await replay(tuesday, "engine", { foresight: false })).rows
  })
  const find = (p: (r: TransitionRow) => boolean) => {
    const row = rows.find(p)
    expect(row).toBeDefined()
    return row!
  }
  const projectedPct = (pct: number) => (r: TransitionRow) => {
    ;(r.payload as { output: { projectedPct: number } }).output.projectedPct = pct
    return r
  }

  it("an answer changed in one row: the answer's next row disagrees", async () => {
    // The first projection is answered in two rows (measuring -> deciding -> a decision), both carrying it.
    const first = find((r) => r.event === "xstate.done.actor.projectEntry")
    const v = divergence(await verifyDay(tampered(rows, (r) => r.seq === first.seq, projectedPct(99))))
    expect(v.seq).toBe(first.seq + 1)
    expect(v.message).toContain("payload (output.projectedPct)")
    expect(v.expected!.seq).toBe(first.seq + 1)
    expect((v.actual!.payload as { output: { projectedPct: number } }).output.projectedPct).toBe(99)
  })

  it("an answer changed consistently in all its rows: caught at the decision it would have changed", async () => {
    const first = find((r) => r.event === "xstate.done.actor.projectEntry")
    expect(first.to).toBe("projecting.deciding")
    const forged = tampered(rows, (r) => r.actorId === first.actorId && r.event === first.event && (r.seq === first.seq || r.seq === first.seq + 1), projectedPct(99))
    const v = divergence(await verifyDay(forged))
    expect(v.seq).toBe(first.seq + 1)
    expect(v.expected!.to).toBe("awaitingEntry.clear")
    // Over the 95 % trigger the machine would have gone to buy hedges.
    expect(v.actual!.to).toBe("hedging.selecting")
    expect(v.message).toContain("states")
    const text = formatVerification(v).split("\n")
    expect(text).toHaveLength(3)
    expect(text[0]).toContain(`seq ${first.seq + 1}`)
    expect(text[1]).toMatch(/expected: .* projecting\.deciding -> awaitingEntry\.clear on xstate\.done\.actor\.projectEntry \{"output"/)
    expect(text[2]).toMatch(/actual: .* projecting\.deciding -> hedging\.selecting on xstate\.done\.actor\.projectEntry \{"output"/)
  })

  it("a row dropped: the rebuild makes it where the trail has the next one", async () => {
    const dropped = find((r) => r.event === "TURN_GRANTED" && r.seq > 100)
    const v = divergence(await verifyDay(rows.filter((r) => r.seq !== dropped.seq)))
    expect(v.seq).toBe(dropped.seq + 1)
    expect(v.actual).toEqual(dropped)
  })

  it("a service answer dropped: the call finds no answer where it should be, and nothing waits", async () => {
    const answer = find((r) => r.event === "xstate.done.actor.orderStatus")
    const v = divergence(await verifyDay(rows.filter((r) => r.seq !== answer.seq)))
    expect(v.seq).toBe(answer.seq + 1)
    expect(v.actual).toBeNull()
    expect(v.message).toBe(`${answer.actorId} asked orderStatus, but the trail's next row is not its answer`)
  })

  it("a clock event dropped: the transitions it caused are not reproduced", async () => {
    // A tick on which the children moved too.
    const tick = find((r) => r.actorId === "session" && r.event === "CLOCK" && rows[r.seq]?.event === "CLOCK" && rows[r.seq]?.actorId !== "session")
    const v = divergence(await verifyDay(rows.filter((r) => r.seq !== tick.seq)))
    expect(v.seq).toBeGreaterThan(tick.seq)
  })

  it("a clock's time changed: caught at that clock row", async () => {
    const tick = find((r) => r.actorId === "session" && r.event === "CLOCK" && r.at > rows[0]!.at + 3_600_000)
    const v = divergence(await verifyDay(tampered(rows, (r) => r.seq === tick.seq, (r) => ({ ...r, at: r.at + 30_000 }))))
    expect(v.seq).toBe(tick.seq)
    expect(v.message).toContain("time")
  })

  it("a clock moved consistently (row and event): caught no later than the instant's next transition", async () => {
    // A tick whose instant has more rows than the clock alone.
    const tick = find((r) => r.actorId === "session" && r.event === "CLOCK" && rows[r.seq]!.at === r.at && rows[r.seq]!.event !== "CLOCK")
    const later = (r: TransitionRow) => ({ ...r, at: r.at + 1_000, payload: { ...(r.payload as object), at: r.at + 1_000 } })
    const v = divergence(await verifyDay(tampered(rows, (r) => r.seq === tick.seq, later)))
    expect(v.seq).toBeGreaterThanOrEqual(tick.seq)
    expect(v.seq).toBeLessThanOrEqual(tick.seq + 1)
  })

  it("a trail without its start cannot be rebuilt", async () => {
    const v = divergence(await verifyDay(rows.filter((r) => !(r.actorId === "session" && r.event === "xstate.init"))))
    expect(v.message).toMatch(/no session start/)
    expect(divergence(await verifyDay([])).seq).toBe(1)
  })
})
