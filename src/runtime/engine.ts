// The runtime that binds the pure machines to the Effect services. Service calls the machines invoke
// run one at a time, in the order they were asked for (a single decision thread, as in Nautilus), so
// a simulated day gives the same transitions and audit rows on every run. Every transition of every
// machine actor becomes an audit row; every alert a machine emits goes to the Notifier.
import { Cause, Context, Effect, Exit } from "effect"
import { createActor, fromPromise, type Actor, type AnyActorRef, type InspectionEvent } from "xstate"
import { entryMachine } from "../../machines/entry.ts"
import { hedgeMachine } from "../../machines/hedge.ts"
import type {
  AlertEvent,
  AssessExitsInput,
  ExitDecision,
  ExitCandidate,
  OrderRequest,
  OrderState,
  PlaceResult,
  ProjectEntryInput,
  Projection,
  Quote,
  QuoteInput,
  SelectHedgesInput,
  SelectionResult
} from "../../machines/protocol.ts"
import { sessionMachine, type SessionEvent, type SessionInput } from "../../machines/session.ts"
import { chooseExit, type ExitRules } from "../domain/exits.ts"
import type { MarginModel } from "../domain/margin.ts"
import type { TradingSession } from "../domain/session.ts"
import { netPositions } from "../domain/margin.ts"
import { priceOf, type MarketSnapshot, type Position } from "../domain/market.ts"
import { legPositions, project } from "../domain/projection.ts"
import { selectHedges, staticPair, type HedgeBand } from "../domain/selection.ts"
import { entryIdOf } from "./session-plan.ts"
import {
  AuditLog,
  Broker,
  MarginMonitor,
  MarketClock,
  MarketData,
  Notifier,
  StrategyFeed,
  type EngineServices,
  type TransitionRow
} from "../services/services.ts"

/** What the engine needs beyond the session's own input. */
export interface EngineSetup {
  /** The day as validated (index, expiry, budget, enabled flag, mode). */
  readonly trading: TradingSession
  readonly session: SessionInput
  /** The engine's margin estimate (the broker's number stays the truth for "now"). */
  readonly model: MarginModel
  readonly lotSize: number
  readonly strikeStep: number
  /** Lots in one hedge unit: hedge lots per basket × baskets. */
  readonly unitLots: number
  readonly band: HedgeBand
  readonly exitRules: ExitRules
}

type SessionActor = Actor<typeof sessionMachine>

const PENDING_STATES = new Set(["entered", "exited", "missed"])

/** A state value as one string: `hedging.selecting`. */
export const stateName = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => (v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0) ? k : `${k}.${stateName(v)}`))
      .join(",")
  }
  return String(value)
}

const kindOf = (actorId: string): TransitionRow["kind"] | undefined =>
  actorId === "session" ? "session" : actorId.startsWith("entry:") ? "entry" : actorId.startsWith("hedge-") ? "hedge" : undefined

/** The event's payload as plain JSON: actor refs become their ids, errors their messages. */
const payloadOf = (event: { readonly type: string }): unknown => {
  const { type: _type, ...rest } = event as Record<string, unknown>
  return JSON.parse(
    JSON.stringify(rest, (_key, value: unknown) => {
      if (value instanceof Error) return { error: value.message }
      if (value !== null && typeof value === "object" && "sessionId" in value && "send" in value) return `actor:${(value as AnyActorRef).id}`
      return value
    }) ?? "{}"
  )
}

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

export class SessionEngine {
  readonly actor: SessionActor
  readonly alerts: Array<{ readonly at: number; readonly alert: AlertEvent["alert"] }> = []
  /** Set when the audit could not be written: the engine stops deciding rather than act unaudited. */
  failure: string | null = null
  private readonly queue: Array<() => Promise<void>> = []
  private pumping: Promise<void> | null = null
  private readonly lastState = new Map<string, string>()
  private pendingRows: Array<TransitionRow> = []
  private seq = 0

