// The operator's actions, one implementation each, whoever asks (the HTTP API, Telegram, the CLI):
// switch auto-hedge for the day, exit a hedge, buy one by hand, replace the schedule, set up a coming
// day's session. Every action is audited whatever its outcome: accepted or refused with its reason,
// it is logged with who asked and told to the day's feed; one taken by the session is also its
// transition row. An action on the running day is checked against the day as it is
// (and as the actions already queued will leave it), then queued; the held-instant loop delivers it
// at the next instant, before that instant's clock event, so it is stamped with market time, becomes
// a transition row of the session like any outside event, and a replay of the audit re-drives it.
import { Effect, Schema } from "effect"
import { isToComeState, MAX_HEDGE_ROUNDS } from "../../machines/entry.ts"
import { isMarketOpenState, spendLeftOf, type SessionContext, type SessionEvent } from "../../machines/session.ts"
import { toTick, type OptionType } from "../domain/market.ts"
import type { Schedule } from "../domain/schedule.ts"
import { isIsoDate, wallTimeOf } from "../domain/time.ts"
import type { TransitionRow } from "../services/services.ts"
import type { BuyMargins, MarginEffect, StrikeChoices } from "./buy-preview.ts"
import type { ScheduleStore } from "./schedule-store.ts"
import type { SessionPlan, SessionPlans } from "./session-plans.ts"

/** Why an action was refused: its input is wrong, what it names does not exist, or the day forbids it now. */
export type RefusalReason = "invalid" | "notFound" | "conflict" | "unavailable"

export class CommandRefused extends Schema.TaggedError<CommandRefused>()("CommandRefused", {
  reason: Schema.Literals(["invalid", "notFound", "conflict", "unavailable"]),
  message: Schema.String,
  /** The input field the refusal is about, when it is about one. */
  field: Schema.optionalKey(Schema.String)
}) {}

const refuse = (reason: RefusalReason, message: string, field?: string) =>
  Effect.fail(new CommandRefused(field === undefined ? { reason, message } : { reason, message, field }))

export interface CommandAccepted {
  readonly message: string
}

/** What the actions read of the running day (the live-day hub provides it). */
export interface RunningDay {
  /** Identifies the day: actions queued for one day are never delivered to another. */
  readonly key: string
  readonly context: SessionContext
  /** The session's state, `trading.watching`. */
  readonly state: string
  /** The session has closed: nothing more is decided today. */
  readonly done: boolean
  readonly lotSize: number
  readonly strikeStep: number
  /** The option's last price now, null when the chain has none. */
  readonly quote: (strike: number, optionType: OptionType) => Promise<number | null>
  /** Utilisation at the latest instant, percent; null before the first sample. */
  readonly utilisationPct: () => number | null
  /** An entry's state as the audit names it (`awaitingEntry.hedged`) and its rounds of buying so far; absent where the caller does not know them. */
  readonly entryOf?: (entryId: string) => { readonly state: string; readonly hedgeRounds: number }
  /** The day's rows numbered after `seq`. */
  readonly rowsAfter: (seq: number) => ReadonlyArray<TransitionRow>
  readonly lastSeq: () => number
}

/** Where a running day takes the actions queued for it. */
export interface OperatorSource {
  /** Deliver the actions queued for the running day (at an instant, before its clock event). */
  deliver(at: number, send: (event: SessionEvent) => void): void
  /** Hear that an action is waiting (at once when one already is); returns the unsubscribe. */
  onQueued(listener: () => void): () => void
}

export type CommandLog = (level: "info" | "warn", message: string, fields?: Readonly<Record<string, unknown>>) => void

/** Who asked for an action: the HTTP API (and the page), Telegram, the command line. */
export type CommandSource = "api" | "telegram" | "cli"

/** Where the outcome of every action is told besides the log: the day's feed (DayView). */
export interface CommandFeed {
  noteOperator(severity: "info" | "warning", kind: string, text: string): void
}

