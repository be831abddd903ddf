// The simulator on the bundled week and the example day: determinism, the engine against the
// baselines, and the day-level rules (spend cap, cooldown, exits, disabled flag) on real replays.
import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { defaultConfig, type HedgeConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay, type RecordedDay } from "../../src/domain/recorded-day.ts"
import { auditDigest } from "../../src/runtime/audit-recorder.ts"
import { replayDay, type ReplayResult } from "../../simulations/replay.ts"
import { totalsOf } from "../../simulations/report.ts"
import type { Policy } from "../../machines/protocol.ts"

const DAYS_DIR = "simulations/days"
const week: ReadonlyArray<{ file: string; day: RecordedDay }> = readdirSync(DAYS_DIR)
  .filter((f) => f.endsWith(".jsonl"))
  .sort()
  .map((f) => ({ file: f, day: parseRecordedDay(readFileSync(join(DAYS_DIR, f), "utf8"), f) }))
const example = parseRecordedDay(readFileSync("test/fixtures/days/2026-02-03-nifty-example.jsonl", "utf8"), "example")

const run = (day: RecordedDay, policy: Policy, config: HedgeConfig = defaultConfig) => {
  const model = constantsMarginModel(config.marginConstants)
  return replayDay(day, { config, policy, truth: model, estimate: model })
}

const tuesday = week.find((w) => w.day.header.date === "2026-02-10")!.day

describe("determinism", () => {
  it("the same day and configuration give identical audit rows, alerts and report", async () => {
    const a = await run(tuesday, "engine")
    const b = await run(tuesday, "engine")
    expect(a.rows.length).toBeGreaterThan(100)
    expect(b.rows).toEqual(a.rows)
    expect(b.alerts).toEqual(a.alerts)
    expect(b.report).toEqual(a.report)
    expect(auditDigest(b.rows)).toBe(a.report.auditDigest)
  })

  it("links each transition to the one that sent its event", async () => {
    const { rows } = await run(tuesday, "engine")
    const bySeq = new Map(rows.map((r) => [r.seq, r]))
    for (const r of rows) if (r.causation !== null) expect(r.causation).toBeLessThan(r.seq)
    // Outside events have no cause inside the engine.
    for (const r of rows.filter((x) => x.actorId === "session" && x.event === "CLOCK")) expect(r.causation).toBeNull()
    // The turn is granted because it was asked for; the ask comes from the entry's look-ahead.
    const granted = rows.find((r) => r.event === "TURN_GRANTED")!
    const asked = bySeq.get(granted.causation!)!
    expect(asked).toMatchObject({ actorId: "session", event: "REQUEST_TURN" })
    expect(bySeq.get(asked.causation!)).toMatchObject({ actorId: granted.actorId, to: "lookahead" })
    // A service's answer is caused by the transition that started the service.
    const placed = rows.find((r) => r.event === "xstate.done.actor.placeOrder")!
    expect(bySeq.get(placed.causation!)).toMatchObject({ actorId: placed.actorId, to: "ordering.placing" })
  })

  it("a different configuration changes the decisions (the digest is sensitive)", async () => {
    const a = await run(tuesday, "engine")
    const b = await run(tuesday, "engine", { ...defaultConfig, entryTriggerPct: 60, entryTargetPct: 50, exitTriggerPct: 40 })
    expect(b.report.auditDigest).not.toBe(a.report.auditDigest)
  })
})

