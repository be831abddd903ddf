// One read model of the day: what the HTTP API, the inspector page, the CLI and Telegram all read.
// It watches a running engine (its actor tree and context), the day's set-up, the utilisation sampled
// at the end of every instant, and the day's log (transition rows and utilisation samples, in order),
// and answers in the trader's terms: the session's status, the entries with their states in words,
// the hedges held and closed with their P&L, the alerts and the operator's commands as one feed, and
// the day's summary. It only watches: it never sends the machines anything (the operator's actions go
// through src/commands/), and nothing it does can hold up the decision loop.
import { Context, Effect, Exit } from "effect"
import { DateTime } from "luxon"
import type { SnapshotFrom } from "xstate"
import { entryMachine, isToComeState, type EntryContext } from "../../machines/entry.ts"
import { hedgeMachine, type HedgeContext } from "../../machines/hedge.ts"
import type { Alert, OrderState, Projection, SelectionResult } from "../../machines/protocol.ts"
import { cooldownUntilOf, spendLeftOf, type HedgeRecord, type SessionContext, type sessionMachine } from "../../machines/session.ts"
import type { RunningDay } from "../commands/operator.ts"
import { formatAlert } from "../domain/alerts.ts"
import { priceOf, type MarketSnapshot } from "../domain/market.ts"
import { intrinsic } from "../domain/pricing.ts"
import { utilisationPct } from "../domain/projection.ts"
import type { TradingMode } from "../domain/session.ts"
import { MARKET_ZONE, wallTimeOf, weekdayOf } from "../domain/time.ts"
import { kindOf, stateName } from "../runtime/audit-recorder.ts"
import type { EngineSetup, SessionEngine } from "../runtime/engine.ts"
import type { Health } from "../runtime/watchdog.ts"
import { MarginMonitor, MarketClock, MarketData, type TransitionRow } from "../services/services.ts"
import { DayMarket } from "./day-market.ts"
import type { ActorView, Day, DayHedge, DaySummary, EntryView, FeedItem, Marker, Status, Transaction } from "./schemas.ts"
import { stateInWords } from "./words.ts"

