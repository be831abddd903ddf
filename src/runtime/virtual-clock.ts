// A clock that only moves when told to: the simulator's market time. It also runs the machines'
// delayed transitions (XState's `after`) in market time, in due order, ties in the order they were set.
import type { TimerClock } from "../services/services.ts"

interface Timer {
  readonly id: number
  readonly due: number
  readonly fn: (...args: Array<unknown>) => void
}

export class VirtualClock implements TimerClock {
  private current: number
  private nextId = 1
  private readonly timers = new Map<number, Timer>()

  constructor(start: number) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimeout(fn: (...args: Array<unknown>) => void, timeout: number): number {
    const id = this.nextId++
    this.timers.set(id, { id, due: this.current + Math.max(0, timeout), fn })
    return id
  }

  clearTimeout(id: unknown): void {
    this.timers.delete(id as number)
  }

  /** The earliest pending timer's due instant, if any. */
  nextDue(): number | undefined {
    let best: number | undefined
    for (const t of this.timers.values()) if (best === undefined || t.due < best) best = t.due
    return best
  }

  advanceTo(at: number): void {
    if (at < this.current) throw new RangeError(`the clock cannot go back from ${this.current} to ${at}`)
    this.current = at
  }

  /** Fire the earliest timer that is due; false when none is. */
  fireNext(): boolean {
    let next: Timer | undefined
    for (const t of this.timers.values()) {
      if (t.due <= this.current && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t
    }
    if (next === undefined) return false
    this.timers.delete(next.id)
    next.fn()
    return true
  }
}
