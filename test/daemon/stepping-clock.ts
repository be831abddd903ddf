// A daemon clock for end-to-end tests that steps from one instant the daemon sleeps until to the next,
// as fast as the daemon works, and stands still while it works: a fake broker reading it sees the market
// of the instant the daemon holds, as a broker does at the wall clock's speed (where an order's round trip
// is a fraction of a second), not a minute later, as it would on a clock sped up hundreds of times.
// A test that acts while the daemon sleeps holds it asleep from a chosen instant on, moves market time
// itself, and lets it go: what happens then depends on the steps taken, never on how fast the machine is.
import type { DaemonClock } from "../../src/daemon/clock.ts"

export class SteppingClock implements DaemonClock {
  private holdFrom: number | undefined
  private sleeping: number | undefined
  private readonly onSleep: Array<(until: number) => void> = []

  constructor(private current: number) {}

  now(): number {
    return this.current
  }

  /** From now on, a sleep until `at` or later stays asleep (woken only by its signal) until `release`. */
  hold(at: number): void {
    this.holdFrom = at
  }

  /** Resolves, with the instant it sleeps until, once the daemon is held asleep. */
  asleep(): Promise<number> {
    return new Promise((resolve) => (this.sleeping === undefined ? this.onSleep.push(resolve) : resolve(this.sleeping)))
  }

  /** Moves market time on while the daemon is held asleep (never back, never to the instant it sleeps until). */
  moveTo(at: number): void {
    if (this.sleeping === undefined || at <= this.current || at >= this.sleeping) throw new RangeError(`moveTo(${at}): not between now (${this.current}) and the instant the daemon sleeps until (${this.sleeping})`)
    this.current = at
  }

  /** The market moves on by `ms` while the daemon works (a slow venue's answer takes that long in market time). */
  runAhead(ms: number): void {
    this.current += ms
  }

  /** Lets the daemon step on at its own pace again. */
  release(): void {
    this.holdFrom = undefined
    this.wake?.()
  }

  private wake: (() => void) | undefined

  async sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    // One turn of the event loop, so servers and timers in the same process get theirs.
    await new Promise((resolve) => setImmediate(resolve))
    if (this.holdFrom !== undefined && at >= this.holdFrom && signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.sleeping = undefined
          this.wake = undefined
          signal?.removeEventListener("abort", wake)
          resolve()
        }
        this.wake = wake
        this.sleeping = at
        signal?.addEventListener("abort", wake, { once: true })
        for (const notify of this.onSleep.splice(0)) notify(at)
      })
    }
    // Woken by its signal (a command, a stop), the instant it slept until has not come.
    if (signal?.aborted !== true) this.current = Math.max(this.current, at)
  }
}
