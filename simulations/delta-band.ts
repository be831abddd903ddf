// `npx tsx simulations/delta-band.ts [dirs...]` (config: AUTOHEDGE_CONFIG and HEDGE_* as everywhere): the delta band measured as a policy. Each day of each
// set is replayed by the engine alone and by the engine with the delta band beside it (the config's
// band, switched on); the simulated broker's positions are priced at every instant of the day, and the
// report gives per set: net spend, breaches, delta wings bought, and the delta excursions (minutes with
// |delta per 1 %| outside the band, the largest |delta per 1 %|), of both. docs/delta-band.md quotes it.
import { Context, Effect } from "effect"
import type { HedgeConfig } from "../src/domain/config.ts"
import { loadConfigFrom } from "../src/runtime/load-config.ts"
import { deltaPerPctOf, portfolioDelta } from "../src/domain/delta-band.ts"
import { netPositions } from "../src/domain/margin.ts"
import type { RecordedDay } from "../src/domain/recorded-day.ts"
import { engineWithDeltaBand, policyPlan, type PolicyPlan } from "../src/runtime/policies.ts"
import { Broker } from "../src/services/services.ts"
import { replayDay } from "./replay.ts"
import { readDays, replayOptionsFor, truthModelOf } from "./simulate.ts"

export interface DeltaDayFigures {
  readonly netSpend: number
  readonly breaches: number
  readonly deltaWings: number
  /** Market minutes (instants' spacing) with |delta per 1 %| above the band. */
  readonly minutesOutside: number
  readonly maxAbsDeltaPerPct: number
  readonly failure: string | null
}

/** One day under one plan, with its delta priced after every instant the engine handled. */
export const deltaDay = async (day: RecordedDay, plan: PolicyPlan, config: HedgeConfig): Promise<DeltaDayFigures> => {
  const h = day.header
  let broker: Context.Context<Broker> | undefined
  let lastAt: number | null = null
  let outsideMs = 0
  let wasOutside = false
  let maxAbs = 0
  const ticks = day.ticks
  let i = 0
  const result = await replayDay(day, {
    ...replayOptionsFor(plan, config, truthModelOf("span", config)),
    onEngine: (_engine, _setup, services) => void (broker = services),
    afterInstant: async (at) => {
      if (broker === undefined) return
      while (i + 1 < ticks.length && ticks[i + 1]!.at <= at) i++
      const tick = ticks[i]!
      if (tick.at > at) return
      const positions = netPositions(await Effect.runPromise(Effect.provideContext(Broker.use((b) => b.positions), broker)))
      const delta = positions.length === 0
        ? 0
        : await Effect.runPromise(portfolioDelta({ index: h.index, date: h.date, expiry: h.expiry, lotSize: h.lotSize, spot: tick.spot, at: tick.at, chain: tick.chain, positions }, config.span))
      const perPct = Math.abs(deltaPerPctOf(delta, tick.spot))
      // The delta held since the last instant is the one priced then.
      if (lastAt !== null && wasOutside) outsideMs += at - lastAt
      lastAt = at
      wasOutside = perPct > config.deltaBand.limitPerPct
      maxAbs = Math.max(maxAbs, perPct)
    }
  })
  return {
    netSpend: result.report.netSpend,
    breaches: result.report.breaches.length,
    deltaWings: result.report.hedges.filter((x) => x.forEntry === "DELTA_BAND").length,
    minutesOutside: outsideMs / 60_000,
    maxAbsDeltaPerPct: maxAbs,
    failure: result.failure
  }
}

const main = async () => {
  const dirs = process.argv.slice(2)
  const config = await Effect.runPromise(loadConfigFrom(process.env, undefined))
  const plans = [policyPlan("engine", config), engineWithDeltaBand(config)]
  console.log(`band ±₹${config.deltaBand.limitPerPct.toLocaleString("en-IN")} per 1 % move, checked every ${config.deltaBand.checkSeconds} s, at most ${config.deltaBand.maxLotsPerWing} lots a wing`)
  console.log("| set | policy | days | net spend | breaches | delta wings | minutes outside the band | days outside | largest |delta| per 1 % |")
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|")
  for (const dir of dirs.length > 0 ? dirs : ["simulations/four-weeks", "simulations/validation"]) {
    const days = await Effect.runPromise(readDays([dir]))
    for (const plan of plans) {
      const figures: Array<DeltaDayFigures> = []
      for (const { file, day } of days) {
        const f = await deltaDay(day, plan, config)
        if (f.failure !== null) throw new Error(`${file} (${plan.name}): ${f.failure}`)
        figures.push(f)
      }
      const sum = (k: keyof DeltaDayFigures) => figures.reduce((s, f) => s + (f[k] as number), 0)
      const rupees = (x: number) => `₹${Math.round(x).toLocaleString("en-IN")}`
      console.log(`| ${dir} | ${plan.name} | ${figures.length} | ${rupees(sum("netSpend"))} | ${sum("breaches")} | ${sum("deltaWings")} | ${Math.round(sum("minutesOutside"))} | ${figures.filter((f) => f.minutesOutside > 0).length} | ${rupees(Math.max(...figures.map((f) => f.maxAbsDeltaPerPct)))} |`)
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
