// The live day as the operator API reads it: the running engine (its actor tree and context), the
// day's set-up, the utilisation sampled at the end of every instant, the hedge trades, and the log of
// everything that happened (transition rows and utilisation samples, in order), which the inspector's
// Server-Sent Events are read from. The hub only watches: it never sends the machines anything (the
// operator's actions go through src/commands/), and nothing it does can hold up the decision loop.
//
// Each stream keeps a cursor into the shared log, not a buffer of its own: a slow client only falls
// behind in the log (the socket's backpressure stops it pulling), and a reconnect with Last-Event-ID
// carries on from the row after that seq.
import { Cause, Context, Effect, Exit, Schema, Stream } from "effect"
import { DateTime } from "luxon"
import type { AnyActorRef } from "xstate"
import { isToComeState, type EntryContext } from "../../machines/entry.ts"
import type { HedgeContext } from "../../machines/hedge.ts"
import type { OrderState, Projection, SelectionResult } from "../../machines/protocol.ts"
import { cooldownUntilOf, spendLeftOf, type HedgeRecord, type SessionContext } from "../../machines/session.ts"
import type { RunningDay } from "../commands/operator.ts"
import { priceOf, type MarketSnapshot } from "../domain/market.ts"
import { utilisationPct } from "../domain/projection.ts"
import type { TradingMode } from "../domain/session.ts"
import { MARKET_ZONE, wallTimeOf, weekdayOf } from "../domain/time.ts"
import { kindOf, stateName } from "../runtime/audit-recorder.ts"
import type { EngineSetup, SessionEngine } from "../runtime/engine.ts"
import type { Health } from "../runtime/watchdog.ts"
import { MarginMonitor, MarketClock, MarketData, type TransitionRow } from "../services/services.ts"
import { TransitionRowSchema, type ActorView, type Marker, type Status, type Transaction } from "./schemas.ts"

export interface DayAttachment {
  readonly engine: SessionEngine
  readonly setup: EngineSetup
  /** What the day runs on: the hub reads the clock, the market and the margin, never through the engine. */
  readonly services: Context.Context<MarketClock | MarketData | MarginMonitor>
  readonly mode: TradingMode
  /** The session's id in the records (a database id; a simulation's own name). */
  readonly sessionId: string
  /** The day's rows written before this process started (a daemon resumed mid-day). */
  readonly earlier?: () => Promise<ReadonlyArray<TransitionRow>>
  /** The daemon's watchdog: how stale its view of the world is (absent in a simulation). */
  readonly health?: () => Health
}

/** Thresholds shown while no day runs (the configuration's). */
export interface Thresholds {
  readonly triggerPct: number
  readonly targetPct: number
  readonly exitTriggerPct: number
}

interface LogEntry {
  readonly row?: TransitionRow
  readonly point?: { readonly at: number; readonly pct: number }
  /** Rendered as an SSE event once, for every client. */
  text?: Buffer
}

interface ActorState {
  readonly id: string
  readonly kind: TransitionRow["kind"]
  state: string
  since: number
}

/** What an entry's rows told: its latest projection, selection and exit. */
interface EntryNotes {
  projection?: Projection
  selection?: SelectionResult
  exitReason?: string
}

interface Trade {
  readonly at: number
  readonly kind: "buy" | "sell"
  readonly hedgeId: string
  readonly units: number
  readonly price: number
}

const HEARTBEAT_MS = 15_000
/** How long new rows wait for more before the streams are woken (what a person cannot see). */
const WAKE_EVERY_MS = 25
const BATCH_BYTES = 64 * 1024
const encodeRow = Schema.encodeSync(TransitionRowSchema)
const RETRY = Buffer.from("retry: 1000\n\n")
const KEEP_ALIVE = Buffer.from(": keep-alive\n\n")
const ACTIVE_HEDGE = new Set(["ordering", "open", "exiting"])

export const isoOf = (at: number): string => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toISO() ?? new globalThis.Date(at).toISOString()
const round2 = (x: number) => Math.round(x * 100) / 100
/** A summary value JSON can carry (no NaN or infinities). */
const scalar = (x: string | number | boolean | null | undefined): string | number | boolean | null =>
  x === undefined ? null : typeof x === "number" && !Number.isFinite(x) ? null : x

