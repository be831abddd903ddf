// A daemon restarted mid-day: the shorts carried in from an earlier day (the position feed's baseline,
// CARRIED_AT_OPEN) are recorded on the day's session row by the first start before the first entry and
// read back by the restart, so the restarted feed does not take them for the day's entries
// (from the review's proof: before, it reported an entry B that never came and "A exited" when the
// trader closed the carried straddle while A was in).
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { expect, it } from "vitest"
import { openSession } from "../../adapters/postgres/engine-store.ts"
import { shortsAtOpen } from "../../src/daemon/carried.ts"
import type { DaemonLog } from "../../src/daemon/log.ts"
import { CARRIED_AT_OPEN, PositionWatcher } from "../../src/daemon/position-feed.ts"
import type { Position } from "../../src/domain/market.ts"
import { tradingSessionOf } from "../../src/domain/session.ts"
import { instantOf } from "../../src/domain/time.ts"
import { forEachServer } from "../fixtures/databases.ts"
import { niftyDayPlan, straddle } from "../fixtures/entries.ts"

const plan = niftyDayPlan([straddle("A", "09:30:00", null), straddle("B", "11:00:00", null)])
const at = (t: string) => instantOf(plan.date, t)
const pair = (strike: number, q: number): ReadonlyArray<Position> => [
  { strike, optionType: "CE", quantity: q, expiry: plan.expiry },
  { strike, optionType: "PE", quantity: q, expiry: plan.expiry }
]
const carried = pair(24_900, -130) // Monday's straddle, held into Tuesday
const a = pair(25_000, -130)
const wings = pair(24_000, 130) // longs are not the feed's
const looks: ReadonlyArray<[string, ReadonlyArray<Position>]> = [
  ["10:00:00", [...carried, ...a]],
  ["11:00:00", [...carried, ...a]], // B not in yet at its time
  ["12:00:00", [...a]] // the trader closes Monday's straddle; A is still in, B never came
]
const dayEvents = (w: PositionWatcher) => w.events.filter((e) => e.portfolio !== CARRIED_AT_OPEN).map((e) => `${e.kind} ${e.portfolio}`)

const logged = () => {
  const lines: Array<string> = []
  const log: DaemonLog = { write: (level, _actor, message) => void lines.push(`${level} ${message}`), forSession: () => log }
  return { log, lines }
}
/** The watcher a start of the daemon builds (daemon.ts runDay): its baseline from shortsAtOpen. */
const watcherOf = (baseline: ReadonlyArray<Position> | null) => {
  const w = new PositionWatcher(plan)
  if (baseline !== null) w.setBaseline(baseline)
  return w
}
let day = 0
const session = () =>
  openSession(tradingSessionOf({ date: `2026-01-${String(++day).padStart(2, "0")}`, index: "NIFTY", expiry: plan.expiry, baskets: 2, budgetPerBasket: 1_000_000, autoHedgeEnabled: true, mode: "live" }), "engine", false)

forEachServer("the shorts held at the open, across a restart", (db) => {
  it("a restarted watcher reports the same events as the one that started before the entries", () =>
    db.run(Effect.gen(function*() {
      const id = yield* session()
      const first = logged()
      const firstStart = yield* shortsAtOpen(id, { beforeEntries: true, positions: [...carried, ...wings], expiry: plan.expiry }, first.log)
      expect(firstStart).toEqual(carried)
      // Restarted at 10:30, after A: the account holds the carried straddle and A's.
      const second = logged()
      const restart = yield* shortsAtOpen(id, { beforeEntries: false, positions: [...carried, ...a, ...wings], expiry: plan.expiry }, second.log)
      expect(restart).toEqual(carried)
      expect(second.lines).toEqual([])
      const before = watcherOf(firstStart)
      const restarted = watcherOf(restart)
      for (const [t, p] of looks) {
        before.observe(at(t), p)
        restarted.observe(at(t), p)
      }
      expect(dayEvents(before)).toEqual(["entered A"])
      expect(dayEvents(restarted)).toEqual(["entered A"])
      expect(restarted.events.map((e) => `${e.kind} ${e.portfolio}`)).toEqual(["entered A", `exited ${CARRIED_AT_OPEN}`])
    })))

  it("the first look stands: a restart before the entries reads it back; none carried is recorded as none", () =>
    db.run(Effect.gen(function*() {
      const id = yield* session()
      expect(yield* shortsAtOpen(id, { beforeEntries: true, positions: carried, expiry: plan.expiry }, logged().log)).toEqual(carried)
      expect(yield* shortsAtOpen(id, { beforeEntries: true, positions: [], expiry: plan.expiry }, logged().log)).toEqual(carried)
      const none = yield* session()
      expect(yield* shortsAtOpen(none, { beforeEntries: true, positions: pair(24_900, -130).map((p) => ({ ...p, expiry: "2026-02-17" })), expiry: plan.expiry }, logged().log)).toEqual([])
      const later = logged()
      expect(yield* shortsAtOpen(none, { beforeEntries: false, positions: a, expiry: plan.expiry }, later.log)).toEqual([])
      expect(later.lines).toEqual([])
    })))

  it("positions not read at the start record nothing: the next start looks again", () =>
    db.run(Effect.gen(function*() {
      const id = yield* session()
      const unread = logged()
      expect(yield* shortsAtOpen(id, { beforeEntries: true, positions: null, expiry: plan.expiry }, unread.log)).toBeNull()
      expect(unread.lines).toEqual([expect.stringMatching(/^warn the account's positions could not be read at the start/)])
      expect(yield* shortsAtOpen(id, { beforeEntries: true, positions: carried, expiry: plan.expiry }, logged().log)).toEqual(carried)
    })))

  it("never recorded (a day started before they were kept, or first started after its first entry): no baseline, and a warning saying what to check", () =>
    db.run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const id = yield* session()
      const fresh = logged()
      expect(yield* shortsAtOpen(id, { beforeEntries: false, positions: [...carried, ...a], expiry: plan.expiry }, fresh.log)).toBeNull()
      expect(fresh.lines).toEqual([expect.stringMatching(/^warn started after the first entry: .*Check the account's shorts against the entries due so far/)])
      // The day ran before (its audit has rows) under a version that did not record them.
      const old = yield* session()
      yield* sql`INSERT INTO auto_hedge.transitions (session_id, seq, actor_id, actor_kind, state_from, state_to, event_type, market_time)
        VALUES (${old}, 1, 'session', 'session', '', 'waiting', 'xstate.init', NOW())`
      const restarted = logged()
      expect(yield* shortsAtOpen(old, { beforeEntries: false, positions: [...carried, ...a], expiry: plan.expiry }, restarted.log)).toBeNull()
      expect(restarted.lines).toEqual([expect.stringMatching(/^warn restarted after the first entry, and the shorts held at the open were not recorded .*under-hedged/)])
      // Nothing was recorded on the strength of a look after the entries.
      expect(yield* shortsAtOpen(old, { beforeEntries: true, positions: [], expiry: plan.expiry }, logged().log)).toEqual([])
    })))
}, { migrated: true })