interface Queued {
  readonly day: string
  readonly event: SessionEvent
  readonly what: string
}

export interface ManualBuyInput {
  readonly strike: number
  readonly optionType: OptionType
  readonly lots: number
  readonly limitPrice?: number | undefined
}

/** A manual buy as it would be placed now, and what it would do. */
export interface BuyPreview {
  readonly index: string
  readonly strike: number
  readonly optionType: OptionType
  readonly lots: number
  readonly quantity: number
  readonly ltp: number
  /** The limit the order would go with: the trader's, or the last price plus the engine's buffer. */
  readonly limitPrice: number
  readonly limitGiven: boolean
  readonly cost: number
  /** The day's spend cap, what is left of it now (less buys already queued) and after this one. */
  readonly spend: { readonly cap: number; readonly left: number; readonly leftAfter: number }
  readonly margin: MarginEffect
}

const rupees = (x: number) => `₹${x.toLocaleString("en-IN", { maximumFractionDigits: 2 })}`
/** An option's price, to the paisa: ₹0.50. */
const premium = (x: number) => `₹${x.toFixed(2)}`

export class OperatorCommands implements OperatorSource {
  private queue: Array<Queued> = []
  private readonly listeners = new Set<() => void>()

  constructor(
    private readonly o: {
      /** The day running now, if any. */
      readonly day: () => RunningDay | null
      readonly log: CommandLog
      /** The schedule file the daemon plans its days from. */
      readonly schedule: ScheduleStore
      /** Where a coming day's session is set up; absent where sessions come from elsewhere (a replayed day file). */
      readonly plans?: SessionPlans
      /** Today's date in market time (sessions are set up for today or later). */
      readonly today: () => string
      /** The day's feed, told every action's outcome. */
      readonly feed?: CommandFeed
      /** The margin a manual buy would free, for its preview; absent: no preview. */
      readonly margins?: BuyMargins
    }
  ) {}

  // ---- actions on the running day

  /** Switch auto-hedge on or off for the rest of the day. */
  toggle(enabled: boolean, reason?: string, by: CommandSource = "api"): Effect.Effect<CommandAccepted, CommandRefused> {
    return this.audited("toggle", by, Effect.suspend(() => {
      const day = this.o.day()
      const refused = this.refuseUnlessRunning(day)
      if (refused !== undefined) return refused
      const lastQueued = [...this.queuedFor(day!)].reverse().find((q) => q.event.type === "TOGGLE")?.event as { enabled: boolean } | undefined
      const will = lastQueued?.enabled ?? day!.context.enabled
      if (will === enabled) return refuse("conflict", `auto-hedge is already ${enabled ? "on" : "off"}${lastQueued === undefined ? "" : " (a toggle is waiting for the next instant)"}`, "enabled")
      const note = reason?.trim() ?? ""
      const event: SessionEvent = note === "" ? { type: "TOGGLE", enabled } : { type: "TOGGLE", enabled, reason: note }
      return this.enqueue(day!, event, `auto-hedge ${enabled ? "on" : "off"}${note === "" ? "" : ` (${note})`}`)
    }))
  }

