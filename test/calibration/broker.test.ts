// Calibration on the account's positions now, against the fake OpenAlgo over loopback HTTP: positions
// from /positionbook, spot and chain from /optionchain, the broker's number from /margin (its truth
// here: the SPAN model with other parameters, so the error is known and non-zero); and the Kite route
// with a fake kiteconnect client for positions and basket margin.
import { readFileSync } from "node:fs"
import { Effect, Exit, Redacted } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { KiteClient } from "../../adapters/kite/margin.ts"
import { kiteOptionSymbol } from "../../adapters/kite/symbols.ts"
import { startFakeOpenAlgo, type FakeOpenAlgo } from "../../simulations/fake-openalgo-server.ts"
import { calibrateBroker } from "../../src/calibration/broker.ts"
import { positionsHeldAt } from "../../src/calibration/day.ts"
import { formatPortfolioCalibration, portfolioCalibrationJson } from "../../src/calibration/report.ts"
import type { Position } from "../../src/domain/market.ts"
import { defaultSpanParameters, spanMarginModel } from "../../src/domain/span.ts"
import { instantOf } from "../../src/domain/time.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"

const KEY = "OA-calibrate-key-do-not-print"
const day = parseRecordedDay(readFileSync("simulations/days/2026-02-10-NIFTY.jsonl", "utf8"), "2026-02-10-NIFTY.jsonl")
const { date, expiry, lotSize } = day.header
const AT = instantOf(date, "11:00:00")
const truth = spanMarginModel({ ...defaultSpanParameters, priceScanFloorPct: 10.5, elmPct: 2.5 })
const tick = day.ticks.filter((t) => t.at <= AT).at(-1)!

let fake: FakeOpenAlgo
beforeEach(async () => {
  fake = await startFakeOpenAlgo({ day, now: () => AT, apiKey: KEY, truth })
})
afterEach(() => fake.close())

const openalgo = () => ({ baseUrl: fake.url, apiKey: Redacted.make(KEY), timeouts: { readMs: 2000 }, retry: { times: 0 } })
const sorted = (ps: ReadonlyArray<Position>) => [...ps].sort((a, b) => a.strike - b.strike || a.optionType.localeCompare(b.optionType))
const marketQuery = (positions: ReadonlyArray<Position>) => ({ index: "NIFTY" as const, date, expiry, lotSize, spot: tick.spot, at: AT, positions, chain: tick.chain })

