// The venue the daemon trades is chosen by configuration (adapters/venues.ts): live trades the venue,
// paper its own sandbox or the internal paper broker over its market, recommend sends it nothing. A
// venue or paper broker that does not exist stops the start with the setting and its value named.
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Exit, Layer, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { forEachServer } from "../fixtures/databases.ts"
import { openSession } from "../../adapters/postgres/engine-store.ts"
import { recommendingVenueFor, VENUES, venueLayerFor, type VenueEntry } from "../../adapters/venues.ts"
import { runDaemon } from "../../src/daemon/daemon.ts"
import { makeLog } from "../../src/daemon/log.ts"
import { loadDaemonSettings, type DaemonSettings } from "../../src/daemon/settings.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { loadInstruments } from "../../src/domain/instruments.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import type { MarketSnapshot } from "../../src/domain/market.ts"
import { tradingSessionOf } from "../../src/domain/session.ts"
import { instantOf } from "../../src/domain/time.ts"
import type { OrderRequest } from "../../machines/protocol.ts"
import type { Broker, MarketClock } from "../../src/services/services.ts"
import { Venue, type VenueConfigError, type VenueWorld } from "../../src/services/venue.ts"
import { SteppingClock } from "./stepping-clock.ts"

const date = "2026-02-10"
const instruments = loadInstruments()
const settingsOf = (s: Partial<DaemonSettings>): DaemonSettings => ({
  mode: "live",
  paperBroker: "openalgo",
  openalgoUrl: "http://127.0.0.1:1/api/v1",
  apiKey: Redacted.make("k"),
  scheduleFile: "",
  holidaysFile: "",
  tickMs: 60_000,
  rateLimits: { ordersPerSecond: 10, dataPerSecond: 10 },
  logFormat: "json",
  config: defaultConfig,
  ...s
})
const buy: OrderRequest = { clientOrderId: "AH-1", hedgeId: "hedge-1", symbol: "NIFTY10FEB2624000PE", side: "BUY", strike: 24000, optionType: "PE", quantity: 975, limitPrice: 3.1 }
const clock: MarketClock["Service"] = { now: Effect.succeed(instantOf(date, "10:00:00")), currentMillis: () => instantOf(date, "10:00:00"), timers: globalThis }

/** A venue that says which world it was built for, and keeps the orders that reach its account. */
const recordingVenue = (sandbox: boolean) => {
  const reached: Array<{ world: VenueWorld; order: OrderRequest }> = []
  const entry: VenueEntry = {
    sandbox,
    layer: ({ world }) => {
      const account: Broker["Service"] = {
        placeOrder: (order) => Effect.sync(() => (reached.push({ world, order }), { orderId: `B${reached.length}` })),
        orderStatus: () => Effect.die("not used"),
        cancelOrder: () => Effect.die("not used"),
        findOrder: () => Effect.succeed(null),
        positions: Effect.succeed([]),
        funds: Effect.succeed({ usedMargin: 0, availableMargin: 1e7 })
      }
      const snapshot: MarketSnapshot = { at: instantOf(date, "10:00:00"), spot: 25000, chain: [{ strike: 24000, ce: null, pe: 3 }, { strike: 25000, ce: 100, pe: 100 }] }
      return Layer.succeed(Venue)({
        name: `recording (${world})`,
        assumptions: [],
        holidays: { name: "none", year: () => Effect.succeed({}) },
        expiries: () => Effect.succeed([date]),
        day: () =>
          Effect.succeed({
            market: () => ({ snapshot: Effect.succeed(snapshot), spot: Effect.succeed(25000), instrument: (symbol) => Effect.succeed({ symbol, lotSize: 65, sizingNote: null }) }),
            account,
            marginModel: constantsMarginModel(defaultConfig.marginConstants),
            checkMode: Effect.succeed(`world ${world}`),
            trading: () => Effect.succeed({ broker: account, margin: { marginInUse: Effect.succeed(0) } })
          })
      })
    }
  }
  return { reached, venues: { recording: entry } }
}

/** What a mode's venue does with an order: its check's answer, and where the order went. */
const orderThrough = <E, R>(layer: Layer.Layer<Venue, E, R>, sessionId: number) =>
  Effect.gen(function*() {
    const venue = yield* Venue
    const day = yield* venue.day({ index: "NIFTY", expiry: date, clock })
    const checked = yield* day.checkMode
    const { broker } = yield* day.trading({ index: "NIFTY", date, expiry: date, lotSize: 65, sessionId, market: day.market() })
    const placed = yield* Effect.exit(broker.placeOrder(buy))
    return { name: venue.name, checked, placed }
  }).pipe(Effect.provide(layer))