  /**
   * Sell an open hedge now, whatever the engine would decide; not below the minimum exit price
   * (HEDGE_MIN_EXIT_PRICE), which holds for the trader's exits as for the engine's: such an exit is
   * refused with the price and the minimum, not queued to come back unsold.
   */
  manualExit(hedgeId: string, by: CommandSource = "api"): Effect.Effect<CommandAccepted, CommandRefused> {
    return this.audited("exit", by, Effect.gen({ self: this }, function*() {
      const day = this.o.day()
      const refused = this.refuseUnlessTrading(day, "exits")
      if (refused !== undefined) return yield* refused
      const d = day!
      const hedge = d.context.hedges[hedgeId]
      if (hedge === undefined) {
        const known = Object.keys(d.context.hedges)
        return yield* refuse("notFound", `no hedge ${JSON.stringify(hedgeId)} today (${known.length === 0 ? "none bought yet" : `hedges: ${known.join(", ")}`})`, "hedgeId")
      }
      if (hedge.status !== "open") return yield* refuse("conflict", `${hedgeId} is ${hedge.status}, not open: only an open hedge can be exited`, "hedgeId")
      if (this.queuedFor(d).some((q) => q.event.type === "MANUAL_EXIT" && q.event.hedgeId === hedgeId)) {
        return yield* refuse("conflict", `an exit of ${hedgeId} is already waiting for the next instant`, "hedgeId")
      }
      const ltp = yield* Effect.promise(() => d.quote(hedge.strike, hedge.optionType).catch(() => null))
      const minimum = d.context.hedgeRules.minExitPrice
      if (ltp === null || !(ltp >= minimum)) {
        const price = ltp === null ? "has no last price" : `is at ${premium(ltp)}`
        return yield* refuse("conflict", `${hedgeId} (${hedge.symbol}) ${price}, below the minimum exit price ${premium(minimum)} (HEDGE_MIN_EXIT_PRICE): not sold; it is held to expiry unless its price recovers`, "hedgeId")
      }
      return yield* this.enqueue(d, { type: "MANUAL_EXIT", hedgeId }, `exit ${hedgeId} (${hedge.symbol}, last ${premium(ltp)})`)
    }))
  }

  /** Buy a hedge by hand: one contract, worked like the engine's own, held to the day's spend cap. */
  manualBuy(input: ManualBuyInput, by: CommandSource = "api"): Effect.Effect<CommandAccepted, CommandRefused> {
    return this.audited("buy", by, Effect.gen({ self: this }, function*() {
      const b = yield* this.checkBuy(input)
      const { strike, optionType, lots } = input
      const limit = input.limitPrice
      const event: SessionEvent = { type: "MANUAL_BUY", strike, optionType, quantity: b.quantity, limitPrice: limit ?? null, cost: b.cost, utilisationBefore: b.day.utilisationPct() ?? 0 }
      return yield* this.enqueue(b.day, event, `buy ${lots} lot${lots === 1 ? "" : "s"} of ${b.day.context.index} ${strike} ${optionType} at ${limit === undefined ? `about ${b.price} (last ${b.ltp})` : `limit ${limit}`}, ${rupees(b.cost)} reserved`)
    }))
  }

  /**
   * What a manual buy would do, placing nothing: the same checks as the buy (a refusal says the same
   * reason), its cost against the spend cap, and the margin it frees now and at the next entry.
   */
  previewBuy(input: ManualBuyInput): Effect.Effect<BuyPreview, CommandRefused> {
    return Effect.gen({ self: this }, function*() {
      const margins = this.o.margins
      if (margins === undefined) return yield* refuse("unavailable", "this server cannot project margins for a preview")
      const b = yield* this.checkBuy(input)
      const effect = yield* Effect.mapError(margins.effectOf({ strike: input.strike, optionType: input.optionType, quantity: b.quantity }), (e) =>
        new CommandRefused({ reason: "unavailable", message: `the margin projection: ${e.message}` })
      )
      const c = b.day.context
      return {
        index: c.index,
        strike: input.strike,
        optionType: input.optionType,
        lots: input.lots,
        quantity: b.quantity,
        ltp: b.ltp,
        limitPrice: b.price,
        limitGiven: input.limitPrice !== undefined,
        cost: b.cost,
        spend: { cap: c.spendCap, left: b.left, leftAfter: Math.round((b.left - b.cost) * 100) / 100 },
        margin: effect
      }
    })
  }

  /** The chain near the engine's premium band, for the trader to pick a strike from (a read; refused when the market is not open). */
  buyStrikes(optionType: OptionType): Effect.Effect<StrikeChoices, CommandRefused> {
    return Effect.suspend(() => {
      const margins = this.o.margins
      if (margins === undefined) return refuse("unavailable", "this server cannot read the chain for a preview")
      const refused = this.refuseUnlessTrading(this.o.day(), "buys")
      if (refused !== undefined) return refused
      return Effect.mapError(margins.strikes(optionType), (e) => new CommandRefused({ reason: "unavailable", message: `the chain: ${e.message}` }))
    })
  }

