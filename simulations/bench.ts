// `npm run bench [-- runs] [--json] [--no-compare]`: how fast the simulator replays, as figures a change
// can be compared by. Figures, not assertions: speed is measured here, never in the test suite.
//
// - days/s per policy on the bundled week, single-threaded: `runs` passes over the week after one
//   warm-up pass (the JIT's first compile is not the steady state), each pass timed by the wall clock
//   and by this process's CPU time (user + system). On a machine shared with other work the wall
//   figure swings; the CPU figure much less. Both are given as the median pass and the best.
// - audit rows per day and per second of replay;
// - hedge selection time on the engine's real decisions over the 4-week set (p50 / p99 / max);
// - peak RSS of this process (the kernel's high-water mark);
// - `simulate --compare simulations/four-weeks` as a user runs it: a separate process, its wall time,
//   CPU time and peak RSS.
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { defaultConfig } from "../src/domain/config.ts"
import { policyPlan, POLICY_NAMES } from "../src/runtime/policies.ts"
import { parseRecordedDay } from "../src/domain/recorded-day.ts"
import { replayDay } from "./replay.ts"
import type { SessionEngine } from "../src/runtime/engine.ts"
import { replayOptionsFor, truthModelOf } from "./simulate.ts"

const args = process.argv.slice(2)
const json = args.includes("--json")
const withCompare = !args.includes("--no-compare")
const runsArg = args.find((a) => /^\d+$/.test(a))
const runs = Number(runsArg ?? process.env.BENCH_RUNS ?? 5)
if (!(runs >= 1)) throw new Error(`runs = ${runsArg ?? process.env.BENCH_RUNS}: expected a whole number ≥ 1`)

const say = (line: string) => {
  if (!json) console.log(line)
}

const readDir = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => parseRecordedDay(readFileSync(join(dir, f), "utf8"), f))

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const mib = (bytes: number) => round(bytes / 1024 / 1024, 0)
/** The kernel's high-water mark of this process's resident memory. */
const peakRssBytes = () => process.resourceUsage().maxRSS * 1024

const week = "simulations/days"
const t0 = performance.now()
const days = readDir(week)
const parseMs = (performance.now() - t0) / days.length
const truth = truthModelOf("span", defaultConfig)

say(`bundled week: ${days.length} days, ${days.reduce((s, d) => s + d.ticks.length, 0)} ticks; ${runs} timed passes per policy (median / best)`)
say(`parse: ${parseMs.toFixed(1)} ms per day`)

interface PolicyFigures {
  readonly daysPerSecond: { readonly wall: number; readonly cpu: number; readonly wallBest: number; readonly cpuBest: number }
  readonly msPerDay: { readonly wall: number; readonly cpu: number }
  readonly rowsPerDay: number
  readonly rowsPerSecond: { readonly wall: number; readonly cpu: number }
}

const policies: Record<string, PolicyFigures> = {}
for (const policy of POLICY_NAMES) {
  const options = replayOptionsFor(policyPlan(policy, defaultConfig), defaultConfig, truth)
  for (const day of days) await replayDay(day, options)
  const walls: Array<number> = []
  const cpus: Array<number> = []
  let rows = 0
  for (let i = 0; i < runs; i++) {
    const wall0 = performance.now()
    const cpu0 = cpuMs()
    for (const day of days) rows += (await replayDay(day, options)).rows.length
    cpus.push(cpuMs() - cpu0)
    walls.push(performance.now() - wall0)
  }
  const perDay = (ms: number) => ms / days.length
  const rowsPerDay = rows / (runs * days.length)
  const f: PolicyFigures = {
    daysPerSecond: {
      wall: round(1000 / perDay(median(walls))),
      cpu: round(1000 / perDay(median(cpus))),
      wallBest: round(1000 / perDay(Math.min(...walls))),
      cpuBest: round(1000 / perDay(Math.min(...cpus)))
    },
    msPerDay: { wall: round(perDay(median(walls))), cpu: round(perDay(median(cpus))) },
    rowsPerDay: Math.round(rowsPerDay),
    rowsPerSecond: { wall: Math.round((rowsPerDay * 1000) / perDay(median(walls))), cpu: Math.round((rowsPerDay * 1000) / perDay(median(cpus))) }
  }
  policies[policy] = f
  say(
    `${policy.padEnd(9)} ${String(f.daysPerSecond.wall).padStart(6)} days/s wall (best ${f.daysPerSecond.wallBest}), ${String(f.daysPerSecond.cpu).padStart(6)} days/s CPU (best ${f.daysPerSecond.cpuBest})  ` +
      `${f.rowsPerDay} audit rows/day, ${f.rowsPerSecond.wall} rows/s wall, ${f.rowsPerSecond.cpu} rows/s CPU`
  )
}

// Selection decisions as the engine makes them on the 4-week set (the target: p99 ≤ 20 ms), after a
// warm-up pass over the same days.
const month = readDir("simulations/four-weeks")
const selection = await (async () => {
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
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN, 2)
  return { decisions: times.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(times[times.length - 1] ?? Number.NaN, 2) }
})()
say(`selection (engine, 4-week set): ${selection.decisions} decisions, p50 ${selection.p50Ms} ms, p99 ${selection.p99Ms} ms, max ${selection.maxMs} ms`)
const peakRssMiB = mib(peakRssBytes())
say(`peak memory: ${peakRssMiB} MiB RSS`)

/** `simulate --compare` over the 4-week set in its own process, as a user runs it. */
const timeCompare = async () => {
  const dir = mkdtempSync(join(tmpdir(), "autohedge-bench-"))
  const usage = join(dir, "usage.json")
  try {
    const started = performance.now()
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--import", "./simulations/bench-usage.ts", "autohedge.ts", "simulate", "--compare", "simulations/four-weeks", "--json"],
        { env: { ...process.env, AUTOHEDGE_BENCH_USAGE: usage }, stdio: ["ignore", "ignore", "inherit"] }
      )
      child.on("error", reject)
      child.on("exit", resolve)
    })
    const wallSeconds = round((performance.now() - started) / 1000, 2)
    if (code !== 0) throw new Error(`simulate --compare exited with ${code}`)
    const u = JSON.parse(readFileSync(usage, "utf8")) as { cpuMs: number; maxRssBytes: number }
    return { days: month.length, wallSeconds, cpuSeconds: round(u.cpuMs / 1000, 2), peakRssMiB: mib(u.maxRssBytes) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
const compare = withCompare ? await timeCompare() : null
if (compare !== null) say(`simulate --compare simulations/four-weeks (${compare.days} days): ${compare.wallSeconds} s wall, ${compare.cpuSeconds} s CPU, peak ${compare.peakRssMiB} MiB RSS`)

if (json) {
  console.log(
    JSON.stringify(
      {
        node: process.version,
        week: { days: days.length, ticks: days.reduce((s, d) => s + d.ticks.length, 0), parseMsPerDay: round(parseMs) },
        runs,
        policies,
        selection,
        peakRssMiB,
        compare
      },
      null,
      2
    )
  )
}