export interface DayAttachment {
  readonly engine: SessionEngine
  readonly setup: EngineSetup
  /** What the day runs on: the view reads the clock, the market and the margin, never through the engine. */
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

export interface UtilisationSample {
  readonly at: number
  readonly pct: number
  /** The index's spot the session saw at that instant (the chart's second axis); null before the first tick. */
  readonly spot: number | null
}

/** Hedges that, with hindsight, no entry needed (simulations/needless.ts): measured once a replayed day is over. */
export interface NeedlessSpend {
  readonly hedges: ReadonlyArray<string>
  readonly cost: number
}

/** One thing that happened, in the day's order: a transition row or a utilisation sample. */
export interface DayLogEntry {
  readonly row?: TransitionRow
  readonly point?: UtilisationSample
}

interface ActorState {
  readonly id: string
  readonly kind: TransitionRow["kind"]
  state: string
  since: number
}

/** What an entry's rows told: its latest projection, selection and exit, and when it was seen entered. */
interface EntryNotes {
  projection?: Projection
  selection?: SelectionResult
  exitReason?: string
  enteredAt?: number
}

interface Trade {
  readonly at: number
  readonly kind: "buy" | "sell"
  readonly hedgeId: string
  readonly units: number
  readonly price: number
}

type SessionSnapshot = SnapshotFrom<typeof sessionMachine>
type ChildSnapshot = ReturnType<NonNullable<SessionSnapshot["children"][string]>["getSnapshot"]>
type EntrySnapshot = SnapshotFrom<typeof entryMachine>
type HedgeSnapshot = SnapshotFrom<typeof hedgeMachine>

// A child is known by its machine, so its context is read as that machine's, not cast.
const isEntrySnapshot = (s: ChildSnapshot): s is EntrySnapshot => "machine" in s && s.machine.id === entryMachine.id
const isHedgeSnapshot = (s: ChildSnapshot): s is HedgeSnapshot => "machine" in s && s.machine.id === hedgeMachine.id

/** A running entry's context; undefined once it has finished (its rows still tell what it did). */
const entryContextOf = (s: SessionSnapshot, id: string): EntryContext | undefined => {
  const child = s.children[id]?.getSnapshot()
  return child !== undefined && child.status === "active" && isEntrySnapshot(child) ? child.context : undefined
}

const hedgeContextOf = (s: SessionSnapshot, id: string): HedgeContext | undefined => {
  const child = s.children[id]?.getSnapshot()
  return child !== undefined && child.status === "active" && isHedgeSnapshot(child) ? child.context : undefined
}

const ACTIVE_HEDGE = new Set(["ordering", "open", "exiting"])

export const isoOf = (at: number): string => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toISO() ?? new globalThis.Date(at).toISOString()
const isoOrNull = (at: number | null | undefined) => (at === null || at === undefined ? null : isoOf(at))
const round2 = (x: number) => Math.round(x * 100) / 100
/** A summary value JSON can carry (no NaN or infinities). */
const scalar = (x: string | number | boolean | null | undefined): string | number | boolean | null =>
  x === undefined ? null : typeof x === "number" && !Number.isFinite(x) ? null : x
const contractOf = (h: HedgeRecord, lotSize: number) => ({ hedgeId: h.id, symbol: h.symbol, strike: h.strike, optionType: h.optionType, lots: h.quantity / lotSize, quantity: h.quantity })
/** Average price of some fills, null without any. */
const averagePrice = (trades: ReadonlyArray<Trade>): number | null => {
  const units = trades.reduce((n, t) => n + t.units, 0)
  return units === 0 ? null : round2(trades.reduce((s, t) => s + t.units * t.price, 0) / units)
}

export class DayView {
  private day: DayAttachment | null = null
  private market: DayMarket | null = null
  private detachRows: (() => void) | null = null
  private log: Array<DayLogEntry> = []
  /** Seq of each transition in the log, and where it is: a reader asking "after seq" finds its place by these. */
  private rowSeqs: Array<number> = []
  private rowPositions: Array<number> = []
  private actors = new Map<string, ActorState>()
  private entryNotes = new Map<string, EntryNotes>()
  private trades: Array<Trade> = []
  private points: Array<UtilisationSample> = []
  private operatorNotes: Array<FeedItem> = []
  private needless: NeedlessSpend | null = null
  private marginInUse = 0
  /** Bumped when the log is rebuilt (another day, a restart that re-recorded rows): readers start again. */
  private generationNo = 0
  private readonly listeners = new Set<() => void>()
  private readonly alertListeners = new Set<(alert: Alert, at: number) => void>()
  /** Entries whose breach was told: once each, also when a restart re-records the day's rows. */
  private breachesTold = new Set<string>()