  /** A manual buy checked against the day as it is: the contract, its price and cost, and the spend cap left. */
  private checkBuy(input: ManualBuyInput) {
    return Effect.gen({ self: this }, function*() {
      const day = this.o.day()
      const refused = this.refuseUnlessTrading(day, "buys")
      if (refused !== undefined) return yield* refused
      const d = day!
      if (d.context.turnHolder !== null || d.context.turnQueue.length > 0) {
        return yield* refuse("conflict", `an entry is deciding (${d.context.turnHolder ?? d.context.turnQueue[0]}): the spend left is granted to it; buy again once it has decided`)
      }
      const { strike, optionType, lots } = input
      if (!Number.isInteger(lots) || lots <= 0) return yield* refuse("invalid", `lots: expected a whole number of lots above 0, got ${lots}`, "lots")
      if (!(strike > 0) || Math.abs(strike / d.strikeStep - Math.round(strike / d.strikeStep)) > 1e-9) {
        return yield* refuse("invalid", `strike: ${strike} is not a ${d.context.index} strike (they are every ${d.strikeStep})`, "strike")
      }
      const limit = input.limitPrice
      if (limit !== undefined && (!(limit > 0) || Math.abs(toTick(limit) - limit) > 1e-9)) {
        return yield* refuse("invalid", `limitPrice: ${limit} is not a price in ticks of 0.05 above 0`, "limitPrice")
      }
      const ltp = yield* Effect.promise(() => d.quote(strike, optionType).catch(() => null))
      if (ltp === null || !(ltp > 0)) return yield* refuse("conflict", `no last price for ${d.context.index} ${strike} ${optionType} in today's chain: nothing to buy at`, "strike")
      const quantity = lots * d.lotSize
      const price = limit ?? toTick(ltp + d.context.hedgeRules.limitPriceBuffer)
      const cost = Math.round(price * quantity * 100) / 100
      const reservedByQueue = this.queuedFor(d).reduce((t, q) => t + (q.event.type === "MANUAL_BUY" ? q.event.cost : 0), 0)
      const left = spendLeftOf(d.context) - reservedByQueue
      if (cost > left) {
        return yield* refuse("conflict", `spend cap: this buy would cost ${rupees(cost)} (${quantity} × ${price}); ${rupees(Math.max(0, left))} is left of today's ${rupees(d.context.spendCap)}`, "lots")
      }
      return { day: d, ltp, quantity, price, cost, left: Math.round(left * 100) / 100 }
    })
  }

