// A deadline on every call to the outside world. An answer that does not come in time is the same
// typed failure as a refused connection: a database that stops answering halts the engine (its audit
// or journal write failed), a silent broker is unavailable, an order send is of unknown outcome (to be
// reconciled, never re-sent). Nothing waits forever. The call that overran is abandoned (interrupted
// in the background): a hung socket may never let it finish.
import { Effect, Exit } from "effect"
import {
  AuditWriteFailed,
  BrokerUnavailable,
  JournalWriteFailed,
  MarginUnavailable,
  MarketDataUnavailable,
  NotifyFailed,
  OrderOutcomeUnknown,
  type AuditLog,
  type Broker,
  type MarginMonitor,
  type MarketData,
  type Notifier,
  type OrderJournal,
  type StrategyFeed,
  type TimerClock
} from "../services/services.ts"

/** Seconds each kind of outside call may take (config `deadlines`). */
export interface Deadlines {
  readonly databaseSeconds: number
  readonly brokerSeconds: number
  readonly marketDataSeconds: number
  readonly notifierSeconds: number
}

/** `effect`, or `failure()` once `ms` have passed on `timers` without an answer. */
export const withinMs = <A, E, F>(effect: Effect.Effect<A, E>, ms: number, timers: TimerClock, failure: () => F): Effect.Effect<A, E | F> =>
  Effect.callback<A, E | F>((resume) => {
    let settled = false
    const abandon = new AbortController()
    const settle = (result: Effect.Effect<A, E | F>) => {
      if (settled) return
      settled = true
      timers.clearTimeout(id)
      resume(result)
    }
    const id = timers.setTimeout(() => {
      settle(Effect.fail(failure()))
      abandon.abort()
    }, ms)
    void Effect.runPromiseExit(effect, { signal: abandon.signal }).then((exit) =>
      settle(Exit.isSuccess(exit) ? Effect.succeed(exit.value) : Effect.failCause(exit.cause))
    )
    return Effect.sync(() => {
      settled = true
      timers.clearTimeout(id)
      abandon.abort()
    })
  })

/**
 * The same service, every call limited to `seconds`; `failure(member)` is what a call that overran
 * fails with (the member's own typed error).
 */
export const withDeadline = <S extends object>(service: S, seconds: number, timers: TimerClock, failure: (member: string, seconds: number) => unknown): S => {
  const ms = seconds * 1000
  const limit = (member: string, effect: Effect.Effect<unknown, unknown>) => withinMs(effect, ms, timers, () => failure(member, seconds))
  return Object.fromEntries(
    Object.entries(service).map(([key, member]) => [
      key,
      Effect.isEffect(member)
        ? limit(key, member as Effect.Effect<unknown, unknown>)
        : typeof member === "function"
          ? (...args: Array<unknown>) => {
              const result = (member as (...a: Array<unknown>) => unknown).apply(service, args)
              return Effect.isEffect(result) ? limit(key, result as Effect.Effect<unknown, unknown>) : result
            }
          : member
    ])
  ) as S
}

const noAnswer = (what: string, member: string, seconds: number) => `${what} did not answer ${member} within ${seconds} s`

/** The database behind the audit trail: a call past its deadline is a failed write (the engine halts). */
export const auditWithDeadline = (audit: AuditLog["Service"], seconds: number, timers: TimerClock): AuditLog["Service"] =>
  withDeadline(audit, seconds, timers, (m, s) => new AuditWriteFailed({ message: noAnswer("the database", m, s) }))

export const journalWithDeadline = (journal: OrderJournal["Service"], seconds: number, timers: TimerClock): OrderJournal["Service"] =>
  withDeadline(journal, seconds, timers, (m, s) => new JournalWriteFailed({ message: noAnswer("the database", m, s) }))

/** The broker: a send past its deadline may have reached it (unknown, reconciled); anything else is unavailable. */
export const brokerWithDeadline = <B extends Broker["Service"]>(broker: B, seconds: number, timers: TimerClock): B => {
  const limited = withDeadline(broker, seconds, timers, (m, s) => new BrokerUnavailable({ operation: m, message: noAnswer("the broker", m, s) }))
  return {
    ...limited,
    placeOrder: (req) =>
      withinMs(broker.placeOrder(req), seconds * 1000, timers, () => new OrderOutcomeUnknown({ clientOrderId: req.clientOrderId, message: noAnswer("the broker", "placeOrder", seconds) }))
  }
}

export const marginWithDeadline = (monitor: MarginMonitor["Service"], seconds: number, timers: TimerClock): MarginMonitor["Service"] =>
  withDeadline(monitor, seconds, timers, (m, s) => new MarginUnavailable({ message: noAnswer("the broker", m, s) }))

export const feedWithDeadline = (feed: StrategyFeed["Service"], seconds: number, timers: TimerClock): StrategyFeed["Service"] =>
  withDeadline(feed, seconds, timers, (m, s) => new BrokerUnavailable({ operation: m, message: noAnswer("the broker", m, s) }))

export const marketWithDeadline = <M extends MarketData["Service"]>(market: M, seconds: number, timers: TimerClock): M =>
  withDeadline(market, seconds, timers, (m, s) => new MarketDataUnavailable({ message: noAnswer("market data", m, s) }))

export const notifierWithDeadline = (notifier: Notifier["Service"], seconds: number, timers: TimerClock): Notifier["Service"] =>
  withDeadline(notifier, seconds, timers, (m, s) => new NotifyFailed({ message: noAnswer("the notifier", m, s) }))

/** Real timers (wall time): a deadline is about a connection that hangs, not about market time. */
export const wallTimers: TimerClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>)
}
