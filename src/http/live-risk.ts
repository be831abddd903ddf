// The live account's risk view for GET /api/risk: the broker's positions and the market of the running
// day, through the services the day runs on (the daemon's broker and market data; a served simulation's
// paper world), priced by src/domain/risk.ts. The historical VaR needs recorded days, which the API does
// not read: `autohedge risk --day … --history …` has it.
import { Context, Effect, Schema } from "effect"
import { riskView, type RiskView } from "../domain/risk.ts"
import type { SpanParameters } from "../domain/span.ts"
import type { SessionInput } from "../../machines/session.ts"
import { Broker, MarketData } from "../services/services.ts"

export class RiskUnavailable extends Schema.TaggedError<RiskUnavailable>()("RiskUnavailable", { message: Schema.String }) {}

/** What a day is priced from: its set-up, and services holding the market and (for positions) the broker. */
export interface RiskDay {
  readonly setup: { readonly session: Pick<SessionInput, "index" | "date" | "expiry">; readonly lotSize: number }
  readonly services: Context.Context<MarketData>
}

export class LiveRisk {
  private day: RiskDay | null = null

  constructor(private readonly span: SpanParameters) {}

  /** The running day (again after a restart). */
  attach(day: RiskDay): void {
    this.day = day
  }

  view(confidence?: number): Effect.Effect<RiskView, RiskUnavailable> {
    const day = this.day
    const unavailable = (message: string) => new RiskUnavailable({ message })
    if (day === null) return Effect.fail(unavailable("no trading day is running"))
    const broker = Context.getOrUndefined(day.services, Broker)
    if (broker === undefined) return Effect.fail(unavailable("this server does not see the broker's positions"))
    const s = day.setup.session
    const span = this.span
    return Effect.gen(function*() {
      const market = yield* Effect.provideContext(MarketData.use((m) => m.snapshot), day.services).pipe(Effect.mapError((e) => unavailable(`the market: ${e.message}`)))
      const positions = yield* broker.positions.pipe(Effect.mapError((e) => unavailable(`the broker's positions: ${e.message}`)))
      return yield* riskView(
        { index: s.index, date: s.date, expiry: s.expiry, lotSize: day.setup.lotSize, spot: market.spot, at: market.at, chain: market.chain, positions },
        { span, ...(confidence === undefined ? {} : { confidence }) }
      ).pipe(Effect.mapError((e) => unavailable(e.message)))
    })
  }
}
