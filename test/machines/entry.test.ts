// Model-based tests of the entry machine: xstate/graph walks every transition reachable with a finite
// alphabet of events (clock instants, turn grants, service results, hedge outcomes, observations) and
// the invariants of the business are checked on every state of every path.
import { describe, expect, it } from "vitest"
import { initialTransition, transition, type AnyStateMachine } from "xstate"
import { getAdjacencyMap } from "xstate/graph"
import { entryMachine, MAX_HEDGE_ROUNDS, nextRecheckAt, type EntryEvent, type EntryInput } from "../../machines/entry.ts"
import type { Projection, SelectionResult } from "../../machines/protocol.ts"
import type { HedgePick } from "../../src/domain/selection.ts"
import { avertedBreachCost } from "../../src/domain/objective.ts"

const T = (minute: number) => 1_000_000 + minute * 60_000
const input: EntryInput = {
  id: "entry:E1",
  portfolio: "E1",
  lookaheadAt: T(0),
  entryAt: T(5),
  exitAt: T(60),
  missAt: T(10),
  legs: [
    { side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 },
    { side: "SELL", optionType: "PE", strikeOffset: 0, lotsPerBasket: 1 }
  ],
  rules: { triggerPct: 95, targetPct: 85, infoPct: 85, recheckEveryMs: 60_000, weighCost: true, breachCostPerEntry: 20_000, buyWhenBreachUnavoidable: false }
}

const projection = (pct: number, at = T(0)): Projection => ({
  at,
  budget: 10_000_000,
  marginInUse: 6_000_000,
  currentPct: 60,
  entryMargin: pct * 100_000 - 6_000_000,
  projectedMargin: pct * 100_000,
  projectedPct: pct,
  reductionNeeded: Math.max(0, (pct - 85) * 100_000),
  entriesAtRisk: 1,
  marginAtEntry: pct * 100_000
})

const pick: HedgePick = { strike: 25_600, optionType: "CE", ltp: 3, limitPrice: 3.1, otmDistance: 600, lots: 15, quantity: 975, cost: 3022.5, benefit: 1_800_000 }
const selection = (picks: ReadonlyArray<HedgePick>, limitedBy: SelectionResult["limitedBy"] = "none"): SelectionResult => ({
  picks,
  cost: picks.reduce((s, p) => s + p.cost, 0),
  benefit: picks.reduce((s, p) => s + p.benefit, 0),
  shortfall: 0,
  limitedBy
})

/** Frees enough margin to bring a 120 % projection back to 85 %; costs little. */
const bigPick: HedgePick = { ...pick, strike: 24_300, optionType: "PE", lots: 30, quantity: 1950, cost: 6045, benefit: 3_500_000 }
/** The same relief at a price above what it averts (₹40,000 at 120 %: one entry and a 1 % penalty on ₹20 lakh). */
const dearPick: HedgePick = { ...bigPick, cost: 45_000 }
const marginAfter = (s: Snap) => s.context.projection!.marginAtEntry - s.context.selection!.benefit

const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output }) as unknown as EntryEvent
const failed = (id: string) => ({ type: `xstate.error.actor.${id}`, error: new Error("service failed") }) as unknown as EntryEvent
const grant = (over: Partial<{ enabled: boolean; policy: "engine" | "static" | "none"; spendLeft: number; cooldownUntil: number }>): EntryEvent => ({
  type: "TURN_GRANTED",
  enabled: true,
  policy: "engine",
  spendLeft: 50_000,
  cooldownUntil: 0,
  ...over
})
const hedgeUpdate = (status: "open" | "cancelled"): EntryEvent => ({ type: "HEDGE_UPDATE", hedgeId: "hedge-1", forEntry: "entry:E1", status, quantity: status === "open" ? 975 : 0, cash: 0 })

/** Clock events before the look-ahead, at it, between it and the entry, at the entry, and after. */
const clocks: ReadonlyArray<EntryEvent> = [T(-1), T(0), T(3), T(5), T(10)].map((at) => ({ type: "CLOCK", at }))

