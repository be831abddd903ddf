// Model-based tests of the session machine: xstate/graph walks every transition reachable with a
// finite alphabet of events (clock instants, turn requests, buy requests, hedge reports, operator
// commands, the exit review's results and its failure) and the day's rules are checked on every step.
// The session's messages to its children become named actions; the hedge reports it gets are the
// ones a hedge can send from the status its record holds (the environment keeps the protocol).
import { describe, expect, it } from "vitest"
import { transition, type AnyStateMachine } from "xstate"
import { getAdjacencyMap } from "xstate/graph"
import { cooldownUntilOf, sessionMachine, spendLeftOf, type HedgeRecord, type SessionContext, type SessionEvent, type SessionInput } from "../../machines/session.ts"
import type { HedgeStatus, HedgeUpdate } from "../../machines/protocol.ts"
import type { HedgePick } from "../../src/domain/selection.ts"

const T = (minute: number) => 1_000_000 + minute * 60_000
const legs = [
  { side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 },
  { side: "SELL", optionType: "PE", strikeOffset: 0, lotsPerBasket: 1 }
] as const
const input: SessionInput = {
  date: "2026-02-10",
  index: "NIFTY",
  expiry: "2026-02-10",
  expiryDay: true,
  baskets: 10,
  budget: 10_000_000,
  policy: "engine",
  enabled: true,
  openAt: T(0),
  closeAt: T(60),
  eodAt: T(65),
  entries: [
    { id: "entry:A", portfolio: "A", lookaheadAt: T(5), entryAt: T(10), exitAt: T(40), missAt: T(15), legs },
    { id: "entry:B", portfolio: "B", lookaheadAt: T(15), entryAt: T(20), exitAt: null, missAt: T(25), legs }
  ],
  entryRules: { triggerPct: 95, targetPct: 85, infoPct: 85, recheckEveryMs: 60_000, weighCost: true, breachCostPerEntry: 20_000, buyWhenBreachUnavoidable: false },
  hedgeRules: { limitPriceBuffer: 0.1, minExitPrice: 0.5, fillTimeoutMs: 60_000, orderPollMs: 5_000, maxReprices: 2 },
  cooldownMs: 2 * 60_000,
  exitBufferMs: 5 * 60_000,
  spendCap: 10_000
}
const ENTRIES = input.entries.map((e) => e.id)
/** Hedges the walk buys in all, the engine's or the trader's: the model stays finite (two make it ten times larger). */
const MAX_HEDGES = 1

const pick: HedgePick = { strike: 24_500, optionType: "PE", ltp: 3, limitPrice: 3.1, otmDistance: 500, lots: 15, quantity: 975, cost: 3_000, benefit: 1_800_000 }
const buyFor = (entryId: string): SessionEvent => ({
  type: "BUY_HEDGES",
  entryId,
  portfolio: entryId.slice("entry:".length),
  utilisationBefore: 90,
  selection: { picks: [pick], cost: pick.cost, benefit: pick.benefit, shortfall: 0, limitedBy: "none" }
})
const manualBuy = (cost: number): SessionEvent => ({ type: "MANUAL_BUY", strike: 24_400, optionType: "PE", quantity: 975, limitPrice: null, cost, utilisationBefore: 50 })
const report = (h: HedgeRecord, status: HedgeStatus, quantity: number, cash: number): HedgeUpdate => ({ type: "HEDGE_UPDATE", hedgeId: h.id, forEntry: h.forEntry, status, quantity, cash })
const reviewed = (hedgeId: string | null) => ({ type: "xstate.done.actor.assessExits" as const, output: { hedgeId, reason: "EXCESS_MARGIN", utilisationPct: 40 } })
const reviewFailed = { type: "xstate.error.actor.assessExits" as const, error: new Error("no market data") }

type Snap = ReturnType<typeof sessionMachine.resolveState>
type Event = SessionEvent | ReturnType<typeof reviewed> | typeof reviewFailed
const inState = (s: Snap, state: string) => s.matches(state as never)

