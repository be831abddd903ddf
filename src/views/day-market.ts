// What the day's readers ask of the market (an option's last price for the hedges table and the
// operator's buys and exits), read through the day's own services once per market instant: however
// many readers ask within an instant, the chain is fetched once, and a new instant reads it afresh.
import { Context, Effect, Exit } from "effect"
import { priceOf, type MarketSnapshot, type OptionType } from "../domain/market.ts"
import { MarketClock, MarketData } from "../services/services.ts"

export class DayMarket {
  private cached: { readonly at: number; readonly snapshot: Promise<MarketSnapshot | null> } | null = null

  constructor(private readonly services: Context.Context<MarketClock | MarketData>) {}

  /** Market time now. */
  now(): number {
    return Context.get(this.services, MarketClock).currentMillis()
  }

  /** The chain at this instant; null when the market data cannot be read. */
  snapshot(): Promise<MarketSnapshot | null> {
    const at = this.now()
    if (this.cached === null || this.cached.at !== at) {
      const read = Effect.runPromiseExit(Effect.provideContext(MarketData.use((m) => m.snapshot), this.services)).then((e) => (Exit.isSuccess(e) ? e.value : null))
      this.cached = { at, snapshot: read }
    }
    return this.cached.snapshot
  }

  /** The option's last price now; null when the chain has none. */
  async quote(strike: number, optionType: OptionType): Promise<number | null> {
    const market = await this.snapshot()
    return market === null ? null : priceOf(market.chain, strike, optionType)
  }

  /** Forget the instant's chain (the instant has ended: the next read is of the next one). */
  forget(): void {
    this.cached = null
  }
}