const alphabet: ReadonlyArray<EntryEvent> = [
  ...clocks,
  grant({}),
  grant({ enabled: false }),
  grant({ spendLeft: 0 }),
  grant({ spendLeft: 1000 }),
  grant({ cooldownUntil: T(2) }),
  grant({ policy: "static" }),
  grant({ policy: "none" }),
  done("projectEntry", projection(80)),
  done("projectEntry", projection(90)),
  done("projectEntry", projection(120)),
  // One wing short of 100 % at 120 % (unavoidable), two that bring it to the target, one dearer than it averts.
  done("selectHedges", selection([pick])),
  done("selectHedges", selection([bigPick, { ...pick, strike: 25_700 }])),
  done("selectHedges", selection([dearPick])),
  done("selectHedges", selection([], "noCandidate")),
  done("selectHedges", selection([], "spendCap")),
  // The runtime's services fail too (the market data or the chain is not there): XState's error events.
  failed("projectEntry"),
  failed("selectHedges"),
  hedgeUpdate("open"),
  hedgeUpdate("cancelled"),
  { type: "ENTRY_SEEN", at: T(5) },
  { type: "ENTRY_EXITED", at: T(60), reason: "SL_HIT" },
  { type: "SESSION_CLOSE", expiryDay: true, spot: 25_000 }
]

type Snap = ReturnType<typeof entryMachine.resolveState>
const matches = (s: Snap, state: string) => s.matches(state as never)
// States are told apart by value and the context that steers decisions (not the whole context).
const serializeState = (s: Snap) =>
  JSON.stringify([
    s.value,
    s.context.grant,
    s.context.projection?.projectedPct ?? null,
    s.context.selection?.picks.length ?? null,
    s.context.pendingHedges,
    s.context.hedgesFilled,
    s.context.hedgesFailed,
    s.context.hedgeRounds,
    s.context.checkedAt,
    s.context.alerted
  ])

// Alone, the entry has no parent to message: its messages to the session become plain named actions,
// which the protocol test below reads from each transition's action list.
const model: AnyStateMachine = entryMachine.provide({ actions: { requestTurn: () => {}, releaseTurn: () => {}, askToBuy: () => {}, reportMissed: () => {} } })
type Action = { readonly type: string; readonly params?: unknown }
/** The actions of each transition the walk takes, by the state it led to (taken once, not re-run). */
const actionsTaken = new WeakMap<object, ReadonlyArray<Action>>()
const walked = Object.create(model, {
  transition: {
    value: (state: Snap, event: EntryEvent) => {
      const [next, actions] = transition(model, state as never, event)
      actionsTaken.set(next, actions as ReadonlyArray<Action>)
      return next
    }
  }
}) as AnyStateMachine
// Only the events a state takes: one it ignores would be a step that changes nothing.
const traversal = { input, events: [...alphabet], serializeState: serializeState as never, filterEvents: (s: Snap, e: EntryEvent) => s.can(e as never) }
const graph = getAdjacencyMap(walked, traversal as never) as Record<string, { state: unknown; transitions: Record<string, { event: unknown; state: unknown }> }>

/**
 * Every reachable transition: (state, event, next state), with the actions it takes. Walked once, when
 * the file loads (as the graph is), not inside a test: the walk's length is the model's size, not a test's.
 */
const steps = Object.values(graph).flatMap((node) =>
  Object.values(node.transitions).map((t) => ({ before: node.state as Snap, event: t.event as EntryEvent, after: t.state as Snap, actions: actionsTaken.get(t.state as object)! }))
)
const describeStep = ({ before, event, after }: (typeof steps)[number]) => `${JSON.stringify(before.value)} --${event.type}--> ${JSON.stringify(after.value)}`
/** The steps that break a rule, described (the test expects none): one expect per rule, not per step. */
const breaking = (rule: (step: (typeof steps)[number]) => boolean) => steps.filter((step) => !rule(step)).map(describeStep)
const emittedKinds = (actions: ReadonlyArray<Action>) =>
  actions.flatMap((a) => (a.type === "xstate.emit" ? [(a.params as { event: { alert: { kind: string } } }).event.alert.kind] : []))