  private constructor(
    private readonly setup: EngineSetup,
    private readonly context: Context.Context<EngineServices>
  ) {
    const clock = Context.get(context, MarketClock)
    const run = <A, E>(effect: Effect.Effect<A, E, EngineServices>) => this.call(effect)
    const machine = sessionMachine.provide({
      actors: {
        assessExits: fromPromise<ExitDecision, AssessExitsInput>(({ input }) => run(this.assessExits(input.hedges, input.liveEntries))),
        entry: entryMachine.provide({
          actors: {
            projectEntry: fromPromise<Projection, ProjectEntryInput>(({ input }) => run(this.projectEntry(input.entryId))),
            selectHedges: fromPromise<SelectionResult, SelectHedgesInput>(({ input }) =>
              run(this.selectHedges(input.entryId, input.policy, input.projection.reductionNeeded, input.spendLeft))
            )
          }
        }),
        hedge: hedgeMachine.provide({
          actors: {
            quoteOption: fromPromise<Quote, QuoteInput>(({ input }) =>
              run(Effect.map(MarketData.use((m) => m.snapshot), (s) => ({ ltp: priceOf(s.chain, input.strike, input.optionType), at: s.at })))
            ),
            placeOrder: fromPromise<PlaceResult, OrderRequest>(({ input }) =>
              run(
                Broker.use((b) => b.placeOrder(input)).pipe(
                  Effect.map((r): PlaceResult => ({ outcome: "accepted", orderId: r.orderId })),
                  Effect.catchTags({
                    OrderRejected: (e) => Effect.succeed<PlaceResult>({ outcome: "rejected", message: e.message }),
                    OrderOutcomeUnknown: (e) => Effect.succeed<PlaceResult>({ outcome: "unknown", message: e.message })
                  })
                )
              )
            ),
            findOrder: fromPromise<OrderState | null, { clientOrderId: string }>(({ input }) => run(Broker.use((b) => b.findOrder(input.clientOrderId)))),
            orderStatus: fromPromise<OrderState, { orderId: string }>(({ input }) => run(Broker.use((b) => b.orderStatus(input.orderId)))),
            cancelOrder: fromPromise<OrderState, { orderId: string }>(({ input }) => run(Broker.use((b) => b.cancelOrder(input.orderId))))
          }
        })
      }
    })
    this.actor = createActor(machine, {
      id: "session",
      input: setup.session,
      clock: clock.timers,
      inspect: (ev) => this.inspect(ev, clock.currentMillis)
    })
  }

  static start = (setup: EngineSetup): Effect.Effect<SessionEngine, never, EngineServices> =>
    Effect.map(Effect.context<EngineServices>(), (context) => {
      const engine = new SessionEngine(setup, context)
      engine.actor.start()
      return engine
    })

  /** Deliver an outside event (clock, strategy observation, operator command). */
  send(event: SessionEvent): void {
    if (this.failure !== null) return
    this.actor.send(event)
  }

  /** Wait until every service call the machines asked for has been answered and processed. */
  async settle(): Promise<void> {
    await flushMicrotasks()
    while (this.pumping !== null) {
      await this.pumping
      await flushMicrotasks()
    }
    await this.flushAudit()
  }

  /** Forward what the execution platform was seen doing (entries, exits) to the session. */
  async observeStrategies(): Promise<void> {
    const events = await this.call(StrategyFeed.use((f) => f.drain))
    for (const e of events) {
      const entryId = entryIdOf(e.portfolio)
      this.send(e.kind === "entered" ? { type: "ENTRY_SEEN", entryId, at: e.at } : { type: "ENTRY_EXITED", entryId, at: e.at, reason: e.reason })
    }
    await this.settle()
  }

  get done(): boolean {
    return this.actor.getSnapshot().status === "done"
  }

  // ---- plumbing

