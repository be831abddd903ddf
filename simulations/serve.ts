// `autohedge simulate --serve`: one recorded day replayed through the engine, paced at a multiple of
// market time (or as fast as it goes, or on a clock a test holds), into the same day view and operator API the daemon serves,
// so the inspector page and the operator's actions work on a simulated day exactly as on a paper one.
// The server keeps serving after the day ends, until it is closed.
import { randomBytes } from "node:crypto"
import { copyFile, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Console, Effect, Exit } from "effect"
import { BuyPreviewer } from "../src/commands/buy-preview.ts"
import { OperatorCommands, type CommandLog } from "../src/commands/operator.ts"
import { ScheduleStore } from "../src/commands/schedule-store.ts"
import { defaultConfig, type HedgeConfig } from "../src/domain/config.ts"
import { policyPlan } from "../src/runtime/policies.ts"
import { readRecordedDay } from "../src/domain/recorded-day.ts"
import { needlessHedges } from "./needless.ts"
import { replayDay } from "./replay.ts"
import { replayOptionsFor, truthModelOf } from "./simulate.ts"
import { DayView } from "../src/views/day-view.ts"
import { LiveRisk } from "../src/http/live-risk.ts"
import { clockPacing, type Pacing } from "../src/runtime/instants.ts"
import type { DaemonClock } from "../src/daemon/clock.ts"
import { attempt } from "../src/http/cli.ts"
import { allowedHostsFrom, apiTokenFrom, HttpStartFailed, parseHttpBind, startOperatorServer } from "../src/http/server.ts"

export interface ServeSimulationOptions {
  /** The recorded day (.jsonl or .jsonl.gz). */
  readonly file: string
  /**
   * Market time per wall time (600: a day in about 40 s), "max": as fast as the engine goes, or a clock
   * to sleep on (a test's stepping clock), which a queued command wakes, as it wakes the daemon.
   */
  readonly speed: number | "max" | DaemonClock
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 8787; 0: any free port. */
  readonly port?: number
  /** The bearer token changes need. */
  readonly token: string
  /** Names the server may be reached by besides its address (AUTOHEDGE_HTTP_ALLOWED_HOSTS). */
  readonly allowedHosts?: ReadonlyArray<string>
  readonly config?: HedgeConfig
  /** The schedule PUT /api/hedge/schedule writes (default: a temporary copy of config/schedule.json). */
  readonly scheduleFile?: string
  /** Where the server's and the operator's messages go (default: warnings and errors to stderr). */
  readonly log?: (level: "info" | "warn" | "error", message: string) => void
}

export interface SimulationServer {
  /** The inspector page, `http://127.0.0.1:8787/`. */
  readonly url: string
  readonly token: string
  /** Resolves when the day has been replayed (or the replay was stopped). */
  readonly done: Promise<void>
  /** Stop the replay if it still runs, and the server. */
  readonly close: () => Promise<void>
}

const BUNDLED_SCHEDULE = fileURLToPath(new URL("../config/schedule.json", import.meta.url))

const quietLog = (level: "info" | "warn" | "error", message: string) => {
  if (level !== "info") process.stderr.write(`autohedge: ${message}\n`)
}

/** Wait `ms` of wall time, or less if the replay is stopped. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener("abort", done, { once: true })
  })

/** Each instant at its wall time: market time since the first instant, divided by `speed`. */
export const pacer = (speed: number | "max", signal: AbortSignal): Pacing => {
  // As fast as it goes, but the server still gets its turn between instants.
  if (speed === "max") return (at) => new Promise((resolve) => setImmediate(() => resolve(at)))
  let origin: { readonly market: number; readonly wall: number } | null = null
  return async (at) => {
    origin ??= { market: at, wall: performance.now() }
    const wait = origin.wall + (at - origin.market) / speed - performance.now()
    if (wait > 0) await sleep(wait, signal)
    return at
  }
}

