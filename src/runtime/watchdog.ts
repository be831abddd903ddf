// The daemon's watchdog: how far the held market instant is behind the market clock, how long since the
// market data last answered, since the broker last answered, and how long an audit write has been
// waiting. Past the configured limits (config `watchdog`), each is a problem: the daemon raises one
// critical alert per problem as it starts, shows the problems in status, and halts the engine when
// its audit cannot be written (a decision it could not record is one it must not take). Times come
// from the clock it is given (the daemon's market clock); limits are in wall seconds, scaled by the
// clock's speed (a sped-up paper day).
import { Effect } from "effect"
import type { WatchdogConfig } from "../domain/config.ts"
import { wallTimeOf } from "../domain/time.ts"
import type { AuditLog, Broker, MarginMonitor, MarketData, StrategyFeed } from "../services/services.ts"

export type WatchdogKind = "lag" | "write" | "quote" | "broker"

export interface WatchdogProblem {
  readonly kind: WatchdogKind
  /** How far past (seconds, wall): the lag, or the age of the last answer. */
  readonly seconds: number
  readonly limitSeconds: number
  readonly message: string
}

export interface Health {
  readonly ok: boolean
  readonly problems: ReadonlyArray<WatchdogProblem>
  /** The held instant behind the market clock, seconds (wall seconds on a sped-up paper day). */
  readonly lagSeconds: number
  /**
   * While the engine is behind the market (it skips instants the market has left: daemon/trading-day.ts):
   * since when (the first instant held late, epoch ms), the most an instant was late (market seconds) and
   * the ticks skipped; null when it keeps pace.
   */
  readonly behind: { readonly since: number; readonly worstSeconds: number; readonly ticksSkipped: number } | null
  /** When each last answered (epoch ms, the clock's), null before the first answer. */
  readonly lastWriteAt: number | null
  readonly lastQuoteAt: number | null
  readonly lastBrokerAt: number | null
}

const LIMIT_OF: Record<WatchdogKind, keyof WatchdogConfig> = { lag: "lagSeconds", write: "writeSeconds", quote: "quoteSeconds", broker: "brokerSeconds" }

export class Watchdog {
  private lastWriteAt: number | null = null
  private lastQuoteAt: number | null = null
  private lastBrokerAt: number | null = null
  /** When the oldest audit write still waiting for its answer was sent. */
  private writesWaiting: Array<number> = []
  private readonly startedAt: number
  private behind: Health["behind"] = null

  constructor(
    private readonly limits: WatchdogConfig,
    private readonly now: () => number,
    /** Clock milliseconds per wall millisecond. */
    private readonly speed = 1
  ) {
    this.startedAt = now()
  }

  /** The engine fell behind the market (an episode, until null): a lag problem while it lasts, whatever the limit. */
  behindMarket(behind: { readonly since: number; readonly worstMs: number; readonly ticksSkipped: number } | null): void {
    this.behind = behind === null ? null : { since: behind.since, worstSeconds: Math.round(behind.worstMs / 100) / 10, ticksSkipped: behind.ticksSkipped }
  }

  /** Where things stand at held instant `held`. */
  check(held: number): Health {
    const now = this.now()
    const secs = (ms: number) => Math.max(0, ms) / 1000 / this.speed
    const measured: Record<WatchdogKind, number> = {
      lag: secs(now - held),
      write: this.writesWaiting.length === 0 ? 0 : secs(now - Math.min(...this.writesWaiting)),
      quote: secs(now - (this.lastQuoteAt ?? this.startedAt)),
      broker: secs(now - (this.lastBrokerAt ?? this.startedAt))
    }
    const what: Record<WatchdogKind, string> = {
      lag: "the engine's held instant is behind the market clock",
      write: "an audit write has waited",
      quote: "no market quote for",
      broker: "no answer from the broker for"
    }
    const problems = (Object.keys(measured) as Array<WatchdogKind>).flatMap((kind): Array<WatchdogProblem> => {
      const limitSeconds = this.limits[LIMIT_OF[kind]]
      const seconds = Math.round(measured[kind] * 10) / 10
      if (measured[kind] > limitSeconds) return [{ kind, seconds, limitSeconds, message: `${what[kind]} ${seconds} s (limit ${limitSeconds} s)` }]
      const b = this.behind
      if (kind === "lag" && b !== null) {
        return [{ kind, seconds, limitSeconds, message: `behind the market since ${wallTimeOf(b.since)} IST (an instant up to ${b.worstSeconds} s late): holding the market's current instant, ${b.ticksSkipped} ticks skipped` }]
      }
      return []
    })
    return { ok: problems.length === 0, problems, lagSeconds: Math.round(measured.lag * 10) / 10, behind: this.behind, lastWriteAt: this.lastWriteAt, lastQuoteAt: this.lastQuoteAt, lastBrokerAt: this.lastBrokerAt }
  }

  private answered<S extends object>(service: S, on: () => void): S {
    const tap = (e: Effect.Effect<unknown, unknown>) => Effect.tap(e, () => Effect.sync(on))
    return Object.fromEntries(
      Object.entries(service).map(([key, member]) => [
        key,
        Effect.isEffect(member)
          ? tap(member as Effect.Effect<unknown, unknown>)
          : typeof member === "function"
            ? (...args: Array<unknown>) => {
                const result = (member as (...a: Array<unknown>) => unknown).apply(service, args)
                return Effect.isEffect(result) ? tap(result as Effect.Effect<unknown, unknown>) : result
              }
            : member
      ])
    ) as S
  }

  watchMarket<M extends MarketData["Service"]>(market: M): M {
    return this.answered(market, () => (this.lastQuoteAt = this.now()))
  }

  watchBroker<B extends Broker["Service"] | MarginMonitor["Service"] | StrategyFeed["Service"]>(broker: B): B {
    return this.answered(broker, () => (this.lastBrokerAt = this.now()))
  }

  /** Audit writes: how long the oldest one has waited, and when one last succeeded. */
  watchWrites(audit: AuditLog["Service"]): AuditLog["Service"] {
    return {
      ...audit,
      append: (rows, checkpoint) =>
        Effect.suspend(() => {
          const sent = this.now()
          this.writesWaiting.push(sent)
          return audit.append(rows, checkpoint).pipe(
            Effect.tap(() => Effect.sync(() => (this.lastWriteAt = this.now()))),
            Effect.ensuring(Effect.sync(() => this.writesWaiting.splice(this.writesWaiting.indexOf(sent), 1)))
          )
        })
    }
  }
}