  /**
   * "Hedge now": the next entry still to come decides at once (projects, and selects and buys if it
   * needs hedges), through the decision turn as at its look-ahead, whatever its look-ahead time; its
   * look-ahead still comes. Refused when the engine would not decide (another policy, auto-hedge off),
   * while an entry is deciding, or when no entry is to come.
   */
  hedgeNow(by: CommandSource = "api"): Effect.Effect<CommandAccepted, CommandRefused> {
    return this.audited("hedge_now", by, Effect.suspend(() => {
      const day = this.o.day()
      const refused = this.refuseUnlessTrading(day, "decisions")
      if (refused !== undefined) return refused
      const d = day!
      const c = d.context
      if (c.policy !== "engine") return refuse("conflict", `the session runs the ${c.policy} policy: only the engine decides on demand`)
      const queued = this.queuedFor(d)
      const toggle = [...queued].reverse().find((q) => q.event.type === "TOGGLE")?.event as { enabled: boolean } | undefined
      if (!(toggle?.enabled ?? c.enabled)) return refuse("conflict", "auto-hedge is off: nothing would be bought (switch it on first: /auto_hedge on)")
      if (queued.some((q) => q.event.type === "HEDGE_NOW")) return refuse("conflict", "a hedge-now is already waiting for the next instant")
      const deciding = c.turnHolder ?? c.turnQueue[0]
      if (deciding !== undefined) return refuse("conflict", `${deciding} is deciding now (its look-ahead or a re-check): its outcome is alerted`)
      const next = [...c.entries]
        .sort((a, b) => a.entryAt - b.entryAt)
        .find((e) => e.entryAt > c.now && !c.leftEntries.includes(e.id) && (d.entryOf === undefined || isToComeState(d.entryOf(e.id).state)))
      if (next === undefined) return refuse("conflict", "no entry is still to come today: nothing to decide for")
      const rounds = d.entryOf?.(next.id).hedgeRounds ?? 0
      if (rounds >= MAX_HEDGE_ROUNDS) {
        return refuse("conflict", `entry ${next.portfolio} has had its ${MAX_HEDGE_ROUNDS} rounds of hedge buying today: buy by hand if it needs more`)
      }
      if (spendLeftOf(c) <= 0) return refuse("conflict", `spend cap: nothing is left of today's ${rupees(c.spendCap)} to buy with`)
      return this.enqueue(d, { type: "HEDGE_NOW" }, `hedge now: entry ${next.portfolio} (at ${wallTimeOf(next.entryAt).slice(0, 5)}) decides now`)
    }))
  }

  // ---- actions on coming days

