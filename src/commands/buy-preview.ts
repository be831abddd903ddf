// What a manual buy would do before it is placed: the margin it frees now and at the next entry, by the
// decision service's own projection (the broker's margin in use is the truth for now; the engine's
// margin model supplies the change the hedge makes), and the chain near the engine's premium band to
// pick a strike from. Reads only: nothing is sent, nothing recorded.
import { Context, Effect } from "effect"
import { projectEntry } from "../decisions/decisions.ts"
import { netPositions } from "../domain/margin.ts"
import type { OptionType, Position } from "../domain/market.ts"
import type { EngineSetup, SessionEngine } from "../runtime/engine.ts"
import { Broker, MarginMonitor, MarketClock, MarketData } from "../services/services.ts"

/** Utilisation as the broker's margin stands now, and as it would stand with the hedge. */
export interface MarginEffect {
  readonly at: number
  readonly spot: number
  readonly budget: number
  readonly marginNow: number
  readonly marginAfter: number
  readonly pctNow: number
  readonly pctAfter: number
  /** The next entry to come, projected as the engine projects it, without and with the hedge; null when none is to come. */
  readonly nextEntry: {
    readonly id: string
    readonly portfolio: string
    readonly at: number
    readonly projectedMargin: number
    readonly projectedPct: number
    readonly projectedMarginAfter: number
    readonly projectedPctAfter: number
  } | null
}

/** A contract of the chain the trader may pick: its price, its distance out of the money, whether the engine's band holds it. */
export interface StrikeChoice {
  readonly strike: number
  readonly optionType: OptionType
  readonly ltp: number
  readonly otmDistance: number
  readonly inBand: boolean
}

export interface StrikeChoices {
  readonly at: number
  readonly spot: number
  readonly band: { readonly minPremium: number; readonly maxPremium: number; readonly minOtmDistance: number; readonly maxOtmDistance: number }
  /** Lots in one of the engine's hedge units: a sensible default. */
  readonly unitLots: number
  readonly lotSize: number
  readonly strikes: ReadonlyArray<StrikeChoice>
}

/** What the preview reads of the running day. */
export interface BuyMargins {
  readonly effectOf: (hedge: { readonly strike: number; readonly optionType: OptionType; readonly quantity: number }) => Effect.Effect<MarginEffect, Error>
  readonly strikes: (optionType: OptionType) => Effect.Effect<StrikeChoices, Error>
}

type PreviewServices = MarketClock | MarketData | MarginMonitor

const round2 = (x: number) => Math.round(x * 100) / 100
const pctOf = (margin: number, budget: number) => round2((margin / budget) * 100)

/** How far around the band the picker reaches: strikes a little inside and outside it are worth seeing. */
const REACH = { inside: 0.5, outside: 1.5 }

export class BuyPreviewer implements BuyMargins {
  private day: { readonly engine: SessionEngine; readonly setup: EngineSetup; readonly services: Context.Context<PreviewServices> } | null = null

  /** The running day (again after a restart). */
  attach(day: { readonly engine: SessionEngine; readonly setup: EngineSetup; readonly services: Context.Context<PreviewServices> }): void {
    this.day = day
  }

  effectOf(hedge: { readonly strike: number; readonly optionType: OptionType; readonly quantity: number }): Effect.Effect<MarginEffect, Error> {
    const day = this.day
    if (day === null) return Effect.fail(new Error("no trading day is running"))
    const broker = Context.getOrUndefined(day.services as Context.Context<PreviewServices | Broker>, Broker)
    if (broker === undefined) return Effect.fail(new Error("this server does not see the broker's positions"))
    const { setup, engine } = day
    const effect = Effect.gen(function*() {
      const s = yield* engine.situationNow
      const at = s.market.at
      const marginNow = yield* MarginMonitor.use((m) => m.marginInUse)
      const bought: Position = { strike: hedge.strike, optionType: hedge.optionType, quantity: hedge.quantity, expiry: s.day.expiry }
      const query = { index: s.day.index, date: s.day.date, expiry: s.day.expiry, lotSize: setup.lotSize, spot: s.market.spot, at, chain: s.market.chain }
      const model = (positions: ReadonlyArray<Position>) => setup.model.margin({ ...query, positions: netPositions(positions) })
      // The broker's number moved by the model's difference, as every projection of the engine's.
      const marginAfter = Math.max(0, marginNow + (yield* model([...s.held, bought])) - (yield* model(s.held)))
      const next = s.coming[0]
      let nextEntry: MarginEffect["nextEntry"] = null
      if (next !== undefined) {
        const before = yield* projectEntry(setup, s, next, marginNow, at)
        const after = yield* projectEntry(setup, { ...s, held: [...s.held, bought] }, next, marginAfter, at)
        nextEntry = {
          id: next.id,
          portfolio: next.portfolio,
          at: next.entryAt,
          projectedMargin: round2(before.projectedMargin),
          projectedPct: before.projectedPct,
          projectedMarginAfter: round2(after.projectedMargin),
          projectedPctAfter: after.projectedPct
        }
      }
      return {
        at,
        spot: s.market.spot,
        budget: s.day.budget,
        marginNow: round2(marginNow),
        marginAfter: round2(marginAfter),
        pctNow: pctOf(marginNow, s.day.budget),
        pctAfter: pctOf(marginAfter, s.day.budget),
        nextEntry
      } satisfies MarginEffect
    })
    return effect.pipe(
      Effect.provideContext(day.services as Context.Context<PreviewServices | Broker>),
      Effect.mapError((e) => new Error(typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)))
    )
  }

  strikes(optionType: OptionType): Effect.Effect<StrikeChoices, Error> {
    const day = this.day
    if (day === null) return Effect.fail(new Error("no trading day is running"))
    const { setup } = day
    const { band } = setup
    return MarketData.use((m) => m.snapshot).pipe(
      Effect.map((market): StrikeChoices => {
        const strikes = market.chain.flatMap((row): Array<StrikeChoice> => {
          const ltp = optionType === "CE" ? row.ce : row.pe
          const otmDistance = optionType === "CE" ? row.strike - market.spot : market.spot - row.strike
          if (ltp === null || !(ltp > 0)) return []
          if (otmDistance < band.minOtmDistance * REACH.inside || otmDistance > band.maxOtmDistance * REACH.outside) return []
          const inBand = ltp >= band.minPremium && ltp <= band.maxPremium && otmDistance >= band.minOtmDistance && otmDistance <= band.maxOtmDistance
          return [{ strike: row.strike, optionType, ltp, otmDistance: round2(otmDistance), inBand }]
        })
        return {
          at: market.at,
          spot: market.spot,
          band: { minPremium: band.minPremium, maxPremium: band.maxPremium, minOtmDistance: band.minOtmDistance, maxOtmDistance: band.maxOtmDistance },
          unitLots: setup.unitLots,
          lotSize: setup.lotSize,
          strikes: strikes.sort((a, b) => a.otmDistance - b.otmDistance)
        }
      }),
      Effect.provideContext(day.services),
      Effect.mapError((e) => new Error(e.message))
    )
  }
}