forEachServer("the venue chosen by configuration", (db) => {
  const session = () => db.run(openSession(tradingSessionOf({ date, index: "NIFTY", expiry: date, baskets: 1, budgetPerBasket: 1e7, autoHedgeEnabled: true, mode: "paper" }), "engine", true))

  it("live sends orders to the venue, which must be trading for real", async () => {
    const { reached, venues } = recordingVenue(true)
    const r = await db.run(orderThrough(venueLayerFor({ settings: settingsOf({ venue: "recording", mode: "live" }), instruments }, venues), 0))
    expect([r.name, r.checked, Exit.isSuccess(r.placed)]).toEqual(["recording (real)", "world real", true])
    expect(reached.map((x) => x.world)).toEqual(["real"])
  })

  it("paper with the venue as paper broker sends orders to its sandbox", async () => {
    const { reached, venues } = recordingVenue(true)
    const r = await db.run(orderThrough(venueLayerFor({ settings: settingsOf({ venue: "recording", mode: "paper", paperBroker: "recording" }), instruments }, venues), 0))
    expect([r.name, r.checked, Exit.isSuccess(r.placed)]).toEqual(["recording (sandbox)", "world sandbox", true])
    expect(reached.map((x) => x.world)).toEqual(["sandbox"])
  })

  it("paper with the internal paper broker keeps orders away from the venue and fills them itself", async () => {
    const { reached, venues } = recordingVenue(true)
    const sessionId = await session()
    const r = await db.run(orderThrough(venueLayerFor({ settings: settingsOf({ venue: "recording", mode: "paper", paperBroker: "internal" }), instruments }, venues), sessionId))
    expect([r.name, r.checked]).toEqual(["internal paper broker over recording (either)", "world either"])
    expect(Exit.isSuccess(r.placed) ? r.placed.value.orderId : r.placed).toBe("LP1")
    expect(reached).toEqual([])
  })

  it("recommend places nothing and says what it would have placed", async () => {
    const { reached, venues } = recordingVenue(true)
    const r = await db.run(orderThrough(venueLayerFor({ settings: settingsOf({ venue: "recording", mode: "recommend" }), instruments }, venues), 0))
    expect([r.name, r.checked]).toEqual(["recommend over recording (either)", "world either"])
    expect(JSON.stringify(r.placed)).toContain("recommend mode, not placed: BUY 975 NIFTY10FEB2624000PE LIMIT 3.10")
    expect(reached).toEqual([])
  })

  it("a venue that does not exist stops the daemon at start, naming AUTOHEDGE_VENUE and its value", async () => {
    const lines: Array<Record<string, unknown>> = []
    const exit = await db.run(Effect.exit(runDaemon({
      settings: settingsOf({ venue: "kite" }),
      schedule: { version: 1, days: {} },
      calendar: { years: [] },
      instruments,
      clock: new SteppingClock(instantOf(date, "08:00:00")),
      log: makeLog("json", (line) => lines.push(JSON.parse(line) as Record<string, unknown>), "-", () => 0),
      signal: new AbortController().signal
    })))
    expect(JSON.stringify(exit)).toContain(`AUTOHEDGE_VENUE = \\"kite\\": no such venue (known: openalgo)`)
    expect(lines).toEqual([])
  })
  it("a paper broker the venue does not have is an error naming --paper-broker and the value", async () => {
    const failureOf = (layer: Layer.Layer<Venue, VenueConfigError, PgClient.PgClient>) => db.run(Effect.flip(Effect.provide(Venue.use(Effect.succeed), layer)))
    const own = venueLayerFor({ settings: settingsOf({ venue: "recording", mode: "paper", paperBroker: "recording" }), instruments }, recordingVenue(false).venues)
    const other = venueLayerFor({ settings: settingsOf({ venue: "openalgo", mode: "paper", paperBroker: "recording" }), instruments }, { ...VENUES, ...recordingVenue(true).venues })
    expect(await failureOf(own)).toMatchObject({ field: "--paper-broker", value: "recording", message: `--paper-broker = "recording": recording has no paper trading of its own; or use --paper-broker internal` })
    expect(await failureOf(other)).toMatchObject({ field: "--paper-broker", value: "recording", message: `--paper-broker = "recording": paper trading in the venue's own sandbox names the venue (openalgo); or use --paper-broker internal` })
  })
}, { migrated: true })

describe("the venue settings", () => {
  it("names each mode's OpenAlgo Layer", async () => {
    const nameOf = (s: Partial<DaemonSettings>) =>
      Effect.runPromise(Effect.map(Venue.use(Effect.succeed), (v) => v.name).pipe(Effect.provide(recommendingVenueFor({ settings: settingsOf(s), instruments }))))
    expect(await nameOf({})).toBe("recommend over OpenAlgo")
    const liveName = await Effect.runPromise(Effect.map(Venue.use(Effect.succeed), (v) => v.name).pipe(Effect.provide(VENUES["openalgo"]!.layer({ settings: settingsOf({}), instruments, world: "real" }))))
    expect(liveName).toBe("OpenAlgo, live")
  })

  it("reads AUTOHEDGE_VENUE, openalgo when unset", async () => {
    const venueOf = async (env: Record<string, string>) => (await Effect.runPromise(loadDaemonSettings({ OPENALGO_API_KEY: "k", ...env }, { mode: "recommend" }))).venue
    expect(await venueOf({})).toBe("openalgo")
    expect(await venueOf({ AUTOHEDGE_VENUE: " openalgo " })).toBe("openalgo")
  })

  it("an unknown venue is an error naming the setting and the value", async () => {
    const error = await Effect.runPromise(Effect.flip(Effect.provide(Venue.use(Effect.succeed), recommendingVenueFor({ settings: settingsOf({ venue: "kite" }), instruments }))))
    expect(error).toMatchObject({ _tag: "VenueConfigError", field: "AUTOHEDGE_VENUE", value: "kite", message: `AUTOHEDGE_VENUE = "kite": no such venue (known: openalgo)` })
  })


})