export class LiveDay {
  private day: DayAttachment | null = null
  private detachRows: (() => void) | null = null
  private log: Array<LogEntry> = []
  /** Seq of each transition in the log, and where it is: Last-Event-ID finds its place by these. */
  private rowSeqs: Array<number> = []
  private rowPositions: Array<number> = []
  private actors = new Map<string, ActorState>()
  private entryNotes = new Map<string, EntryNotes>()
  private trades: Array<Trade> = []
  private points: Array<{ readonly at: number; readonly pct: number }> = []
  private marginInUse = 0
  /** Bumped when the log is rebuilt (another day, a restart that re-recorded rows): open streams end. */
  private generation = 0
  private closed = false
  private readonly waiters = new Set<() => void>()
  private wakeScheduled = false
  private market: { readonly at: number; readonly snapshot: Promise<MarketSnapshot | null> } | null = null
  private lastBatch: { readonly from: number; readonly logLength: number; readonly generation: number; readonly batch: readonly [Buffer, number] } | null = null

  constructor(
    private readonly o: {
      /** Market time while no day is attached (the daemon's clock). */
      readonly now: () => number
      readonly thresholds: Thresholds
    }
  ) {}

  // ---- the day

  /** A day's engine runs (or runs again after a restart): watch it. */
  attach(a: DayAttachment): void {
    this.detachRows?.()
    const sameDay = this.day !== null && this.day.sessionId === a.sessionId && this.day.setup.session.date === a.setup.session.date
    if (!sameDay) this.reset()
    this.day = a
    this.market = null
    this.detachRows = a.engine.onRow((row) => this.onRow(row))
    if (!sameDay && a.earlier !== undefined) {
      void a.earlier().then(
        (rows) => this.prepend(a, rows),
        () => undefined
      )
    }
  }

  /** The end of an instant: sample the margin in use (one point of the chart). */
  async afterInstant(at: number): Promise<void> {
    const day = this.day
    if (day === null) return
    this.market = null
    const exit = await Effect.runPromiseExit(Effect.provideContext(MarginMonitor.use((m) => m.marginInUse), day.services))
    if (Exit.isFailure(exit) || this.day !== day) return
    this.marginInUse = exit.value
    const point = { at, pct: utilisationPct(exit.value, day.setup.session.budget) }
    this.points.push(point)
    this.append({ point })
  }

  /** No more streams: the server is closing. */
  close(): void {
    this.closed = true
    this.wake()
  }

  private reset(): void {
    // Streams waiting on an empty log (no day yet) carry on into this one from its first row.
    if (this.log.length > 0) this.generation++
    this.forgetRows()
    this.points = []
    this.marginInUse = 0
    this.wake()
  }

  /** Forget the log and everything read from its rows (the utilisation samples are not rows). */
  private forgetRows(): void {
    this.log = []
    this.rowSeqs = []
    this.rowPositions = []
    this.actors = new Map()
    this.entryNotes = new Map()
    this.trades = []
  }

  private onRow(row: TransitionRow): void {
    // A process that restarted records again from its checkpoint: what it re-records replaces the tail.
    const last = this.rowSeqs.at(-1)
    if (last !== undefined && row.seq <= last) this.rebuild(this.log.filter((e) => e.row === undefined || e.row.seq < row.seq))
    this.note(row)
    this.append({ row })
  }

  /** Rows written before this process started go before everything this process recorded. */
  private prepend(a: DayAttachment, rows: ReadonlyArray<TransitionRow>): void {
    if (this.day !== a || rows.length === 0) return
    const first = this.rowSeqs[0] ?? Number.POSITIVE_INFINITY
    const earlier = rows.filter((r) => r.seq < first).map((row): LogEntry => ({ row }))
    if (earlier.length > 0) this.rebuild([...earlier, ...this.log])
  }

  private rebuild(entries: ReadonlyArray<LogEntry>): void {
    this.forgetRows()
    this.generation++
    for (const e of entries) {
      if (e.row !== undefined) this.note(e.row)
      this.append(e, false)
    }
    this.wake()
  }

