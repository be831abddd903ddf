// One trading day of the daemon. Market time moves in instants, exactly as in a replay: the next
// instant is the next tick (`tickMs` on), the next machine timer, or the next time a machine asked to
// be woken, whichever comes first; the daemon sleeps until that instant on the wall clock (or a
// sped-up one) and then holds it while it works: it observes what the platform did, delivers the
// clock event, waits for every service call, then fires the timers due. Everything done in an instant
// is stamped with it, so a live day's audit rows have the shape of a simulated day's and `replay`
// verifies them alike. A slow broker makes the held instant lag the wall clock; it never skips one.
// Stopping is clean: no new event is delivered, calls in flight finish (order bookkeeping included),
// and the audit is written with a checkpoint.
import { Context, Effect } from "effect"
import { wakeTimesOf } from "../../machines/session.ts"
import { SessionEngine, type EngineSetup } from "../runtime/engine.ts"
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

/** Sleep until `at`, or until a stop request or an operator command comes first. */
const sleepUntilNextOrCommand = async ({ clock, signal, operator }: TradingDayOptions, at: number): Promise<void> => {
  if (operator === undefined) return clock.sleepUntil(at, signal)
  const woken = new AbortController()
  const wake = () => woken.abort()
  signal.addEventListener("abort", wake, { once: true })
  const unsubscribe = operator.onQueued(wake)
  try {
    await clock.sleepUntil(at, woken.signal)
  } finally {
    unsubscribe()
    signal.removeEventListener("abort", wake)
  }
}

export const runTradingDay = async (o: TradingDayOptions): Promise<TradingDayResult> => {
  const { clock, instant, log, signal } = o
  const run = <A, E>(effect: Effect.Effect<A, E, EngineServices>) => Effect.runPromise(Effect.provideContext(effect, o.services))
  const resuming = (await run(AuditLog.use((a) => a.latest))) !== null
  const engine = await run(SessionEngine.resume(o.setup))
  log.write("info", "daemon", resuming ? "session resumed from its records" : "session started", { state: engine.actor.getSnapshot().value })
  o.onEngine?.(engine)
  let next = Math.max(instant.now(), clock.now())
  let scheduled = false
  while (!engine.done && engine.failure === null) {
    await sleepUntilNextOrCommand(o, next)
    if (signal.aborted) break
    // Woken early by a command: its instant is now (never the one just held again).
    if (clock.now() < next) next = Math.max(clock.now(), instant.now() + 1)
    instant.advanceTo(next)
    try {
      await engine.observeStrategies()
    } catch (e) {
      log.write("warn", "daemon", `could not see what the platform did: ${messageOf(e)}`)
    }
    const spot = await o.spot()
    o.operator?.deliver(next, (event) => engine.send(event))
    engine.send({ type: "CLOCK", at: next, spot })
    await engine.settle()
    while (instant.fireNext()) await engine.settle()
    await o.afterInstant?.(next, scheduled)
    // Ticks fall on a grid of `tickMs` (whole minutes for a 60 s tick, as a recorded day's do).
    const tick = (Math.floor(next / o.tickMs) + 1) * o.tickMs
    const due = Math.min(...[instant.nextDue(), wakeTimesOf(engine.actor.getSnapshot()).find((t) => t > next)].filter((t): t is number => t !== undefined))
    next = Math.min(tick, due)
    scheduled = next === due
  }
  // Calls in flight finish and are recorded; the audit is written with a checkpoint.
  await engine.flush()
  if (engine.failure !== null) log.write("error", "daemon", `the engine stopped deciding: ${engine.failure}`)
  if (signal.aborted && !engine.done) log.write("info", "daemon", "stopped on request; the day resumes from its records at the next start")
  return { engine, failure: engine.failure, stopped: signal.aborted && !engine.done }
}
