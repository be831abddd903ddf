// Model-based tests of the hedge machine: every transition reachable with a finite alphabet of broker
// answers, errors and clock events (at each deadline the hedge holds, at the entry time, and at an
// instant with nothing due), checked against the order-safety rules and the rules of its deadlines.
import { describe, expect, it } from "vitest"
import { createActor, transition, type AnyStateMachine } from "xstate"
import { getAdjacencyMap } from "xstate/graph"
import { carriedHedgeMachine, clientOrderIdOf, hedgeMachine, hedgeWakeTimes, type HedgeContext, type HedgeInput } from "../../machines/hedge.ts"
import type { OrderState } from "../../machines/protocol.ts"

const DEADLINE = 2_000_000
const input: HedgeInput = {
  id: "hedge-1",
  forEntry: "entry:E1",
  date: "2026-02-10",
  strike: 25_600,
  optionType: "CE",
  quantity: 975,
  otmDistance: 600,
  symbol: "NIFTY10FEB2625600CE",
  trigger: "PRE_STRATEGY:E1",
  utilisationBefore: 88,
  buyDeadlineAt: DEADLINE,
  startedAt: 0,
  rules: { limitPriceBuffer: 0.1, minExitPrice: 0.5, fillTimeoutMs: 60_000, orderPollMs: 5_000, maxReprices: 2 }
}

const order = (status: OrderState["status"], filledQuantity = 0): OrderState => ({ orderId: "O1", status, filledQuantity, averagePrice: filledQuantity > 0 ? 3 : 0 })
const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output })
const error = (id: string) => ({ type: `xstate.error.actor.${id}`, error: new Error("broker down") })

const answers = [
  done("quoteOption", { ltp: 3, at: 0 }),
  done("quoteOption", { ltp: 0.3, at: 0 }),
  done("quoteOption", { ltp: null, at: 0 }),
  error("quoteOption"),
  done("placeOrder", { outcome: "accepted", orderId: "O1" }),
  done("placeOrder", { outcome: "rejected", message: "RMS: margin shortfall" }),
  done("placeOrder", { outcome: "unknown", message: "timed out" }),
  done("findOrder", order("open")),
  done("findOrder", null),
  error("findOrder"),
  done("orderStatus", order("open")),
  done("orderStatus", order("filled", 975)),
  done("orderStatus", order("rejected")),
  error("orderStatus"),
  done("cancelOrder", order("cancelled")),
  done("cancelOrder", order("cancelled", 400)),
  done("cancelOrder", order("filled", 975)),
  error("cancelOrder"),
  { type: "EXIT", reason: "EXCESS_MARGIN" },
  { type: "SESSION_CLOSE", expiryDay: true, spot: 25_000 }
]

type Snap = { value: unknown; context: HedgeContext; status: string; matches: (s: string) => boolean }

/** Clock events forward from the hedge's time: one with nothing due, one at each deadline, one at the entry time. */
const clocks = (s: Snap) => {
  const now = s.context.now ?? 0
  const times = new Set([now + 1, ...hedgeWakeTimes(s.context), DEADLINE].filter((t) => t > now))
  return [...times].map((at) => ({ type: "CLOCK", at }))
}

// Time is kept as which deadlines are armed and whether the entry time has passed, not as instants:
// the graph stays finite and the clock events above reach every deadline from every state.
const serializeState = (s: Snap) => {
  const c = s.context
  return JSON.stringify([s.value, c.phase, c.attempt, c.orderId, c.deadlinePassed, c.held, c.lastMessage !== null, c.nextPollAt !== null, c.fillDeadlineAt !== null, (c.now ?? 0) >= DEADLINE])
}

// Alone, the hedge has no parent: its reports to the session become named actions read below.
const model: AnyStateMachine = hedgeMachine.provide({ actions: { reportFill: () => {}, reportNothingDone: () => {}, reportExpired: () => {} } })
const graph = getAdjacencyMap(model, { input, events: (s: Snap) => [...answers, ...clocks(s)], serializeState } as never) as unknown as Record<
  string,
  { state: Snap; transitions: Record<string, { event: { type: string; [k: string]: unknown }; state: Snap }> }
>
const steps = Object.values(graph).flatMap((node) => Object.values(node.transitions).map((t) => ({ before: node.state, event: t.event, after: t.state })))
const actionsOf = (before: Snap, event: object) => transition(model, before as never, event as never)[1].map((a) => a.type as string)
const inState = (s: Snap, path: string) => s.matches(path)
const sending = (s: Snap) => inState(s, "ordering.placing") || inState(s, "exiting.placing")