  private append(entry: LogEntry, wake = true): void {
    if (entry.row !== undefined) {
      this.rowSeqs.push(entry.row.seq)
      this.rowPositions.push(this.log.length)
    }
    this.log.push(entry)
    if (wake) this.wake()
  }

  /** What a row tells about its actor: its state, an entry's projection, a hedge's fill. */
  private note(row: TransitionRow): void {
    const known = this.actors.get(row.actorId)
    if (known === undefined) this.actors.set(row.actorId, { id: row.actorId, kind: row.kind, state: row.to, since: row.at })
    else if (known.state !== row.to) {
      known.state = row.to
      known.since = row.at
    }
    const output = (row.payload as { output?: unknown } | null)?.output
    if (row.kind === "entry") {
      const notes = this.entryNotes.get(row.actorId) ?? {}
      if (row.event === "xstate.done.actor.projectEntry") notes.projection = output as Projection
      if (row.event === "xstate.done.actor.selectHedges") notes.selection = output as SelectionResult
      if (row.event === "ENTRY_EXITED" || row.event === "SESSION_CLOSE") notes.exitReason = (row.payload as { reason?: string }).reason ?? (row.event === "SESSION_CLOSE" ? "SESSION_CLOSE" : undefined)
      this.entryNotes.set(row.actorId, notes)
    }
    if (row.kind === "hedge") {
      const fill = output as OrderState | undefined
      const bought = row.to === "open" && row.from.startsWith("ordering")
      if ((bought || row.to === "sold") && fill !== undefined && fill.filledQuantity > 0) {
        this.trades.push({ at: row.at, kind: bought ? "buy" : "sell", hedgeId: row.actorId, units: fill.filledQuantity, price: fill.averagePrice })
      }
    }
  }

  /**
   * Wake the waiting streams at most every WAKE_EVERY_MS, not once per row: a burst of rows (a busy
   * instant, a replay at full speed) goes out as one write per client, and the decision loop, which
   * shares this thread, is not interleaved with a write per row per client.
   */
  private wake(): void {
    if (this.wakeScheduled || this.waiters.size === 0) return
    this.wakeScheduled = true
    setTimeout(() => {
      this.wakeScheduled = false
      const waiting = [...this.waiters]
      this.waiters.clear()
      for (const w of waiting) w()
    }, this.closed ? 0 : WAKE_EVERY_MS)
  }

  // ---- what the commands read

  /** The running day, as the operator's actions check it. */
  running(): RunningDay | null {
    const day = this.day
    if (day === null) return null
    const snapshot = day.engine.actor.getSnapshot()
    return {
      key: `${day.sessionId}/${day.setup.session.date}`,
      context: snapshot.context,
      state: stateName(snapshot.value),
      done: day.engine.done || day.engine.failure !== null,
      lotSize: day.setup.lotSize,
      strikeStep: day.setup.strikeStep,
      quote: async (strike, optionType) => {
        const market = await this.snapshot()
        return market === null ? null : priceOf(market.chain, strike, optionType)
      },
      utilisationPct: () => this.points.at(-1)?.pct ?? null,
      rowsAfter: (seq) => this.rowsAfter(seq),
      lastSeq: () => this.rowSeqs.at(-1) ?? 0
    }
  }

  /** The market now (the chain), read once per instant. */
  private snapshot(): Promise<MarketSnapshot | null> {
    const day = this.day
    if (day === null) return Promise.resolve(null)
    const at = this.marketNow()
    if (this.market === null || this.market.at !== at) {
      const read = Effect.runPromiseExit(Effect.provideContext(MarketData.use((m) => m.snapshot), day.services)).then((e) => (Exit.isSuccess(e) ? e.value : null))
      this.market = { at, snapshot: read }
    }
    return this.market.snapshot
  }

  private marketNow(): number {
    return this.day === null ? this.o.now() : Context.get(this.day.services, MarketClock).currentMillis()
  }

  private rowsAfter(seq: number): ReadonlyArray<TransitionRow> {
    const rows: Array<TransitionRow> = []
    for (let k = this.firstRowAfter(seq); k < this.rowPositions.length; k++) rows.push(this.log[this.rowPositions[k]!]!.row!)
    return rows
  }

