// The runtime that binds the pure machines to the Effect services. Service calls the machines invoke
// run one at a time, in the order they were asked for (a single decision thread, as in Nautilus), so
// a simulated day gives the same transitions and audit rows on every run. Every transition of every
// machine actor becomes an audit row; every alert a machine emits goes to the Notifier. What the
// machines ask to have decided is decided by src/decisions, on inputs the engine gathers here.
import { Cause, Context, Effect, Exit, Option, Schema } from "effect"
import { createActor, type Actor, type AnyActorRef, type InspectionEvent } from "xstate"
import { AuditRecorder, kindOf, rememberStates, stateName } from "./audit-recorder.ts"
import { formatVerification, recoverCheckpoint } from "./verify.ts"
import type { AlertEvent, EntryPlan, OrderRef, OrderRequest, OrderState, PlaceResult, TaggedSnapshot } from "../../machines/protocol.ts"
import { isEntered, isToCome } from "../../machines/entry.ts"
import { MACHINE_VERSION, type sessionMachine, type SessionEvent, type SessionInput } from "../../machines/session.ts"
import { sessionMachineWith } from "./machine-services.ts"
import type { TradingSession } from "../domain/session.ts"
import { priceOf } from "../domain/market.ts"
import * as decisions from "../decisions/decisions.ts"
import type { DecisionRules, Situation } from "../decisions/decisions.ts"
import { entryIdOf } from "./session-plan.ts"
import {
  AuditLog,
  type AuditWriteFailed,
  Broker,
  MarginMonitor,
  MarketClock,
  MarketData,
  Notifier,
  OrderJournal,
  StrategyFeed,
  type Checkpoint,
  type EngineServices,
  type OrderIntent,
  type SentOrder,
  type TransitionRow
} from "../services/services.ts"

/** What the engine needs beyond the session's own input: the day as validated, and the rules of deciding. */
export interface EngineSetup extends DecisionRules {
  /** The day as validated (index, expiry, budget, enabled flag, mode). */
  readonly trading: TradingSession
  readonly session: SessionInput
}

type SessionActor = Actor<typeof sessionMachine>

const isTagged = (u: unknown, tag: string): boolean => typeof u === "object" && u !== null && "_tag" in u && (u as { _tag: unknown })._tag === tag

export class RestoreRefused extends Schema.TaggedError<RestoreRefused>()("RestoreRefused", {
  message: Schema.String
}) {}

/** An intent as a broker without client order ids recognises it: what was sent, when, and which ids are others'. */
const sentOrderOf = (intent: OrderIntent) =>
  Effect.map(OrderJournal.use((j) => j.all), (all): SentOrder => ({
    symbol: intent.symbol,
    side: intent.side,
    quantity: intent.quantity,
    limitPrice: intent.limitPrice,
    sentAt: intent.sentAt,
    claimedElsewhere: all.flatMap((i) => (i.clientOrderId !== intent.clientOrderId && i.brokerOrderId !== null ? [i.brokerOrderId] : []))
  }))

const refuseVersion = (checkpoint: Checkpoint) =>
  new RestoreRefused({ message: `checkpoint of machine version ${checkpoint.machineVersion}, running ${MACHINE_VERSION}: start the day afresh or migrate the snapshot` })

/**
 * Rows a crash may lose without changing any decision: the session's clock ticks, and its exit reviews
 * that chose to sell nothing (the session leaves them in the state and context it entered them with).
 */
export const isQuiet = (r: TransitionRow): boolean => {
  if (r.kind !== "session") return false
  if (r.event === "CLOCK") return r.from === r.to || (r.from === "trading.watching" && r.to === "trading.reviewingExits")
  return r.event === "xstate.done.actor.assessExits" && (r.payload as { output?: { hedgeId?: string | null } }).output?.hedgeId === null
}

