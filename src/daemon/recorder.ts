// Recording a live or paper day in the recorded-day format (../shared/spec/recorded-day.md, version 1)
// so the simulator can replay it: the header from the day's plan, then, in time order, the market every
// `everySeconds` (spot and the chain as `[strike, ceLast, peLast]` rows), the strategies' unscheduled
// exits as the account showed them (scheduled ones are the header's exit times), and the broker's
// margin as `margin` records. Lines are appended as they happen; a daemon restarted mid-day carries on
// the same file.
import { existsSync } from "node:fs"
import { appendFile, readFile, writeFile } from "node:fs/promises"
import { Effect } from "effect"
import type { MarketSnapshot } from "../domain/market.ts"
import { wallTimeOf } from "../domain/time.ts"
import type { DayPlan } from "../runtime/session-plan.ts"
import { Broker, MarketData, type StrategyEvent } from "../services/services.ts"
import type { DaemonClock } from "./clock.ts"
import type { DaemonLog } from "./log.ts"

export class DayRecorder {
  private lastTime = "00:00:00"
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

  tick(s: MarketSnapshot): Promise<void> {
    return this.append({ type: "tick", time: wallTimeOf(s.at), spot: s.spot, chain: s.chain.map((r) => [r.strike, r.ce, r.pe]) })
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

/**
 * Record until `until` (market time) or the signal: the market and the margin every `everySeconds`,
 * the platform's exits as `events()` reports them. A failed read is logged and skipped, never fatal.
 */
export const runRecorder = async (p: {
  readonly recorder: DayRecorder
  readonly services: { readonly market: MarketData["Service"]; readonly broker: Broker["Service"] }
  readonly events: () => Promise<ReadonlyArray<StrategyEvent>>
  readonly clock: DaemonClock
  readonly everySeconds: number
  readonly until: number
  readonly signal: AbortSignal
  readonly log: DaemonLog
}): Promise<void> => {
  while (!p.signal.aborted && p.clock.now() <= p.until) {
    const at = p.clock.now()
    const snapshot = await Effect.runPromise(Effect.result(p.services.market.snapshot))
    if (snapshot._tag === "Success") await p.recorder.tick(snapshot.success)
    else p.log.write("warn", "recorder", `no market snapshot at ${wallTimeOf(at)}: ${snapshot.failure.message}`)
    const funds = await Effect.runPromise(Effect.result(p.services.broker.funds))
    if (funds._tag === "Success") await p.recorder.margin(at, funds.success.usedMargin, funds.success.availableMargin)
    await p.recorder.exits(await p.events())
    await p.clock.sleepUntil(at + p.everySeconds * 1000, p.signal)
  }
}
