// Replays a recorded day through the same session machine the daemon runs, on a virtual clock, against
// the paper world of that day, and reports what the policy bought, spent and breached.
import { Context, Effect } from "effect"
import type { Alert, OrderRequest, Policy } from "../machines/protocol.ts"
import type { SessionEvent } from "../machines/session.ts"
import { PaperWorld, type PaperWorldStore } from "../adapters/paper/world.ts"
import { memoryAuditLog, memoryNotifier, memoryOrderJournal } from "../adapters/memory/recorders.ts"
import type { HedgeConfig, SelectionMethod } from "../src/domain/config.ts"
import type { PolicyName } from "../src/runtime/policies.ts"
import type { MarginModel } from "../src/domain/margin.ts"
import { SessionEngine, type EngineSetup } from "../src/runtime/engine.ts"
import type { OperatorSource } from "../src/commands/operator.ts"
import { carriedInputOf, engineSetupFor, type Polling } from "../src/runtime/session-plan.ts"
import { VirtualClock } from "../src/runtime/virtual-clock.ts"
import { runInstants, virtualPacing, type Pacing, type World } from "../src/runtime/instants.ts"
import { auditWithDeadline, journalWithDeadline, withDeadline } from "../src/runtime/deadlines.ts"
import {
  AuditLog,
  AuditWriteFailed,
  Broker,
  MarginMonitor,
  MarketClock,
  MarketData,
  Notifier,
  OrderJournal,
  StrategyFeed,
  type EngineServices,
  type TimerClock,
  type TransitionRow
} from "../src/services/services.ts"
import type { OpeningPosition, RecordedDay } from "../src/domain/recorded-day.ts"
import { closingPositions } from "./carry.ts"
import { dayReportOf, type DayReport } from "../src/runtime/day-report.ts"

export interface ReplayOptions {
  readonly config: HedgeConfig
  readonly policy: Policy
  /** How hedges are chosen (default: the config's). */
  readonly selection?: SelectionMethod
  /** Decide on a polling loop's beat (the origin reference behaviour). */
  readonly polling?: Polling
  /** Look past the next entry (default true). */
  readonly foresight?: boolean
  /** Weigh a hedge set's cost against the breach cost it averts (default true). */
  readonly weighsCost?: boolean
  /** Run the delta band beside the engine (default: the config's `deltaBand.enabled`). */
  readonly deltaBand?: boolean
  /** The policy's name in the report (default: `policy`). */
  readonly reportAs?: PolicyName
  /** The margin the paper broker reports (the "truth"). */
  readonly truth: MarginModel
  /** The engine's own margin estimate. */
  readonly estimate: MarginModel
  /** Auto-hedge switched on for the day (default true). */
  readonly enabled?: boolean
  /**
   * Fault injection: the process dies at this service call (it and everything after it never happen)
   * and is started again from its last checkpoint; the broker's world, audit and journal outlive it.
   */
  readonly killAfterCalls?: number
  /**
   * Where the audit trail, checkpoints, order journal and the paper broker's state are kept (default:
   * in this process), and whether to carry on from what is kept there (a restarted process).
   */
  readonly store?: {
    readonly audit: AuditLog["Service"]
    readonly journal: OrderJournal["Service"]
    readonly world?: PaperWorldStore
    readonly resume?: boolean
  }
  /** With `killAfterCalls`: the process kills itself (SIGKILL) there instead of being restarted here. */
  readonly hardKill?: boolean
  /** Fault injection: the audit store accepts this many batches, then every write fails. */
  readonly auditFailsAfterBatches?: number
  /** Fault injection: the audit store accepts this many batches, then never answers again (a hung database). */
  readonly auditHangsAfterBatches?: number
  /**
   * The deadline on every database call (the audit, the journal, the paper broker's state): past it
   * the call failed, as if the connection were refused. Timers in wall time for a real run.
   */
  readonly databaseDeadline?: { readonly seconds: number; readonly timers: TimerClock }
  /** Portfolios the platform never enters today (their entries are missed); default none. */
  readonly platformSkips?: ReadonlyArray<string>
  /** Operator commands (toggle, manual exit) delivered at their instants, before that instant's clock. */
  readonly commands?: ReadonlyArray<{ readonly at: number; readonly event: SessionEvent }>
  /** Commands queued while the day runs (the operator API): delivered at the next instant, before its clock. */
  readonly operator?: OperatorSource
  /** The day's engine, again after a restart, with the services it runs on (the live inspector). */
  readonly onEngine?: (engine: SessionEngine, setup: EngineSetup, services: Context.Context<EngineServices>) => void
  /** Called at the end of every instant (the inspector samples utilisation). */
  readonly afterInstant?: (at: number) => Promise<void>
  /** How the day waits for each instant: not at all by default, or paced to a multiple of market time. */
  readonly pacing?: Pacing
  /** Stops the day at the next instant (the engine's records are written). */
  readonly signal?: AbortSignal
  readonly file?: string
  /** Alerts also go here (a messenger under test); what it answers decides nothing. */
  readonly alsoNotify?: Notifier["Service"]
}