/** How much market time may pass between two audit writes when nothing but time passes. */
export const QUIET_WRITE_EVERY_MS = 15 * 60_000
/**
 * How much market time may pass between two checkpoints (snapshots of the whole actor tree). A restart
 * restores the latest and re-drives the rows written after it; a checkpoint at every write would
 * cost more than the rest of the audit put together.
 */
export const CHECKPOINT_EVERY_MS = 15 * 60_000

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

export class SessionEngine {
  readonly actor: SessionActor
  readonly alerts: Array<{ readonly at: number; readonly alert: AlertEvent["alert"] }> = []
  /** How long each hedge selection took, wall milliseconds (a measurement only; it decides nothing). */
  readonly selectionMs: Array<number> = []
  /** Set when the audit could not be written: the engine stops deciding rather than act unaudited. */
  failure: string | null = null
  private readonly queue: Array<() => Promise<void>> = []
  private pumping: Promise<void> | null = null
  private readonly recorder: AuditRecorder
  private pendingRows: Array<TransitionRow> = []
  private lastFlushAt = Number.NEGATIVE_INFINITY
  private lastCheckpointAt = Number.NEGATIVE_INFINITY
  /** Who watches the rows as they are recorded (the live inspector); never part of any decision. */
  private readonly rowListeners = new Set<(row: TransitionRow) => void>()

  private constructor(
    private readonly setup: EngineSetup,
    private readonly context: Context.Context<EngineServices>,
    restored?: Checkpoint
  ) {
    const clock = Context.get(context, MarketClock)
    const run = <A, E>(effect: Effect.Effect<A, E, EngineServices>) => this.call(effect)
    const act = <A, E>(effect: Effect.Effect<A, E, EngineServices>) => this.call(effect, true)
    const machine = sessionMachineWith({
      assessExits: ({ input }) =>
        run(Effect.gen({ self: this }, function*() {
          const situation = yield* this.situation
          const marginInUse = yield* MarginMonitor.use((m) => m.marginInUse)
          return yield* decisions.assessExits(setup, situation, marginInUse, input.hedges, input.liveEntries)
        })),
      assessDelta: ({ input }) =>
        run(Effect.gen({ self: this }, function*() {
          const situation = yield* this.situation
          const marginInUse = yield* MarginMonitor.use((m) => m.marginInUse)
          return yield* decisions.assessDelta(setup, situation, marginInUse, input.spendLeft)
        })),
      assessOvernight: ({ input }) =>
        run(Effect.gen({ self: this }, function*() {
          const situation = yield* this.situation
          const marginInUse = yield* MarginMonitor.use((m) => m.marginInUse)
          return decisions.assessOvernight(setup, situation, marginInUse, input.beingBought)
        })),
      projectEntry: ({ input }) =>
        run(Effect.gen({ self: this }, function*() {
          const situation = yield* this.situation
          const marginInUse = yield* MarginMonitor.use((m) => m.marginInUse)
          return yield* decisions.projectEntry(setup, situation, this.entryPlan(input.entryId), marginInUse, yield* MarketClock.use((c) => c.now))
        })),
      selectHedges: ({ input }) =>
        run(Effect.gen({ self: this }, function*() {
          const situation = yield* this.situation
          const ask = { policy: input.policy, reductionNeeded: input.projection.reductionNeeded, spendLeft: input.spendLeft }
          const started = performance.now()
          const selection = yield* decisions.selectHedges(setup, situation, this.entryPlan(input.entryId), ask)
          if (input.policy !== "static") this.selectionMs.push(performance.now() - started)
          return selection
        })),
      quoteOption: ({ input }) => run(Effect.map(MarketData.use((m) => m.snapshot), (s) => ({ ltp: priceOf(s.chain, input.strike, input.optionType), at: s.at }))),
      placeOrder: ({ input }) => act(this.placeOrder(input)),
      findOrder: ({ input }) => run(this.findOrder(input.clientOrderId)),
      orderStatus: ({ input }) => run(this.journaled(input, Broker.use((b) => b.orderStatus(input.orderId)))),
      cancelOrder: ({ input }) => act(this.journaled(input, Broker.use((b) => b.cancelOrder(input.orderId))))
    })
    this.recorder = new AuditRecorder(restored?.seq ?? 0)
    if (restored !== undefined) {
      // The restored tree's states are known: its start is no transition (XState replays a fake init).
      rememberStates(restored.snapshot, "session", this.recorder, restored.latestRows ?? {})
    }
    this.actor = createActor(machine, {
      id: "session",
      input: setup.session,
      clock: clock.timers,
      inspect: (ev) => this.inspect(ev, clock.currentMillis),
      ...(restored === undefined ? {} : { snapshot: restored.snapshot as never })
    })
  }

