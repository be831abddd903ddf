// `npx tsx simulations/bench-selection.ts [decisions] [model]`: time hedge-selection decisions (exact
// MILP vs greedy) on realistic requests, and compare what they spend. Figures, not assertions. `model`
// picks one run: span, span-default-band, synthetic or constants (default: all).
//
// A request: NIFTY around 25000, a chain ±15 % in 50-point strikes priced by Black-76 on a smile, 0DTE or
// 1DTE at a random time of day; a projected portfolio of 1–5 short straddles near the money, 1–15 lots
// each (a hedge unit is one straddle's lots); a reduction of 2–35 % of the margin (one request in five:
// 50–95 %, mostly out of reach); 5–50 k rupees left to
// spend; a band wide enough for 40–80 candidates on both sides (and, once, the default config's band).
// Models: the SPAN model (span.ts), a synthetic SPAN-shaped form with two groups of 16 scenarios that
// every contract moves (harder for the MILP than SPAN, whose hedges move one group), and the constants
// model.
import { Effect } from "effect"
import { cpus, loadavg } from "node:os"
import { defaultConfig } from "../src/domain/config.ts"
import { constantsMarginModel, netPositions, type LinearMargin, type MarginModel, type MarginQuery } from "../src/domain/margin.ts"
import { toTick, type ChainRow, type OptionType, type Position } from "../src/domain/market.ts"
import { selectHedgesOptimal } from "../src/domain/optimal-selection.ts"
import { black76, yearFraction } from "../src/domain/pricing.ts"
import { hedgeBandOf, hedgeCandidates, selectHedges, shortContracts, type HedgeBand, type HedgeSelection, type SelectionRequest } from "../src/domain/selection.ts"
import { spanMarginModel } from "../src/domain/span.ts"
import { instantOf } from "../src/domain/time.ts"
import { createRng, type Rng } from "./rng.ts"

const DECISIONS = Number(process.argv[2] ?? 500)
const WARMUP = 50
const EXPIRY = "2026-02-10" // a Tuesday
const LOT = 65
const wideBand: HedgeBand = { minPremium: 0.05, maxPremium: 40, minOtmDistance: 100, maxOtmDistance: 2000, limitPriceBuffer: 0.1 }
const defaultBand = hedgeBandOf(defaultConfig, "NIFTY")

const volAt = (spot: number, strike: number) => 0.12 + 0.8 * Math.log(strike / spot) ** 2

const requestOf = (rng: Rng, band: HedgeBand): SelectionRequest => {
  const spot = Math.round(25000 * (1 + rng.between(-0.015, 0.015)) * 20) / 20
  const date = rng.uniform() < 0.5 ? EXPIRY : "2026-02-09"
  const minute = 15 + rng.int(330) // 09:30 .. 15:00
  const at = instantOf(date, `${String(9 + Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}:00`)
  const years = yearFraction(at, EXPIRY)
  const chain: Array<ChainRow> = []
  for (let k = Math.ceil((spot * 0.85) / 50) * 50; k <= spot * 1.15; k += 50) {
    const vol = volAt(spot, k)
    chain.push({ strike: k, ce: toTick(Math.max(0.05, black76("CE", spot, k, years, vol))), pe: toTick(Math.max(0.05, black76("PE", spot, k, years, vol))) })
  }
  const atm = Math.round(spot / 50) * 50
  const lots = 1 + rng.int(15)
  const positions: Array<Position> = []
  for (let i = 0, n = 1 + rng.int(5); i < n; i++) {
    const strike = atm + 50 * (rng.int(5) - 2)
    positions.push({ strike, optionType: "CE", quantity: -lots * LOT, expiry: EXPIRY }, { strike, optionType: "PE", quantity: -lots * LOT, expiry: EXPIRY })
  }
  return {
    market: { index: "NIFTY", date, expiry: EXPIRY, lotSize: LOT, spot, at, chain },
    chain,
    positions: netPositions(positions),
    reductionNeeded: 0, // set per model from its own margin
    spendLeft: Math.round(rng.between(5_000, 50_000)),
    unitLots: lots,
    band
  }
}