describe("hedge machine, every reachable transition", () => {
  it("reaches every state", () => {
    const reached = new Set(Object.values(graph).map((n) => JSON.stringify(n.state.value)))
    for (const v of ["open", "closed", "expired", "cancelled", "rejected"]) expect(reached).toContain(JSON.stringify(v))
    for (const phase of ["ordering", "exiting"]) {
      for (const sub of ["quoting", "placing", "reconciling", "repricing", "cancelling", "cancelRetry", "reconcileRetry", "quoteRetry"]) {
        expect(reached, `${phase}.${sub}`).toContain(JSON.stringify({ [phase]: sub }))
      }
    }
    expect(steps.length).toBeGreaterThan(300)
  })

  it("sends an order only from a fresh quote: never straight from a failure, a timeout or a reconciliation", () => {
    for (const { before, after } of steps) {
      if (sending(after) && !sending(before)) expect(inState(before, "ordering.quoting") || inState(before, "exiting.quoting")).toBe(true)
    }
  })

  it("an unknown send outcome is resolved by asking the broker, never by sending again", () => {
    for (const { before, event, after } of steps) {
      if (sending(before) && event.type === "xstate.done.actor.placeOrder" && (event.output as { outcome: string }).outcome === "unknown") {
        expect(inState(after, "ordering.reconciling") || inState(after, "exiting.reconciling")).toBe(true)
      }
    }
  })

  it("has at most one live order: a new attempt starts only after the previous order is confirmed cancelled", () => {
    for (const { before, after } of steps) {
      const newAttempt = after.context.attempt > before.context.attempt && after.context.phase === before.context.phase
      if (newAttempt) {
        expect(inState(before, "ordering.repricing") || inState(before, "exiting.repricing")).toBe(true)
        expect(after.context.orderId).toBeNull()
      }
    }
  })

  it("re-prices a bounded number of times, each attempt with its own client order id", () => {
    for (const { after } of steps) expect(after.context.attempt).toBeLessThanOrEqual(input.rules.maxReprices + 1)
    const ids = new Set([1, 2, 3].map((attempt) => clientOrderIdOf({ date: input.date, id: input.id, phase: "buy", attempt })))
    expect(ids.size).toBe(3)
    expect(clientOrderIdOf({ date: "2026-02-10", id: "hedge-7", phase: "sell", attempt: 2 })).toBe("AH-20260210-hedge-7-S2")
  })

  it("leaves no buy working after the entry time: a working order is cancelled, a send in flight is cancelled once known", () => {
    for (const { before, event, after } of steps) {
      const pastDeadline = event.type === "CLOCK" && (event.at as number) >= DEADLINE
      if (!pastDeadline || before.context.phase !== "buy") continue
      if (inState(before, "ordering.awaitingFill")) expect(inState(after, "ordering.cancelling")).toBe(true)
      if (inState(before, "ordering.quoting") || inState(before, "ordering.quoteRetry")) expect(after.value).toBe("cancelled")
      if (sending(before) || inState(before, "ordering.reconciling")) {
        expect(after.context.deadlinePassed).toBe(true)
        expect(sending(after) || inState(after, "ordering.reconciling")).toBe(true) // the send is not abandoned
      }
    }
    // Once noted, a known order goes straight to cancelling and is never re-priced.
    for (const { after } of steps) {
      if (after.context.deadlinePassed && after.context.phase === "buy") {
        expect(inState(after, "ordering.awaitingFill") || inState(after, "ordering.repricing") || inState(after, "ordering.quoting")).toBe(false)
      }
    }
  })

  it("never sells below the minimum exit price, and a hedge is sold only after EXIT", () => {
    for (const { before, event, after } of steps) {
      if (inState(before, "exiting.quoting") && event.type === "xstate.done.actor.quoteOption") {
        const ltp = (event.output as { ltp: number | null }).ltp
        expect(inState(after, "exiting.placing")).toBe(ltp !== null && ltp >= input.rules.minExitPrice)
      }
      if (before.value === "open" && inState(after, "exiting")) expect(event.type).toBe("EXIT")
    }
  })

  it("a broker call that errors is asked again only after a poll interval", () => {
    for (const { before, event, after } of steps) {
      // An error from an actor that is not running changes nothing (XState ignores it).
      if (!event.type.startsWith("xstate.error.actor.") || serializeState(before) === serializeState(after)) continue
      const retryStates = ["quoteRetry", "reconcileRetry", "cancelRetry", "awaitingFill.working"]
      expect(retryStates.some((r) => inState(after, `ordering.${r}`) || inState(after, `exiting.${r}`)), `${JSON.stringify(before.value)} --${event.type}--> ${JSON.stringify(after.value)}`).toBe(true)
    }
  })

  it("a hedge left to expire is said once, at the close, with what it settles at and what it cost; no other step says so", () => {
    const emittedBy = (before: Snap, event: object) =>
      (transition(model, before as never, event as never)[1] as ReadonlyArray<{ type: string; params?: unknown }>).flatMap((a) => (a.type === "xstate.emit" ? [(a.params as { event: { alert: { kind: string; details: Record<string, unknown> } } }).event.alert] : []))
    const expiring = steps.filter(({ after }) => after.value === "expired")
    expect(expiring.length).toBeGreaterThan(0)
    for (const { before, event, after } of steps) {
      const said = emittedBy(before, event).filter((a) => a.kind === "HEDGE_EXPIRED")
      if (after.value !== "expired" || before.value === "expired") {
        expect(said).toEqual([])
        continue
      }
      // The call is out of the money at the close's spot (25,000 against 25,600): worth nothing.
      expect(said).toEqual([expect.objectContaining({ details: expect.objectContaining({ held: before.context.held, spot: 25_000, value: 0, paid: before.context.entryPrice * before.context.held, minExitPrice: 0.5 }) })])
      expect(before.context.held).toBeGreaterThan(0)
    }
  })

  it("reports every end of an order to the session, exactly once", () => {
    for (const { before, event, after } of steps) {
      const types = actionsOf(before, event)
      const reports = types.filter((t) => t === "reportFill" || t === "reportNothingDone" || t === "reportExpired").length
      const ended = (inState(before, "ordering") || inState(before, "exiting") || before.value === "open") && !(inState(after, "ordering") || inState(after, "exiting")) && after.value !== before.value
      if (ended) expect(reports, `${JSON.stringify(before.value)} --${event.type}--> ${JSON.stringify(after.value)}`).toBe(1)
      else expect(reports).toBe(0)
    }
  })
})