  /** Replace the weekly schedule: written atomically, used from the next day set up. */
  putSchedule(schedule: Schedule, by: CommandSource = "api"): Effect.Effect<CommandAccepted, CommandRefused> {
    return this.audited("schedule", by, Effect.map(this.o.schedule.put(schedule), () => {
      const running = this.o.day()
      return {
        message: `schedule saved to ${this.o.schedule.file}; it applies from the next day set up${running !== null && !running.done ? ` (today's session ${running.context.date} keeps its entries)` : ""}`
      }
    }))
  }

  /** Set up a coming day's session: baskets, budget per basket, auto-hedge on or off at the start. */
  openSession(plan: SessionPlan, by: CommandSource = "api"): Effect.Effect<CommandAccepted, CommandRefused> {
    return this.audited("session", by, Effect.suspend(() => {
      const plans = this.o.plans
      if (plans === undefined) return refuse("conflict", "this server replays a recorded day: its session comes from the day file and cannot be set up here")
      if (!isIsoDate(plan.date)) return refuse("invalid", `date: expected a date YYYY-MM-DD, got ${JSON.stringify(plan.date)}`, "date")
      const today = this.o.today()
      if (plan.date < today) return refuse("invalid", `date: ${plan.date} is in the past (today is ${today})`, "date")
      const running = this.o.day()
      if (running !== null && running.context.date === plan.date) {
        return refuse("conflict", `the session of ${plan.date} is already running: its baskets and budget are fixed for the day (switch auto-hedge with the toggle)`, "date")
      }
      if (plan.baskets === undefined && plan.budgetPerBasket === undefined && plan.autoHedgeEnabled === undefined) {
        return refuse("invalid", "nothing to set: give baskets, budgetPerBasket or autoHedgeEnabled")
      }
      if (plan.baskets !== undefined && !(Number.isInteger(plan.baskets) && plan.baskets > 0)) return refuse("invalid", `baskets: expected a whole number above 0, got ${plan.baskets}`, "baskets")
      if (plan.budgetPerBasket !== undefined && !(plan.budgetPerBasket > 0 && Number.isFinite(plan.budgetPerBasket))) {
        return refuse("invalid", `budgetPerBasket: expected rupees above 0, got ${plan.budgetPerBasket}`, "budgetPerBasket")
      }
      const merged = plans.set(plan)
      const parts = [
        merged.baskets === undefined ? null : `${merged.baskets} baskets`,
        merged.budgetPerBasket === undefined ? null : `${rupees(merged.budgetPerBasket)} per basket`,
        merged.autoHedgeEnabled === undefined ? null : `auto-hedge ${merged.autoHedgeEnabled ? "on" : "off"}`
      ].filter((p) => p !== null)
      return Effect.succeed({ message: `session of ${plan.date}: ${parts.join(", ")}; it applies when the day is set up (09:00 IST)` })
    }))
  }

  // ---- delivery

  deliver(at: number, send: (event: SessionEvent) => void): void {
    if (this.queue.length === 0) return
    const day = this.o.day()
    const due = this.queue
    this.queue = []
    for (const q of due) {
      if (day === null || q.day !== day.key) {
        this.o.log("warn", `not delivered: ${q.what} was queued for ${q.day}, which is no longer running`)
        this.o.feed?.noteOperator("warning", "not delivered", `${q.what}: not delivered, the day it was queued for is no longer running`)
        continue
      }
      const before = day.lastSeq()
      send(q.event)
      // Refused by the session's own guards (it changed since it was queued): no transition, no row.
      // A hedge-now is taken when an entry took it (the session only forwards it).
      const taker = q.event.type === "HEDGE_NOW" ? (id: string) => id.startsWith("entry:") : (id: string) => id === "session"
      const taken = day.rowsAfter(before).some((r) => taker(r.actorId) && r.event === q.event.type)
      this.o.log(taken ? "info" : "warn", taken ? `operator: ${q.what}` : `operator: ${q.what} was not taken: the session no longer allows it`, { at })
      this.o.feed?.noteOperator(taken ? "info" : "warning", taken ? "taken" : "not taken", taken ? `${q.what}: taken` : `${q.what}: not taken, the session no longer allows it`)
    }
  }

  onQueued(listener: () => void): () => void {
    this.listeners.add(listener)
    if (this.queue.length > 0) listener()
    return () => this.listeners.delete(listener)
  }

  /** Actions waiting for the next instant. */
  get pending(): number {
    return this.queue.length
  }

  /** Log an action's outcome with who asked, and tell it to the feed: accepted, or refused and why. */
  private audited(command: string, by: CommandSource, action: Effect.Effect<CommandAccepted, CommandRefused>): Effect.Effect<CommandAccepted, CommandRefused> {
    return action.pipe(
      Effect.tap((accepted) =>
        Effect.sync(() => {
          this.o.log("info", `operator ${command} (${by}): ${accepted.message}`, { by, command, outcome: "accepted" })
          this.o.feed?.noteOperator("info", command, `${command} (${by}): ${accepted.message}`)
        })
      ),
      Effect.tapError((refused) =>
        Effect.sync(() => {
          this.o.log("warn", `operator ${command} (${by}) refused: ${refused.message}`, { by, command, outcome: "refused", reason: refused.reason })
          this.o.feed?.noteOperator("warning", `${command} refused`, `${command} (${by}) refused: ${refused.message}`)
        })
      )
    )
  }

  private enqueue(day: RunningDay, event: SessionEvent, what: string): Effect.Effect<CommandAccepted> {
    return Effect.sync(() => {
      this.queue.push({ day: day.key, event, what })
      for (const listener of [...this.listeners]) listener()
      return { message: `${what}: queued; the session takes it at the next market instant` }
    })
  }

  private queuedFor(day: RunningDay): ReadonlyArray<Queued> {
    return this.queue.filter((q) => q.day === day.key)
  }

  private refuseUnlessRunning(day: RunningDay | null) {
    if (day === null) return refuse("conflict", "no trading day is running")
    if (day.done) return refuse("conflict", `the session of ${day.context.date} has closed: nothing more is decided today`)
    return undefined
  }

  private refuseUnlessTrading(day: RunningDay | null, what: string) {
    const refused = this.refuseUnlessRunning(day)
    if (refused !== undefined) return refused
    if (!isMarketOpenState(day!.state)) return refuse("conflict", `manual ${what} are taken while the market is open; the session is ${day!.state}`)
    return undefined
  }
}