export const serveSimulation = async (o: ServeSimulationOptions): Promise<SimulationServer> => {
  if (typeof o.speed === "number" && !(o.speed > 0 && Number.isFinite(o.speed))) throw new Error(`speed: expected a number above 0 or "max", got ${String(o.speed)}`)
  const log = o.log ?? quietLog
  const config = o.config ?? defaultConfig
  const day = await Effect.runPromise(Effect.mapError(readRecordedDay(o.file), (e) => new Error(e.message)))
  // A simulation must not rewrite the real schedule unless told to: by default it edits a copy.
  let scratch: string | null = null
  let scheduleFile = o.scheduleFile
  if (scheduleFile === undefined) {
    scratch = await mkdtemp(join(tmpdir(), "autohedge-schedule-"))
    scheduleFile = join(scratch, "schedule.json")
    await copyFile(BUNDLED_SCHEDULE, scheduleFile)
  }
  const schedule = await Effect.runPromise(Effect.mapError(ScheduleStore.load(scheduleFile), (e) => new Error(e.message)))
  const first = day.ticks[0]!.at
  const view = new DayView({ now: () => first, thresholds: { triggerPct: config.entryTriggerPct, targetPct: config.entryTargetPct, exitTriggerPct: config.exitTriggerPct } })
  const commandLog: CommandLog = (level, message) => log(level, message)
  const previewer = new BuyPreviewer()
  const commands = new OperatorCommands({ day: () => view.running(), log: commandLog, schedule, today: () => day.header.date, feed: view, margins: previewer })
  const now = () => view.running()?.context.now ?? first
  const risk = new LiveRisk(config.span)
  const server = await startOperatorServer({ host: o.host ?? "127.0.0.1", port: o.port ?? 8787, token: o.token, allowedHosts: o.allowedHosts, view, commands, schedule, now, log, risk }).catch(async (e: unknown) => {
    if (scratch !== null) await rm(scratch, { recursive: true, force: true })
    throw e
  })

  const stop = new AbortController()
  const truth = truthModelOf("span", config)
  const sessionId = `sim-${day.header.date}-${day.header.index}-${basename(o.file).replace(/\.jsonl(\.gz)?$/, "")}`
  const done = replayDay(day, {
    ...replayOptionsFor(policyPlan("engine", config), config, truth),
    file: o.file,
    operator: commands,
    onEngine: (engine, setup, services) => (view.attach({ engine, setup, services, mode: "simulation", sessionId }), risk.attach({ setup, services }), previewer.attach({ engine, setup, services })),
    afterInstant: (at) => view.afterInstant(at),
    pacing: typeof o.speed === "object" ? clockPacing(o.speed, stop.signal, (wake) => commands.onQueued(wake)) : pacer(o.speed, stop.signal),
    signal: stop.signal
  }).then(async (result) => {
    if (result.failure !== null) return log("error", `the engine stopped deciding: ${result.failure}`)
    log("info", `${day.header.date} ${day.header.index} replayed: ${result.rows.length} transitions, ${result.report.hedges.length} hedges, net spend ₹${result.report.netSpend}`)
    // With the day over there is hindsight: the hedges no entry needed go into the day's summary.
    if (stop.signal.aborted) return
    const needless = await Effect.runPromiseExit(needlessHedges(day, result.report, truth))
    if (Exit.isSuccess(needless)) view.noteNeedless({ hedges: needless.value.needless, cost: needless.value.needlessCost })
    else log("warn", `needless hedges not measured: ${String(needless.cause)}`)
  })
  let closing: Promise<void> | null = null
  return {
    url: server.url,
    token: o.token,
    done,
    close: () =>
      (closing ??= (async () => {
        stop.abort()
        await done.catch(() => undefined)
        await server.close()
        if (scratch !== null) await rm(scratch, { recursive: true, force: true })
      })())
  }
}

/** A token for a simulation started without AUTOHEDGE_API_TOKEN (printed for the user). */
export const generatedToken = (): string => randomBytes(18).toString("base64url")

/** `--speed`: a number above 0, or max. */
export const parseSpeed = (raw: string): number | "max" => {
  const s = raw.trim()
  if (s === "max") return "max"
  const speed = Number(s)
  if (s === "" || !(speed > 0) || !Number.isFinite(speed)) throw new Error(`--speed: expected a number above 0 or max, got ${JSON.stringify(raw)}`)
  return speed
}

/** `simulate --serve`: one day into the inspector and the API, then serving until interrupted (Ctrl-C). */
export const serveFromCli = (o: { readonly paths: ReadonlyArray<string>; readonly speed: string; readonly http: string; readonly config: HedgeConfig }) =>
  Effect.gen(function*() {
    if (o.paths.length !== 1) return yield* Effect.fail(new Error(`--serve: replays one day file, got ${o.paths.length} paths`))
    const speed = yield* attempt(() => parseSpeed(o.speed))
    const bind = yield* attempt(() => parseHttpBind(o.http))
    if (bind === null) return yield* Effect.fail(new Error("--http: --serve needs an address to serve on, not off"))
    const configured = yield* attempt(() => apiTokenFrom(process.env))
    const token = configured ?? generatedToken()
    const log = (level: "info" | "warn" | "error", message: string) => process.stderr.write(`${level === "info" ? "" : `${level}: `}${message}\n`)
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => serveSimulation({ file: o.paths[0]!, speed, host: bind.host, port: bind.port, token, allowedHosts: allowedHostsFrom(process.env), config: o.config, log }),
        catch: (e) => new Error(e instanceof HttpStartFailed ? `--http ${e.message}` : `--serve: ${e instanceof Error ? e.message : String(e)}`)
      }),
      (s) => Effect.promise(() => s.close())
    )
    // With the token in the address the page is ready to act (it takes it and drops it from the address).
    yield* Console.log(`inspector:  ${server.url}${configured === null ? `#token=${token}` : ""}`)
    yield* Console.log(`OpenAPI:    ${server.url}openapi.json`)
    yield* Console.log(configured === null ? `API token:  ${token}  (generated; set AUTOHEDGE_API_TOKEN to choose one)` : "API token:  AUTOHEDGE_API_TOKEN")
    yield* Console.log("schedule:   edits (PUT /api/hedge/schedule) go to a scratch copy of config/schedule.json")
    yield* Console.log(`replaying ${o.paths[0]} at ${speed === "max" ? "full speed" : `${speed}× market time`}; Ctrl-C stops`)
    yield* Effect.promise(() => server.done)
    yield* Console.log("the day is replayed; still serving until Ctrl-C")
    return yield* Effect.never
  }).pipe(Effect.scoped)