  static start = (setup: EngineSetup): Effect.Effect<SessionEngine, never, EngineServices> =>
    Effect.map(Effect.context<EngineServices>(), (context) => {
      const engine = new SessionEngine(setup, context)
      engine.actor.start()
      return engine
    })

  /**
   * Carry on from the latest checkpoint after the process died. Service calls that were in flight run
   * again (each is safe to repeat: reads, and sends guarded by the order journal), the machines'
   * deadlines come back with their contexts, and the restore is itself an audit row.
   */
  static restore = (setup: EngineSetup, checkpoint: Checkpoint): Effect.Effect<SessionEngine, RestoreRefused, EngineServices> =>
    Effect.gen(function*() {
      if (checkpoint.machineVersion !== MACHINE_VERSION) return yield* refuseVersion(checkpoint)
      const context = yield* Effect.context<EngineServices>()
      const engine = new SessionEngine(setup, context, checkpoint)
      engine.actor.start()
      engine.recordRestore(checkpoint.seq)
      return engine
    })

  /**
   * Start the day, or carry on where a process that died left it: the latest checkpoint, brought up
   * to the last row written by re-driving the rows after it through the machines. Rows that do not
   * re-drive (the machines changed, the trail was tampered with) refuse the restore with where.
   */
  static resume = (setup: EngineSetup): Effect.Effect<SessionEngine, RestoreRefused | AuditWriteFailed, EngineServices> =>
    Effect.gen(function*() {
      const audit = yield* AuditLog
      const latest = yield* audit.latest
      if (latest !== null && latest.machineVersion !== MACHINE_VERSION) return yield* refuseVersion(latest)
      const after = yield* audit.after(latest?.seq ?? 0)
      const recovered = yield* Effect.promise(() => recoverCheckpoint(latest, after))
      if (!recovered.ok) {
        return yield* new RestoreRefused({ message: `the rows written after the checkpoint at seq ${latest?.seq ?? 0} do not re-drive: ${formatVerification(recovered.verification)}` })
      }
      return yield* recovered.checkpoint === null ? SessionEngine.start(setup) : SessionEngine.restore(setup, recovered.checkpoint)
    })

  private recordRestore(fromSeq: number): void {
    const state = stateName(this.actor.getSnapshot().value)
    const at = Context.get(this.context, MarketClock).currentMillis()
    this.record(this.recorder.row({ actorId: "session", kind: "session", from: state, to: state, event: "RESTORED", payload: { fromSeq }, at }))
  }

  /**
   * Watch every audit row as it is recorded: first the rows recorded but not yet written, then each
   * new one. Returns the unsubscribe. A listener that throws is dropped; it never stops the engine.
   */
  onRow(listener: (row: TransitionRow) => void): () => void {
    for (const row of this.pendingRows) listener(row)
    this.rowListeners.add(listener)
    return () => this.rowListeners.delete(listener)
  }

  private record(row: TransitionRow): void {
    this.pendingRows.push(row)
    for (const listener of this.rowListeners) {
      try {
        listener(row)
      } catch {
        this.rowListeners.delete(listener)
      }
    }
  }

