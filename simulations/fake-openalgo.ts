// Runs the fake OpenAlgo server (adapters/openalgo/fake-server.ts) by hand over a recorded day:
//
//   npx tsx simulations/fake-openalgo.ts --day simulations/days/2026-02-10-NIFTY.jsonl --port 5000 \
//     --apikey test --speed 60 [--mode live|analyze|semi_auto]
//
// The market clock starts at the day's first tick and runs `speed` times wall-clock time.
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { startFakeOpenAlgo, type FakeMode } from "../adapters/openalgo/fake-server.ts"
import { wallTimeOf } from "../src/domain/time.ts"
import { readRecordedDay } from "./recorded-day.ts"

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
      mode: { type: "string", default: "live" }
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

  const day = await Effect.runPromise(readRecordedDay(file)).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)))
  const start = day.ticks[0]!.at
  const wallStart = Date.now()
  const now = () => start + (Date.now() - wallStart) * speed
  const fake = await startFakeOpenAlgo({ day, now, apiKey, mode, port }).catch((e: unknown) =>
    fail(`cannot listen on port ${port}: ${e instanceof Error ? e.message : String(e)}`)
  )
  console.log(`fake OpenAlgo (${mode}) at ${fake.url}`)
  console.log(`day ${day.header.date} ${day.header.index}, market clock from ${wallTimeOf(start)} at ${speed}x; Ctrl-C stops`)

  const stop = () => void fake.close().then(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}

void main()
