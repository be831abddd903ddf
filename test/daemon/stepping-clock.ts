// A daemon clock for end-to-end tests that steps from one instant the daemon sleeps until to the next,
// as fast as the daemon works, and stands still while it works: a fake broker reading it sees the market
// of the instant the daemon holds, as a broker does at the wall clock's speed (where an order's round trip
// is a fraction of a second), not a minute later, as it would on a clock sped up hundreds of times.
import type { DaemonClock } from "../../src/daemon/clock.ts"

export class SteppingClock implements DaemonClock {
  constructor(private current: number) {}

  now(): number {
    return this.current
  }

  async sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    // One turn of the event loop, so servers and timers in the same process get theirs.
    await new Promise((resolve) => setImmediate(resolve))
    if (signal?.aborted !== true) this.current = Math.max(this.current, at)
  }
}
