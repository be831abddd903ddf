// `npx tsx simulations/bench-sse.ts [--clients 50] [--runs 5] [--speed max|N] [--day FILE]`: does the
// inspector's stream slow the engine down? The bundled day is replayed (at full speed by default, or
// paced at N × market time as `simulate --serve` does) into the day view and the operator
// API, with no stream client and then with N of them (in another process, as browsers would be), each
// reading every event from the day's start. Reported: wall time per day, and the wall time of each
// instant (from its start to the end of its work: the latency of every decision taken in it), over all
// instants and over the instants in which something was decided. Figures, not assertions.
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtemp, copyFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { OperatorCommands } from "../src/commands/operator.ts"
import { ScheduleStore } from "../src/commands/schedule-store.ts"
import { defaultConfig } from "../src/domain/config.ts"
import { DayView } from "../src/views/day-view.ts"
import { startOperatorServer } from "../src/http/server.ts"
import { pacer } from "./serve.ts"
import { virtualPacing } from "../src/runtime/instants.ts"
import { policyPlan } from "../src/runtime/policies.ts"
import { readRecordedDay, type RecordedDay } from "../src/domain/recorded-day.ts"
import { replayDay } from "./replay.ts"
import { replayOptionsFor, truthModelOf } from "./simulate.ts"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

// ---- the client process: N streams, counting what arrives

const runClients = async (url: string, n: number) => {
  const received = Array.from({ length: n }, () => 0)
  let connected = 0
  const report = () => process.stdout.write(`${JSON.stringify({ connected, min: Math.min(...received), total: received.reduce((a, b) => a + b, 0) })}\n`)
  const timer = setInterval(report, 50)
  await Promise.all(
    received.map(async (_, i) => {
      const response = await fetch(url, { headers: { accept: "text/event-stream" } })
      connected++
      report()
      const decoder = new TextDecoder()
      let carry = ""
      for await (const chunk of response.body!) {
        const text = carry + decoder.decode(chunk as Uint8Array, { stream: true })
        const parts = text.split("event: transition\n")
        received[i]! += parts.length - 1
        carry = parts.at(-1)!.slice(-20)
      }
    })
  ).catch(() => undefined)
  clearInterval(timer)
}

if (process.argv[2] === "--client") {
  await runClients(process.argv[3]!, Number(process.argv[4]))
  process.exit(0)
}

// ---- the bench

const clients = Number(arg("clients", "50"))
const runs = Number(arg("runs", "5"))
const file = arg("day", "simulations/days/2026-02-12-SENSEX.jsonl")
const speedArg = arg("speed", "max")
const speed = speedArg === "max" ? "max" : Number(speedArg)
const day: RecordedDay = await Effect.runPromise(readRecordedDay(file))
const config = defaultConfig
const options = replayOptionsFor(policyPlan("engine", config), config, truthModelOf("span", config))
const scratch = await mkdtemp(join(tmpdir(), "bench-sse-"))
await copyFile("config/schedule.json", join(scratch, "schedule.json"))
const schedule = await Effect.runPromise(ScheduleStore.load(join(scratch, "schedule.json")))

interface Run {
  readonly dayMs: number
  /** CPU time this process (engine and server) spent on the day. */
  readonly cpuMs: number
  readonly instants: ReadonlyArray<number>
  readonly decisions: ReadonlyArray<number>
  readonly rows: number
  readonly drainMs: number | null
}

const spawnClients = (url: string, n: number): Promise<{ child: ChildProcess; progress: () => { connected: number; min: number } }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--client", url, String(n)], { stdio: ["ignore", "pipe", "inherit"] })
    let last = { connected: 0, min: 0 }
    createInterface({ input: child.stdout! }).on("line", (line) => {
      last = JSON.parse(line) as typeof last
      if (last.connected === n) resolve({ child, progress: () => last })
    })
  })

