// The day's read model as schemas: what DayView answers, and what the operator API encodes and the
// OpenAPI document describes (src/http/schemas.ts re-exports them for the API's contract).
import { Schema } from "effect"

const Pct = Schema.Number
const Scalar = Schema.Union([Schema.String, Schema.Number, Schema.Boolean, Schema.Null])
/** Market time, ISO 8601 in IST. */
const Iso = Schema.String

/** Which contract a hedge is, and how much of it. */
const hedgeContract = {
  hedgeId: Schema.String,
  symbol: Schema.String,
  strike: Schema.Number,
  optionType: Schema.Literals(["CE", "PE"]),
  lots: Schema.Number,
  quantity: Schema.Number
}

export const HedgeView = Schema.Struct({
  ...hedgeContract,
  /** The hedge actor's state (`open`, `ordering.awaitingFill.working`, `exiting.placing`). */
  state: Schema.String,
  buyPrice: Schema.NullOr(Schema.Number),
  ltp: Schema.NullOr(Schema.Number),
  /** Rupees paid, or reserved while the buy works. */
  cost: Schema.Number,
  /** What the units held are worth at the last price. */
  value: Schema.NullOr(Schema.Number)
})

export const SessionRef = Schema.Struct({
  id: Schema.String,
  date: Schema.String,
  index: Schema.String,
  expiry: Schema.String,
  mode: Schema.String,
  policy: Schema.String
})

export const Status = Schema.Struct({
  /** Market time now, ISO 8601 in IST. */
  now: Schema.String,
  session: Schema.NullOr(SessionRef),
  enabled: Schema.Boolean,
  state: Schema.String,
  utilisation: Schema.Struct({
    budget: Schema.Number,
    marginInUse: Schema.Number,
    currentPct: Pct,
    projectedPct: Schema.NullOr(Pct),
    triggerPct: Pct,
    targetPct: Pct,
    exitTriggerPct: Pct
  }),
  nextEntry: Schema.NullOr(Schema.Struct({ portfolio: Schema.String, at: Schema.String, secondsUntil: Schema.Number })),
  activeHedges: Schema.Array(HedgeView),
  spend: Schema.Struct({ today: Schema.Number, cap: Schema.Number, left: Schema.Number }),
  cooldownRemainingSeconds: Schema.Number,
  /** Whether the engine can be trusted now: halted (why), and the daemon watchdog's problems. */
  health: Schema.Struct({
    ok: Schema.Boolean,
    halted: Schema.NullOr(Schema.String),
    problems: Schema.Array(Schema.Struct({ kind: Schema.Literals(["lag", "write", "quote", "broker"]), seconds: Schema.Number, limitSeconds: Schema.Number, message: Schema.String })),
    lagSeconds: Schema.Number,
    /** While the daemon skips instants the market has left (it fell behind): since when, how late at most (market s), ticks skipped. */
    behind: Schema.NullOr(Schema.Struct({ since: Schema.String, worstSeconds: Schema.Number, ticksSkipped: Schema.Number })),
    lastWriteAt: Schema.NullOr(Schema.String),
    lastQuoteAt: Schema.NullOr(Schema.String),
    lastBrokerAt: Schema.NullOr(Schema.String)
  })
})
export type Status = typeof Status.Type

export const Transaction = Schema.Struct({
  at: Schema.String,
  action: Schema.Literals(["BUY", "SELL"]),
  /** The hedge actor (null in the records of past days, which keep no actor ids). */
  hedgeId: Schema.NullOr(Schema.String),
  symbol: Schema.String,
  strike: Schema.Number,
  optionType: Schema.String,
  lots: Schema.Number,
  quantity: Schema.Number,
  price: Schema.NullOr(Schema.Number),
  total: Schema.Number,
  trigger: Schema.String,
  utilisationBefore: Schema.NullOr(Schema.Number)
})
export type Transaction = typeof Transaction.Type

export const AnalyticsRow = Schema.Struct({
  sessionDate: Schema.String,
  dayOfWeek: Schema.String,
  index: Schema.String,
  mode: Schema.String,
  policy: Schema.String,
  baskets: Schema.Number,
  hedgeCount: Schema.Number,
  totalCost: Schema.Number,
  totalRecovered: Schema.Number,
  netCost: Schema.Number,
  peakUtilization: Schema.NullOr(Schema.Number),
  breaches: Schema.NullOr(Schema.Number)
})

export const SessionInfo = Schema.Struct({
  ...SessionRef.fields,
  expiryType: Schema.String,
  baskets: Schema.Number,
  budgetPerBasket: Schema.Number,
  totalBudget: Schema.Number,
  /** Auto-hedge now (toggles included). */
  autoHedgeEnabled: Schema.Boolean,
  state: Schema.String
})

export const TransitionRowSchema = Schema.Struct({
  seq: Schema.Int,
  actorId: Schema.String,
  kind: Schema.Literals(["session", "entry", "hedge"]),
  from: Schema.String,
  to: Schema.String,
  event: Schema.String,
  payload: Schema.Unknown,
  /** Market time, epoch ms. */
  at: Schema.Number,
  causation: Schema.NullOr(Schema.Int)
})