  /** Deliver an outside event (clock, strategy observation, operator command). */
  send(event: SessionEvent): void {
    if (this.failure !== null) return
    this.actor.send(event)
  }

  /**
   * Wait until every service call the machines asked for has been answered and processed. The audit
   * is written before anything acts on the world, and at the end of every instant in which something
   * happened; instants in which only time passed are written every QUIET_WRITE_EVERY_MS of market
   * time. A crash therefore loses at most the passing of time: the world cannot be rewound, so nothing
   * that decided anything may be lost. A checkpoint goes with a write at the end of an instant (no
   * call in flight) every CHECKPOINT_EVERY_MS.
   */
  async settle(): Promise<void> {
    await flushMicrotasks()
    while (this.pumping !== null) {
      await this.pumping
      await flushMicrotasks()
    }
    const now = Context.get(this.context, MarketClock).currentMillis()
    const somethingHappened = this.pendingRows.some((r) => !isQuiet(r))
    if (somethingHappened || now - this.lastFlushAt >= QUIET_WRITE_EVERY_MS) await this.flushAudit(now - this.lastCheckpointAt >= CHECKPOINT_EVERY_MS)
  }

  /** Write everything recorded so far, with a checkpoint (the end of the day, a shutdown). */
  async flush(): Promise<void> {
    await this.settle()
    await this.flushAudit(true)
  }

  /**
   * Forward what the execution platform was seen doing (entries, exits) to the entries that have not
   * seen it yet. The feed gives the whole day so far, so after a restart nothing is missed.
   */
  async observeStrategies(): Promise<void> {
    const events = await this.call(StrategyFeed.use((f) => f.seen))
    for (const e of events) {
      const entryId = entryIdOf(e.portfolio)
      const entry = this.entrySnapshot(entryId)
      if (e.kind === "entered" && isToCome(entry)) this.send({ type: "ENTRY_SEEN", entryId, at: e.at })
      if (e.kind === "exited" && (isEntered(entry) || this.carriedStillHeld(entryId))) this.send({ type: "ENTRY_EXITED", entryId, at: e.at, reason: e.reason })
    }
    await this.settle()
  }

  /** A portfolio carried in from an earlier day whose exit the session has not seen yet. */
  private carriedStillHeld(entryId: string): boolean {
    const c = this.actor.getSnapshot().context
    return (c.carriedEntries ?? []).includes(entryId) && !c.leftEntries.includes(entryId)
  }

