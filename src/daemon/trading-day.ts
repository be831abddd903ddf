// One trading day of the daemon: the day's engine, resumed from its records, run through the instant
// loop (runtime/instants.ts) exactly as a replay runs, paced on the wall clock (or a sped-up one). The
// world is the real one: each instant observes what the platform did, takes the index's value for the
// clock event and the operator's queued commands; ticks fall every `tickMs`. A slow broker makes the
// held instant lag the wall clock; it never skips one. Stopping is clean: no new event is delivered,
// calls in flight finish (order bookkeeping included), and the audit is written with a checkpoint.
import { Context, Effect } from "effect"
import { SessionEngine, type EngineSetup } from "../runtime/engine.ts"
import { clockPacing, runInstants } from "../runtime/instants.ts"
import type { VirtualClock } from "../runtime/virtual-clock.ts"
import { AuditLog, type EngineServices } from "../services/services.ts"
import type { DaemonClock } from "./clock.ts"
import type { DaemonLog } from "./log.ts"
import type { OperatorSource } from "../commands/operator.ts"

export interface TradingDayOptions {
  readonly setup: EngineSetup
  /** The engine's services; their MarketClock is `instant`. */
  readonly services: Context.Context<EngineServices>
  /** The market instant being worked on, with the machines' timers. */
  readonly instant: VirtualClock
  /** What the daemon sleeps on. */
  readonly clock: DaemonClock
  readonly log: DaemonLog
  /** How often the clock ticks into the session, market milliseconds. */
  readonly tickMs: number
  /** The index's value for the clock event; null when it cannot be had just now. */
  readonly spot: () => Promise<number | null>
  /** Aborted on SIGINT / SIGTERM. */
  readonly signal: AbortSignal
  /**
   * Called at the end of every instant (recording); `scheduled` when a machine's timer or wake-up time
   * made it (an entry's time, a look-ahead, a re-check, an order's timeout), not only the tick.
   */
  readonly afterInstant?: (at: number, scheduled: boolean) => Promise<void>
  /**
   * Operator commands (the operator API): each queued command makes an instant happen now, and is
   * delivered in it before the clock event, so it is stamped with market time like everything else.
   */
  readonly operator?: OperatorSource
  /** The day's engine, once it runs (the live inspector watches it). */
  readonly onEngine?: (engine: SessionEngine) => void
}

export interface TradingDayResult {
  readonly engine: SessionEngine
  /** Why the engine stopped deciding, if it did. */
  readonly failure: string | null
  /** True when the day was cut short by a stop request. */
  readonly stopped: boolean
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

export const runTradingDay = async (o: TradingDayOptions): Promise<TradingDayResult> => {
  const { clock, instant, log, signal } = o
  const run = <A, E>(effect: Effect.Effect<A, E, EngineServices>) => Effect.runPromise(Effect.provideContext(effect, o.services))
  const resuming = (await run(AuditLog.use((a) => a.latest))) !== null
  const engine = await run(SessionEngine.resume(o.setup))
  log.write("info", "daemon", resuming ? "session resumed from its records" : "session started", { state: engine.actor.getSnapshot().value })
  o.onEngine?.(engine)
  await runInstants({
    engine,
    clock: instant,
    from: Math.max(instant.now(), clock.now()),
    pacing: clockPacing(clock, signal, o.operator === undefined ? undefined : (wake) => o.operator!.onQueued(wake)),
    stopped: () => signal.aborted,
    world: {
      observe: async (_at, engine) => {
        try {
          await engine.observeStrategies()
        } catch (e) {
          log.write("warn", "daemon", `could not see what the platform did: ${messageOf(e)}`)
        }
      },
      spot: () => o.spot(),
      deliver: (at, send) => o.operator?.deliver(at, send),
      // Ticks fall on a grid of `tickMs` (whole minutes for a 60 s tick, as a recorded day's do).
      nextEventAt: (at) => (Math.floor(at / o.tickMs) + 1) * o.tickMs
    },
    ...(o.afterInstant === undefined ? {} : { afterInstant: o.afterInstant })
  })
  if (engine.failure !== null) log.write("error", "daemon", `the engine stopped deciding: ${engine.failure}`)
  if (signal.aborted && !engine.done) log.write("info", "daemon", "stopped on request; the day resumes from its records at the next start")
  return { engine, failure: engine.failure, stopped: signal.aborted && !engine.done }
}