  /** Index (into rowSeqs) of the first transition numbered after `seq`. */
  private firstRowAfter(seq: number): number {
    let lo = 0
    let hi = this.rowSeqs.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.rowSeqs[mid]! <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  // ---- reads

  /** The watchdog's view, with why the engine halted when it did (status, and the page). */
  private healthOf(day: DayAttachment): Status["health"] {
    const h = day.health?.()
    const halted = day.engine.failure
    const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : isoOf(t))
    return {
      ok: halted === null && (h?.ok ?? true),
      halted,
      problems: (h?.problems ?? []).map((p) => ({ kind: p.kind, seconds: p.seconds, limitSeconds: p.limitSeconds, message: p.message })),
      lagSeconds: h?.lagSeconds ?? 0,
      lastWriteAt: iso(h?.lastWriteAt),
      lastQuoteAt: iso(h?.lastQuoteAt),
      lastBrokerAt: iso(h?.lastBrokerAt)
    }
  }

  async status(): Promise<Status> {
    const now = this.marketNow()
    const day = this.day
    if (day === null) {
      return {
        now: isoOf(now),
        session: null,
        enabled: false,
        state: "no session",
        utilisation: { budget: 0, marginInUse: 0, currentPct: 0, projectedPct: null, ...this.o.thresholds },
        nextEntry: null,
        activeHedges: [],
        spend: { today: 0, cap: 0, left: 0 },
        cooldownRemainingSeconds: 0,
        health: { ok: true, halted: null, problems: [], lagSeconds: 0, lastWriteAt: null, lastQuoteAt: null, lastBrokerAt: null }
      }
    }
    const snapshot = day.engine.actor.getSnapshot()
    const c = snapshot.context
    const children = snapshot.children as Record<string, AnyActorRef | undefined>
    const active = Object.values(c.hedges).filter((h) => ACTIVE_HEDGE.has(h.status))
    const market = active.length === 0 ? null : await this.snapshot()
    const next = c.entries.find((e) => e.entryAt > now && isToComeState(this.actors.get(e.id)?.state ?? "idle") && !c.leftEntries.includes(e.id))
    return {
      now: isoOf(now),
      session: this.sessionRef(day),
      enabled: c.enabled && day.engine.failure === null,
      // A halted engine takes no decision: its last state is not where it stands.
      state: day.engine.failure === null ? stateName(snapshot.value) : "halted",
      utilisation: {
        budget: c.budget,
        marginInUse: round2(this.marginInUse),
        currentPct: this.points.at(-1)?.pct ?? 0,
        projectedPct: this.projectedPct(c, children),
        ...this.thresholdsOf(day)
      },
      nextEntry: next === undefined ? null : { portfolio: next.portfolio, at: isoOf(next.entryAt), secondsUntil: Math.round((next.entryAt - now) / 1000) },
      activeHedges: active.map((h) => {
        const live = this.hedgeContext(children, h.id)
        const ltp = market === null ? null : priceOf(market.chain, h.strike, h.optionType)
        return {
          hedgeId: h.id,
          symbol: h.symbol,
          strike: h.strike,
          optionType: h.optionType,
          lots: h.quantity / day.setup.lotSize,
          quantity: h.quantity,
          state: this.actors.get(h.id)?.state ?? h.status,
          buyPrice: live !== undefined && live.entryPrice > 0 ? live.entryPrice : null,
          ltp,
          cost: round2(h.paid > 0 ? h.paid : h.reserved),
          value: ltp === null ? null : round2(ltp * h.held)
        }
      }),
      spend: { today: round2(c.grossSpend), cap: c.spendCap, left: round2(spendLeftOf(c)) },
      cooldownRemainingSeconds: Math.max(0, Math.ceil((cooldownUntilOf(c) - now) / 1000)),
      health: this.healthOf(day)
    }
  }

