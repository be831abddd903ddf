// The one loop that moves a session through market time, for the daemon, the simulator and the
// verifier alike (a replay, or a check of a recorded day, is only as faithful as the loops are equal,
// so there is one). Time moves in instants: the
// next is the world's next event (a tick, a recorded event, a command), the machines' next timer, or
// the next time a machine asked to be woken, whichever comes first (`nextInstant`). Each instant is
// held while the engine works on it: the world moves and the engine sees what the platform did, the
// operator's commands are delivered, then the clock event; every service call is waited for, then the
// timers due fire. Everything done in an instant is stamped with it, so a live day's audit rows have
// the shape of a simulated day's. How the loop waits for an instant (not at all, on the wall clock, on
// a sped-up one) is its pacing; everything else is the same for every caller.
import { wakeTimesOf } from "../../machines/session.ts"
import type { SessionEvent } from "../../machines/session.ts"
import type { DaemonClock } from "../daemon/clock.ts"
import type { SessionEngine } from "./engine.ts"
import type { VirtualClock } from "./virtual-clock.ts"

/**
 * Waits until instant `at` may be held and gives the instant to hold: `at`, or an earlier one (after
 * `held`, the instant last held) when something (an operator command) asked for an instant now.
 */
export type Pacing = (at: number, held: number) => Promise<number>

/** A simulated day: no waiting, instant after instant. */
export const virtualPacing: Pacing = (at) => Promise.resolve(at)

/**
 * Market time on a clock (the wall clock, or a sped-up one): sleep until the instant, or until a stop
 * request or a queued command comes first; a command's instant is now (never the one just held again).
 */
export const clockPacing = (clock: DaemonClock, signal: AbortSignal, onCommand?: (wake: () => void) => () => void): Pacing => async (at, held) => {
  const woken = new AbortController()
  const wake = () => woken.abort()
  signal.addEventListener("abort", wake, { once: true })
  const unsubscribe = onCommand?.(wake)
  try {
    await clock.sleepUntil(at, woken.signal)
  } finally {
    unsubscribe?.()
    signal.removeEventListener("abort", wake)
  }
  return clock.now() < at ? Math.max(clock.now(), held + 1) : at
}

/**
 * What the loop drives: the engine, or the verifier's rebuild (whose service calls are answered from a
 * recorded trail).
 */
export type InstantHost = Pick<SessionEngine, "actor" | "send" | "settle" | "flush" | "done" | "failure">

/** Where the day's outside events come from: the platform, the market, the operator (or a recorded trail). */
export interface World<H extends InstantHost = SessionEngine> {
  /** The world moves to `at` and the engine sees what the platform did. */
  readonly observe: (at: number, engine: H) => Promise<void>
  /** The index's value for the clock event; null when it cannot be had just now. */
  readonly spot: (at: number) => number | null | Promise<number | null>
  /** Delivers the operator's commands due at `at`, before the clock event. */
  readonly deliver: (at: number, send: (event: SessionEvent) => void) => void
  /** The world's next event after `at` (a tick, a recorded event, a command), if any. */
  readonly nextEventAt: (at: number) => number | undefined
}

export interface InstantsOptions<H extends InstantHost = SessionEngine> {
  readonly engine: H
  /** The market instant being held, with the machines' timers (the engine's MarketClock). */
  readonly clock: VirtualClock
  /** The first instant to hold. */
  readonly from: number
  readonly pacing: Pacing
  readonly world: World<H>
  /** True once the day is to stop (a stop request): no new instant is held. */
  readonly stopped: () => boolean
  /**
   * Every wait on the engine goes through it: fault injection (a process killed mid-call) rejects it,
   * and the loop ends with that rejection, the audit left as the dead process left it.
   */
  readonly awaitEngine?: (work: Promise<void>) => Promise<void>
  /** False when a restarted process already took this instant's outside events: it happens once. */
  readonly takesOutsideEvents?: (at: number) => Promise<boolean>
  /**
   * Called at the end of every instant; `scheduled` when a machine's timer or wake-up time made it (an
   * entry's time, a look-ahead, a re-check, an order's timeout), not only the world.
   */
  readonly afterInstant?: (at: number, scheduled: boolean) => Promise<void>
}

/**
 * The instant to hold after `at`: the world's next event, the machines' next timer, or the next time
 * the session asked to be woken, whichever is first; undefined when nothing is left to happen.
 * `scheduled` when the machines made it.
 */
export const nextInstant = (
  at: number,
  worldNext: number | undefined,
  clock: VirtualClock,
  engine: InstantHost
): { readonly at: number; readonly scheduled: boolean } | undefined => {
  const machines = Math.min(...[clock.nextDue(), wakeTimesOf(engine.actor.getSnapshot()).find((t) => t > at)].filter((t): t is number => t !== undefined))
  const soonest = Math.min(worldNext ?? Number.POSITIVE_INFINITY, machines)
  return Number.isFinite(soonest) ? { at: Math.max(soonest, at), scheduled: soonest === machines } : undefined
}

/**
 * Hold instant after instant until the session is done, the engine stops deciding, nothing is left to
 * happen, or the day is stopped; then write the audit with a checkpoint (calls in flight finish first).
 */
export const runInstants = async <H extends InstantHost>(o: InstantsOptions<H>): Promise<void> => {
  const { engine, clock, world } = o
  const awaitEngine = o.awaitEngine ?? ((work) => work)
  let next: { readonly at: number; readonly scheduled: boolean } | undefined = { at: o.from, scheduled: false }
  while (next !== undefined && !engine.done && engine.failure === null && !o.stopped()) {
    const at = await o.pacing(next.at, clock.now())
    if (o.stopped()) break
    clock.advanceTo(at)
    await awaitEngine(world.observe(at, engine))
    if (await (o.takesOutsideEvents?.(at) ?? true)) {
      const spot = await world.spot(at)
      world.deliver(at, (event) => engine.send(event))
      engine.send({ type: "CLOCK", at, spot })
      await awaitEngine(engine.settle())
    }
    while (clock.fireNext()) await awaitEngine(engine.settle())
    await o.afterInstant?.(at, at === next.at && next.scheduled)
    next = nextInstant(at, world.nextEventAt(at), clock, engine)
  }
  await engine.flush()
}