describe("the bundled week", () => {
  const results = new Map<Policy, ReadonlyArray<ReplayResult>>()
  beforeAll(async () => {
    for (const policy of ["engine", "static", "none"] as const) {
      const out = []
      for (const { day } of week) out.push(await run(day, policy))
      results.set(policy, out)
    }
  })
  const totals = (p: Policy) => totalsOf(results.get(p)!.map((r) => r.report))

  it("has four scheduled days and every entry is seen entered", () => {
    expect(week.map((w) => `${w.day.header.date} ${w.day.header.index}`)).toEqual([
      "2026-02-09 NIFTY",
      "2026-02-10 NIFTY",
      "2026-02-12 SENSEX",
      "2026-02-13 NIFTY"
    ])
    for (const p of ["engine", "static", "none"] as const) expect(totals(p).missedEntries).toBe(0)
    expect(totals("engine").entries).toBe(36)
  })

  it("the engine spends less than static hedging, with no more breaches", () => {
    const engine = totals("engine")
    const fixed = totals("static")
    expect(engine.netSpend).toBeLessThan(fixed.netSpend)
    expect(engine.grossSpend).toBeLessThan(fixed.grossSpend)
    expect(engine.breaches).toBeLessThanOrEqual(fixed.breaches)
  })

  it("never hedging costs nothing and breaches most", () => {
    const none = totals("none")
    expect(none.grossSpend).toBe(0)
    expect(none.hedges).toBe(0)
    expect(none.breaches).toBeGreaterThan(totals("engine").breaches)
  })

  it("every audit trail is one continuous sequence and every entry ends exited or missed", () => {
    for (const r of results.get("engine")!) {
      expect(r.rows.map((x) => x.seq)).toEqual(r.rows.map((_, i) => i + 1))
      const entries = new Set(r.rows.filter((x) => x.kind === "entry").map((x) => x.actorId))
      for (const id of entries) {
        const last = r.rows.filter((x) => x.actorId === id).at(-1)!
        expect(["exited", "missed"], id).toContain(last.to)
      }
      expect(r.rows.filter((x) => x.kind === "session").at(-1)!.to).toBe("closed")
    }
  })

  it("engine hedge actions (buys and sells) are never inside the cooldown while an entry is still in", () => {
    const cooldownMs = defaultConfig.cooldownSeconds * 1000
    for (const [i, r] of results.get("engine")!.entries()) {
      // Once every entry has left, the hedges protect nothing: they all go, without waiting.
      const exits = r.rows.filter((x) => x.actorId === "session" && x.event === "ENTRY_EXITED").map((x) => x.at)
      const everyEntryLeftAt = exits.length === week[i]!.day.header.entries.length ? Math.max(...exits) : Number.POSITIVE_INFINITY
      const actions = r.rows
        .filter(
          (x) =>
            x.kind === "session" &&
            (x.event === "BUY_HEDGES" ||
              (x.event === "xstate.done.actor.assessExits" && (x.payload as { output: { hedgeId: string | null } }).output.hedgeId !== null))
        )
        .map((x) => x.at)
      expect(actions.length).toBeGreaterThan(0)
      for (let k = 1; k < actions.length; k++) if (actions[k]! < everyEntryLeftAt) expect(actions[k]! - actions[k - 1]!).toBeGreaterThanOrEqual(cooldownMs)
    }
  })

  it("sells every hedge it bought before the close once every entry has left (none carried at ₹0)", async () => {
    // The Friday's afternoon sets bring no entry under 100 % but cut its shortfall: bought (the
    // default), they make the several hedges this rule is about.
    const day = week.find((w) => w.day.header.date === "2026-02-13")!.day
    const friday = await run(day, "engine", defaultConfig)
    // Bought for three entries; the last entries leave at 15:25, five minutes before the close.
    expect(friday.report.hedges.length).toBeGreaterThan(1)
    for (const h of friday.report.hedges) expect([h.closedAt, h.status], h.symbol).toEqual([expect.stringMatching(/^15:2/), "closed"])
  })

  it("a hedge is sold only below the exit threshold, and only when the sale keeps projected utilisation under the trigger", () => {
    let sales = 0
    for (const r of results.get("engine")!) {
      for (const x of r.rows) {
        if (x.event !== "xstate.done.actor.assessExits") continue
        const d = (x.payload as { output: { hedgeId: string | null; utilisationPct: number; reason: string } }).output
        if (d.hedgeId === null) continue
        sales++
        expect(d.utilisationPct).toBeLessThan(defaultConfig.exitTriggerPct)
        expect(d.reason).toBe("EXCESS_MARGIN")
      }
    }
    expect(sales).toBeGreaterThan(0)
  })

  it("the session's spend and recoveries equal the paper broker's fills", () => {
    for (const r of results.get("static")!) {
      const bought = r.report.hedges.reduce((s, h) => s + h.paid, 0)
      expect(r.report.grossSpend).toBeCloseTo(bought, 2)
      expect(r.report.netSpend).toBeCloseTo(r.report.grossSpend - r.report.recovered, 2)
    }
  })
})