export interface ReplayResult {
  /** Why the engine stopped deciding before the day ended, if it did. */
  readonly failure: string | null
  readonly report: DayReport
  /** Times the process was started again after dying (fault injection). */
  readonly restarts: number
  /** Every order the broker received, in order. */
  readonly orders: ReadonlyArray<OrderRequest>
  /** Service calls the first process made (counted only with `killAfterCalls`). */
  readonly serviceCalls: number
  readonly rows: ReadonlyArray<TransitionRow>
  readonly alerts: ReadonlyArray<{ readonly at: number; readonly alert: Alert }>
  /** What is held after the day's close: the trader's portfolios and the engine's wings (simulations/carry.ts). */
  readonly closing: ReadonlyArray<OpeningPosition>
}

/** A persisted audit trail whose rows are also kept here, for the day's report. */
const alsoInMemory = (persisted: AuditLog["Service"], local: AuditLog["Service"]): AuditLog["Service"] => ({
  append: (rows, checkpoint) => Effect.andThen(persisted.append(rows, checkpoint), local.append(rows, checkpoint)),
  latest: persisted.latest,
  after: persisted.after,
  trail: persisted.trail
})

/** An audit store that breaks after `batches` writes: a database that dies mid-day (refuses, or hangs). */
const failingAfter = (audit: AuditLog["Service"], batches: number | undefined, how: "refuses" | "hangs" = "refuses"): AuditLog["Service"] => {
  if (batches === undefined) return audit
  let written = 0
  return {
    ...audit,
    append: (rows, checkpoint) =>
      written++ < batches ? audit.append(rows, checkpoint) : how === "hangs" ? Effect.never : Effect.fail(new AuditWriteFailed({ message: "connection to the database lost" }))
  }
}

/** The process a gate guards has died: what it was waited for never comes. */
class ProcessDied extends Error {}

/**
 * Counts the service calls a process makes; from the limit on, each call hangs forever (the process
 * is dead) and `died` resolves.
 */
export class ProcessGate {
  private calls_ = 0
  get calls(): number {
    return this.calls_
  }
  private resolveDied!: () => void
  readonly died = new Promise<void>((resolve) => (this.resolveDied = resolve))

  constructor(
    private readonly limit: number,
    /** What dying means: by default this process stops answering; a CLI run kills itself. */
    private readonly onDeath?: () => void
  ) {}

  /** The same service with every call counted and, past the limit, never answered. */
  wrap<S extends object>(service: S): S {
    const pass = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        if (++this.calls_ <= this.limit) return effect
        this.onDeath?.()
        this.resolveDied()
        return Effect.never
      })
    return Object.fromEntries(
      Object.entries(service).map(([key, member]) => [
        key,
        Effect.isEffect(member) ? pass(member) : typeof member === "function" ? (...args: Array<unknown>) => pass(member(...args)) : member
      ])
    ) as S
  }
}

