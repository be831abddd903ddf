// What every front end calls (the HTTP API, Telegram, the command line): the operator's commands and
// the day's reads, in one typed interface. A port is bound to the front end it serves, so every
// command it sends is audited with who asked; the commands themselves are OperatorCommands', the reads
// DayView's, whichever front end asks.
import type { Effect } from "effect"
import type { Schedule } from "../domain/schedule.ts"
import type { DayView } from "../views/day-view.ts"
import type { Day, DayHedge, DaySummary, EntryView, FeedItem, Status } from "../views/schemas.ts"
import type { OptionType } from "../domain/market.ts"
import type { StrikeChoices } from "./buy-preview.ts"
import type { BuyPreview, CommandAccepted, CommandRefused, CommandSource, ManualBuyInput, OperatorCommands } from "./operator.ts"
import type { ScheduleStore } from "./schedule-store.ts"
import type { SessionPlan } from "./session-plans.ts"

type Command = Effect.Effect<CommandAccepted, CommandRefused>

export interface OperatorPort {
  // ---- reads
  /** Mode, auto-hedge, halted or not, market time and lag, utilisation now and projected, spend. */
  readonly status: () => Promise<Status>
  /** Everything at once (the dashboard). */
  readonly day: () => Promise<Day>
  readonly entries: () => ReadonlyArray<EntryView>
  readonly hedges: () => Promise<{ readonly held: ReadonlyArray<DayHedge>; readonly closed: ReadonlyArray<DayHedge> }>
  /** Null while no day runs. */
  readonly summary: () => DaySummary | null
  readonly feed: () => ReadonlyArray<FeedItem>
  readonly schedule: () => Schedule
  /** What a manual buy would do, placing nothing (refused for the same reasons as the buy). */
  readonly previewBuy: (input: ManualBuyInput) => Effect.Effect<BuyPreview, CommandRefused>
  /** The chain near the engine's premium band, to pick a manual buy's strike from. */
  readonly buyStrikes: (optionType: OptionType) => Effect.Effect<StrikeChoices, CommandRefused>

  // ---- commands: each accepted with what will happen, or refused with why
  readonly setAutoHedge: (enabled: boolean, reason?: string) => Command
  /** Buy a hedge now, by hand (strike, side, lots; a limit price of the trader's if given). */
  readonly buyHedge: (input: ManualBuyInput) => Command
  readonly exitHedge: (hedgeId: string) => Command
  /** The next entry still to come decides now, whatever its look-ahead time. */
  readonly hedgeNow: () => Command
  readonly putSchedule: (schedule: Schedule) => Command
  readonly openSession: (plan: SessionPlan) => Command
}

export const operatorPort = (by: CommandSource, o: { readonly commands: OperatorCommands; readonly view: DayView; readonly schedule: ScheduleStore }): OperatorPort => ({
  status: () => o.view.status(),
  day: () => o.view.dayAtAGlance(),
  entries: () => o.view.entries(),
  hedges: () => o.view.hedges(),
  summary: () => o.view.summary(),
  feed: () => o.view.feed(),
  schedule: () => o.schedule.current(),
  previewBuy: (input) => o.commands.previewBuy(input),
  buyStrikes: (optionType) => o.commands.buyStrikes(optionType),
  setAutoHedge: (enabled, reason) => o.commands.toggle(enabled, reason, by),
  buyHedge: (input) => o.commands.manualBuy(input, by),
  exitHedge: (hedgeId) => o.commands.manualExit(hedgeId, by),
  hedgeNow: () => o.commands.hedgeNow(by),
  putSchedule: (schedule) => o.commands.putSchedule(schedule, by),
  openSession: (plan) => o.commands.openSession(plan, by)
})