  constructor(
    private readonly options: {
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
    this.market = new DayMarket(a.services)
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
    this.market?.forget()
    const exit = await Effect.runPromiseExit(Effect.provideContext(MarginMonitor.use((m) => m.marginInUse), day.services))
    if (Exit.isFailure(exit) || this.day !== day) return
    this.marginInUse = exit.value
    const point = { at, pct: utilisationPct(exit.value, day.setup.session.budget), spot: day.engine.actor.getSnapshot().context.spot }
    this.points.push(point)
    this.append({ point })
    this.tellBreaches(day, point)
  }

  /** Hear the alerts the view raises itself (an entry breached); returns the unsubscribe. */
  onAlert(listener: (alert: Alert, at: number) => void): () => void {
    this.alertListeners.add(listener)
    return () => this.alertListeners.delete(listener)
  }

  /** An entry is breached when the utilisation sampled at the instant it went in is over 100 % (as `entries()` says). */
  private tellBreaches(day: DayAttachment, point: UtilisationSample): void {
    if (!(point.pct > 100)) return
    const entries = day.engine.actor.getSnapshot().context.entries
    for (const [entryId, notes] of this.entryNotes) {
      if (notes.enteredAt !== point.at || this.breachesTold.has(entryId)) continue
      this.breachesTold.add(entryId)
      const portfolio = entries.find((e) => e.id === entryId)?.portfolio ?? entryId
      const alert: Alert = { kind: "ENTRY_BREACHED", severity: "critical", actor: entryId, details: { entry: entryId, portfolio, utilisationPct: point.pct, budget: day.setup.session.budget } }
      for (const listener of [...this.alertListeners]) listener(alert, point.at)
    }
  }

  /** An operator command's outcome, for the feed (accepted, refused with its reason, taken or not). */
  noteOperator(severity: FeedItem["severity"], kind: string, text: string): void {
    this.operatorNotes.push({ at: isoOf(this.now()), source: "operator", kind, severity, text })
  }

  /** The day's needless hedges, once measured (a replayed day has hindsight; a live one does not). */
  noteNeedless(needless: NeedlessSpend): void {
    this.needless = needless
    this.changed()
  }

  // ---- the log, for readers that follow it (the inspector's stream)

  /** Hear that the log grew or was rebuilt; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get generation(): number {
    return this.generationNo
  }

  get logLength(): number {
    return this.log.length
  }

  logEntry(position: number): DayLogEntry | undefined {
    return this.log[position]
  }

  lastSeq(): number {
    return this.rowSeqs.at(-1) ?? 0
  }

  /** Log position just after the transition numbered `seq` (utilisation samples after it included). */
  positionAfter(seq: number): number {
    const k = this.firstRowAfter(seq)
    return k === 0 ? 0 : this.rowPositions[k - 1]! + 1
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener()
  }

  private reset(): void {
    // Readers waiting on an empty log (no day yet) carry on into this one from its first row.
    if (this.log.length > 0) this.generationNo++
    this.forgetRows()
    this.points = []
    this.breachesTold = new Set()
    this.operatorNotes = []
    this.needless = null
    this.marginInUse = 0
    this.changed()
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
    const earlier = rows.filter((r) => r.seq < first).map((row): DayLogEntry => ({ row }))
    if (earlier.length > 0) this.rebuild([...earlier, ...this.log])
  }

  private rebuild(entries: ReadonlyArray<DayLogEntry>): void {
    this.forgetRows()
    this.generationNo++
    for (const e of entries) {
      if (e.row !== undefined) this.note(e.row)
      this.append(e, false)
    }
    this.changed()
  }

  private append(entry: DayLogEntry, notify = true): void {
    if (entry.row !== undefined) {
      this.rowSeqs.push(entry.row.seq)
      this.rowPositions.push(this.log.length)
    }
    this.log.push(entry)
    if (notify) this.changed()
  }

  /** What a row tells about its actor: its state, an entry's projection and entry, a hedge's fill. */
  private note(row: TransitionRow): void {
    const known = this.actors.get(row.actorId)
    if (known === undefined) this.actors.set(row.actorId, { id: row.actorId, kind: row.kind, state: row.to, since: row.at })
    else if (known.state !== row.to) {
      known.state = row.to
      known.since = row.at
    }
    // A row's payload is the event as the audit wrote it; the event's type says what it carries.
    const payload = row.payload as { readonly output?: unknown; readonly reason?: string } | null
    const output = payload?.output
    if (row.kind === "entry") {
      const notes = this.entryNotes.get(row.actorId) ?? {}
      if (row.event === "xstate.done.actor.projectEntry") notes.projection = output as Projection
      if (row.event === "xstate.done.actor.selectHedges") notes.selection = output as SelectionResult
      if (row.event === "ENTRY_EXITED" || row.event === "SESSION_CLOSE") notes.exitReason = payload?.reason ?? (row.event === "SESSION_CLOSE" ? "SESSION_CLOSE" : undefined)
      if (row.to === "entered" && notes.enteredAt === undefined) notes.enteredAt = row.at
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

  // ---- what the commands read

  /** The running day, as the operator's actions check it. */
  running(): RunningDay | null {
    const day = this.day
    const market = this.market
    if (day === null || market === null) return null
    const snapshot = day.engine.actor.getSnapshot()
    return {
      key: `${day.sessionId}/${day.setup.session.date}`,
      context: snapshot.context,
      state: stateName(snapshot.value),
      done: day.engine.done || day.engine.failure !== null,
      lotSize: day.setup.lotSize,
      strikeStep: day.setup.strikeStep,
      quote: (strike, optionType) => market.quote(strike, optionType),
      utilisationPct: () => this.points.at(-1)?.pct ?? null,
      entryOf: (entryId) => ({ state: this.stateOf(entryId), hedgeRounds: entryContextOf(snapshot, entryId)?.hedgeRounds ?? 0 }),
      rowsAfter: (seq) => this.rowsAfter(seq),
      lastSeq: () => this.lastSeq()
    }
  }

  private now(): number {
    return this.market?.now() ?? this.options.now()
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

  // ---- the status

  /** The watchdog's view, with why the engine halted when it did. */
  private healthOf(day: DayAttachment): Status["health"] {
    const h = day.health?.()
    return {
      ok: day.engine.failure === null && (h?.ok ?? true),
      halted: day.engine.failure,
      problems: (h?.problems ?? []).map((p) => ({ kind: p.kind, seconds: p.seconds, limitSeconds: p.limitSeconds, message: p.message })),
      lagSeconds: h?.lagSeconds ?? 0,
      behind: h?.behind == null ? null : { since: isoOf(h.behind.since), worstSeconds: h.behind.worstSeconds, ticksSkipped: h.behind.ticksSkipped },
      lastWriteAt: isoOrNull(h?.lastWriteAt),
      lastQuoteAt: isoOrNull(h?.lastQuoteAt),
      lastBrokerAt: isoOrNull(h?.lastBrokerAt)
    }
  }

  /** The session now: mode, auto-hedge, halted or not, market time and lag, utilisation now and projected, spend. */
  async status(): Promise<Status> {
    const now = this.now()
    const day = this.day
    if (day === null) {
      return {
        now: isoOf(now),
        session: null,
        enabled: false,
        state: "no session",
        utilisation: { budget: 0, marginInUse: 0, currentPct: 0, projectedPct: null, ...this.options.thresholds },
        nextEntry: null,
        activeHedges: [],
        spend: { today: 0, cap: 0, left: 0 },
        cooldownRemainingSeconds: 0,
        health: { ok: true, halted: null, problems: [], lagSeconds: 0, behind: null, lastWriteAt: null, lastQuoteAt: null, lastBrokerAt: null }
      }
    }
    const snapshot = day.engine.actor.getSnapshot()
    const c = snapshot.context
    const active = Object.values(c.hedges).filter((h) => ACTIVE_HEDGE.has(h.status))
    const market = await this.marketFor(active)
    const next = c.entries.find((e) => e.entryAt > now && isToComeState(this.stateOf(e.id)) && !c.leftEntries.includes(e.id))
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
        projectedPct: this.projectedPct(snapshot),
        ...this.thresholdsOf(day)
      },
      nextEntry: next === undefined ? null : { portfolio: next.portfolio, at: isoOf(next.entryAt), secondsUntil: Math.round((next.entryAt - now) / 1000) },
      activeHedges: active.map((h) => {
        const live = hedgeContextOf(snapshot, h.id)
        const ltp = market === null ? null : priceOf(market.chain, h.strike, h.optionType)
        return {
          ...contractOf(h, day.setup.lotSize),
          state: this.stateOf(h.id, h.status),
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

  /** The chain, read only when some hedge is held (nothing else on the status needs a price). */
  private marketFor(held: ReadonlyArray<HedgeRecord>): Promise<MarketSnapshot | null> {
    return held.length === 0 || this.market === null ? Promise.resolve(null) : this.market.snapshot()
  }

  private stateOf(actorId: string, otherwise = "idle"): string {
    return this.actors.get(actorId)?.state ?? otherwise
  }

  /** The projection of the next entry still to decide or to come, percent. */
  private projectedPct(snapshot: SessionSnapshot): number | null {
    for (const e of [...snapshot.context.entries].sort((a, b) => a.entryAt - b.entryAt)) {
      if (!isToComeState(this.stateOf(e.id))) continue
      const projection = entryContextOf(snapshot, e.id)?.projection ?? this.entryNotes.get(e.id)?.projection
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

  // ---- the day at a glance

  /** Everything the dashboard shows at once: status, entries, hedges held and closed, the feed, the summary. */
  async dayAtAGlance(): Promise<Day> {
    const [status, hedges] = await Promise.all([this.status(), this.hedges()])
    return { status, entries: this.entries(), hedges, feed: this.feed(), summary: this.summary() }
  }

  /** The day's entries in time order, with their states in words and what their decisions found. */
  entries(): ReadonlyArray<EntryView> {
    const day = this.day
    if (day === null) return []
    const snapshot = day.engine.actor.getSnapshot()
    const c = snapshot.context
    return [...c.entries]
      .sort((a, b) => a.entryAt - b.entryAt)
      .map((e) => {
        const notes = this.entryNotes.get(e.id) ?? {}
        const live = entryContextOf(snapshot, e.id)
        const projection = live?.projection ?? notes.projection
        const selection = live?.selection ?? notes.selection
        const state = this.stateOf(e.id)
        const atEntry = notes.enteredAt === undefined ? null : this.utilisationAt(notes.enteredAt)
        return {
          id: e.id,
          portfolio: e.portfolio,
          state,
          stateInWords: stateInWords("entry", state),
          since: isoOrNull(this.actors.get(e.id)?.since),
          lookaheadAt: isoOf(e.lookaheadAt),
          entryAt: isoOf(e.entryAt),
          exitAt: isoOrNull(e.exitAt),
          projectedPct: projection?.projectedPct ?? null,
          hedgeCost: selection === undefined || selection === null ? null : round2(selection.cost),
          shortfall: selection === undefined || selection === null ? null : round2(selection.shortfall),
          hedges: Object.values(c.hedges).filter((h) => h.forEntry === e.id).map((h) => h.id),
          enteredAt: isoOrNull(notes.enteredAt),
          utilisationAtEntryPct: atEntry,
          breached: atEntry !== null && atEntry > 100,
          exitReason: live?.exitReason ?? notes.exitReason ?? null
        }
      })
  }

  /** Utilisation sampled at the end of the instant `at`; null when it was not sampled (before a restart). */
  private utilisationAt(at: number): number | null {
    return this.points.find((p) => p.at === at)?.pct ?? null
  }

  /** The day's hedges: those held (buying, held, selling) and those closed (sold, expired, never bought), with their P&L. */
  async hedges(): Promise<{ readonly held: ReadonlyArray<DayHedge>; readonly closed: ReadonlyArray<DayHedge> }> {
    const day = this.day
    if (day === null) return { held: [], closed: [] }
    const snapshot = day.engine.actor.getSnapshot()
    const all = Object.values(snapshot.context.hedges)
    const held = all.filter((h) => ACTIVE_HEDGE.has(h.status))
    const market = await this.marketFor(held)
    const view = (h: HedgeRecord) => this.hedgeView(day, h, hedgeContextOf(snapshot, h.id), market)
    return { held: held.map(view), closed: all.filter((h) => !ACTIVE_HEDGE.has(h.status)).map(view) }
  }

  private hedgeView(day: DayAttachment, h: HedgeRecord, live: HedgeContext | undefined, market: MarketSnapshot | null): DayHedge {
    const trades = this.trades.filter((t) => t.hedgeId === h.id)
    const ltp = h.held === 0 || market === null ? null : priceOf(market.chain, h.strike, h.optionType)
    // An expired hedge is worth what it settles at: its intrinsic value at the session's last spot.
    const spot = day.engine.actor.getSnapshot().context.spot
    const settled = h.status === "expired" && spot !== null ? intrinsic(h.optionType, spot, h.strike) : null
    const value = h.held === 0 ? 0 : settled !== null ? round2(settled * h.held) : ltp === null ? null : round2(ltp * h.held)
    const state = this.stateOf(h.id, h.status)
    return {
      ...contractOf(h, day.setup.lotSize),
      held: h.held,
      forEntry: h.forEntry,
      trigger: h.trigger,
      manual: h.manual,
      state,
      stateInWords: stateInWords("hedge", state),
      boughtAt: isoOrNull(h.openedAt),
      buyPrice: averagePrice(trades.filter((t) => t.kind === "buy")) ?? (live !== undefined && live.entryPrice > 0 ? live.entryPrice : null),
      paid: round2(h.paid),
      closedAt: isoOrNull(h.closedAt),
      sellPrice: averagePrice(trades.filter((t) => t.kind === "sell")),
      received: round2(h.received),
      ltp,
      value,
      pnl: value === null ? null : round2(h.received + value - h.paid),
      utilisationBeforePct: h.utilisationBefore,
      lastMessage: live?.lastMessage ?? null
    }
  }

  /** The engine's alerts and the operator's commands, in time order. */
  feed(): ReadonlyArray<FeedItem> {
    const day = this.day
    if (day === null) return []
    const recommend = day.mode === "recommend"
    // The texts are the simulator's report's (no context), except a recommendation's, said in lots.
    const context = recommend ? { lotSize: day.setup.lotSize, mode: "recommend" as const } : {}
    const alerts = day.engine.alerts.map((a): FeedItem => {
      // In recommend mode an order "failed" is the engine's advice: its own kind, not a failure.
      const advice = recommend && a.alert.kind === "HEDGE_ORDER_FAILED"
      return { at: isoOf(a.at), source: "engine", kind: advice ? "RECOMMENDATION" : a.alert.kind, severity: advice ? "info" : a.alert.severity, text: formatAlert(a.alert, a.at, context) }
    })
    // Both lists are in time order: a stable sort keeps each one's own order within an instant.
    return [...alerts, ...this.operatorNotes].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  }

  /** The day so far: entries, breaches, hedges, peak utilisation, spend; null while no day runs. */
  summary(): DaySummary | null {
    const day = this.day
    if (day === null) return null
    const c = day.engine.actor.getSnapshot().context
    const entries = this.entries()
    const hedges = Object.values(c.hedges)
    const entered = [...this.entryNotes.values()].filter((n) => n.enteredAt !== undefined).length
    const missed = [...this.actors.values()].filter((a) => a.kind === "entry" && a.state === "missed").length
    return {
      closed: day.engine.done,
      entries: { scheduled: c.entries.length, entered, missed },
      breaches: entries.filter((e) => e.breached).map((e) => ({ entryId: e.id, portfolio: e.portfolio, at: e.enteredAt!, utilisationPct: e.utilisationAtEntryPct! })),
      hedges: {
        bought: new Set(this.trades.filter((t) => t.kind === "buy").map((t) => t.hedgeId)).size,
        held: hedges.filter((h) => ACTIVE_HEDGE.has(h.status)).length,
        closed: hedges.filter((h) => !ACTIVE_HEDGE.has(h.status)).length
      },
      peakUtilisationPct: this.peakPct(),
      spend: { gross: round2(c.grossSpend), recovered: round2(c.recovered), net: round2(c.grossSpend - c.recovered), cap: c.spendCap },
      needless: this.needless === null ? null : { hedges: [...this.needless.hedges], cost: round2(this.needless.cost) }
    }
  }

  private peakPct(): number | null {
    return this.points.length === 0 ? null : this.points.reduce((m, p) => Math.max(m, p.pct), Number.NEGATIVE_INFINITY)
  }

  // ---- the inspector's reads

  /** Every actor of the day, the finished ones too, with its state and what it holds. */
  actorsView(): { readonly at: string; readonly actors: ReadonlyArray<ActorView> } {
    const at = isoOf(this.now())
    const day = this.day
    if (day === null) return { at, actors: [] }
    const snapshot = day.engine.actor.getSnapshot()
    const c = snapshot.context
    const actors: Array<ActorView> = []
    for (const a of this.actors.values()) {
      if (kindOf(a.id) === undefined) continue
      const summary =
        a.kind === "session" ? this.sessionSummary(c)
        : a.kind === "entry" ? this.entrySummary(snapshot, a.id)
        : this.hedgeSummary(c.hedges[a.id], hedgeContextOf(snapshot, a.id))
      actors.push({ id: a.id, kind: a.kind, parent: a.kind === "session" ? null : "session", state: a.state, stateInWords: stateInWords(a.kind, a.state), since: isoOf(a.since), summary })
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

  private entrySummary(snapshot: SessionSnapshot, id: string): Record<string, string | number | boolean | null> {
    const c = snapshot.context
    const plan = c.entries.find((e) => e.id === id)
    const notes = this.entryNotes.get(id) ?? {}
    const live = entryContextOf(snapshot, id)
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
      reductionNeeded: projection == null ? null : round2(projection.reductionNeeded),
      hedgeCost: selection == null ? null : round2(selection.cost),
      shortfall: selection == null ? null : round2(selection.shortfall),
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
    const thresholds = day === null ? this.options.thresholds : this.thresholdsOf(day)
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
    const summary = this.summary()
    if (day === null || summary === null) return null
    const c = day.engine.actor.getSnapshot().context
    return {
      sessionDate: c.date,
      dayOfWeek: weekdayOf(c.date),
      index: c.index,
      mode: day.mode,
      policy: c.policy,
      baskets: c.baskets,
      hedgeCount: summary.hedges.bought,
      totalCost: summary.spend.gross,
      totalRecovered: summary.spend.recovered,
      netCost: summary.spend.net,
      peakUtilization: summary.peakUtilisationPct,
      breaches: summary.breaches.length
    }
  }
}
