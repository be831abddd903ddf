// Recording a live or paper day in the recorded-day format (docs/recorded-day-format.md, version 1)
// so the simulator can replay it: the header from the day's plan, then, in time order, the market every
// `everySeconds` (spot and the chain as `[strike, ceLast, peLast]` rows), the strategies' unscheduled
// exits as the account showed them (scheduled ones are the header's exit times), and the broker's
// margin as `margin` records. Lines are appended as they happen; a daemon restarted mid-day carries on
// the same file. A recording started after the open (09:17) begins with its first reading copied to
// 09:15:00 and marked `copiedFrom`, since the format (and so `simulate` and `margin calibrate`) needs a
// tick at the open: the market before the recording is taken to stand where it was first seen.
import { existsSync } from "node:fs"
import { appendFile, readFile, writeFile } from "node:fs/promises"
import { Effect } from "effect"
import type { MarketSnapshot } from "../domain/market.ts"
import { exitLine, headerLine, isExitReason, marginLine, tickLine } from "../domain/recorded-day.ts"
import { MARKET_OPEN, wallTimeOf } from "../domain/time.ts"
import type { DayPlan } from "../runtime/session-plan.ts"
import { Broker, MarketData, type StrategyEvent } from "../services/services.ts"
import type { DaemonClock } from "./clock.ts"
import type { DaemonLog } from "./log.ts"

/**
 * Strikes a side of ATM a recording reads: the format asks for every strike within ±10 % of spot, and
 * OpenAlgo's most, 100, covers NIFTY (50-point steps) and SENSEX (100) at today's levels.
 */
export const RECORDED_STRIKES = 100

export class DayRecorder {
  private lastTime = "00:00:00"
  private ticked = false
  private readonly exitsWritten = new Set<string>()

  private constructor(readonly path: string) {}

  /** Open `path` for `plan`'s day: a new file gets the header; an existing one must be the same day's. */
  static async open(path: string, plan: DayPlan, tickSeconds: number): Promise<DayRecorder> {
    const recorder = new DayRecorder(path)
    if (existsSync(path)) {
      const text = await readFile(path, "utf8")
      const header = JSON.parse(text.slice(0, text.indexOf("\n"))) as { date?: string; index?: string }
      if (header.date !== plan.date || header.index !== plan.index) {
        throw new Error(`${path} records ${header.index ?? "?"} ${header.date ?? "?"}, not ${plan.index} ${plan.date}: choose another --out`)
      }
      const lines = text.trimEnd().split("\n")
      for (const line of lines.slice(1)) {
        const r = JSON.parse(line) as { time: string; type: string; portfolio?: string }
        recorder.lastTime = r.time
        if (r.type === "tick") recorder.ticked = true
        if (r.type === "exit") recorder.exitsWritten.add(r.portfolio!)
      }
      return recorder
    }
    const { date, index, expiry, lotSize, strikeStep, baskets, budgetPerBasket, entries } = plan
    await writeFile(path, `${headerLine({ version: 1, date, index, expiry, lotSize, strikeStep, tickSeconds, baskets, budgetPerBasket, entries, openingPositions: [] })}\n`)
    return recorder
  }

  /** The line of the record at `at`: records go in time order, so one arriving late (a slow reply) is stamped with the latest time. */
  private async append(at: number, line: (time: string) => string): Promise<void> {
    const time = wallTimeOf(at) < this.lastTime ? this.lastTime : wallTimeOf(at)
    this.lastTime = time
    await appendFile(this.path, `${line(time)}\n`)
  }

  async tick(s: MarketSnapshot): Promise<void> {
    const first = !this.ticked && wallTimeOf(s.at) > MARKET_OPEN
    this.ticked = true
    // A recording started after the open: its first reading stands for the open too (marked as copied).
    if (first) await this.append(s.at, () => tickLine({ time: MARKET_OPEN, spot: s.spot, chain: s.chain, copiedFrom: wallTimeOf(s.at) }))
    await this.append(s.at, (time) => tickLine({ time, spot: s.spot, chain: s.chain }))
  }

  /** The platform's exits the account showed before their scheduled time (each once). */
  async exits(events: ReadonlyArray<StrategyEvent>): Promise<void> {
    for (const e of events) {
      // Scheduled exits are the header's; an expiry is no exit the format (or the platform) records.
      const reason = e.reason
      if (e.kind !== "exited" || reason === "TIMED" || !isExitReason(reason) || this.exitsWritten.has(e.portfolio)) continue
      this.exitsWritten.add(e.portfolio)
      await this.append(e.at, (time) => exitLine({ type: "exit", time, portfolio: e.portfolio, reason }))
    }
  }

  margin(at: number, used: number, available: number): Promise<void> {
    return this.append(at, (time) => marginLine({ type: "margin", time, used, available }))
  }
}

export interface RecordingSources {
  /** Its snapshots' `at` is the instant recorded. */
  readonly market: MarketData["Service"]
  readonly broker: Broker["Service"]
  /** What the platform was seen doing so far. */
  readonly events: () => Promise<ReadonlyArray<StrategyEvent>>
}

/** Record one instant: the market, the broker's margin, the platform's exits seen. A failed read is logged and skipped. */
export const recordInstant = async (recorder: DayRecorder, from: RecordingSources, log: DaemonLog): Promise<void> => {
  const snapshot = await Effect.runPromise(Effect.result(from.market.snapshot))
  if (snapshot._tag === "Failure") return log.write("warn", "recorder", `no market snapshot: ${snapshot.failure.message}`)
  await recorder.tick(snapshot.success)
  const funds = await Effect.runPromise(Effect.result(from.broker.funds))
  if (funds._tag === "Success") await recorder.margin(snapshot.success.at, funds.success.usedMargin, funds.success.availableMargin)
  await recorder.exits(await from.events())
}

/** Record on the clock, without an engine (`autohedge record`): every `everySeconds` until `until` or the signal. */
export const runRecorder = async (p: {
  readonly recorder: DayRecorder
  readonly from: RecordingSources
  readonly clock: DaemonClock
  readonly everySeconds: number
  readonly until: number
  readonly signal: AbortSignal
  readonly log: DaemonLog
  /** After each instant: those recorded so far and all there will be by `until` (a terminal's progress line). */
  readonly onInstant?: (done: number, total: number) => void
}): Promise<void> => {
  const total = Math.max(0, Math.floor((p.until - p.clock.now()) / (p.everySeconds * 1000)) + 1)
  let done = 0
  while (!p.signal.aborted && p.clock.now() <= p.until) {
    const at = p.clock.now()
    await recordInstant(p.recorder, p.from, p.log)
    p.onInstant?.(++done, Math.max(total, done))
    await p.clock.sleepUntil(at + p.everySeconds * 1000, p.signal)
  }
}