  /** The projection of the next entry still to decide or to come, percent. */
  private projectedPct(c: SessionContext, children: Record<string, AnyActorRef | undefined>): number | null {
    for (const e of [...c.entries].sort((a, b) => a.entryAt - b.entryAt)) {
      if (!isToComeState(this.actors.get(e.id)?.state ?? "idle")) continue
      const live = children[e.id]?.getSnapshot().context as EntryContext | undefined
      const projection = live?.projection ?? this.entryNotes.get(e.id)?.projection
      if (projection != null) return projection.projectedPct
    }
    return null
  }

  private thresholdsOf(day: DayAttachment): Thresholds {
    return { triggerPct: day.setup.session.entryRules.triggerPct, targetPct: day.setup.session.entryRules.targetPct, exitTriggerPct: day.setup.exitRules.exitTriggerPct }
  }

  private sessionRef(day: DayAttachment) {
    const s = day.setup.session
    return { id: day.sessionId, date: s.date, index: s.index, expiry: s.expiry, mode: day.mode, policy: s.policy }
  }

  private hedgeContext(children: Record<string, AnyActorRef | undefined>, id: string): HedgeContext | undefined {
    const child = children[id]
    return child === undefined || child.getSnapshot().status !== "active" ? undefined : (child.getSnapshot().context as HedgeContext)
  }

  sessionInfo() {
    const day = this.day
    if (day === null) return null
    const t = day.setup.trading
    const snapshot = day.engine.actor.getSnapshot()
    return {
      ...this.sessionRef(day),
      expiryType: t.expiryType,
      baskets: t.baskets,
      budgetPerBasket: t.budgetPerBasket,
      totalBudget: t.totalBudget,
      autoHedgeEnabled: snapshot.context.enabled,
      state: stateName(snapshot.value)
    }
  }

  /** Every actor of the day, the finished ones too, with its state and what it holds. */
  actorsView(): { readonly at: string; readonly actors: ReadonlyArray<ActorView> } {
    const at = isoOf(this.marketNow())
    const day = this.day
    if (day === null) return { at, actors: [] }
    const snapshot = day.engine.actor.getSnapshot()
    const c = snapshot.context
    const children = snapshot.children as Record<string, AnyActorRef | undefined>
    const actors: Array<ActorView> = []
    for (const a of this.actors.values()) {
      if (kindOf(a.id) === undefined) continue
      const summary =
        a.kind === "session" ? this.sessionSummary(c)
        : a.kind === "entry" ? this.entrySummary(c, a.id, children)
        : this.hedgeSummary(c.hedges[a.id], this.hedgeContext(children, a.id))
      actors.push({ id: a.id, kind: a.kind, parent: a.kind === "session" ? null : "session", state: a.state, since: isoOf(a.since), summary })
    }
    return { at, actors }
  }

  private sessionSummary(c: SessionContext): Record<string, string | number | boolean | null> {
    const cooldownUntil = cooldownUntilOf(c)
    return {
      date: c.date,
      index: c.index,
      expiry: c.expiry,
      policy: c.policy,
      enabled: c.enabled,
      budget: c.budget,
      spot: scalar(c.spot),
      spendCap: c.spendCap,
      grossSpend: round2(c.grossSpend),
      recovered: round2(c.recovered),
      spendLeft: round2(spendLeftOf(c)),
      turnHolder: c.turnHolder,
      turnQueue: c.turnQueue.join(", "),
      hedges: Object.keys(c.hedges).length,
      cooldownUntil: Number.isFinite(cooldownUntil) ? wallTimeOf(cooldownUntil) : null
    }
  }

  private entrySummary(c: SessionContext, id: string, children: Record<string, AnyActorRef | undefined>): Record<string, string | number | boolean | null> {
    const plan = c.entries.find((e) => e.id === id)
    const notes = this.entryNotes.get(id) ?? {}
    const child = children[id]
    const live = child !== undefined && child.getSnapshot().status === "active" ? (child.getSnapshot().context as EntryContext) : undefined
    const projection = live?.projection ?? notes.projection
    const selection = live?.selection ?? notes.selection
    const hedges = Object.values(c.hedges).filter((h) => h.forEntry === id)
    return {
      portfolio: scalar(plan?.portfolio),
      lookaheadAt: plan === undefined ? null : wallTimeOf(plan.lookaheadAt),
      entryAt: plan === undefined ? null : wallTimeOf(plan.entryAt),
      exitAt: plan?.exitAt == null ? null : wallTimeOf(plan.exitAt),
      currentPct: scalar(projection?.currentPct),
      projectedPct: scalar(projection?.projectedPct),
      reductionNeeded: projection === undefined ? null : round2(projection.reductionNeeded),
      hedgeCost: selection === undefined ? null : round2(selection.cost),
      shortfall: selection === undefined ? null : round2(selection.shortfall),
      limitedBy: scalar(selection?.limitedBy),
      hedges: hedges.map((h) => h.id).join(", "),
      pendingHedges: scalar(live?.pendingHedges),
      exitReason: scalar(live?.exitReason ?? notes.exitReason)
    }
  }