describe("entry machine, every reachable transition", () => {
  const engineOrdering = (s: Snap) => matches(s, "hedging.ordering") && s.context.grant?.policy === "engine"

  it("reaches every state of the machine", () => {
    const reached = new Set(Object.values(graph).map((n) => JSON.stringify((n.state as Snap).value)))
    for (const state of [
      "idle",
      "lookahead",
      { projecting: "measuring" },
      { projecting: "coolingDown" },
      { hedging: "selecting" },
      { hedging: "ordering" },
      { awaitingEntry: "clear" },
      { awaitingEntry: "hedged" },
      { awaitingEntry: "disabled" },
      { awaitingEntry: "capReached" },
      { awaitingEntry: "cooldownBlocked" },
      { awaitingEntry: "noCandidate" },
      { awaitingEntry: "declined" },
      { awaitingEntry: "orderFailed" },
      { awaitingEntry: "shortOfTarget" },
      { awaitingEntry: "unprojected" },
      "entered",
      "exited",
      "missed"
    ]) {
      expect(reached, JSON.stringify(state)).toContain(JSON.stringify(state))
    }
    expect(steps.length).toBeGreaterThan(1000)
  })

  it("never buys when the projection is at or under the trigger (engine policy)", () => {
    expect(breaking(({ after }) => !engineOrdering(after) || after.context.projection!.projectedPct > input.rules.triggerPct)).toEqual([])
  })

  it("never buys a set that leaves the entry over 100 % of the budget (engine policy, not configured to)", () => {
    expect(steps.filter(({ after }) => engineOrdering(after)).length).toBeGreaterThan(0)
    expect(breaking(({ after }) => !engineOrdering(after) || marginAfter(after) <= after.context.projection!.budget)).toEqual([])
  })

  it("never buys a set that costs more than the expected breach cost it averts (engine policy)", () => {
    const averted = (s: Snap) => {
      const p = s.context.projection!
      return avertedBreachCost({ margin: p.projectedMargin, benefit: s.context.selection!.benefit, budget: p.budget, triggerPct: input.rules.triggerPct, breachCostPerEntry: input.rules.breachCostPerEntry })
    }
    expect(breaking(({ after }) => !engineOrdering(after) || after.context.selection!.cost <= averted(after))).toEqual([])
  })

  it("says which case a decision is: every set bought or declined is announced with its reason", () => {
    const arrived = (before: Snap, after: Snap, state: string) => !matches(before, state) && matches(after, state)
    const announced = (before: Snap, actions: ReadonlyArray<Action>, kind: string) => emittedKinds(actions).includes(kind) || before.context.alerted.includes(kind as never)
    expect(steps.filter(({ before, after }) => arrived(before, after, "awaitingEntry.declined")).length).toBeGreaterThan(0)
    expect(
      breaking(({ before, after, actions }) => {
        if (arrived(before, after, "awaitingEntry.declined")) {
          const unavoidable = marginAfter(after) > after.context.projection!.budget
          // Once per entry: a re-check that declines again for the same reason stays quiet.
          return announced(before, actions, unavoidable ? "BREACH_UNAVOIDABLE" : "HEDGE_NOT_WORTH_IT") && after.context.pendingHedges === 0
        }
        if (arrived(before, after, "hedging.ordering") && after.context.grant?.policy === "engine") return announced(before, actions, "HEDGES_CHOSEN")
        return true
      })
    ).toEqual([])
  })

  it("never buys with auto-hedge disabled, nor for the none policy", () => {
    expect(breaking(({ after }) => !matches(after, "hedging") || (after.context.grant?.enabled === true && after.context.grant.policy !== "none"))).toEqual([])
  })

  it("never buys beyond the spend left (engine policy)", () => {
    expect(breaking(({ after }) => !engineOrdering(after) || after.context.selection!.cost <= after.context.grant!.spendLeft)).toEqual([])
  })

  it("never selects hedges inside the cooldown (engine policy)", () => {
    expect(
      breaking(({ before, after }) =>
        !(matches(after, "hedging.selecting") && !matches(before, "hedging") && after.context.grant?.policy === "engine") || after.context.projection!.at >= after.context.grant.cooldownUntil
      )
    ).toEqual([])
  })

  it("buys at most MAX_HEDGE_ROUNDS rounds and retries only after failed fills", () => {
    expect(
      breaking(({ before, after }) =>
        after.context.hedgeRounds <= MAX_HEDGE_ROUNDS && (!(matches(before, "hedging") && matches(after, "lookahead")) || after.context.hedgesFailed > 0)
      )
    ).toEqual([])
  })

  it("releases the decision turn whenever it stops deciding, asks for it on every look-ahead, asks to buy once per round, reports a miss", () => {
    const deciding = (x: Snap) => matches(x, "projecting") || matches(x, "hedging")
    expect(
      breaking(({ before, after, actions }) => {
        const types: ReadonlyArray<string> = actions.map((a) => a.type)
        const buys = types.filter((t) => t === "askToBuy").length
        return (
          (!(deciding(before) && !deciding(after)) || types.includes("releaseTurn")) &&
          (matches(before, "lookahead") || !matches(after, "lookahead") || types.includes("requestTurn")) &&
          // (A final state takes no events when running; the graph still walks out of it, so only arrivals count.)
          (matches(before, "missed") || !matches(after, "missed") || types.includes("reportMissed")) &&
          (matches(after, "missed") || !types.includes("reportMissed")) &&
          buys === (matches(before, "hedging.selecting") && matches(after, "hedging.ordering") ? 1 : 0)
        )
      })
    ).toEqual([])
  })

  it("takes its decision again only while the entry is ahead, from an outcome it may improve on, on the clock's re-check beat", () => {
    const improvable = ["clear", "hedged", "disabled", "noCandidate", "declined", "shortOfTarget", "unprojected"]
    const recheck = ({ before, after }: (typeof steps)[number]) => matches(before, "awaitingEntry") && matches(after, "lookahead")
    expect(steps.filter(recheck).length).toBeGreaterThan(0)
    expect(
      breaking((step) => {
        if (!recheck(step)) return true
        const { before, event, after } = step
        const at = event.type === "CLOCK" ? event.at : Number.NaN
        return (
          improvable.some((o) => matches(before, `awaitingEntry.${o}`)) &&
          at < input.entryAt &&
          // On the clock's beat (whole intervals), never sooner than the next one after the last decision.
          at >= nextRecheckAt(input, input.rules.recheckEveryMs, before.context.checkedAt)! &&
          before.context.hedgeRounds < MAX_HEDGE_ROUNDS &&
          before.context.grant?.policy === "engine" &&
          after.context.checkedAt === at
        )
      })
    ).toEqual([])
  })

  it("sends each kind of alert once per entry, however often it decides", () => {
    expect(steps.some(({ actions }) => emittedKinds(actions).length > 0)).toBe(true)
    expect(breaking(({ before, actions }) => emittedKinds(actions).every((kind) => !before.context.alerted.includes(kind as never)))).toEqual([])
  })

  it("an entry always proceeds: whatever failed, it is entered when the platform enters it", () => {
    expect(
      breaking(({ before, event, after }) =>
        event.type !== "ENTRY_SEEN" || matches(before, "entered") || before.status.startsWith("done") || matches(after, "entered") || after.status === "done"
      )
    ).toEqual([])
  })

  it("a service that fails ends the decision with its alert: nothing bought, the turn released, decided again on the next re-check", () => {
    const failures = steps.filter(({ event }) => event.type.startsWith("xstate.error.actor."))
    expect(failures.map(({ event }) => event.type)).toEqual(expect.arrayContaining(["xstate.error.actor.projectEntry", "xstate.error.actor.selectHedges"]))
    const outcomeOf: Record<string, [string, string]> = {
      "xstate.error.actor.projectEntry": ["awaitingEntry.unprojected", "PROJECTION_FAILED"],
      "xstate.error.actor.selectHedges": ["awaitingEntry.noCandidate", "NO_CANDIDATE"]
    }
    expect(
      breaking((step) => {
        const outcome = outcomeOf[step.event.type]
        if (outcome === undefined) return true
        const [state, alert] = outcome
        const types = step.actions.map((a) => a.type)
        return (
          matches(step.after, state) &&
          (emittedKinds(step.actions).includes(alert) || step.before.context.alerted.includes(alert as never)) &&
          types.includes("releaseTurn") &&
          !types.includes("askToBuy") &&
          step.after.context.pendingHedges === 0
        )
      })
    ).toEqual([])
    // Both outcomes are decided again on the clock's beat while the entry is ahead.
    for (const state of ["awaitingEntry.unprojected", "awaitingEntry.noCandidate"]) {
      expect(steps.some(({ before, event, after }) => matches(before, state) && event.type === "CLOCK" && matches(after, "lookahead")), state).toBe(true)
    }
  })
})