export const ActorView = Schema.Struct({
  id: Schema.String,
  kind: Schema.Literals(["session", "entry", "hedge"]),
  parent: Schema.NullOr(Schema.String),
  state: Schema.String,
  /** The state as a trader reads it ("waiting for the fill"). */
  stateInWords: Schema.String,
  /** When it entered this state, ISO 8601 in IST. */
  since: Schema.String,
  summary: Schema.Record(Schema.String, Scalar)
})
export type ActorView = typeof ActorView.Type
export const Actors = Schema.Struct({ at: Schema.String, actors: Schema.Array(ActorView) })


/** Utilisation at the end of an instant, and the index's spot then (null before the first tick). */
export const UtilisationPoint = Schema.Struct({ at: Schema.Number, pct: Schema.Number, spot: Schema.NullOr(Schema.Number) })
export const Marker = Schema.Struct({ at: Schema.Number, kind: Schema.Literals(["buy", "sell"]), hedgeId: Schema.String, label: Schema.String })
export type Marker = typeof Marker.Type
export const Utilisation = Schema.Struct({
  budget: Schema.Number,
  triggerPct: Pct,
  targetPct: Pct,
  exitTriggerPct: Pct,
  points: Schema.Array(UtilisationPoint),
  markers: Schema.Array(Marker)
})

// ---- the day at a glance: entries, hedges held and closed, the feed, the summary

export const EntryView = Schema.Struct({
  id: Schema.String,
  portfolio: Schema.String,
  /** The entry actor's state (`awaitingEntry.hedged`), and the same in words ("hedged, waiting for the entry"). */
  state: Schema.String,
  stateInWords: Schema.String,
  since: Schema.NullOr(Iso),
  lookaheadAt: Iso,
  entryAt: Iso,
  exitAt: Schema.NullOr(Iso),
  projectedPct: Schema.NullOr(Pct),
  /** What the chosen hedges cost, and what they could not cover (rupees of margin). */
  hedgeCost: Schema.NullOr(Schema.Number),
  shortfall: Schema.NullOr(Schema.Number),
  hedges: Schema.Array(Schema.String),
  /** When it was seen entered, and the utilisation at that instant; over 100 is a breach. */
  enteredAt: Schema.NullOr(Iso),
  utilisationAtEntryPct: Schema.NullOr(Pct),
  breached: Schema.Boolean,
  exitReason: Schema.NullOr(Schema.String)
})
export type EntryView = typeof EntryView.Type

export const DayHedge = Schema.Struct({
  ...hedgeContract,
  /** Units held now. */
  held: Schema.Number,
  forEntry: Schema.String,
  trigger: Schema.String,
  manual: Schema.Boolean,
  state: Schema.String,
  stateInWords: Schema.String,
  boughtAt: Schema.NullOr(Iso),
  buyPrice: Schema.NullOr(Schema.Number),
  paid: Schema.Number,
  closedAt: Schema.NullOr(Iso),
  sellPrice: Schema.NullOr(Schema.Number),
  received: Schema.Number,
  ltp: Schema.NullOr(Schema.Number),
  /** The units held at the last price (an expired hedge: at its intrinsic value at the last spot). */
  value: Schema.NullOr(Schema.Number),
  /** received + value − paid: realised for a closed hedge, marked at the last price for a held one. */
  pnl: Schema.NullOr(Schema.Number),
  utilisationBeforePct: Pct,
  /** The hedge actor's latest word from the broker (a rejection, a missing price). */
  lastMessage: Schema.NullOr(Schema.String)
})
export type DayHedge = typeof DayHedge.Type

export const FeedItem = Schema.Struct({
  at: Iso,
  /** An engine alert (HEDGE_BOUGHT, BREACH_UNAVOIDABLE …) or an operator command's outcome. */
  source: Schema.Literals(["engine", "operator"]),
  kind: Schema.String,
  severity: Schema.Literals(["info", "warning", "critical"]),
  text: Schema.String
})
export type FeedItem = typeof FeedItem.Type

export const DaySummary = Schema.Struct({
  /** The session has closed: nothing more is decided today. */
  closed: Schema.Boolean,
  entries: Schema.Struct({ scheduled: Schema.Number, entered: Schema.Number, missed: Schema.Number }),
  breaches: Schema.Array(Schema.Struct({ entryId: Schema.String, portfolio: Schema.String, at: Iso, utilisationPct: Pct })),
  hedges: Schema.Struct({ bought: Schema.Number, held: Schema.Number, closed: Schema.Number }),
  peakUtilisationPct: Schema.NullOr(Pct),
  spend: Schema.Struct({ gross: Schema.Number, recovered: Schema.Number, net: Schema.Number, cap: Schema.Number }),
  /** Hedges no entry needed, with hindsight, and their protection cost; null where not measured (a live day). */
  needless: Schema.NullOr(Schema.Struct({ hedges: Schema.Array(Schema.String), cost: Schema.Number }))
})
export type DaySummary = typeof DaySummary.Type

export const Day = Schema.Struct({
  status: Status,
  entries: Schema.Array(EntryView),
  hedges: Schema.Struct({ held: Schema.Array(DayHedge), closed: Schema.Array(DayHedge) }),
  feed: Schema.Array(FeedItem),
  summary: Schema.NullOr(DaySummary)
})
export type Day = typeof Day.Type