  private hedgeSummary(h: HedgeRecord | undefined, live: HedgeContext | undefined): Record<string, string | number | boolean | null> {
    if (h === undefined) return {}
    return {
      symbol: h.symbol,
      strike: h.strike,
      optionType: h.optionType,
      quantity: h.quantity,
      held: h.held,
      status: h.status,
      forEntry: h.forEntry,
      trigger: h.trigger,
      manual: h.manual,
      utilisationBefore: h.utilisationBefore,
      otmDistance: round2(h.otmDistance),
      reserved: round2(h.reserved),
      paid: round2(h.paid),
      received: round2(h.received),
      phase: scalar(live?.phase),
      attempt: scalar(live?.attempt),
      limitPrice: live === undefined || live.limitPrice === 0 ? null : live.limitPrice,
      orderId: scalar(live?.orderId),
      lastMessage: scalar(live?.lastMessage)
    }
  }

  /** The day's rows in seq order: after `after`, of one actor if asked, at most `limit`. */
  transitions(q: { readonly actor?: string | undefined; readonly after?: number | undefined; readonly limit?: number | undefined }): ReadonlyArray<TransitionRow> {
    const rows: Array<TransitionRow> = []
    const limit = q.limit ?? 500
    for (let k = this.firstRowAfter(q.after ?? 0); k < this.rowPositions.length && rows.length < limit; k++) {
      const row = this.log[this.rowPositions[k]!]!.row!
      if (q.actor === undefined || row.actorId === q.actor) rows.push(row)
    }
    return rows
  }

  utilisation() {
    const day = this.day
    const thresholds = day === null ? this.o.thresholds : this.thresholdsOf(day)
    return {
      budget: day?.setup.session.budget ?? 0,
      ...thresholds,
      points: this.points,
      markers: this.trades.map((t): Marker => ({ at: t.at, kind: t.kind, hedgeId: t.hedgeId, label: this.tradeLabel(t) }))
    }
  }

  private tradeLabel(t: Trade): string {
    const h = this.day?.engine.actor.getSnapshot().context.hedges[t.hedgeId]
    return `${t.kind === "buy" ? "bought" : "sold"} ${t.units} ${h?.symbol ?? t.hedgeId} @ ${t.price} (${t.hedgeId}${h?.manual === true ? ", manual" : ""})`
  }

  /** The running (or last) day's hedge trades, when `date` is its date; null otherwise. */
  transactions(date: string): ReadonlyArray<Transaction> | null {
    const day = this.day
    if (day === null || day.setup.session.date !== date) return null
    const hedges = day.engine.actor.getSnapshot().context.hedges
    return this.trades.map((t) => {
      const h = hedges[t.hedgeId]
      return {
        at: isoOf(t.at),
        action: t.kind === "buy" ? ("BUY" as const) : ("SELL" as const),
        hedgeId: t.hedgeId,
        symbol: h?.symbol ?? t.hedgeId,
        strike: h?.strike ?? 0,
        optionType: h?.optionType ?? "",
        lots: t.units / day.setup.lotSize,
        quantity: t.units,
        price: t.price,
        total: round2(t.units * t.price),
        trigger: t.kind === "buy" ? (h?.trigger ?? "") : "EXIT",
        utilisationBefore: h?.utilisationBefore ?? null
      }
    })
  }