  private entrySnapshot(entryId: string): TaggedSnapshot | undefined {
    return (this.actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[entryId]?.getSnapshot()
  }

  get done(): boolean {
    return this.actor.getSnapshot().status === "done"
  }

  // ---- plumbing

  /**
   * Run a service call on the single decision thread. A call that acts on the world (`acts`: an order
   * sent or cancelled, an alert) waits for the audit to be written first: nothing leaves the process
   * before the transitions that led to it are recorded. Reads need no such wait.
   */
  private call<A, E>(effect: Effect.Effect<A, E, EngineServices>, acts = false): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.queue.push(async () => {
        if (acts) await this.flushAudit()
        if (this.failure !== null) return reject(new Error(this.failure))
        const exit = await Effect.runPromiseExitWith(this.context)(effect)
        if (Exit.isSuccess(exit)) return resolve(exit.value)
        const failure = Cause.findErrorOption(exit.cause)
        // A record that cannot be written stops the engine: it never acts unrecorded.
        if (Option.isSome(failure) && isTagged(failure.value, "JournalWriteFailed")) this.halt(`order journal write failed: ${String((failure.value as Error).message)}`)
        reject(new Error(Cause.pretty(exit.cause).split("\n")[0]))
      })
      if (this.pumping === null) this.pumping = this.pump()
    })
  }

  private async pump(): Promise<void> {
    // A call is asked for in the middle of XState processing an event: start only once that is over,
    // or a checkpoint taken now would miss the events its actors are still sending each other.
    await Promise.resolve()
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      await job()
      await flushMicrotasks()
    }
    this.pumping = null
  }

  /** Write the rows recorded so far and, when asked (only with no call in flight), a checkpoint. */
  private async flushAudit(withCheckpoint = false): Promise<void> {
    const now = Context.get(this.context, MarketClock).currentMillis()
    this.lastFlushAt = now
    if ((this.pendingRows.length === 0 && !withCheckpoint) || this.failure !== null) return
    const rows = this.pendingRows
    this.pendingRows = []
    if (withCheckpoint) this.lastCheckpointAt = now
    const checkpoint: Checkpoint | null = withCheckpoint
      ? {
          seq: this.recorder.seq,
          at: now,
          machineVersion: MACHINE_VERSION,
          snapshot: this.actor.getPersistedSnapshot(),
          latestRows: this.recorder.latestRows()
        }
      : null
    const exit = await Effect.runPromiseExitWith(this.context)(AuditLog.use((a) => a.append(rows, checkpoint)))
    if (Exit.isFailure(exit)) this.halt(`audit write failed: ${Cause.pretty(exit.cause).split("\n")[0]}`)
  }

  /** Stop deciding, from outside (the daemon's watchdog), with the same critical alert. */
  stopDeciding(reason: string): void {
    this.halt(reason)
  }

  /** Stop deciding, and say so loudly. */
  private halt(reason: string): void {
    if (this.failure !== null) return
    this.failure = reason
    this.actor.stop()
    const alert: AlertEvent["alert"] = { kind: "ENGINE_HALTED", severity: "critical", actor: "session", details: { reason } }
    const at = Context.get(this.context, MarketClock).currentMillis()
    this.alerts.push({ at, alert })
    void Effect.runPromiseExitWith(this.context)(Notifier.use((n) => n.notify(alert, at)))
  }

  private inspect(ev: InspectionEvent, now: () => number): void {
    this.recorder.observe(ev)
    if (ev.type === "@xstate.actor") {
      const ref = ev.actorRef as AnyActorRef
      if (kindOf(ref.id) !== undefined) ref.on("alert", (emitted: AlertEvent) => this.raiseAlert(emitted.alert, now()))
      return
    }
    const row = this.recorder.rowOf(ev, now)
    if (row === undefined) return
    this.record(row)
  }

  private raiseAlert(alert: AlertEvent["alert"], at: number): void {
    this.alerts.push({ at, alert })
    void this.call(Notifier.use((n) => n.notify(alert, at)), true).catch(() => undefined)
  }

  // ---- the services behind the machines' invocations

  /**
   * Send an order, its intent written first. An intent already written means this step ran before (a
   * restart restored it mid-send): the broker is asked for the order first, and the order is sent only
   * if it never got an answer and the broker confirms it does not have it — never blind.
   */
  private placeOrder = (req: OrderRequest) =>
    Effect.gen(function*() {
      const journal = yield* OrderJournal
      const broker = yield* Broker
      const { clientOrderId, hedgeId, side, symbol, strike, optionType, quantity, limitPrice } = req
      const known = yield* journal.find(clientOrderId)
      if (known !== null) {
        if (known.status === "REJECTED") return { outcome: "rejected", message: known.message ?? "rejected" } satisfies PlaceResult
        const found = yield* broker.findOrder(clientOrderId, yield* sentOrderOf(known)).pipe(Effect.orElseSucceed(() => undefined))
        if (found === undefined) return { outcome: "unknown", message: "sent before a restart; the broker could not be asked" } satisfies PlaceResult
        if (found !== null) {
          yield* journal.update(clientOrderId, { status: "ACCEPTED", brokerOrderId: found.orderId })
          return { outcome: "accepted", orderId: found.orderId } satisfies PlaceResult
        }
        // Reconciled: the broker does not have it. Only an order that never got an answer is sent now.
        if (known.status !== "PENDING" && known.status !== "UNKNOWN") {
          return { outcome: "unknown", message: `journal says ${known.status} but the broker does not know the order` } satisfies PlaceResult
        }
        yield* journal.update(clientOrderId, { status: "PENDING", message: "sent after reconciling: the broker did not have it" })
      } else {
        const sentAt = yield* MarketClock.use((c) => c.now)
        yield* journal.record({ clientOrderId, hedgeId, side, symbol, strike, optionType, quantity, limitPrice, sentAt, status: "PENDING", brokerOrderId: null, message: null, filledQuantity: 0, averagePrice: null })
      }
      return yield* broker.placeOrder(req).pipe(
        Effect.matchEffect({
          onSuccess: (r) => Effect.as(journal.update(clientOrderId, { status: "ACCEPTED", brokerOrderId: r.orderId }), { outcome: "accepted", orderId: r.orderId } satisfies PlaceResult),
          onFailure: (e) =>
            Effect.as(
              journal.update(clientOrderId, { status: e._tag === "OrderRejected" ? "REJECTED" : "UNKNOWN", message: e.message }),
              { outcome: e._tag === "OrderRejected" ? "rejected" : "unknown", message: e.message } satisfies PlaceResult
            )
        })
      )
    })

  /** Look an order up at the broker by client id, recording what is learnt. */
  private findOrder = (clientOrderId: string) =>
    Effect.gen({ self: this }, function*() {
      const journal = yield* OrderJournal
      const intent = yield* journal.find(clientOrderId)
      const found = yield* Broker.use((b) => (intent === null ? b.findOrder(clientOrderId) : Effect.flatMap(sentOrderOf(intent), (sent) => b.findOrder(clientOrderId, sent))))
      if (found === null) yield* journal.update(clientOrderId, { status: "REJECTED", message: "never reached the broker" })
      else yield* this.noteOrderState(clientOrderId, found)
      return found
    })

  /** A status or cancel answer, with its outcome written to the journal when the order is done. */
  private journaled = <E>(ref: OrderRef, answer: Effect.Effect<OrderState, E, Broker>) =>
    Effect.tap(answer, (state) => this.noteOrderState(ref.clientOrderId, state))

  private noteOrderState = (clientOrderId: string, state: OrderState) =>
    state.status === "open"
      ? Effect.void
      : OrderJournal.use((j) =>
          j.update(clientOrderId, {
            status: state.status === "filled" ? "FILLED" : state.status === "cancelled" ? "CANCELLED" : "REJECTED",
            brokerOrderId: state.orderId,
            message: state.message ?? null,
            // The fill as the broker answered it: what analytics and the day's records are built from.
            filledQuantity: state.filledQuantity,
            averagePrice: state.filledQuantity > 0 ? state.averagePrice : null
          })
        )

  private entryPlan(entryId: string): EntryPlan | undefined {
    return this.actor.getSnapshot().context.entries.find((e) => e.id === entryId)
  }

  /** What a decision would see now, for a preview outside the instant loop (the operator's manual buy). */
  get situationNow() {
    return this.situation
  }

  /** What a decision sees now: the day, the market, the broker's positions, the entries to come and in. */
  private situation = Effect.gen({ self: this }, function*() {
    const market = yield* MarketData.use((m) => m.snapshot)
    const held = yield* Broker.use((b) => b.positions)
    const c = this.actor.getSnapshot().context
    return {
      day: { index: c.index, date: c.date, expiry: c.expiry, baskets: c.baskets, budget: c.budget, policy: c.policy, targetPct: c.entryRules.targetPct, closeAt: c.closeAt },
      market,
      held,
      coming: c.entries.filter((e) => isToCome(this.entrySnapshot(e.id))),
      entered: c.entries.filter((e) => isEntered(this.entrySnapshot(e.id))).map((e) => ({ ...e, struckSpot: c.struckSpots[e.id] ?? null }))
    } satisfies Situation
  })
}
