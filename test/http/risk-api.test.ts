// GET /api/risk on a served replay: the paper broker's positions and the day's market, priced as the CLI
// prices them; `autohedge risk --live` reads the same answer.
import { Context, Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { liveRisk } from "../../simulations/risk.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { black76, yearFraction } from "../../src/domain/pricing.ts"
import { riskView, RiskViewSchema } from "../../src/domain/risk.ts"
import { instantOf } from "../../src/domain/time.ts"
import { LiveRisk } from "../../src/http/live-risk.ts"
import { Broker, MarketData } from "../../src/services/services.ts"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { call } from "./client.ts"

const DAY = "simulations/days/2026-02-10-NIFTY.jsonl"
let server: SimulationServer

beforeAll(async () => {
  server = await serveSimulation({ file: DAY, speed: "max", port: 0, token: "risk-api-test-token-0123456789" })
  await server.done
})
afterAll(() => server?.close())

describe("GET /api/risk", () => {
  // The day is over (its 0DTE legs expired): the view is of an empty book, in the day's last market.
  it("answers the day's risk view, which the CLI's --live reads", async () => {
    const reply = await call(server.url, "api/risk")
    expect(reply.status, reply.text).toBe(200)
    const view = Schema.decodeUnknownSync(RiskViewSchema)(reply.json)
    expect(view).toMatchObject({ index: "NIFTY", date: "2026-02-10", expiry: "2026-02-10", lotSize: 65 })
    expect(view.stress).toHaveLength(21)
    expect(view.valueAtRisk.historical).toMatchObject({ value: null, reason: "no recorded days given for the history" })
    const { hostname, port } = new URL(server.url)
    expect(await Effect.runPromise(liveRisk(`${hostname}:${port}`))).toEqual(view)
    expect((await Effect.runPromise(liveRisk(`${hostname}:${port}`, 0.95))).valueAtRisk.confidence).toBe(0.95)
    const bad = await call(server.url, "api/risk?confidence=1.5")
    expect(bad.status).toBe(400)
    expect(bad.json).toMatchObject({ field: "confidence" })
  })
})

describe("the live risk view", () => {
  const QUERY = { index: "NIFTY", date: "2026-02-09", expiry: "2026-02-10", lotSize: 65, spot: 25_000, at: instantOf("2026-02-09", "11:00:00") } as const
  const chain = [24_500, 25_000, 25_500].map((k) => ({ strike: k, ce: black76("CE", 25_000, k, yearFraction(QUERY.at, QUERY.expiry), 0.13), pe: black76("PE", 25_000, k, yearFraction(QUERY.at, QUERY.expiry), 0.13) }))
  const positions = [{ strike: 25_000, optionType: "CE", quantity: -650, expiry: QUERY.expiry }, { strike: 25_500, optionType: "CE", quantity: 650, expiry: QUERY.expiry }] as const
  const setup = { session: QUERY, lotSize: 65 }
  const market = { snapshot: Effect.succeed({ at: QUERY.at, spot: QUERY.spot, chain }) }
  const broker = { positions: Effect.succeed(positions) } as unknown as Broker["Service"]

  it("prices the broker's positions in the day's market, as the domain does", async () => {
    const risk = new LiveRisk(defaultConfig.span)
    expect((await Effect.runPromise(Effect.flip(risk.view()))).message).toBe("no trading day is running")
    risk.attach({ setup, services: Context.make(MarketData, market) })
    expect((await Effect.runPromise(Effect.flip(risk.view()))).message).toBe("this server does not see the broker's positions")
    risk.attach({ setup, services: Context.make(MarketData, market).pipe(Context.add(Broker, broker)) })
    const view = await Effect.runPromise(risk.view())
    expect(view.legs.map((l) => [l.strike, l.side, l.lots])).toEqual([[25_000, "SELL", 10], [25_500, "BUY", 10]])
    expect(view).toEqual(await Effect.runPromise(riskView({ ...QUERY, chain, positions }, { span: defaultConfig.span })))
  })
})