describe("calibrateBroker with OpenAlgo", () => {
  it("compares the SPAN model with /margin on the positions the account holds", async () => {
    const result = await Effect.runPromise(calibrateBroker({ broker: "openalgo", openalgo: openalgo(), index: "NIFTY", at: AT }))
    // The account holds what the day's entries put there by 11:00 (the fake's world, not our rebuild).
    const held = await Effect.runPromise(positionsHeldAt(day, "11:00:00"))
    expect(held.length).toBeGreaterThan(0)
    expect(sorted(result.query.positions)).toEqual(sorted(held.reduce<Array<Position>>((acc, p) => {
      const same = acc.find((q) => q.strike === p.strike && q.optionType === p.optionType)
      if (same === undefined) acc.push({ ...p })
      else (same as { quantity: number }).quantity += p.quantity
      return acc
    }, [])))
    expect(result.query).toMatchObject({ index: "NIFTY", date, expiry, spot: tick.spot, at: AT })

    const broker = await Effect.runPromise(truth.margin(marketQuery(result.query.positions)))
    const ours = await Effect.runPromise(spanMarginModel().margin(marketQuery(result.query.positions)))
    expect(result.broker.source).toBe("openalgo-basket")
    expect(result.compared.basis).toBe("exchange")
    expect(result.compared.value / broker).toBeCloseTo(1, 6)
    expect(result.span.total / ours).toBeCloseTo(1, 6)
    expect(result.errorPct!).toBeCloseTo(((ours - broker) / broker) * 100, 3)
    expect(result.errorPct!).toBeLessThan(-1)
    expect(result.span.legs).toHaveLength(result.query.positions.length)
    expect(result.span.legs.every((l) => l.volSource === "chain")).toBe(true)

    const text = formatPortfolioCalibration(result)
    expect(text).toContain(`Margin calibration: NIFTY expiry ${expiry}, ${date}`)
    expect(text).toMatch(/^SPAN model\s+₹[\d,]+\s+₹[\d,]+\s+₹[\d,]+\s+₹[\d,]+$/m)
    expect(text).toMatch(/^broker \(openalgo-basket\)\s+₹[\d,]+\s+₹0\s+₹[\d,]+\s+n\/a\s+₹[\d,]+$/m)
    expect(text).toMatch(/^Error: -\d+\.\d\d% \(SPAN model vs the broker's span \+ exposure/m)
    expect(text).toContain("price scan range 9.30%")
    const json = portfolioCalibrationJson(result)
    expect(json.errorPct).toBeCloseTo(result.errorPct!, 2)
    expect(json.positions).toHaveLength(result.query.positions.length)
    // What /margin was sent: every contract held, shorts as SELL, quantities as text.
    const sent = fake.requests.filter((r) => r.path === "margin").at(-1)!.body as { positions: Array<Record<string, unknown>> }
    expect(sent.positions).toHaveLength(result.query.positions.length)
    expect(sent.positions.every((p) => p.action === "SELL" && typeof p.quantity === "string")).toBe(true)
  })

  it("says so when nothing is held", async () => {
    const before = instantOf(date, "09:15:30")
    await fake.close()
    fake = await startFakeOpenAlgo({ day, now: () => before, apiKey: KEY, truth })
    const result = await Effect.runPromise(calibrateBroker({ broker: "openalgo", openalgo: openalgo(), index: "NIFTY", at: before }))
    expect(result.query.positions).toEqual([])
    expect(result.span.total).toBe(0)
    expect(result.compared.value).toBe(0)
    expect(result.errorPct).toBeNull()
    expect(formatPortfolioCalibration(result)).toContain("Nothing held: both margins are 0.")
  })

  it("fails in one line naming OpenAlgo's answer, without the key", async () => {
    const exit = await Effect.runPromiseExit(calibrateBroker({ broker: "openalgo", openalgo: { ...openalgo(), apiKey: Redacted.make("wrong-key") }, index: "NIFTY", at: AT }))
    expect(Exit.isFailure(exit)).toBe(true)
    const message = Exit.isFailure(exit) ? String((exit.cause.reasons[0] as { error?: { message?: string } }).error?.message) : ""
    expect(message).toMatch(/^\/expiry: HTTP 403/)
    expect(message).not.toContain(KEY)
  })

  it("asks for the Kite keys when the broker is kite and they are missing", async () => {
    const exit = await Effect.runPromiseExit(calibrateBroker({ broker: "kite", openalgo: openalgo(), index: "NIFTY", at: AT }))
    const message = Exit.isFailure(exit) ? String((exit.cause.reasons[0] as { error?: { message?: string } }).error?.message) : ""
    expect(message).toContain("KITE_API_KEY and KITE_ACCESS_TOKEN")
  })
})

describe("calibrateBroker with Kite", () => {
  it("reads positions from Kite, prices them by Kite's basket margin, and market data from OpenAlgo", async () => {
    const held: ReadonlyArray<Position> = [
      { strike: 25_650, optionType: "CE", quantity: -975, expiry },
      { strike: 25_650, optionType: "PE", quantity: -975, expiry },
      { strike: 26_200, optionType: "CE", quantity: 975, expiry }
    ]
    const symbol = (p: Position) => kiteOptionSymbol("NIFTY", p.expiry, p.strike, p.optionType, false)
    const figures = (span: number, exposure: number, premium: number, tradingsymbol = "") => ({ tradingsymbol, span, exposure, option_premium: premium, total: span + exposure + premium })
    let sent: unknown
    const client: KiteClient = {
      getPositions: (async () => ({
        net: [...held.map((p) => ({ tradingsymbol: symbol(p), exchange: "NFO", quantity: p.quantity, product: "NRML" })), { tradingsymbol: "NIFTY2621725000PE", exchange: "NFO", quantity: -65, product: "NRML" }],
        day: []
      })) as unknown as KiteClient["getPositions"],
      orderBasketMargins: (async (orders: unknown) => {
        sent = orders
        return { initial: figures(900_000, 120_000, -50_000), final: figures(610_000, 95_000.5, -48_000), orders: held.map((p) => figures(200_000, 30_000, -16_000, symbol(p))) }
      }) as unknown as KiteClient["orderBasketMargins"]
    }
    const result = await Effect.runPromise(
      calibrateBroker({ broker: "kite", openalgo: openalgo(), kite: { apiKey: Redacted.make("k"), accessToken: Redacted.make("t"), client }, index: "NIFTY", at: AT })
    )
    // The other expiry's position is left out; the listed expiry (the day's) is the one compared.
    expect(sorted(result.query.positions)).toEqual(sorted(held))
    expect((sent as Array<{ tradingsymbol: string }>).map((o) => o.tradingsymbol)).toEqual(["NIFTY2621026200CE", "NIFTY2621025650CE", "NIFTY2621025650PE"])
    expect(result.broker).toMatchObject({ source: "kite-basket", span: 610_000, exposure: 95_000.5, optionPremium: -48_000, total: 657_000.5 })
    expect(result.compared).toEqual({ basis: "exchange", value: 705_000.5 })
    const ours = await Effect.runPromise(spanMarginModel().margin(marketQuery(held)))
    expect(result.span.total / ours).toBeCloseTo(1, 4) // the chain here is OpenAlgo's, trimmed around ATM
    expect(result.errorPct!).toBeCloseTo(((result.span.total - 705_000.5) / 705_000.5) * 100, 9)
    const text = formatPortfolioCalibration(result)
    expect(text).toMatch(/^broker \(kite-basket\)\s+₹6,10,000\s+₹95,001\s+₹7,05,001\s+-₹48,000\s+₹6,57,001$/m)
    expect(text).toContain("Broker per order (kite-basket, before the basket's spread benefit):")
    expect(text).toMatch(/^NIFTY2621025650PE\s+₹2,00,000\s+₹30,000\s+-₹16,000\s+₹2,14,000$/m)
  })
})
