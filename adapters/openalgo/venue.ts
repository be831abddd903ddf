// OpenAlgo as a venue (src/services/venue.ts): its REST API as the day's market, the account's
// broker and margin, and its holiday list. The same Layer trades live (`world` "real": OpenAlgo must
// not be in analyzer mode), OpenAlgo's own paper trading (its analyzer sandbox, `world` "sandbox"), and
// serves the modes that send it no orders (`world` "either").
import { Effect, Layer } from "effect"
import { freezeQuantityOf, strikeStepOf, type Instruments } from "../../src/domain/instruments.ts"
import type { IndexName } from "../../src/domain/market.ts"
import type { DaemonSettings } from "../../src/daemon/settings.ts"
import { DAEMON_ENV } from "../../src/daemon/settings.ts"
import { Venue, VenueRefused, VenueUnavailable, type VenueWorld } from "../../src/services/venue.ts"
import { makeOpenAlgoBroker } from "./broker.ts"
import { openAlgoClient, RATE_LIMIT_DEFAULTS, type OpenAlgoConfig } from "./client.ts"
import { openAlgoHolidaySource } from "./holidays.ts"
import { makeOpenAlgoMarginModel, makeOpenAlgoMarginMonitor } from "./margin.ts"
import { fetchExpiries, makeOpenAlgoMarketData, type Instrument } from "./market-data.ts"
import { optionsExchange } from "./symbols.ts"

export interface OpenAlgoVenueOptions {
  readonly settings: Pick<DaemonSettings, "openalgoUrl" | "apiKey" | "rateLimits" | "config">
  readonly instruments: Instruments
  readonly world: VenueWorld
}

const configOf = ({ settings, instruments }: OpenAlgoVenueOptions, index: IndexName, expiry: string): OpenAlgoConfig => ({
  baseUrl: settings.openalgoUrl,
  apiKey: settings.apiKey,
  index,
  expiry,
  exchange: optionsExchange(index),
  // Every strike a hedge may be bought at (the chain the engine asks for at every decision).
  strikeCount: Math.ceil(settings.config.maxOtmDistance[index] / strikeStepOf(instruments, index)) + 2,
  rateLimits: settings.rateLimits,
  // OpenAlgo answers freeze_qty 1 where it has none (BFO): orders are then split at the exchange's own.
  freezeLimit: freezeQuantityOf(instruments, index)
})

/** Why OpenAlgo's instrument data does not size orders on its own, when it does not. */
const sizingNoteOf = (index: IndexName, i: Instrument): string | null => {
  if (i.freezeSource === "broker") return null
  const answered = i.brokerFreezeQuantity === null ? "no freeze quantity" : `freeze_qty ${i.brokerFreezeQuantity}`
  return i.freezeQuantity === null
    ? `OpenAlgo answers ${answered} for ${i.symbol} and none is configured: ${index} orders go whole, and the exchange refuses one above its freeze limit`
    : `OpenAlgo answers ${answered} for ${i.symbol} (it has no freeze quantity for ${index}; add one on its Freeze Quantities page): `
      + `splitting ${index} orders at the exchange's ${i.freezeQuantity} from config/instruments.json`
}

/** What the daemon takes OpenAlgo's and the exchanges' limits to be. */
const assumptionsOf = ({ settings, instruments }: OpenAlgoVenueOptions) => {
  const limits = { ...settings.rateLimits, marginPerSecond: settings.rateLimits.marginPerSecond ?? RATE_LIMIT_DEFAULTS.marginPerSecond }
  return [
    {
      message: `assuming OpenAlgo's rate limits per route, each in a moving 1-second window: ${limits.ordersPerSecond}/s on orders (${DAEMON_ENV.orderRate}), `
        + `${limits.dataPerSecond}/s on data (${DAEMON_ENV.dataRate}), ${limits.marginPerSecond}/s on /margin (${DAEMON_ENV.marginRate}); `
        + `set them to OpenAlgo's ORDER_RATE_LIMIT and API_RATE_LIMIT if its .env changes them`,
      fields: { ordersPerSecond: limits.ordersPerSecond, dataPerSecond: limits.dataPerSecond, marginPerSecond: limits.marginPerSecond }
    },
    { message: `exchange freeze limits when OpenAlgo has none: NIFTY ${freezeQuantityOf(instruments, "NIFTY")}, SENSEX ${freezeQuantityOf(instruments, "SENSEX")} (config/instruments.json)` }
  ]
}

const NAMES: Record<VenueWorld, string> = { real: "OpenAlgo, live", sandbox: "OpenAlgo's analyzer (sandbox)", either: "OpenAlgo" }

export const openAlgoVenue = (o: OpenAlgoVenueOptions): Layer.Layer<Venue> =>
  Layer.succeed(Venue)({
    name: NAMES[o.world],
    assumptions: assumptionsOf(o),
    // The holiday list is the exchanges', whichever index and expiry the client is set up for.
    holidays: {
      name: "OpenAlgo /market/holidays",
      year: (year) => Effect.flatMap(openAlgoClient(configOf(o, "NIFTY", `${year}-12-31`)), (client) => openAlgoHolidaySource(client).year(year))
    },
    expiries: (index, date) =>
      openAlgoClient(configOf(o, index, date)).pipe(
        Effect.flatMap(fetchExpiries),
        Effect.mapError((e) => new VenueUnavailable({ operation: "the broker's expiry list", message: e.message }))
      ),
    day: ({ index, expiry, clock }) =>
      Effect.map(openAlgoClient(configOf(o, index, expiry)), (client) => {
        const broker = makeOpenAlgoBroker(client, clock)
        return {
          market: (m) => {
            const data = makeOpenAlgoMarketData(client, m?.clock ?? clock, m?.strikes)
            return {
              snapshot: data.snapshot,
              spot: data.spot,
              instrument: (symbol) => Effect.map(data.instrument(symbol), (i) => ({ symbol: i.symbol, lotSize: i.lotSize, sizingNote: sizingNoteOf(index, i) }))
            }
          },
          account: broker,
          marginModel: makeOpenAlgoMarginModel(client, broker.positions),
          checkMode: checkWorld(o.world, broker.mode),
          trading: () => Effect.succeed({ broker, margin: makeOpenAlgoMarginMonitor(client) })
        }
      })
  })

/**
 * Never trade in the wrong world: live mode refuses an OpenAlgo in analyzer (sandbox) mode, and paper
 * mode over OpenAlgo refuses one that is live, since its orders would be real.
 */
const checkWorld = (world: VenueWorld, mode: ReturnType<typeof makeOpenAlgoBroker>["mode"]) =>
  Effect.gen(function*() {
    const { analyzer } = yield* mode.pipe(Effect.mapError((e) => new VenueUnavailable({ operation: "asking OpenAlgo for its mode (/analyzer)", message: e.message })))
    if (world === "real" && analyzer === "analyze") {
      return yield* new VenueRefused({ message: "OpenAlgo is in analyzer (sandbox) mode: live mode would only paper trade. Turn analyzer mode off, or run --mode paper" })
    }
    if (world === "sandbox" && analyzer !== "analyze") {
      return yield* new VenueRefused({ message: "OpenAlgo is live, not in analyzer mode: paper orders would be real. Turn analyzer mode on in OpenAlgo, or use --paper-broker internal" })
    }
    return `OpenAlgo is in ${analyzer} mode`
  })
