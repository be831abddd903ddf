// Runs the fake OpenAlgo server (fake-openalgo-server.ts) by hand over a recorded day:
//
//   npx tsx simulations/fake-openalgo.ts --day simulations/days/2026-02-10-NIFTY.jsonl --port 5000 \
//     --apikey test --speed 60 [--mode live|analyze|semi_auto] [--truth span|constants] \
//     [--rate-limits] [--rate-limit-body restx|app] [--unseeded-freeze]
//
// The market clock starts at the day's first tick and runs `speed` times wall-clock time. The broker's
// margin is the simulator's own truth (`--truth`, default span, as `simulate`); `--rate-limits`
// enforces OpenAlgo's default limits (10/s per order and data route, 50/s on /margin) and
// `--unseeded-freeze` answers freeze_qty 1 as OpenAlgo does where it has no freeze quantities (BFO).
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { startFakeOpenAlgo, type FakeMode } from "./fake-openalgo-server.ts"
import { RATE_LIMIT_DEFAULTS } from "../adapters/openalgo/client.ts"
import { defaultConfig } from "../src/domain/config.ts"
import { TRUTHS, truthModelOf, type TruthName } from "./simulate.ts"
import { wallTimeOf } from "../src/domain/time.ts"
import { readRecordedDay } from "../src/domain/recorded-day.ts"

const MODES: ReadonlyArray<FakeMode> = ["live", "analyze", "semi_auto"]

const fail = (message: string): never => {
  console.error(`fake-openalgo: ${message}`)
  process.exit(2)
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      day: { type: "string" },
      port: { type: "string", default: "5000" },
      apikey: { type: "string" },
      speed: { type: "string", default: "1" },
      mode: { type: "string", default: "live" },
      truth: { type: "string", default: "span" },
      "rate-limits": { type: "boolean", default: false },
      "rate-limit-body": { type: "string", default: "restx" },
      "unseeded-freeze": { type: "boolean", default: false }
    }
  })
  const file = values.day ?? fail("--day <file.jsonl> is required")
  const apiKey = values.apikey ?? fail("--apikey <key> is required")
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${JSON.stringify(values.port)}: expected a port number 0-65535`)
  const speed = Number(values.speed)
  if (!(speed > 0)) fail(`--speed ${JSON.stringify(values.speed)}: expected a number above 0`)
  const mode = values.mode as FakeMode
  if (!MODES.includes(mode)) fail(`--mode ${JSON.stringify(values.mode)}: expected one of ${MODES.join(", ")}`)
  const truth = values.truth as TruthName
  if (!TRUTHS.includes(truth)) fail(`--truth ${JSON.stringify(values.truth)}: expected one of ${TRUTHS.join(", ")}`)
  const body = values["rate-limit-body"]
  if (body !== "restx" && body !== "app") fail(`--rate-limit-body ${JSON.stringify(body)}: expected restx or app`)

  const day = await Effect.runPromise(readRecordedDay(file)).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)))
  const start = day.ticks[0]!.at
  const wallStart = Date.now()
  const now = () => start + (Date.now() - wallStart) * speed
  const fake = await startFakeOpenAlgo({
    day,
    now,
    apiKey,
    mode,
    port,
    // span: the fake's own default, which also reports the span / exposure split.
    ...(truth === "span" ? {} : { truth: truthModelOf(truth, defaultConfig) }),
    ...(values["rate-limits"] ? { rateLimits: { order: RATE_LIMIT_DEFAULTS.ordersPerSecond, data: RATE_LIMIT_DEFAULTS.dataPerSecond, margin: RATE_LIMIT_DEFAULTS.marginPerSecond } } : {}),
    rateLimitBody: body as "restx" | "app",
    unseededFreeze: values["unseeded-freeze"]
  }).catch((e: unknown) =>
    fail(`cannot listen on port ${port}: ${e instanceof Error ? e.message : String(e)}`)
  )
  console.log(`fake OpenAlgo (${mode}, ${truth} margin${values["rate-limits"] ? ", OpenAlgo's default rate limits" : ""}${values["unseeded-freeze"] ? ", freeze_qty 1" : ""}) at ${fake.url}`)
  console.log(`day ${day.header.date} ${day.header.index}, market clock from ${wallTimeOf(start)} at ${speed}x; Ctrl-C stops`)

  // What the run cost at the broker, per route: how many requests, on average and in the busiest wall second.
  const requestsPerRoute = (): string => {
    const seconds = Math.max(1, (Date.now() - wallStart) / 1000)
    const routes = new Map<string, Map<number, number>>()
    for (const r of fake.requests) {
      const perSecond = routes.get(r.path) ?? new Map<number, number>()
      const second = Math.floor((r.at - start) / speed / 1000)
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1)
      routes.set(r.path, perSecond)
    }
    return [...routes]
      .map(([path, perSecond]) => {
        const total = [...perSecond.values()].reduce((a, b) => a + b, 0)
        return `  ${path}: ${total} (${(total / seconds).toFixed(1)}/s, at most ${Math.max(...perSecond.values())} in a second)`
      })
      .join("\n")
  }
  const stop = () => {
    console.log(`stopped at ${wallTimeOf(now())} after ${Math.round((Date.now() - wallStart) / 1000)} s; requests per route:\n${requestsPerRoute()}`)
    void fake.close().then(() => process.exit(0))
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}

void main()
