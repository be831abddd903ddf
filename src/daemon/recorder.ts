// Recording a live or paper day in the recorded-day format (../shared/spec/recorded-day.md, version 1)
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
    await writeFile(path, `${JSON.stringify({ type: "day", version: 1, date, index, expiry, lotSize, strikeStep, tickSeconds, baskets, budgetPerBasket, entries, openingPositions: [] })}\n`)
    return recorder
  }

  private async append(record: { readonly time: string } & Record<string, unknown>): Promise<void> {
    // Records go in time order; one arriving late (a slow reply) is stamped with the latest time.
    const time = record.time < this.lastTime ? this.lastTime : record.time
    this.lastTime = time
    await appendFile(this.path, `${JSON.stringify({ ...record, time })}\n`)
  }

  async tick(s: MarketSnapshot): Promise<void> {
    const tick = { type: "tick", time: wallTimeOf(s.at), spot: s.spot, chain: s.chain.map((r) => [r.strike, r.ce, r.pe]) }
    if (!this.ticked && tick.time > MARKET_OPEN) await this.append({ ...tick, time: MARKET_OPEN, copiedFrom: tick.time })
    this.ticked = true
    await this.append(tick)
  }

  /** The platform's exits the account showed before their scheduled time (each once). */
  async exits(events: ReadonlyArray<StrategyEvent>): Promise<void> {
    for (const e of events) {
      if (e.kind !== "exited" || e.reason === "TIMED" || this.exitsWritten.has(e.portfolio)) continue
      this.exitsWritten.add(e.portfolio)
      await this.append({ type: "exit", time: wallTimeOf(e.at), portfolio: e.portfolio, reason: e.reason })
    }
  }

  margin(at: number, used: number, available: number): Promise<void> {
    return this.append({ type: "margin", time: wallTimeOf(at), used, available })
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
}): Promise<void> => {
  while (!p.signal.aborted && p.clock.now() <= p.until) {
    const at = p.clock.now()
    await recordInstant(p.recorder, p.from, p.log)
    await p.clock.sleepUntil(at + p.everySeconds * 1000, p.signal)
  }
}
