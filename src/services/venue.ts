// The venue port: one trading venue (a broker and its market data) behind one interface, in the mode
// the daemon trades it. Each venue is a folder under adapters/ with a Layer of this service, named
// in adapters/venues.ts; the modes that trade another venue's market (the internal paper broker,
// recommendation) are Layers over it. The daemon asks only this service, so it never knows which
// broker it trades with.
import { Context, type Effect, Schema } from "effect"
import type { MarginModel } from "../domain/margin.ts"
import type { IndexName } from "../domain/market.ts"
import type { HolidaySource } from "./calendar.ts"
import type { Broker, MarginMonitor, MarketClock, MarketData, MarketDataUnavailable } from "./services.ts"

// ---- Errors
/** The venue did not answer (or answered nonsense): asking again later may succeed. */
export class VenueUnavailable extends Schema.TaggedError<VenueUnavailable>()("VenueUnavailable", {
  operation: Schema.String,
  message: Schema.String
}) {}

/** The venue answered, and trading it in this mode would be wrong (a sandbox in live mode, a live account in paper). */
export class VenueRefused extends Schema.TaggedError<VenueRefused>()("VenueRefused", {
  message: Schema.String
}) {}

/** The configuration names no venue or mode that exists: `field` is the setting, `value` what it was set to. */
export class VenueConfigError extends Schema.TaggedError<VenueConfigError>()("VenueConfigError", {
  field: Schema.String,
  value: Schema.String,
  message: Schema.String
}) {}

// ---- What a venue answers
/** An option as the venue lists it. */
export interface ListedInstrument {
  readonly symbol: string
  readonly lotSize: number
  /** What the trader should know about how orders in it are sized (no freeze quantity at the venue …), else null. */
  readonly sizingNote: string | null
}

/** The market of one day at the venue: spot and chain of the day's expiry, and its instruments. */
export type VenueMarket = MarketData["Service"] & {
  /** The index's value now. */
  readonly spot: Effect.Effect<number, MarketDataUnavailable>
  readonly instrument: (symbol: string) => Effect.Effect<ListedInstrument, MarketDataUnavailable>
}

/** What the engine trades with: orders, positions and margin. */
export interface TradingAccount {
  readonly broker: Broker["Service"]
  readonly margin: MarginMonitor["Service"]
}

/** The day's session the engine trades, as a mode that keeps its own orders needs it. */
export interface TradingSession {
  readonly index: IndexName
  readonly date: string
  readonly expiry: string
  readonly lotSize: number
  /** The session's id in the database: a mode's own orders are kept under it. */
  readonly sessionId: number
  /** The day's market as the engine sees it (held per instant). */
  readonly market: MarketData["Service"]
}

/** One index's expiry at the venue, for one day. */
export interface VenueDay {
  /** The day's market, stamped by `clock` (default: the day's), `strikes` either side of the money (default: the hedge band). */
  readonly market: (o?: { readonly strikes?: number; readonly clock?: MarketClock["Service"] }) => VenueMarket
  /** The real account: what the trader's strategies hold, and the orders they placed (recording watches it). */
  readonly account: Broker["Service"]
  /** The venue's own margin calculator, over the account's positions (config `marginEstimate` "broker"). */
  readonly marginModel: MarginModel
  /** Asks whether the venue trades in the world this mode must (never real orders in paper, never paper in live); answers what it saw. */
  readonly checkMode: Effect.Effect<string, VenueUnavailable | VenueRefused>
  /** Orders, positions and margin as this mode trades them. */
  readonly trading: (session: TradingSession) => Effect.Effect<TradingAccount>
}

export class Venue extends Context.Service<Venue, {
  /** Which venue in which mode, for the log ("OpenAlgo, live"). */
  readonly name: string
  /** What the venue takes the outside world's limits to be, said once at start. */
  readonly assumptions: ReadonlyArray<{ readonly message: string; readonly fields?: Readonly<Record<string, unknown>> }>
  /** The venue's list of trading holidays and special sessions. */
  readonly holidays: HolidaySource["Service"]
  /** The expiries the venue lists for an index's options, asked on `date`. */
  readonly expiries: (index: IndexName, date: string) => Effect.Effect<ReadonlyArray<string>, VenueUnavailable>
  /** One day of an index's expiry; `clock` stamps its orders and market snapshots. */
  readonly day: (p: { readonly index: IndexName; readonly expiry: string; readonly clock: MarketClock["Service"] }) => Effect.Effect<VenueDay>
}>()("auto-hedge/services/Venue") {}

/** Which world a venue must trade in for a mode: real orders, its sandbox, or either (a mode that sends it none). */
export type VenueWorld = "real" | "sandbox" | "either"