describe("hedge machine, deadlines as data", () => {
  const waiting = ["quoteRetry", "reconcileRetry", "cancelRetry", "awaitingFill.working"]
  const inAny = (s: Snap, subs: ReadonlyArray<string>) => subs.some((r) => inState(s, `ordering.${r}`) || inState(s, `exiting.${r}`))

  it("holds a deadline exactly while the state that waits for it lasts, counted from when it was entered", () => {
    for (const { before, after } of steps) {
      expect(after.context.nextPollAt !== null, JSON.stringify(after.value)).toBe(inAny(after, waiting))
      expect(after.context.fillDeadlineAt !== null, JSON.stringify(after.value)).toBe(inAny(after, ["awaitingFill"]))
      if (inAny(after, waiting) && !inAny(before, waiting)) expect(after.context.nextPollAt).toBe(after.context.now! + input.rules.orderPollMs)
      if (inAny(after, ["awaitingFill"]) && !inAny(before, ["awaitingFill"])) expect(after.context.fillDeadlineAt).toBe(after.context.now! + input.rules.fillTimeoutMs)
    }
  })

  it("polls, asks again and times a fill out only on a clock event at or past the deadline", () => {
    const next: Record<string, string> = { quoteRetry: "quoting", reconcileRetry: "reconciling", cancelRetry: "cancelling", "awaitingFill.working": "awaitingFill.checking" }
    let polls = 0
    let timeouts = 0
    for (const { before, event, after } of steps) {
      for (const [from, to] of Object.entries(next)) {
        if (!inAny(before, [from]) || !inAny(after, [to])) continue
        polls++
        expect(event.type).toBe("CLOCK")
        expect(event.at as number).toBeGreaterThanOrEqual(before.context.nextPollAt!)
      }
      // Re-priced (a new attempt's cancel) or given up for time: never before the fill deadline.
      if (inAny(before, ["awaitingFill"]) && inAny(after, ["repricing"])) {
        timeouts++
        expect(event.type).toBe("CLOCK")
        expect(event.at as number).toBeGreaterThanOrEqual(before.context.fillDeadlineAt!)
      }
    }
    expect(polls).toBeGreaterThan(10)
    expect(timeouts).toBeGreaterThan(1)
  })

  it("times a fill out before polling when both are due at one instant", () => {
    const actor = createActor(model, { input }).start()
    for (const e of [done("quoteOption", { ltp: 3, at: 0 }), done("placeOrder", { outcome: "accepted", orderId: "O1" })]) actor.send(e as never)
    expect(actor.getSnapshot().matches({ ordering: { awaitingFill: "working" } })).toBe(true)
    for (let at = 5_000; at < 60_000; at += 5_000) {
      actor.send({ type: "CLOCK", at })
      expect(actor.getSnapshot().matches({ ordering: { awaitingFill: "checking" } }), `poll at ${at}`).toBe(true)
      actor.send(done("orderStatus", order("open")) as never)
    }
    expect(hedgeWakeTimes(actor.getSnapshot().context)).toEqual([60_000, 60_000])
    actor.send({ type: "CLOCK", at: 60_000 })
    expect(actor.getSnapshot().matches({ ordering: "repricing" })).toBe(true)
    actor.stop()
  })

  it("a restored hedge keeps its deadlines: nothing is armed again", () => {
    const actor = createActor(model, { input }).start()
    for (const e of [done("quoteOption", { ltp: 3, at: 0 }), done("placeOrder", { outcome: "accepted", orderId: "O1" })]) actor.send(e as never)
    actor.send({ type: "CLOCK", at: 20_000 })
    actor.send(done("orderStatus", order("open")) as never)
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()))
    actor.stop()
    const restored = createActor(model, { snapshot: persisted, input }).start()
    expect(hedgeWakeTimes(restored.getSnapshot().context)).toEqual([25_000, 60_000])
    restored.send({ type: "CLOCK", at: 24_999 })
    expect(restored.getSnapshot().matches({ ordering: { awaitingFill: "working" } })).toBe(true)
    // A restart that comes back after both deadlines acts on the first clock event: the timeout first.
    restored.send({ type: "CLOCK", at: 61_000 })
    expect(restored.getSnapshot().matches({ ordering: "repricing" })).toBe(true)
    restored.stop()
  })

  it("a hedge started before its instant's clock event counts its deadlines from that clock event", () => {
    const actor = createActor(model, { input: { ...input, startedAt: null } }).start()
    for (const e of [done("quoteOption", { ltp: 3, at: 0 }), done("placeOrder", { outcome: "accepted", orderId: "O1" })]) actor.send(e as never)
    expect(hedgeWakeTimes(actor.getSnapshot().context)).toEqual([])
    actor.send({ type: "CLOCK", at: 1_000_000 })
    expect(actor.getSnapshot().matches({ ordering: { awaitingFill: "working" } })).toBe(true)
    expect(hedgeWakeTimes(actor.getSnapshot().context)).toEqual([1_005_000, 1_060_000])
    actor.stop()
  })
})

