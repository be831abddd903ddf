// Calibration on the account's current portfolio: the same positions priced by the SPAN model (on the
// market now) and by the broker's basket margin calculator, side by side.
//
// The broker's number compared is its exchange margin (span + exposure) when it reports the split,
// which is what the SPAN model computes; else its total, flagged as such. Kite's total (final.total)
// also nets the option premium, so a short book reads lower there than its exchange margin.
import { Effect } from "effect"
import type { MarginModelError, MarginQuery } from "../domain/margin.ts"
import { defaultSpanParameters, spanBreakdown, type SpanBreakdown, type SpanParameters } from "../domain/span.ts"
import { errorPct } from "./stats.ts"

/** A broker's basket margin with whatever split it reports. */
export interface BrokerBasket {
  /** The model it comes from: "openalgo-basket", "kite-basket". */
  readonly source: string
  /** The broker's total (Kite: final.total, option premium included). */
  readonly total: number
  readonly span: number | null
  readonly exposure: number | null
  readonly optionPremium: number | null
  /** The broker's per-order figures, where it gives them (Kite's `orders[]`). */
  readonly orders: ReadonlyArray<{ readonly symbol: string; readonly span: number; readonly exposure: number; readonly optionPremium: number; readonly total: number }>
}

export interface PortfolioCalibration {
  readonly query: Omit<MarginQuery, "chain">
  readonly span: SpanBreakdown
  readonly broker: BrokerBasket
  /** What the SPAN model is compared with: the broker's span + exposure, or its total when it gives no split. */
  readonly compared: { readonly basis: "exchange" | "total"; readonly value: number }
  /** (SPAN − broker) / broker × 100; null when the broker's number is not above 0. */
  readonly errorPct: number | null
}

export const comparedValue = (b: BrokerBasket): PortfolioCalibration["compared"] =>
  b.span !== null && b.exposure !== null ? { basis: "exchange", value: b.span + b.exposure } : { basis: "total", value: b.total }

export const calibratePortfolio = (
  query: MarginQuery,
  brokerMargin: (query: MarginQuery) => Effect.Effect<BrokerBasket, MarginModelError>,
  params: SpanParameters = defaultSpanParameters
): Effect.Effect<PortfolioCalibration, MarginModelError> =>
  Effect.gen(function*() {
    const span = yield* spanBreakdown(query, params)
    const broker = yield* brokerMargin(query)
    const compared = comparedValue(broker)
    const { chain: _chain, ...rest } = query
    return { query: rest, span, broker, compared, errorPct: errorPct(span.total, compared.value) }
  })
