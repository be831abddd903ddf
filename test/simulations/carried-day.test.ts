// A day that starts with positions carried in (recorded-day version 2): the engine's wings held at the
// open are its hedges, kept while the carried short they cover is held and sold by the normal exit
// rules once the platform has exited it.
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { instantOf } from "../../src/domain/time.ts"
import type { OpeningPosition, RecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import type { Policy } from "../../machines/protocol.ts"
import { calmExpiryDay } from "../fixtures/entries.ts"
import { verifyDay } from "../../src/runtime/verify.ts"

const DATE = "2026-02-10"
const model = constantsMarginModel(defaultConfig.marginConstants)
const UNITS = 975 // 15 baskets × 65

/** The calm expiry day with a short straddle "MON 6" carried in, covered by two wings, exited (or not) at `exitAt`. */
const carriedDay = (exitAt: string | null, wingsCover: string | null = "MON 6"): RecordedDay => {
  const base = calmExpiryDay([], 1_000_000)
  const spot = base.ticks[0]!.spot
  const atm = Math.round(spot / 50) * 50
  const wing = (strike: number, optionType: "CE" | "PE"): OpeningPosition => ({
    strike, optionType, quantity: UNITS, avgPrice: 3, expiry: DATE, origin: wingsCover === null ? { kind: "hedge" } : { kind: "hedge", portfolio: wingsCover }
  })
  const openingPositions: ReadonlyArray<OpeningPosition> = [
    { strike: atm, optionType: "CE", quantity: -UNITS, avgPrice: 80, expiry: DATE, origin: { kind: "entry", portfolio: "MON 6" } },
    { strike: atm, optionType: "PE", quantity: -UNITS, avgPrice: 80, expiry: DATE, origin: { kind: "entry", portfolio: "MON 6" } },
    wing(atm + 300, "CE"),
    wing(atm - 300, "PE")
  ]
  const exits = exitAt === null ? [] : [{ type: "exit" as const, time: exitAt, at: instantOf(DATE, exitAt), portfolio: "MON 6", reason: "TIMED" as const }]
  return { ...base, header: { ...base.header, version: 2, openingPositions }, exits }
}

const replay = (day: RecordedDay, policy: Policy = "engine") => replayDay(day, { config: defaultConfig, policy, truth: model, estimate: model })

describe("a day with carried positions", () => {
  it("the carried wings are the engine's open hedges from the open, paid for on an earlier day", async () => {
    const r = await replay(carriedDay(null))
    const carried = r.report.hedges.filter((h) => h.forEntry === "OVERNIGHT")
    expect(carried.map((h) => [h.id, h.optionType, h.quantity, h.paid])).toEqual([["hedge-carried-1", "CE", UNITS, 0], ["hedge-carried-2", "PE", UNITS, 0]])
    expect(r.report.grossSpend).toBe(0)
    // Never sold while the short they cover is held: they expire with it at the expiry day's close.
    expect(carried.map((h) => h.status)).toEqual(["expired", "expired"])
    expect(r.orders.filter((o) => o.side === "SELL")).toEqual([])
  })

  it("once the platform exits the carried short, the normal exit rules sell its wings, not before", async () => {
    const r = await replay(carriedDay("10:00:00"))
    const sells = r.orders.filter((o) => o.side === "SELL")
    expect(sells.map((o) => o.hedgeId).sort()).toEqual(["hedge-carried-1", "hedge-carried-2"])
    const carried = r.report.hedges.filter((h) => h.forEntry === "OVERNIGHT")
    for (const h of carried) {
      expect(h.status).toBe("closed")
      expect(h.closedAt! >= "10:00:00", `${h.id} sold at ${h.closedAt}`).toBe(true)
      expect(h.received).toBeGreaterThan(0)
    }
    expect(r.report.recovered).toBe(carried.reduce((t, h) => t + h.received, 0))
    // The session heard of the carried exit; the review that sold them gave the normal rule's reason.
    expect(r.rows.some((x) => x.actorId === "session" && x.event === "ENTRY_EXITED" && (x.payload as { entryId: string }).entryId === "entry:MON 6")).toBe(true)
    const reasons = r.rows.filter((x) => x.event === "xstate.done.actor.assessExits").map((x) => (x.payload as { output: { reason: string; hedgeId: string | null } }).output)
    expect(reasons.filter((o) => o.hedgeId !== null).map((o) => o.reason)).toEqual(["EXCESS_MARGIN", "EXCESS_MARGIN"])
    // Audited like any hedge: the carried wings' rows rebuild through the machines.
    expect(r.rows.filter((x) => x.actorId === "hedge-carried-1")[0]).toMatchObject({ from: "", to: "open" })
    expect((await verifyDay(r.rows)).ok).toBe(true)
  })

  it("a wing that names no portfolio covers every carried portfolio short on its side", async () => {
    const held = await replay(carriedDay(null, null))
    expect(held.orders.filter((o) => o.side === "SELL")).toEqual([])
    const exited = await replay(carriedDay("10:00:00", null))
    expect(exited.report.hedges.filter((h) => h.forEntry === "OVERNIGHT").map((h) => [h.status, h.closedAt! >= "10:00:00"])).toEqual([["closed", true], ["closed", true]])
  })

  it("a wing covering no carried short (none short on its side) is left to the normal rules from the open", async () => {
    const day = carriedDay(null, null)
    const noShorts = { ...day, header: { ...day.header, openingPositions: day.header.openingPositions.filter((p) => p.origin?.kind === "hedge") } }
    const r = await replay(noShorts)
    expect(r.rows.some((x) => x.actorId === "session" && x.to === "trading.reviewingExits" && x.at < instantOf(DATE, "09:20:00"))).toBe(true)
  })

  it("a static policy keeps a carried wing while its short is held, and sells it once the short is gone", async () => {
    const held = await replay(carriedDay(null), "static")
    expect(held.orders.filter((o) => o.side === "SELL")).toEqual([])
    const exited = await replay(carriedDay("11:00:00"), "static")
    const sells = exited.orders.filter((o) => o.side === "SELL")
    expect(sells).toHaveLength(2)
    expect(exited.report.hedges.filter((h) => h.forEntry === "OVERNIGHT").every((h) => h.closedAt! >= "11:00:00")).toBe(true)
  })
})