describe("hedge machine, carried in from an earlier day", () => {
  const carried: HedgeInput = { ...input, id: "hedge-carried-1", forEntry: "OVERNIGHT", carried: { entryPrice: 3.2 } }
  const carriedModel: AnyStateMachine = carriedHedgeMachine.provide({ actions: { reportFill: () => {}, reportNothingDone: () => {}, reportExpired: () => {} } })

  it("starts open, holding its quantity, without quoting or sending anything", () => {
    const actor = createActor(carriedModel, { input: carried }).start()
    const s = actor.getSnapshot()
    expect(s.value).toBe("open")
    expect(s.context).toMatchObject({ held: 975, entryPrice: 3.2, phase: "buy" })
    expect(s.children).toEqual({})
    actor.stop()
  })

  it("is sold on EXIT like any hedge, all it holds, with a client order id of its own", () => {
    const actor = createActor(carriedModel, { input: carried }).start()
    actor.send({ type: "EXIT", reason: "EXCESS_MARGIN" })
    expect(actor.getSnapshot().matches({ exiting: "quoting" })).toBe(true)
    actor.send(done("quoteOption", { ltp: 2, at: 0 }) as never)
    expect(actor.getSnapshot().matches({ exiting: "placing" })).toBe(true)
    expect(actor.getSnapshot().context.clientOrderId).toBe("AH-20260210-hedge-carried-1-S1")
    actor.send(done("placeOrder", { outcome: "accepted", orderId: "O1" }) as never)
    actor.send({ type: "CLOCK", at: 5_000 })
    actor.send(done("orderStatus", order("filled", 975)) as never)
    expect(actor.getSnapshot().value).toBe("closed")
    expect(actor.getSnapshot().context.held).toBe(0)
    actor.stop()
  })

  it("expires with its short on the expiry day's close, and a hedge bought today still starts by ordering", () => {
    const actor = createActor(carriedModel, { input: carried }).start()
    actor.send({ type: "SESSION_CLOSE", expiryDay: true, spot: 25_000 })
    expect(actor.getSnapshot().value).toBe("expired")
    actor.stop()
    const bought = createActor(model, { input }).start()
    expect(bought.getSnapshot().matches({ ordering: "quoting" })).toBe(true)
    bought.stop()
  })
})