/** What a hedge can report from the status its record holds (hedge.ts's reportFill, reportNothingDone, reportExpired). */
const hedgeReports = (s: Snap): ReadonlyArray<HedgeUpdate> =>
  Object.values(s.context.hedges).flatMap((h) => {
    switch (h.status) {
      case "ordering":
        return [report(h, "open", h.quantity, 2_900), report(h, "cancelled", 0, 0)]
      case "exiting":
        return [report(h, "closed", 0, 400), report(h, "open", h.held, 0)]
      case "open":
        return inState(s, "closing") ? [report(h, "expired", 0, 100)] : []
      default:
        return []
    }
  })

/**
 * The alphabet at a state: what can happen next in a running day. The market's clock only moves
 * forward; an entry asks for the turn when it has none and hands it back when it has it (or is
 * queued); only the entry holding the turn asks to buy, up to MAX_HEDGES hedges in all (the model
 * stays finite); the platform's A leaves and B is missed, once each; the trader buys and exits a
 * hedge by hand. A toggle and ENTRY_SEEN are left out: they change only what the next grant carries
 * and where an entry was struck, rules the session does not decide by, and each doubles every state.
 */
const eventsAt = (s: Snap): ReadonlyArray<Event> => {
  const c = s.context
  // While the review decides, the trader may exit a hedge by hand and a hedge may report (the machine
  // does not rely on the runtime settling the review first). Its answer names one of the hedges it was
  // asked about (the engine's, open when asked: open, or since exited or sold) or none.
  if (inState(s, "trading.reviewingExits")) {
    const askedAbout = Object.values(c.hedges).filter((h) => !h.manual && ["open", "exiting", "closed"].includes(h.status))
    return [
      ...askedAbout.map((h) => reviewed(h.id)),
      reviewed(null),
      reviewFailed,
      ...Object.values(c.hedges).filter((h) => h.status === "open").map((h): SessionEvent => ({ type: "MANUAL_EXIT", hedgeId: h.id })),
      ...hedgeReports(s)
    ]
  }
  const waiting = (id: string) => c.turnHolder === id || c.turnQueue.includes(id)
  return [
    ...[T(0), T(7), T(30), T(60), T(65)].filter((at) => at > c.now || (at === c.now && inState(s, "preOpen"))).map((at): SessionEvent => ({ type: "CLOCK", at, spot: 25_000 })),
    ...ENTRIES.map((entryId): SessionEvent => (waiting(entryId) ? { type: "TURN_DONE", entryId } : { type: "REQUEST_TURN", entryId })),
    ...(c.hedgeSeq < MAX_HEDGES ? [...(c.turnHolder === null ? [] : [buyFor(c.turnHolder)]), manualBuy(1_000), manualBuy(50_000)] : []),
    ...hedgeReports(s),
    ...Object.values(c.hedges).filter((h) => h.status === "open").map((h): SessionEvent => ({ type: "MANUAL_EXIT", hedgeId: h.id })),
    ...(c.leftEntries.includes("entry:A") ? [] : [{ type: "ENTRY_EXITED", entryId: "entry:A", at: T(40), reason: "SL_HIT" } as const]),
    ...(c.leftEntries.includes("entry:B") ? [] : [{ type: "ENTRY_MISSED", entryId: "entry:B" } as const]),
    { type: "HEDGE_NOW" }
  ]
}

// States are told apart by value and the context the rules read (not the spawned children).
const serializeState = (s: Snap) => {
  const c = s.context
  // A hedge's money follows from the statuses it went through: its status and owner tell it apart.
  const hedges = Object.values(c.hedges).map((h) => [h.status, h.manual, h.forEntry])
  return JSON.stringify([s.value, c.now, c.enabled, c.turnHolder, c.turnQueue, c.lastActionAt, hedges, [...c.leftEntries].sort()])
}

