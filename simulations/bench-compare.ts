// `npx tsx simulations/bench-compare.ts DIR [THREADS [RECYCLE_MIB]]`: `simulate --compare` over a folder
// of days, timed, with its memory: wall and CPU time (every thread), the process's peak RSS, the largest
// footprint a worker reported and how many workers were replaced for their size. Figures, not
// assertions (the test suite never times anything).
import { resourceUsage } from "node:process"
import { Effect } from "effect"
import { defaultConfig } from "../src/domain/config.ts"
import { runLeague } from "./league.ts"
import { daySets } from "./simulate.ts"
import { defaultThreads } from "./day-pool.ts"

const dir = process.argv[2] ?? "simulations/four-weeks"
const threads = Number(process.argv[3] ?? defaultThreads())
const recycleBytes = process.argv[4] === undefined ? undefined : Number(process.argv[4]) * 1024 * 1024
const sets = await Effect.runPromise(daySets([dir]))
const days = sets.reduce((n, s) => n + s.files.length, 0)
const rssBefore = process.memoryUsage().rss
const cpu0 = process.cpuUsage()
const t0 = performance.now()
let memory = { peakFootprint: 0, recycled: 0 }
await Effect.runPromise(runLeague(sets, defaultConfig, "span", { threads, onMemory: (m) => (memory = m), ...(recycleBytes === undefined ? {} : { recycleBytes }) }))
const wall = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
const mib = (b: number) => (b / 1024 / 1024).toFixed(0)
console.log(`${dir}: ${days} days, ${threads} thread${threads === 1 ? "" : "s"}`)
console.log(`wall ${wall.toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (all threads), ${(wall / days).toFixed(2)} s a day`)
console.log(`peak RSS of the process ${mib(resourceUsage().maxRSS * 1024)} MiB (main thread before the run ${mib(rssBefore)} MiB); largest worker footprint (heap and buffers) ${threads > 1 ? `${mib(memory.peakFootprint)} MiB, ${memory.recycled} workers replaced` : "– (no workers)"}`)