  /** The running (or last) day as one analytics row. */
  analyticsRow() {
    const day = this.day
    if (day === null) return null
    const c = day.engine.actor.getSnapshot().context
    const bought = this.trades.filter((t) => t.kind === "buy")
    return {
      sessionDate: c.date,
      dayOfWeek: weekdayOf(c.date),
      index: c.index,
      mode: day.mode,
      policy: c.policy,
      baskets: c.baskets,
      hedgeCount: new Set(bought.map((t) => t.hedgeId)).size,
      totalCost: round2(c.grossSpend),
      totalRecovered: round2(c.recovered),
      netCost: round2(c.grossSpend - c.recovered),
      peakUtilization: this.points.length === 0 ? null : Math.max(...this.points.map((p) => p.pct)),
      breaches: null
    }
  }

  // ---- the stream

  /**
   * The day's log as Server-Sent Events from after `lastEventId` (a transition's seq; null: from now
   * on). An id the log does not reach (another day's, or a tail a restart re-recorded) starts from the
   * day's first row. The stream ends when the log is rebuilt or the server closes; EventSource then
   * reconnects with its Last-Event-ID.
   */
  stream(lastEventId: number | null): Stream.Stream<Uint8Array> {
    return Stream.suspend(() => {
      const generation = this.generation
      const lastSeq = this.rowSeqs.at(-1) ?? 0
      let cursor = lastEventId === null ? this.log.length : lastEventId > lastSeq ? 0 : this.positionAfter(lastEventId)
      let greeted = false
      const ended = () => this.closed || this.generation !== generation
      const pull: Effect.Effect<readonly [Uint8Array, ...Array<Uint8Array>], Cause.Done> = Effect.suspend(() => {
        if (ended()) return Cause.done()
        if (!greeted) {
          greeted = true
          return Effect.succeed([RETRY] as const)
        }
        if (cursor < this.log.length) {
          const [bytes, next] = this.render(cursor)
          cursor = next
          return Effect.succeed([bytes] as const)
        }
        return Effect.flatMap(this.waitForMore(), (woken) => (woken ? pull : Effect.succeed([KEEP_ALIVE] as const)))
      })
      return Stream.fromPull(Effect.succeed(pull))
    })
  }

  /** Log position just after the transition numbered `seq` (utilisation samples after it included). */
  private positionAfter(seq: number): number {
    const k = this.firstRowAfter(seq)
    return k === 0 ? 0 : this.rowPositions[k - 1]! + 1
  }

  /** SSE text of the log from `from`, up to a batch's worth; and where the next batch starts. */
  private render(from: number): readonly [Buffer, number] {
    // Clients that are caught up all ask for the same batch when woken: it is made once for them all.
    const last = this.lastBatch
    if (last !== null && last.from === from && last.logLength === this.log.length && last.generation === this.generation) return last.batch
    const batch = this.renderBatch(from)
    this.lastBatch = { from, logLength: this.log.length, generation: this.generation, batch }
    return batch
  }

  private renderBatch(from: number): readonly [Buffer, number] {
    const parts: Array<Buffer> = []
    let bytes = 0
    let i = from
    for (; i < this.log.length && bytes < BATCH_BYTES; i++) {
      const entry = this.log[i]!
      entry.text ??= Buffer.from(
        entry.row !== undefined
          ? `id: ${entry.row.seq}\nevent: transition\ndata: ${JSON.stringify(encodeRow(entry.row))}\n\n`
          : `event: utilisation\ndata: ${JSON.stringify(entry.point)}\n\n`
      )
      parts.push(entry.text)
      bytes += entry.text.length
    }
    return [parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes), i]
  }

  /** Wait for the log to grow (true) or for the keep-alive interval to pass (false). */
  private waitForMore(): Effect.Effect<boolean> {
    return Effect.callback<boolean>((resume) => {
      const woken = () => {
        clearTimeout(timer)
        resume(Effect.succeed(true))
      }
      const timer = setTimeout(() => {
        this.waiters.delete(woken)
        resume(Effect.succeed(false))
      }, HEARTBEAT_MS)
      this.waiters.add(woken)
      return Effect.sync(() => {
        clearTimeout(timer)
        this.waiters.delete(woken)
      })
    })
  }
}