// Alone, the session's children are not running: what it forwards to them becomes named actions.
const model: AnyStateMachine = sessionMachine.provide({ actions: { forwardToChildren: () => {}, forwardToEntry: () => {}, closeChildren: () => {}, forwardHedgeNow: () => {} } })
type Action = { readonly type: string; readonly params?: unknown }
const actionsTaken = new WeakMap<object, ReadonlyArray<Action>>()
/** A transition that changes nothing gives back the state it was given: its actions are kept by state and event. */
const selfLoops = new WeakMap<object, Record<string, ReadonlyArray<Action>>>()
// Each transition is taken once, through xstate's pure `transition` (a fresh system each time: the
// same hedge is spawned on many paths), its actions kept by the state it led to.
const walked = Object.create(model, {
  transition: {
    value: (state: Snap, event: Event) => {
      const [next, actions] = transition(model, state as never, event as never)
      if (next === state) selfLoops.set(state, { ...selfLoops.get(state), [event.type]: actions as ReadonlyArray<Action> })
      else actionsTaken.set(next, actions as ReadonlyArray<Action>)
      return next
    }
  }
}) as AnyStateMachine
const graph = getAdjacencyMap(walked, {
  input,
  events: eventsAt,
  // Only the events a state takes: an ignored one would be a step that changes nothing (and an error
  // event nobody handles would stop the session, which no running session is ever sent).
  filterEvents: (s: Snap, e: Event) => s.can(e as never),
  serializeState
} as never) as unknown as Record<string, { state: Snap; transitions: Record<string, { event: Event; state: Snap }> }>

const steps = Object.values(graph).flatMap((node) =>
  Object.values(node.transitions).map((t) => ({
    before: node.state,
    event: t.event,
    after: t.state,
    actions: (t.state === node.state ? selfLoops.get(t.state)?.[t.event.type] : actionsTaken.get(t.state))!
  }))
)
type Step = (typeof steps)[number]
const describeStep = ({ before, event, after }: Step) => `${JSON.stringify(before.value)} @${before.context.now} --${event.type}--> ${JSON.stringify(after.value)}`
/** The steps that break a rule, described (the test expects none). */
const breaking = (rule: (step: Step) => boolean) => steps.filter((step) => !rule(step)).map(describeStep)

const sent = (actions: ReadonlyArray<Action>, type: string) =>
  actions.flatMap((a) => {
    const p = a.params as { to?: unknown; event?: { type: string } } | undefined
    return a.type === "xstate.sendTo" && p?.event?.type === type ? [{ to: (p.to as { id: string }).id, event: p.event as Record<string, unknown> }] : []
  })
const emitted = (actions: ReadonlyArray<Action>) =>
  actions.flatMap((a) => (a.type === "xstate.emit" ? [(a.params as { event: { alert: { kind: string; details: Record<string, unknown> } } }).event.alert] : []))
const sum = (c: SessionContext, field: "paid" | "received" | "reserved") => Object.values(c.hedges).reduce((s, h) => s + h[field], 0)
const entriesNotLeft = (c: SessionContext) => c.entries.filter((e) => !c.leftEntries.includes(e.id))