describe("weighing a set against what it averts", () => {
  /** The entry's state after its look-ahead, a turn, a projection of `pct` and a selection of `picks`. */
  const decide = (rules: Partial<EntryInput["rules"]>, pct: number, picks: ReadonlyArray<HedgePick>) => {
    const events: ReadonlyArray<EntryEvent> = [{ type: "CLOCK", at: T(0) }, grant({}), done("projectEntry", projection(pct)), done("selectHedges", selection(picks))]
    let [state] = initialTransition(model, { ...input, rules: { ...input.rules, ...rules } }) as unknown as [Snap]
    for (const e of events) [state] = transition(model, state as never, e) as unknown as [Snap]
    return state
  }

  it("declines a set that leaves the entry over 100 %, and buys it when the trader configured that", () => {
    expect(decide({}, 120, [pick]).value).toEqual({ awaitingEntry: "declined" })
    expect(decide({ buyWhenBreachUnavoidable: true }, 120, [pick]).value).toEqual({ hedging: "ordering" })
  })

  it("declines a set dearer than the breach cost it averts; buys it when the per-entry value makes it worth it", () => {
    expect(decide({}, 120, [dearPick]).value).toEqual({ awaitingEntry: "declined" })
    expect(decide({ breachCostPerEntry: 30_000 }, 120, [dearPick]).value).toEqual({ hedging: "ordering" })
    expect(decide({}, 120, [bigPick]).value).toEqual({ hedging: "ordering" })
  })

  it("weighs a projection between the trigger and 100 % by how likely it is to breach", () => {
    // 97 % with a 95 % trigger: a 40 % chance of a ₹20,000 breach, ₹8,000 expected.
    expect(decide({}, 97, [{ ...bigPick, cost: 7_900 }]).value).toEqual({ hedging: "ordering" })
    expect(decide({}, 97, [{ ...bigPick, cost: 8_100 }]).value).toEqual({ awaitingEntry: "declined" })
  })

  it("the origin's reference behaviour (weighCost off) buys whatever the selection found", () => {
    expect(decide({ weighCost: false }, 120, [dearPick]).value).toEqual({ hedging: "ordering" })
    expect(decide({ weighCost: false }, 120, [pick]).value).toEqual({ hedging: "ordering" })
  })
})

