// One trading day of the daemon: the day's engine, resumed from its records, run through the instant
// loop (runtime/instants.ts) exactly as a replay runs, paced on the wall clock (or a sped-up one). The
// world is the real one: each instant observes what the platform did, takes the index's value for the
// clock event and the operator's queued commands; ticks fall every `tickMs`. An instant the market has
// already left behind (a slow broker, a sped-up paper day) is not held late: the market's current
// second is held instead, so every read of an instant is the market of that instant, and the ticks in
// between are skipped; the log says when the engine falls behind and when it is in step again
// (`MarketPace`). Stopping is clean: no new event is delivered,
// calls in flight finish (order bookkeeping included), and the audit is written with a checkpoint.
import { Context, Effect } from "effect"
import { SessionEngine, type EngineSetup } from "../runtime/engine.ts"
import { clockPacing, runInstants } from "../runtime/instants.ts"
import type { VirtualClock } from "../runtime/virtual-clock.ts"
import { AuditLog, type EngineServices } from "../services/services.ts"
import type { DaemonClock } from "./clock.ts"
import type { DaemonLog } from "./log.ts"
import type { OperatorSource } from "../commands/operator.ts"
import { wallTimeOf } from "../domain/time.ts"
import type { Pacing } from "../runtime/instants.ts"

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
  /** Told when the engine falls behind the market (with the episode) and when it is in step again (null). */
  readonly onBehind?: (behind: Behind | null) => void
}

/** An instant due more than this long ago (market ms) is not held: its reads would be a later market's. */
export const LATE_MS = 1000
/** Held this late or later (market ms), the engine is behind the market: said once as it starts. */
export const BEHIND_MS = 5000
/** An episode of falling behind ends once the engine has held its instants on time this long (market ms). */
export const IN_STEP_MS = 60_000

/** An episode of falling behind the market. */
export interface Behind {
  /** The first instant held late was due at (market ms). */
  readonly since: number
  /** The most an instant was due before the market clock when held, market ms. */
  readonly worstMs: number
  /** Ticks not held because the market had passed them. */
  readonly ticksSkipped: number
}

/**
 * How the engine keeps pace with the market: every instant due is held if the market is still at it
 * (within LATE_MS); one the market has left is replaced by the market's current second (never earlier
 * than the one due, so a machine's timer still fires, a little late). Replaying a late instant with the
 * market read now would stamp later prices with an earlier time; the skipped ticks hold nothing a
 * trader needs (the next instant sees the market and the account as they are). An episode (held at least
 * BEHIND_MS late) is logged when it starts and when the engine has kept pace for IN_STEP_MS again.
 */
export class MarketPace {
  private episode: { since: number; worstMs: number; ticksSkipped: number; lastLateAt: number } | null = null

  constructor(
    private readonly now: () => number,
    private readonly tickMs: number,
    private readonly log: DaemonLog,
    private readonly onBehind: (behind: Behind | null) => void = () => {}
  ) {}

  /** The instant to hold for instant `due`. */
  hold(due: number): number {
    const now = this.now()
    const lateMs = now - due
    const held = lateMs <= LATE_MS ? due : Math.max(due, Math.floor(now / 1000) * 1000)
    const skipped = Math.floor((held - due) / this.tickMs)
    if (lateMs >= BEHIND_MS && this.episode === null) {
      this.episode = { since: due, worstMs: lateMs, ticksSkipped: 0, lastLateAt: now }
      this.log.write("warn", "daemon", `behind the market: the instant due at ${wallTimeOf(due)} IST is ${seconds(lateMs)} s old (market at ${wallTimeOf(now)}); `
        + `holding the market's ${wallTimeOf(held)} instead, so what the engine reads belongs to the instant it decides at (ticks in between are skipped)`, { due, held, lateSeconds: seconds(lateMs) })
    }
    const e = this.episode
    if (e !== null) {
      e.ticksSkipped += skipped
      if (lateMs >= BEHIND_MS) {
        e.worstMs = Math.max(e.worstMs, lateMs)
        e.lastLateAt = now
      }
    }
    if (lateMs < BEHIND_MS) this.onTime(now)
    if (this.episode !== null) this.onBehind(this.behind()!)
    return held
  }

  /** The day is over (or stopped) while behind: the episode's end is said with what it cost. */
  close(): void {
    const e = this.episode
    if (e === null) return
    this.episode = null
    this.log.write("info", "daemon", `the day's instants ended behind the market: behind from ${wallTimeOf(e.since)}, at most ${seconds(e.worstMs)} s, ${e.ticksSkipped} ticks skipped`,
      { since: e.since, worstSeconds: seconds(e.worstMs), ticksSkipped: e.ticksSkipped })
    this.onBehind(null)
  }

  /** The episode under way, if any. */
  behind(): Behind | null {
    return this.episode === null ? null : { since: this.episode.since, worstMs: this.episode.worstMs, ticksSkipped: this.episode.ticksSkipped }
  }

  private onTime(now: number): void {
    const e = this.episode
    if (e === null || now - e.lastLateAt < IN_STEP_MS) return
    this.episode = null
    this.log.write("info", "daemon", `in step with the market again at ${wallTimeOf(now)} IST: behind from ${wallTimeOf(e.since)}, at most ${seconds(e.worstMs)} s, ${e.ticksSkipped} ticks skipped`,
      { since: e.since, worstSeconds: seconds(e.worstMs), ticksSkipped: e.ticksSkipped })
    this.onBehind(null)
  }
}

const seconds = (ms: number) => Math.round(ms / 100) / 10

/** The pacing with the market's pace kept: an instant the market has left is replaced by the market's own. */
export const keepingPace = (pacing: Pacing, pace: MarketPace): Pacing => async (at, held) => pace.hold(await pacing(at, held))

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
  const pace = new MarketPace(() => clock.now(), o.tickMs, log, o.onBehind)
  await runInstants({
    engine,
    clock: instant,
    from: Math.max(instant.now(), clock.now()),
    pacing: keepingPace(clockPacing(clock, signal, o.operator === undefined ? undefined : (wake) => o.operator!.onQueued(wake)), pace),
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
  pace.close()
  if (engine.failure !== null) log.write("error", "daemon", `the engine stopped deciding: ${engine.failure}`)
  if (signal.aborted && !engine.done) log.write("info", "daemon", "stopped on request; the day resumes from its records at the next start")
  return { engine, failure: engine.failure, stopped: signal.aborted && !engine.done }
}