describe("day rules on replays", () => {
  it("the daily spend cap is never exceeded, and reaching it is alerted", async () => {
    // What ₹2,500 buys brings no entry of the day under 100 %, but cuts its shortfall: bought by default.
    const cap = 2500
    const r = await run(tuesday, "engine", { ...defaultConfig, maxHedgeCostPerDay: cap })
    expect(r.report.grossSpend).toBeGreaterThan(0)
    expect(r.report.grossSpend).toBeLessThanOrEqual(cap)
    expect(r.alerts.map((a) => a.alert.kind)).toContain("SPEND_CAP_REACHED")
  })

  it("with buyWhenBreachUnavoidable off, spend that brings no entry under 100 % is not made, and the trader is told why", async () => {
    const r = await run(tuesday, "engine", { ...defaultConfig, maxHedgeCostPerDay: 2500, buyWhenBreachUnavoidable: false })
    expect(r.report.grossSpend).toBe(0)
    const declined = r.alerts.filter((a) => a.alert.kind === "BREACH_UNAVOIDABLE")
    expect(declined.length).toBeGreaterThan(0)
    for (const a of declined) expect(Number(a.alert.details.projectedAfterPct)).toBeGreaterThan(100)
  })

  it("with auto-hedge disabled nothing is bought and each needed hedge is announced", async () => {
    const model = constantsMarginModel(defaultConfig.marginConstants)
    const disabled = await replayDay(tuesday, { config: defaultConfig, policy: "engine", truth: model, estimate: model, enabled: false })
    expect(disabled.report.hedges).toHaveLength(0)
    expect(disabled.alerts.filter((a) => a.alert.kind === "HEDGE_NEEDED_DISABLED").length).toBeGreaterThan(0)
  })

  it("no hedge is bought when no entry would cross the trigger", async () => {
    // A budget five times larger: utilisation never gets near 95 %.
    const roomy: RecordedDay = { ...tuesday, header: { ...tuesday.header, budgetPerBasket: tuesday.header.budgetPerBasket * 5 } }
    const r = await run(roomy, "engine")
    expect(r.report.peakUtilization).toBeLessThan(defaultConfig.entryTriggerPct)
    expect(r.report.hedges).toHaveLength(0)
    expect(r.report.grossSpend).toBe(0)
  })

  it("a buy not filled by the entry time is cancelled: no order is left working after its entry", async () => {
    // A market whose offers stand above the last price: limits a tick under it rest, re-price, and
    // (the example day ticks every 5 minutes) cannot all fill before their entry.
    const r = await run(example, "engine", { ...defaultConfig, limitPriceBuffer: -0.05 })
    const cancelled = r.report.hedges.filter((h) => h.status === "cancelled")
    expect(cancelled.length).toBeGreaterThan(0)
    for (const h of cancelled) {
      const entryTime = example.header.entries.find((e) => `entry:${e.portfolio}` === h.forEntry)!.entryTime
      const last = r.rows.filter((x) => x.actorId === h.id).at(-1)!
      expect(last.to).toBe("cancelled")
      expect(last.at).toBeLessThanOrEqual(instantOf(example.header.date, entryTime))
    }
  })
})
