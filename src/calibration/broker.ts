// The account's positions now, read from the broker and priced two ways: by the SPAN model on
// OpenAlgo's market data (spot and the expiry's chain), and by the broker's basket margin calculator
// (OpenAlgo's /margin, or Kite's /margins/basket). Positions are those of one index and expiry (the
// nearest listed expiry unless one is given), netted per contract.
import { Effect } from "effect"
import { type KiteOptions, kiteAccess, kiteBasketMargin, kitePositions } from "../../adapters/kite/margin.ts"
import { monthlyRuleFrom } from "../../adapters/kite/symbols.ts"
import { makeOpenAlgoBroker } from "../../adapters/openalgo/broker.ts"
import { openAlgoClient, type OpenAlgoConfig } from "../../adapters/openalgo/client.ts"
import { basketMarginBreakdown } from "../../adapters/openalgo/margin.ts"
import { fetchExpiries, fetchSnapshot } from "../../adapters/openalgo/market-data.ts"
import { loadInstruments, lotSizeFor } from "../domain/instruments.ts"
import { MarginModelError, type MarginQuery } from "../domain/margin.ts"
import type { IndexName } from "../domain/market.ts"
import { defaultSpanParameters, type SpanParameters } from "../domain/span.ts"
import { dateOf } from "../domain/time.ts"
import type { MarketClock } from "../services/services.ts"
import { CalibrationError } from "./day.ts"
import { type BrokerBasket, calibratePortfolio, type PortfolioCalibration } from "./portfolio.ts"

export type CalibrationBroker = "openalgo" | "kite"

export interface BrokerCalibrationInput {
  readonly broker: CalibrationBroker
  /** Market data always comes from OpenAlgo; so do the positions and the margin with broker "openalgo". */
  readonly openalgo: Pick<OpenAlgoConfig, "baseUrl" | "apiKey" | "rateLimits" | "timeouts" | "retry">
  /** Required with broker "kite". */
  readonly kite?: KiteOptions
  readonly index: IndexName
  /** Default: the first expiry OpenAlgo lists on or after the date of `at`. */
  readonly expiry?: string
  /** The valuation instant (epoch ms): now, or a replaying OpenAlgo's market time. */
  readonly at: number
  readonly spanParams?: SpanParameters
}

const fixedClock = (at: number): MarketClock["Service"] => ({
  now: Effect.succeed(at),
  currentMillis: () => at,
  timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>) }
})

export const calibrateBroker = (input: BrokerCalibrationInput) =>
  Effect.gen(function*() {
    const { index, at } = input
    const date = dateOf(at)
    const kiteOptions = input.kite
    if (input.broker === "kite" && kiteOptions === undefined) {
      return yield* new CalibrationError({ message: "--broker kite: set KITE_API_KEY and KITE_ACCESS_TOKEN (Kite Connect's app key and the day's access token)" })
    }
    const base: OpenAlgoConfig = { ...input.openalgo, index, expiry: input.expiry ?? date }
    // The listed expiries give the default expiry and tell Kite's monthly contracts from its weeklies.
    const listed = yield* fetchExpiries(yield* openAlgoClient(base))
    const expiry = input.expiry ?? listed.find((e) => e >= date)
    if (expiry === undefined) return yield* new CalibrationError({ message: `OpenAlgo lists no ${index} expiry on or after ${date}: give --expiry` })
    const client = yield* openAlgoClient({ ...base, expiry })
    const kite = input.broker === "kite" && kiteOptions !== undefined ? kiteAccess(kiteOptions) : undefined
    const monthly = monthlyRuleFrom(listed)
    const positions = kite === undefined
      ? yield* makeOpenAlgoBroker(client, fixedClock(at)).positions
      : (yield* kitePositions(kite, index, listed)).filter((p) => p.expiry === expiry)
    const snapshot = yield* fetchSnapshot(client, at)
    const lotSize = yield* Effect.try({ try: () => lotSizeFor(loadInstruments(), index, expiry), catch: (e) => new CalibrationError({ message: (e as Error).message }) })
    const query: MarginQuery = { index, date, expiry, lotSize, spot: snapshot.spot, at, positions, chain: snapshot.chain }
    const brokerMargin = (q: MarginQuery): Effect.Effect<BrokerBasket, MarginModelError> =>
      kite === undefined
        ? basketMarginBreakdown(client, q.index, q.positions).pipe(
          Effect.map((m): BrokerBasket => ({ source: "openalgo-basket", total: m.total, span: m.span, exposure: m.exposure, optionPremium: null, orders: [] })),
          Effect.catchTag("MarginNotSupported", (e) =>
            Effect.fail(new MarginModelError({ model: "openalgo-basket", message: `the broker behind OpenAlgo has no basket margin calculator: ${e.message}` }))
          )
        )
        : Effect.map(kiteBasketMargin(kite, q.index, q.positions, monthly), (m): BrokerBasket => ({ source: "kite-basket", ...m }))
    const result: PortfolioCalibration = yield* calibratePortfolio(query, brokerMargin, input.spanParams ?? defaultSpanParameters)
    return result
  })
