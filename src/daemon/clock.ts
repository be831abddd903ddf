// What the daemon sleeps on: the wall clock, or (for paper runs over a recorded day and the end-to-end
// tests) the wall clock sped up from a chosen start, so a day at 60× keeps every rule of the business
// in market time. The engine itself works in held instants (trading-day.ts).
export interface DaemonClock {
  now(): number
  /** Resolves at market time `at` (at once if it has passed), or when `signal` aborts. */
  sleepUntil(at: number, signal?: AbortSignal): Promise<void>
  /** Market milliseconds per wall millisecond (1, or a sped-up paper day's); the watchdog's limits are wall seconds. */
  readonly speed?: number
}

export class ScaledClock implements DaemonClock {
  private readonly wallStart = Date.now()

  /** `speed` market milliseconds pass per wall millisecond, from market instant `start`. */
  constructor(
    private readonly start: number = Date.now(),
    readonly speed: number = 1
  ) {
    if (!(speed > 0)) throw new RangeError(`clock speed must be > 0, got ${speed}`)
  }

  now(): number {
    return Math.floor(this.start + (Date.now() - this.wallStart) * this.speed)
  }

  sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted === true) return resolve()
      // Long sleeps are taken in slices: a timer of days would overflow, and the wall clock can jump.
      const wait = Math.min(Math.max(0, at - this.now()) / this.speed, 60_000)
      const timer = globalThis.setTimeout(() => {
        signal?.removeEventListener("abort", stop)
        if (this.now() >= at || signal?.aborted === true) resolve()
        else void this.sleepUntil(at, signal).then(resolve)
      }, wait)
      const stop = () => {
        globalThis.clearTimeout(timer)
        resolve()
      }
      signal?.addEventListener("abort", stop, { once: true })
    })
  }
}