/**
 * Synthetic SPAN-shaped model: exposure 2 % of short notional, plus two scan groups (price scan 9.3 %
 * and 4 %, vol scan 4 and 2 points, 14 + 2 extreme scenarios at 35 %) that every contract belongs to.
 */
const syntheticModel = (): MarginModel => {
  const groups = [{ psr: 0.093, vsr: 0.04 }, { psr: 0.04, vsr: 0.02 }]
  const moves = [0, 0, 1 / 3, 1 / 3, -1 / 3, -1 / 3, 2 / 3, 2 / 3, -2 / 3, -2 / 3, 1, 1, -1, -1, 2, -2]
  const vols = [1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0, 0]
  const cache = new Map<string, ReadonlyArray<ReadonlyArray<number>>>()
  // Loss of one long unit, per group and scenario.
  const lossOf = (q: Omit<MarginQuery, "positions">, strike: number, optionType: OptionType) => {
    const key = `${q.spot}|${q.at}|${strike}|${optionType}`
    let r = cache.get(key)
    if (r === undefined) {
      const years = yearFraction(q.at, q.expiry)
      const vol = volAt(q.spot, strike)
      const now = black76(optionType, q.spot, strike, years, vol)
      r = groups.map((g) => moves.map((m, s) => (now - black76(optionType, q.spot * (1 + m * g.psr), strike, years, vol + vols[s]! * g.vsr)) * (s >= 14 ? 0.35 : 1)))
      if (cache.size > 100_000) cache.clear()
      cache.set(key, r)
    }
    return r
  }
  const evaluate = (q: MarginQuery) => {
    const base = groups.map(() => new Array<number>(16).fill(0))
    let exposure = 0
    for (const p of netPositions(q.positions)) {
      const loss = lossOf(q, p.strike, p.optionType)
      base.forEach((row, g) => row.forEach((_, s) => (row[s] = row[s]! + p.quantity * loss[g]![s]!)))
      if (p.quantity < 0) exposure += -p.quantity * q.spot * 0.02
    }
    return { base, exposure }
  }
  return {
    name: "synthetic-2x16",
    margin: (q) => {
      const { base, exposure } = evaluate(q)
      return Effect.succeed(exposure + base.reduce((s, row) => s + Math.max(0, ...row), 0))
    },
    linear: (q, contracts) => {
      const { base, exposure } = evaluate(q)
      const shorts = shortContracts(netPositions(q.positions))
      const form: LinearMargin = {
        fixed: exposure,
        groups: base.map((row) => ({ floor: 0, base: row })),
        perUnit: contracts.map((c) => (shorts.has(`${c.optionType}${c.strike}`) ? null : lossOf(q, c.strike, c.optionType)))
      }
      return Effect.succeed(form)
    }
  }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
const ms = (x: number) => x.toFixed(2).padStart(7)

const bench = async (name: string, model: MarginModel, band = wideBand) => {
  const rng = createRng(20260210)
  const requests: Array<SelectionRequest> = []
  for (let i = 0; i < WARMUP + DECISIONS; i++) {
    const r = requestOf(rng, band)
    const before = await Effect.runPromise(model.margin({ ...r.market, positions: r.positions }))
    // Mostly reachable reductions; one in five asks for more than hedges can free (the out-of-reach path).
    const fraction = rng.uniform() < 0.8 ? rng.between(0.02, 0.35) : rng.between(0.5, 0.95)
    requests.push({ ...r, reductionNeeded: Math.round(before * fraction) })
  }
  const time = async (select: (req: SelectionRequest) => Effect.Effect<HedgeSelection, unknown>) => {
    for (const r of requests.slice(0, WARMUP)) await Effect.runPromise(select(r))
    const times: Array<number> = []
    const cpu: Array<number> = []
    const results: Array<HedgeSelection> = []
    for (const r of requests.slice(WARMUP)) {
      const t0 = performance.now()
      const c0 = process.cpuUsage()
      results.push(await Effect.runPromise(select(r)))
      const c = process.cpuUsage(c0)
      times.push(performance.now() - t0)
      cpu.push((c.user + c.system) / 1000)
    }
    return { times, cpu, results }
  }
  const optimal = await time((r) => selectHedgesOptimal(model, r))
  const greedy = await time((r) => selectHedges(model, r))
  const summary = (label: string, t: ReadonlyArray<number>) => {
    if (t.length === 0) return `${label.padEnd(28)} -`
    const s = [...t].sort((a, b) => a - b)
    const mean = s.reduce((a, b) => a + b, 0) / s.length
    return `${label.padEnd(28)} p50 ${ms(percentile(s, 0.5))}  p90 ${ms(percentile(s, 0.9))}  p99 ${ms(percentile(s, 0.99))}  max ${ms(s[s.length - 1]!)}  mean ${ms(mean)} ms`
  }
  const reached = optimal.results.map((o) => o.limitedBy === "none")
  const candidates = requests.slice(WARMUP).map((r) => hedgeCandidates(r.chain, r.market.spot, r.band, ["CE", "PE"], shortContracts(r.positions)).length)
  let both = 0
  let saved = 0
  let cheaper = 0
  let dearer = 0
  let overCap = 0
  optimal.results.forEach((o, i) => {
    const g = greedy.results[i]!
    if (o.limitedBy !== "none" || g.limitedBy !== "none") return
    both++
    saved += g.cost - o.cost
    if (o.cost < g.cost - 1e-6) cheaper++
    if (o.cost > g.cost + 1e-6) dearer++
    // Greedy has no cap on hedge lots per side (short lots + a unit); the optimal method does.
    const r = requests[WARMUP + i]!
    const shortLots = (side: OptionType) => r.positions.filter((p) => p.optionType === side && p.quantity < 0).reduce((t, p) => t - p.quantity / LOT, 0)
    const bought = (side: OptionType) => g.picks.filter((p) => p.optionType === side).reduce((t, p) => t + p.lots, 0)
    if ((["CE", "PE"] as const).some((side) => bought(side) > shortLots(side) + r.unitLots)) overCap++
  })
  const reachedIdx = reached.flatMap((r, i) => (r ? [i] : []))
  console.log(`\n${name}: ${DECISIONS} decisions after ${WARMUP} warm-up; candidates ${Math.min(...candidates)}–${Math.max(...candidates)} (mean ${(candidates.reduce((a, b) => a + b, 0) / candidates.length).toFixed(0)})`)
  console.log(summary("optimal, all", optimal.times))
  console.log(summary("optimal, all (CPU time)", optimal.cpu))
  console.log(summary(`optimal, target met (${reachedIdx.length})`, reachedIdx.map((i) => optimal.times[i]!)))
  const capped = optimal.results.filter((o) => o.limitedBy === "spendCap").length
  console.log(
    summary(`optimal, out of reach (${DECISIONS - reachedIdx.length}: ${capped} spendCap)`, reached.flatMap((r, i) => (r ? [] : [optimal.times[i]!])))
  )
  console.log(summary("greedy, all", greedy.times))
  console.log(summary("greedy, all (CPU time)", greedy.cpu))
  console.log(
    `both met the target in ${both}: optimal cheaper in ${cheaper}, dearer in ${dearer} ` +
      `(greedy over the side cap in ${overCap}), saving ${(saved / Math.max(1, both)).toFixed(0)} rupees a decision on average`
  )
}

const runs: Record<string, () => Promise<void>> = {
  span: () => bench("SPAN (span.ts)", spanMarginModel()),
  "span-default-band": () => bench("SPAN (span.ts), the default config's band", spanMarginModel(), defaultBand),
  synthetic: () => bench("synthetic SPAN-shaped, 2 groups × 16 scenarios", syntheticModel()),
  constants: () => bench("constants", constantsMarginModel(defaultConfig.marginConstants))
}

const main = async () => {
  const only = process.argv[3]
  if (only !== undefined && runs[only] === undefined) throw new Error(`unknown run ${only}: one of ${Object.keys(runs).join(", ")}`)
  // Wall time is the figure that matters, but on a shared machine it mostly measures the neighbours:
  // CPU time (this process's user + system) is printed next to it.
  console.log(`hedge selection bench (node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")})`)
  for (const [name, run] of Object.entries(runs)) if (only === undefined || only === name) await run()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