/** The market time of the last row a trail holds (-Infinity when it holds none). */
const lastRecordedAt = async (audit: AuditLog["Service"]): Promise<number> => {
  const checkpoint = await Effect.runPromise(audit.latest)
  const after = await Effect.runPromise(audit.after(checkpoint?.seq ?? 0))
  return Math.max(after.at(-1)?.at ?? Number.NEGATIVE_INFINITY, checkpoint?.at ?? Number.NEGATIVE_INFINITY)
}

export const replayDay = async (day: RecordedDay, opts: ReplayOptions): Promise<ReplayResult> => {
  const h = day.header
  const planned = engineSetupFor({
    day: h,
    config: opts.config,
    policy: opts.policy,
    model: opts.estimate,
    enabled: opts.enabled ?? true,
    ...(opts.selection === undefined ? {} : { selection: opts.selection }),
    ...(opts.polling === undefined ? {} : { polling: opts.polling }),
    ...(opts.foresight === undefined ? {} : { foresight: opts.foresight }),
    ...(opts.weighsCost === undefined ? {} : { weighsCost: opts.weighsCost }),
    ...(opts.deltaBand === undefined ? {} : { deltaBand: opts.deltaBand })
  })
  // The engine's wings held at the open are its hedges; the broker (the paper world) holds every position.
  const setup = { ...planned, session: { ...planned.session, ...carriedInputOf(h.openingPositions) } }
  // The engine plans from the whole header; the platform enters only what it does not skip.
  const skips = new Set(opts.platformSkips ?? [])
  const entered = skips.size === 0 ? day : { ...day, header: { ...h, entries: h.entries.filter((e) => !skips.has(e.portfolio)) } }
  const deadline = opts.databaseDeadline
  const worldStore = opts.store?.world === undefined || deadline === undefined
    ? opts.store?.world
    : withDeadline(opts.store.world, deadline.seconds, deadline.timers, (m, seconds) => new Error(`the database did not answer ${m} within ${seconds} s`))
  const paper = new PaperWorld(entered, opts.truth, worldStore)
  const kept = opts.store?.resume === true && worldStore !== undefined ? await Effect.runPromise(worldStore.load) : null
  if (kept !== null) paper.restore(kept)
  const clock = new VirtualClock(Math.min(day.ticks[0]!.at, setup.session.openAt))
  const rows: Array<TransitionRow> = []
  const sent: Array<{ at: number; alert: Alert }> = []
  // What outlives the process: the broker's world, the audit trail with its checkpoints, the journal.
  const local = memoryAuditLog(rows)
  const faulty = failingAfter(
    failingAfter(opts.store === undefined ? local : alsoInMemory(opts.store.audit, local), opts.auditFailsAfterBatches),
    opts.auditHangsAfterBatches,
    "hangs"
  )
  const audit = deadline === undefined ? faulty : auditWithDeadline(faulty, deadline.seconds, deadline.timers)
  const journal = deadline === undefined || opts.store === undefined ? opts.store?.journal ?? memoryOrderJournal() : journalWithDeadline(opts.store.journal, deadline.seconds, deadline.timers)
  const inMemory = memoryNotifier(sent)
  const also = opts.alsoNotify
  const notifier: Notifier["Service"] = also === undefined ? inMemory : { notify: (alert, at) => Effect.andThen(inMemory.notify(alert, at), Effect.ignore(also.notify(alert, at))) }
  const servicesOf = (gate: ProcessGate | undefined): Context.Context<EngineServices> => {
    const g = <S extends object>(service: S): S => (gate === undefined ? service : gate.wrap(service))
    return Context.make(MarketClock, { now: Effect.sync(() => clock.now()), currentMillis: () => clock.now(), timers: clock }).pipe(
      Context.add(MarketData, g(paper.marketData)),
      Context.add(Broker, g(paper.broker)),
      Context.add(MarginMonitor, g(paper.marginMonitor)),
      Context.add(StrategyFeed, g(paper.strategyFeed)),
      Context.add(Notifier, g(notifier)),
      Context.add(AuditLog, g(audit)),
      Context.add(OrderJournal, g(journal))
    )
  }

  const onDeath = opts.hardKill === true ? () => process.kill(process.pid, "SIGKILL") : undefined
  let gate = opts.killAfterCalls === undefined ? undefined : new ProcessGate(opts.killAfterCalls, onDeath)
  const firstGate = gate
  const resuming = opts.store?.resume === true
  // A process that carries on from records starts where the dead one was: at the later of the
  // broker's last change and the last row written (only quiet instants can lie between that and the
  // kill). Restoring at any earlier instant would re-deliver what the world already moved past and
  // re-arm the machines' timers from the wrong time. A process that died before writing anything
  // starts the day afresh, from its beginning.
  const lastWritten = resuming ? await lastRecordedAt(audit) : Number.NEGATIVE_INFINITY
  if (Number.isFinite(lastWritten)) clock.advanceTo(Math.max(clock.now(), kept?.now ?? Number.NEGATIVE_INFINITY, lastWritten))
  let engine = await Effect.runPromise(Effect.provideContext(resuming ? SessionEngine.resume(setup) : SessionEngine.start(setup), servicesOf(gate)))
  // What watches the day reads the world directly, uncounted by the fault-injection gate.
  opts.onEngine?.(engine, setup, servicesOf(undefined))
  let restarts = 0
  const commands = [...(opts.commands ?? [])].sort((a, b) => a.at - b.at)
  // A resumed engine carries on at its own time; the world catches up to it deterministically.
  let from = resuming ? Math.max(clock.now(), engine.actor.getSnapshot().context.now) : clock.now()
  /** The instant the running process (re)started at, when it carries on from records. */
  let startedAt = resuming ? from : undefined
  const world: World = {
    observe: async (at, engine) => {
      await Effect.runPromise(paper.advanceTo(at))
      await engine.observeStrategies()
    },
    spot: () => paper.tick?.spot ?? null,
    deliver: (at, send) => {
      for (const c of commands) if (c.at === at) send(c.event)
      opts.operator?.deliver(at, send)
    },
    nextEventAt: (at) => Math.min(...[paper.nextEventAt(), commands.find((c) => c.at > at)?.at].filter((t): t is number => t !== undefined))
  }
  // A process that dies is started again from its last checkpoint, at the same instant.
  for (;;) {
    try {
      await runInstants({
        engine,
        clock,
        from,
        pacing: opts.pacing ?? virtualPacing,
        world,
        stopped: () => opts.signal?.aborted === true,
        // The kill gate: a call past its limit never answers, and the process is dead.
        awaitEngine: (work) => (gate === undefined ? work : Promise.race([work, gate.died.then(() => Promise.reject(new ProcessDied()))])),
        // A process restarted within an instant whose clock event it had recorded does not take it
        // again (nor that instant's commands): the instant happens once.
        takesOutsideEvents: async (at) =>
          startedAt !== at || !(await Effect.runPromise(audit.trail)).some((r) => r.actorId === "session" && r.event === "CLOCK" && (r.payload as { at?: number }).at === at),
        ...(opts.afterInstant === undefined ? {} : { afterInstant: opts.afterInstant })
      })
      break
    } catch (e) {
      if (!(e instanceof ProcessDied)) throw e
      engine.actor.stop()
      gate = undefined
      restarts++
      from = startedAt = clock.now()
      engine = await Effect.runPromise(Effect.provideContext(SessionEngine.resume(setup), servicesOf(undefined)))
      opts.onEngine?.(engine, setup, servicesOf(undefined))
    }
  }
  // The report reads the whole trail: a resumed process wrote only its part of it, and reads the rest
  // back; otherwise this process holds it all.
  const trail = resuming ? await Effect.runPromise(audit.trail) : rows
  const closing = closingPositions(day, paper.heldPortfolios(), Object.values(engine.actor.getSnapshot().context.hedges))
  return { closing, failure: engine.failure, report: dayReportOf({ date: h.date, index: h.index, lotSize: h.lotSize, file: opts.file ?? "", policy: opts.reportAs ?? opts.policy, engine, breaches: paper.breaches, peak: paper.peakUtilisationPct, rows: trail }), rows: trail, alerts: sent, restarts, orders: paper.orderLog(), serviceCalls: firstGate?.calls ?? 0 }
}