describe("session machine, every reachable transition", () => {
  it("reaches every state, the exit review's outcomes and its failure", () => {
    const reached = new Set(Object.values(graph).map((n) => JSON.stringify(n.state.value)))
    for (const state of ["preOpen", { trading: "watching" }, { trading: "reviewingExits" }, "closing", "closed"]) {
      expect(reached, JSON.stringify(state)).toContain(JSON.stringify(state))
    }
    const taken = new Set(steps.map((s) => s.event.type))
    for (const type of ["xstate.done.actor.assessExits", "xstate.error.actor.assessExits", "BUY_HEDGES", "MANUAL_BUY", "MANUAL_EXIT", "HEDGE_UPDATE", "TURN_DONE"]) expect(taken).toContain(type)
    expect(steps.length).toBeGreaterThan(1000)
  })

  it("grants the decision turn to one entry at a time, in the order they asked, with the day's spend left and cooldown", () => {
    const grants = steps.filter(({ actions }) => sent(actions, "TURN_GRANTED").length > 0)
    expect(grants.length).toBeGreaterThan(0)
    expect(
      breaking(({ before, event: e, after, actions }) => {
        const q = after.context.turnQueue
        const granted = sent(actions, "TURN_GRANTED")
        const wellFormed = new Set(q).size === q.length && (after.context.turnHolder === null || !q.includes(after.context.turnHolder))
        if (granted.length === 0) return wellFormed && (after.context.turnHolder === before.context.turnHolder || after.context.turnHolder === null)
        const [{ to, event }] = granted as [ReturnType<typeof sent>[number]]
        // The first in line: the queue as it was, less an entry that handed its turn back, plus one that just asked.
        const line = [...before.context.turnQueue, ...(e.type === "REQUEST_TURN" ? [e.entryId] : [])].filter((id) => e.type !== "TURN_DONE" || id !== e.entryId)
        return (
          wellFormed &&
          granted.length === 1 &&
          // Free, or just handed back by its holder.
          (before.context.turnHolder === null || (e.type === "TURN_DONE" && before.context.turnHolder === e.entryId)) &&
          after.context.turnHolder === to &&
          line[0] === to &&
          event.spendLeft === spendLeftOf(before.context) &&
          event.cooldownUntil === cooldownUntilOf(before.context) &&
          event.enabled === before.context.enabled
        )
      })
    ).toEqual([])
  })

  it("keeps the day's money straight: spend is what the hedges paid, recovery what they received, reservations released when a buy settles", () => {
    expect(
      breaking(({ after }) => {
        const c = after.context
        return (
          c.grossSpend === sum(c, "paid") &&
          c.recovered === sum(c, "received") &&
          Object.values(c.hedges).every((h) => h.status === "ordering" || h.reserved === 0)
        )
      })
    ).toEqual([])
  })

  it("a manual buy is held to the spend left; refused, it changes nothing; neither a manual buy nor a manual exit starts the cooldown", () => {
    const manual = steps.filter(({ event }) => event.type === "MANUAL_BUY" || event.type === "MANUAL_EXIT")
    expect(manual.some(({ before, after }) => after.context.hedgeSeq > before.context.hedgeSeq)).toBe(true)
    expect(
      breaking(({ before, event, after }) => {
        if (event.type !== "MANUAL_BUY" && event.type !== "MANUAL_EXIT") return true
        if (after.context.lastActionAt !== before.context.lastActionAt) return false
        if (event.type === "MANUAL_EXIT") return true
        const bought = after.context.hedgeSeq > before.context.hedgeSeq
        return bought ? event.cost <= spendLeftOf(before.context) && spendLeftOf(after.context) >= 0 : serializeState(before) === serializeState(after)
      })
    ).toEqual([])
  })

  it("takes the trader's hedge-now only while trading with auto-hedge on, no entry deciding or asking, and an entry ahead; it changes nothing of its own and forwards it", () => {
    const ask = { type: "HEDGE_NOW" } as const
    const nodes = Object.values(graph).map((n) => n.state)
    const allowed = (s: Snap) =>
      inState(s, "trading") &&
      s.context.enabled &&
      s.context.turnHolder === null &&
      s.context.turnQueue.length === 0 &&
      entriesNotLeft(s.context).some((e) => e.entryAt > s.context.now)
    expect(nodes.some(allowed)).toBe(true)
    expect(nodes.some((s) => inState(s, "trading") && !allowed(s))).toBe(true)
    expect(nodes.filter((s) => s.can(ask as never) !== allowed(s)).map((s) => `${JSON.stringify(s.value)} @${s.context.now}`)).toEqual([])
    const taken = steps.filter(({ event }) => event.type === "HEDGE_NOW")
    expect(breaking((step) => step.event.type !== "HEDGE_NOW" || (serializeState(step.before) === serializeState(step.after) && step.actions.some((a) => a.type === "forwardHedgeNow")))).toEqual([])
    expect(taken.length).toBeGreaterThan(0)
  })

  it("an engine buy spawns one hedge per pick for the entry that asked, and starts the cooldown", () => {
    expect(
      breaking(({ before, event, after, actions }) => {
        if (event.type !== "BUY_HEDGES") return true
        const added = Object.values(after.context.hedges).filter((h) => !(h.id in before.context.hedges))
        return (
          added.length === event.selection.picks.length &&
          added.every((h) => h.forEntry === event.entryId && h.status === "ordering" && !h.manual) &&
          actions.filter((a) => a.type === "xstate.spawnChild").length === added.length &&
          after.context.lastActionAt === before.context.now
        )
      })
    ).toEqual([])
  })

  it("reviews exits only on the clock, with no entry deciding or asking, engine hedges open, outside the cooldown (unless every entry has left) and no entry in its look-ahead or due within the buffer", () => {
    const reviews = steps.filter(({ before, after }) => !inState(before, "trading.reviewingExits") && inState(after, "trading.reviewingExits"))
    expect(reviews.length).toBeGreaterThan(0)
    expect(
      breaking(({ before, event, after }) => {
        if (inState(before, "trading.reviewingExits") || !inState(after, "trading.reviewingExits")) return true
        const c = before.context
        if (event.type !== "CLOCK") return false
        const now = event.at
        const notLeft = entriesNotLeft(c)
        return (
          c.turnHolder === null &&
          c.turnQueue.length === 0 &&
          Object.values(c.hedges).some((h) => h.status === "open" && !h.manual) &&
          (notLeft.length === 0 || now >= cooldownUntilOf(c)) &&
          !notLeft.some((e) => e.entryAt >= now && (e.entryAt <= now + c.exitBufferMs || e.lookaheadAt <= now))
        )
      })
    ).toEqual([])
  })

  it("acts on the exit review's answer: sells the hedge it names if still open and the engine's; a failed review sells nothing, is alerted and watching resumes", () => {
    const answers = steps.filter(({ event }) => event.type.startsWith("xstate.done.actor.assessExits") || event.type.startsWith("xstate.error.actor.assessExits"))
    expect(answers.some(({ event }) => event.type === "xstate.error.actor.assessExits")).toBe(true)
    expect(
      breaking(({ before, event, after, actions }) => {
        const exits = sent(actions, "EXIT")
        if (event.type === "xstate.error.actor.assessExits") {
          return (
            inState(after, "trading.watching") &&
            exits.length === 0 &&
            emitted(actions).some((a) => a.kind === "EXIT_REVIEW_FAILED") &&
            JSON.stringify(after.context.hedges) === JSON.stringify(before.context.hedges)
          )
        }
        if (event.type !== "xstate.done.actor.assessExits") return true
        const named = event.output.hedgeId
        const stillOpen = named !== null && before.context.hedges[named]?.status === "open" && !before.context.hedges[named]!.manual
        // Named but exited by the trader (or sold) meanwhile: nothing is sent, the record is left as it is.
        if (!stillOpen) return inState(after, "trading.watching") && exits.length === 0 && JSON.stringify(after.context.hedges) === JSON.stringify(before.context.hedges)
        return inState(after, "trading.watching") && exits.length === 1 && exits[0]!.to === named && after.context.hedges[named]?.status === "exiting"
      })
    ).toEqual([])
  })

  it("tells a hedge to exit only while it is open, and only by the review or the trader", () => {
    expect(steps.some(({ actions }) => sent(actions, "EXIT").length > 0)).toBe(true)
    expect(
      breaking(({ before, event, actions }) =>
        sent(actions, "EXIT").every(
          ({ to }) => before.context.hedges[to]?.status === "open" && (event.type === "MANUAL_EXIT" || event.type === "xstate.done.actor.assessExits")
        )
      )
    ).toEqual([])
  })

  it("opens on the clock at the open, closes its children at the close, and ends with the day's summary at the summary time", () => {
    expect(
      breaking(({ before, event, after, actions }) => {
        const at = event.type === "CLOCK" ? event.at : Number.NaN
        const arrived = (state: string) => !inState(before, state) && inState(after, state)
        const kinds = emitted(actions).map((a) => a.kind)
        if (arrived("trading") && !(at >= input.openAt && kinds.includes("SESSION_STARTED"))) return false
        if (arrived("closing") && !(at >= input.closeAt && actions.some((a) => a.type === "closeChildren"))) return false
        if (arrived("closed")) {
          const summary = emitted(actions).find((a) => a.kind === "EOD_SUMMARY")
          const c = after.context
          return at >= input.eodAt && summary !== undefined && summary.details.netSpend === c.grossSpend - c.recovered && summary.details.hedges === Object.keys(c.hedges).length
        }
        return kinds.includes("SESSION_STARTED") === arrived("trading")
      })
    ).toEqual([])
  })
})