describe("re-check instants", () => {
  const M = 60_000
  const plan = { lookaheadAt: 100 * M + 10_000, entryAt: 105 * M + 10_000 }
  it("fall on whole intervals of the clock, strictly after the given instant and the look-ahead, and stop before the entry", () => {
    expect(nextRecheckAt(plan, 30_000, plan.lookaheadAt)).toBe(100 * M + 30_000)
    expect(nextRecheckAt(plan, 30_000, 100 * M + 30_000)).toBe(101 * M)
    expect(nextRecheckAt(plan, 30_000, 97 * M)).toBe(100 * M + 30_000)
    expect(nextRecheckAt(plan, 60_000, 104 * M + 59_000)).toBe(105 * M)
    expect(nextRecheckAt(plan, 60_000, 105 * M)).toBeNull()
    expect(nextRecheckAt(plan, 0, plan.lookaheadAt)).toBeNull()
  })
})

describe("hedge now: the trader asks the entry to decide at once", () => {
  // A smaller alphabet than the walk above (each ask adds a whole decision to a path): the engine's
  // grant, with and without spend; a projection under and over the trigger; a set that reaches the
  // target and none; the trader's ask before the look-ahead, between it and the entry, and at the entry.
  const asks: ReadonlyArray<EntryEvent> = [
    { type: "HEDGE_NOW", at: T(-1) },
    { type: "HEDGE_NOW", at: T(2) },
    { type: "HEDGE_NOW", at: T(5) }
  ]
  const small: ReadonlyArray<EntryEvent> = [
    ...clocks,
    grant({}),
    grant({ spendLeft: 0 }),
    done("projectEntry", projection(80)),
    done("projectEntry", projection(120)),
    done("selectHedges", selection([bigPick, { ...pick, strike: 25_700 }])),
    done("selectHedges", selection([], "noCandidate")),
    hedgeUpdate("open"),
    hedgeUpdate("cancelled"),
    ...asks,
    { type: "ENTRY_SEEN", at: T(5) },
    { type: "SESSION_CLOSE", expiryDay: true, spot: 25_000 }
  ]
  const sortedAlerts = (s: Snap) => JSON.stringify([JSON.parse(serializeState(s)).slice(0, -1), [...s.context.alerted].sort()])
  const g = getAdjacencyMap(walked, { ...traversal, events: [...small], serializeState: sortedAlerts as never } as never) as typeof graph
  const nodes = Object.values(g).map((n) => n.state as Snap)
  const askSteps = Object.values(g).flatMap((node) =>
    Object.values(node.transitions).map((t) => ({ before: node.state as Snap, event: t.event as EntryEvent, after: t.state as Snap, actions: actionsTaken.get(t.state as object)! }))
  )
  const isAsk = (e: EntryEvent) => e.type === "HEDGE_NOW"
  const decided = ["clear", "hedged", "capReached", "noCandidate"]

  it("is taken before the look-ahead and from every decided outcome with a round left: the decision starts over, through the turn", () => {
    const taken = askSteps.filter(({ event }) => isAsk(event))
    expect(taken.some(({ before }) => matches(before, "idle"))).toBe(true)
    for (const o of decided) expect(taken.some(({ before }) => matches(before, `awaitingEntry.${o}`)), o).toBe(true)
    expect(
      taken
        .filter(({ before, event, after, actions }) => {
          const at = event.type === "HEDGE_NOW" ? event.at : Number.NaN
          return !(
            (matches(before, "idle") || matches(before, "awaitingEntry")) &&
            at < input.entryAt &&
            before.context.hedgeRounds < MAX_HEDGE_ROUNDS &&
            matches(after, "lookahead") &&
            actions.some((a) => a.type === "requestTurn") &&
            after.context.checkedAt === at &&
            after.context.alerted.length === 0
          )
        })
        .map((s) => `${JSON.stringify(s.before.value)} --${s.event.type}--> ${JSON.stringify(s.after.value)}`)
    ).toEqual([])
  })

  it("is refused while a decision runs, at or after the entry time, once the entry is in, and when its rounds of buying are spent", () => {
    const refused = nodes.filter((s) => !(matches(s, "idle") || matches(s, "awaitingEntry")) || s.context.hedgeRounds >= MAX_HEDGE_ROUNDS)
    for (const state of ["lookahead", "projecting", "hedging", "entered"]) expect(refused.some((s) => matches(s, state)), state).toBe(true)
    expect(refused.some((s) => matches(s, "awaitingEntry") && s.context.hedgeRounds >= MAX_HEDGE_ROUNDS)).toBe(true)
    expect(refused.filter((s) => asks.some((a) => s.can(a as never))).map((s) => JSON.stringify(s.value))).toEqual([])
    expect(nodes.filter((s) => s.can({ type: "HEDGE_NOW", at: T(5) } as never)).map((s) => JSON.stringify(s.value))).toEqual([])
  })

  it("decided early, the entry still decides at its look-ahead; it never buys more than MAX_HEDGE_ROUNDS rounds nor under the trigger", () => {
    expect(
      askSteps.some(({ before, event, after }) => matches(before, "awaitingEntry") && before.context.checkedAt < input.lookaheadAt && event.type === "CLOCK" && event.at === T(0) && matches(after, "lookahead"))
    ).toBe(true)
    expect(askSteps.every(({ after }) => after.context.hedgeRounds <= MAX_HEDGE_ROUNDS)).toBe(true)
    expect(askSteps.filter(({ after }) => matches(after, "hedging.ordering")).every(({ after }) => after.context.projection!.projectedPct > input.rules.triggerPct)).toBe(true)
  })

  it("tells each kind of alert once between the trader's asks, and again after one (the trader hears the outcome of what was asked)", () => {
    expect(askSteps.filter(({ before, event, actions }) => !isAsk(event) && emittedKinds(actions).some((k) => before.context.alerted.includes(k as never))).map((s) => s.event.type)).toEqual([])
    const again = askSteps.some(({ before, after, actions }) => before.context.alerted.length === 0 && before.context.checkedAt !== input.lookaheadAt && matches(after, "awaitingEntry") && emittedKinds(actions).length > 0)
    expect(again).toBe(true)
  })
})