const once = async (n: number): Promise<Run> => {
  const view = new DayView({ now: () => day.ticks[0]!.at, thresholds: { triggerPct: config.entryTriggerPct, targetPct: config.entryTargetPct, exitTriggerPct: config.exitTriggerPct } })
  const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule, today: () => day.header.date })
  const server = await startOperatorServer({ host: "127.0.0.1", port: 0, token: null, view, commands, schedule, now: () => day.ticks[0]!.at, log: () => undefined })
  const crowd = n === 0 ? null : await spawnClients(`${server.url}api/inspector/stream?lastEventId=0`, n)
  const instants: Array<number> = []
  const decisions: Array<number> = []
  let started = 0
  let rowsBefore = 0
  const pace = speed === "max" ? virtualPacing : pacer(speed, new AbortController().signal)
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const result = await replayDay(day, {
    ...options,
    onEngine: (engine, setup, services) => view.attach({ engine, setup, services, mode: "simulation", sessionId: "bench" }),
    pacing: async (at, held) => {
      await pace(at, held)
      started = performance.now()
      rowsBefore = view.running()?.lastSeq() ?? 0
      return at
    },
    afterInstant: async (at) => {
      await view.afterInstant(at)
      const took = performance.now() - started
      instants.push(took)
      // An instant in which something other than time passing happened: a decision was taken in it.
      if ((view.running()?.rowsAfter(rowsBefore) ?? []).some((r) => r.event !== "CLOCK")) decisions.push(took)
    }
  })
  const dayMs = performance.now() - t0
  const used = process.cpuUsage(cpu0)
  const cpuMs = (used.user + used.system) / 1000
  let drainMs: number | null = null
  if (crowd !== null) {
    const until = Date.now() + 60_000
    while (crowd.progress().min < result.rows.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    drainMs = crowd.progress().min >= result.rows.length ? performance.now() - t0 : null
    crowd.child.kill()
  }
  await server.close()
  return { dayMs, cpuMs, instants, decisions, rows: result.rows.length, drainMs }
}

const pct = (xs: ReadonlyArray<number>, p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}
const median = (xs: ReadonlyArray<number>) => pct(xs, 50)
const ms = (x: number) => `${x.toFixed(2)} ms`

console.log(`${file}: replayed ${speed === "max" ? "at full speed" : `at ${speed}× market time`}, ${runs} runs each (after a warm-up), engine policy; runs alternate between 0 and ${clients} clients`)
await once(0)
await once(clients)
const byClients = new Map<number, Array<Run>>([[0, []], [clients, []]])
for (let i = 0; i < runs; i++) for (const n of [0, clients]) byClients.get(n)!.push(await once(n))
for (const [n, results] of byClients) {
  const all = results.flatMap((r) => r.instants)
  const decided = results.flatMap((r) => r.decisions)
  console.log(`\n${n} SSE clients:`)
  console.log(`  wall time per day    median ${ms(median(results.map((r) => r.dayMs)))} (runs: ${results.map((r) => r.dayMs.toFixed(0)).join(", ")} ms; ${results[0]!.rows} transitions, ${results[0]!.instants.length} instants)`)
  console.log(`  CPU of this process  median ${ms(median(results.map((r) => r.cpuMs)))} per day (engine, hub and server; the clients run in another process)`)
  console.log(`  every instant        p50 ${ms(pct(all, 50))}  p95 ${ms(pct(all, 95))}  p99 ${ms(pct(all, 99))}  max ${ms(Math.max(...all))}`)
  console.log(`  deciding instants    p50 ${ms(pct(decided, 50))}  p95 ${ms(pct(decided, 95))}  p99 ${ms(pct(decided, 99))}  max ${ms(Math.max(...decided))}  (${results[0]!.decisions.length} per day)`)
  if (n > 0) {
    const drained = results.map((r) => r.drainMs)
    console.log(`  every client had every transition ${drained.every((d) => d !== null) ? `after median ${ms(median(drained as Array<number>))} from the day's start` : "NOT within 60 s"}`)
  }
}
