// `npm run bench`: replay the bundled week N times per policy and print days per second and peak
// memory. Figures, not assertions: speed is measured here, never in the test suite.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { defaultConfig } from "../src/domain/config.ts"
import { policyPlan, POLICY_NAMES } from "../src/runtime/policies.ts"
import { parseRecordedDay } from "./recorded-day.ts"
import { replayDay } from "./replay.ts"
import type { SessionEngine } from "../src/runtime/engine.ts"
import { replayOptionsFor, truthModelOf } from "./simulate.ts"

const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5)
const dir = "simulations/days"
const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort()

const t0 = performance.now()
const days = files.map((f) => parseRecordedDay(readFileSync(join(dir, f), "utf8"), f))
const parseMs = (performance.now() - t0) / days.length

let peakRss = process.memoryUsage().rss
const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20)
const truth = truthModelOf("span", defaultConfig)

console.log(`bundled week: ${days.length} days, ${days.reduce((s, d) => s + d.ticks.length, 0)} ticks; ${runs} runs per policy`)
console.log(`parse: ${parseMs.toFixed(1)} ms per day`)
for (const policy of POLICY_NAMES) {
  const options = replayOptionsFor(policyPlan(policy, defaultConfig), defaultConfig, truth)
  // One warm-up pass so the figure is the steady state, not the JIT's first compile.
  for (const day of days) await replayDay(day, options)
  const start = performance.now()
  let transitions = 0
  for (let i = 0; i < runs; i++) {
    for (const day of days) transitions += (await replayDay(day, options)).rows.length
  }
  const seconds = (performance.now() - start) / 1000
  const n = runs * days.length
  console.log(
    `${policy.padEnd(9)} ${(n / seconds).toFixed(1).padStart(7)} days/s  ${((seconds * 1000) / n).toFixed(0).padStart(5)} ms/day  ${Math.round(transitions / n)} audit rows/day`
  )
}
clearInterval(sample)
peakRss = Math.max(peakRss, process.memoryUsage().rss)
console.log(`peak memory: ${(peakRss / 1024 / 1024).toFixed(0)} MiB RSS`)

// Selection decisions as the engine makes them on the 4-week set (the target: p99 ≤ 20 ms), after a
// warm-up pass over the same days.
{
  const dir4 = "simulations/four-weeks"
  const month = readdirSync(dir4).filter((f) => f.endsWith(".jsonl")).sort().map((f) => parseRecordedDay(readFileSync(join(dir4, f), "utf8"), f))
  const options = replayOptionsFor(policyPlan("engine", defaultConfig), defaultConfig, truth)
  let times: Array<number> = []
  for (let pass = 0; pass < 2; pass++) {
    times = []
    for (const day of month) {
      let engine: SessionEngine | undefined
      await replayDay(day, { ...options, onEngine: (e) => (engine = e) })
      times.push(...(engine?.selectionMs ?? []))
    }
  }
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1)
  console.log(`selection (engine, 4-week set): ${times.length} decisions, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${times[times.length - 1]!.toFixed(1)} ms`)
}