  private call<A, E>(effect: Effect.Effect<A, E, EngineServices>): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.queue.push(async () => {
        const exit = await Effect.runPromiseExitWith(this.context)(effect)
        if (Exit.isSuccess(exit)) resolve(exit.value)
        else reject(new Error(Cause.pretty(exit.cause).split("\n")[0]))
      })
      if (this.pumping === null) this.pumping = this.pump()
    })
  }

  private async pump(): Promise<void> {
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      await job()
      await flushMicrotasks()
    }
    this.pumping = null
  }

  private async flushAudit(): Promise<void> {
    if (this.pendingRows.length === 0) return
    const rows = this.pendingRows
    this.pendingRows = []
    const exit = await Effect.runPromiseExitWith(this.context)(AuditLog.use((a) => a.append(rows)))
    if (Exit.isFailure(exit)) {
      this.failure = `audit write failed: ${Cause.pretty(exit.cause).split("\n")[0]}`
      this.actor.stop()
    }
  }

  private inspect(ev: InspectionEvent, now: () => number): void {
    const ref = ev.actorRef as AnyActorRef
    const actorId = ref.id
    const kind = kindOf(actorId)
    if (kind === undefined) return
    if (ev.type === "@xstate.actor") {
      ref.on("alert", (emitted: AlertEvent) => this.raiseAlert(emitted.alert, now()))
      return
    }
    if (ev.type !== "@xstate.microstep" && ev.type !== "@xstate.snapshot") return
    // XState reports a microstep even when no transition was enabled (e.g. a refused command).
    if (ev.type === "@xstate.microstep" && (ev as { _transitions?: ReadonlyArray<unknown> })._transitions?.length === 0) return
    const to = stateName((ev.snapshot as { value?: unknown }).value)
    const from = this.lastState.get(actorId)
    // A snapshot after the first is only the end of a macrostep already recorded by its microsteps.
    if (ev.type === "@xstate.snapshot" && from !== undefined) return
    this.lastState.set(actorId, to)
    if (from === to && ev.event.type === "CLOCK") return
    this.pendingRows.push({
      seq: ++this.seq,
      actorId,
      kind,
      from: from ?? "",
      to,
      event: ev.event.type,
      payload: payloadOf(ev.event),
      at: now()
    })
  }

  private raiseAlert(alert: AlertEvent["alert"], at: number): void {
    this.alerts.push({ at, alert })
    void this.call(Notifier.use((n) => n.notify(alert, at))).catch(() => undefined)
  }

  // ---- the services behind the machines' invocations

  private get sessionContext() {
    return this.actor.getSnapshot().context
  }

  /** Entries not yet seen entered, scheduled at or before `until`, in entry order. */
  private pendingEntries(until: number) {
    const children = this.actor.getSnapshot().children as Record<string, AnyActorRef | undefined>
    return this.sessionContext.entries.filter((e) => {
      const child = children[e.id]
      const value = child === undefined ? "exited" : stateName(child.getSnapshot().value)
      return e.entryAt <= until && !PENDING_STATES.has(value)
    })
  }

  private legsOf(entries: ReturnType<SessionEngine["pendingEntries"]>, market: MarketSnapshot): ReadonlyArray<Position> {
    const s = this.sessionContext
    return entries.flatMap((e) => legPositions(e.legs, market.spot, this.setup.strikeStep, s.baskets, this.setup.lotSize, s.expiry))
  }

  private marketQuery(market: MarketSnapshot) {
    const s = this.sessionContext
    return { index: s.index, date: s.date, expiry: s.expiry, lotSize: this.setup.lotSize, spot: market.spot, at: market.at }
  }

  private modelMargin(market: MarketSnapshot, positions: ReadonlyArray<Position>) {
    return this.setup.model.margin({ ...this.marketQuery(market), positions: netPositions(positions) })
  }

  /** The held portfolio and the portfolio once every pending entry up to this one is in. */
  private projectionBasis = (entryId: string) =>
    Effect.gen({ self: this }, function*() {
      const entry = this.sessionContext.entries.find((e) => e.id === entryId)
      const market = yield* MarketData.use((m) => m.snapshot)
      const held = yield* Broker.use((b) => b.positions)
      const coming = this.legsOf(this.pendingEntries(entry?.entryAt ?? market.at), market)
      return { market, held, projected: [...held, ...coming] }
    })

  private projectEntry = (entryId: string) =>
    Effect.gen({ self: this }, function*() {
      const { market, held, projected } = yield* this.projectionBasis(entryId)
      const marginInUse = yield* MarginMonitor.use((m) => m.marginInUse)
      const s = this.sessionContext
      return project({
        at: yield* MarketClock.use((c) => c.now),
        budget: s.budget,
        targetPct: s.entryRules.targetPct,
        marginInUse,
        heldModelMargin: yield* this.modelMargin(market, held),
        withEntriesModelMargin: yield* this.modelMargin(market, projected)
      })
    })

  private selectHedges = (entryId: string, policy: string, reductionNeeded: number, spendLeft: number) =>
    Effect.gen({ self: this }, function*() {
      const { market, projected } = yield* this.projectionBasis(entryId)
      if (policy === "static") {
        const entry = this.sessionContext.entries.find((e) => e.id === entryId)
        const sides = [...new Set((entry?.legs ?? []).filter((l) => l.side === "SELL").map((l) => l.optionType))]
        const picks = staticPair(market.chain, market.spot, this.setup.band, sides, this.setup.unitLots, this.setup.lotSize, netPositions(projected))
        return { picks, cost: picks.reduce((t, p) => t + p.cost, 0), benefit: 0, shortfall: 0, limitedBy: picks.length === 0 ? "noCandidate" as const : "none" as const }
      }
      return yield* selectHedges(this.setup.model, {
        market: this.marketQuery(market),
        chain: market.chain,
        positions: netPositions(projected),
        reductionNeeded,
        spendLeft,
        unitLots: this.setup.unitLots,
        band: this.setup.band
      })
    })

  private assessExits = (hedges: ReadonlyArray<ExitCandidate>, liveEntries: ReadonlyArray<string>) =>
    Effect.gen({ self: this }, function*() {
      const s = this.sessionContext
      const market = yield* MarketData.use((m) => m.snapshot)
      const held = yield* Broker.use((b) => b.positions)
      const marginInUse = yield* MarginMonitor.use((m) => m.marginInUse)
      const next = this.pendingEntries(Number.POSITIVE_INFINITY)[0]
      const coming = next === undefined ? [] : this.legsOf([next], market)
      const heldModel = yield* this.modelMargin(market, held)
      const options = []
      for (const h of hedges) {
        const without = [...held, ...coming, { strike: h.strike, optionType: h.optionType, quantity: -h.quantity, expiry: s.expiry }]
        // Broker's margin now, moved by the model's difference: sell this hedge, add the next entry.
        const projectedMarginWithout = marginInUse + ((yield* this.modelMargin(market, without)) - heldModel)
        options.push({ hedgeId: h.hedgeId, forEntry: h.forEntry, price: priceOf(market.chain, h.strike, h.optionType), projectedMarginWithout })
      }
      return chooseExit({ policy: s.policy, options, liveEntries, marginInUse, budget: s.budget, rules: this.setup.exitRules })
    })
}
