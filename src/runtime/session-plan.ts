// From a day's schedule and the configuration to everything a session actor is started with.
import type { EntryPlan, Policy } from "../../machines/protocol.ts"
import type { CarriedHedge, SessionInput } from "../../machines/session.ts"
import type { HedgeConfig, SelectionMethod } from "../domain/config.ts"
import type { MarginModel } from "../domain/margin.ts"
import { hedgeBandOf } from "../domain/selection.ts"
import type { EntrySpec, IndexName } from "../domain/market.ts"
import { tradingSessionOf, type TradingMode } from "../domain/session.ts"
import { REGULAR_HOURS, type SessionHours } from "../domain/calendar.ts"
import { addMinutes, instantOf } from "../domain/time.ts"
import { carriedPortfolios, type OpeningPosition } from "../domain/recorded-day.ts"
import type { EngineSetup } from "./engine.ts"

/** End-of-day summary time (the original design's: 15:35 IST). */
export const EOD_SUMMARY_TIME = "15:35:00"
/** An entry not seen this long after its time is reported missed. */
export const ENTRY_MISS_MINUTES = 5
/** How often a working order's status is asked for. */
export const ORDER_POLL_SECONDS = 5

export interface DayPlan {
  readonly date: string
  readonly index: IndexName
  readonly expiry: string
  readonly lotSize: number
  readonly strikeStep: number
  readonly baskets: number
  readonly budgetPerBasket: number
  readonly entries: ReadonlyArray<EntrySpec>
  /** The session's hours when not the regular 09:15-15:30 (a special session, from the calendar). */
  readonly hours?: SessionHours | undefined
}

/** The day's open, close and end-of-day summary: the summary comes 5 minutes after the close. */
const sessionTimesOf = (day: DayPlan) => {
  const hours = day.hours ?? REGULAR_HOURS
  const closeAt = instantOf(day.date, hours.close)
  return { openAt: instantOf(day.date, hours.open), closeAt, eodAt: day.hours === undefined ? instantOf(day.date, EOD_SUMMARY_TIME) : addMinutes(closeAt, 5) }
}

export const entryIdOf = (portfolio: string): string => `entry:${portfolio}`

/**
 * A process that polls instead of waking at the instant (the original design's 30-second loop) starts an entry's
 * look-ahead at its first poll at or after the look-ahead time; polls fall every `everyMs` from the
 * open, shifted by `phaseMs`.
 */
export interface Polling {
  readonly everyMs: number
  readonly phaseMs: number
}

const firstPollAtOrAfter = (at: number, openAt: number, polling: Polling): number => {
  const first = openAt + polling.phaseMs
  return at <= first ? first : first + Math.ceil((at - first) / polling.everyMs) * polling.everyMs
}

export const entryPlans = (day: DayPlan, config: HedgeConfig, polling?: Polling): ReadonlyArray<EntryPlan> => {
  const { openAt } = sessionTimesOf(day)
  return [...day.entries]
    .sort((a, b) => a.entryTime.localeCompare(b.entryTime) || a.portfolio.localeCompare(b.portfolio))
    .map((e) => {
      const entryAt = instantOf(day.date, e.entryTime)
      return {
        id: entryIdOf(e.portfolio),
        portfolio: e.portfolio,
        entryAt,
        // Hedges can only be bought once the market is open.
        lookaheadAt: ((at) => (polling === undefined ? at : firstPollAtOrAfter(at, openAt, polling)))(
          Math.max(openAt, addMinutes(entryAt, -config.lookaheadMinutes))
        ),
        exitAt: e.exitTime === null ? null : instantOf(day.date, e.exitTime),
        missAt: addMinutes(entryAt, ENTRY_MISS_MINUTES),
        legs: e.legs
      }
    })
}

export const engineSetupFor = (p: {
  readonly day: DayPlan
  readonly config: HedgeConfig
  readonly policy: Policy
  readonly model: MarginModel
  readonly enabled?: boolean
  readonly mode?: TradingMode
  /** How hedges are chosen (default: the config's). */
  readonly selection?: SelectionMethod
  /** Decide on a polling loop's beat instead of at the instant (the reference policy). */
  readonly polling?: Polling
  /** Look past the next entry (default true; see EngineSetup.foresight). */
  readonly foresight?: boolean
  /** Weigh a hedge set's cost against the breach cost it averts (default true; see EntryRules.weighCost). */
  readonly weighsCost?: boolean
  /** Run the delta band beside the engine (default: the config's `deltaBand.enabled`). */
  readonly deltaBand?: boolean
}): EngineSetup => {
  const { day, config } = p
  const deltaBandOn = p.deltaBand ?? config.deltaBand.enabled
  // Validated first: a bad date, budget or basket count is named before anything runs.
  const trading = tradingSessionOf({
    date: day.date,
    index: day.index,
    expiry: day.expiry,
    baskets: day.baskets,
    budgetPerBasket: day.budgetPerBasket,
    autoHedgeEnabled: p.enabled ?? true,
    mode: p.mode ?? "simulation"
  })
  const session: SessionInput = {
    date: trading.date,
    index: trading.index,
    expiry: trading.expiry,
    expiryDay: trading.expiryType === "0DTE",
    baskets: trading.baskets,
    budget: trading.totalBudget,
    policy: p.policy,
    enabled: trading.autoHedgeEnabled,
    ...sessionTimesOf(day),
    entries: entryPlans(day, config, p.polling),
    entryRules: {
      triggerPct: config.entryTriggerPct,
      targetPct: config.entryTargetPct,
      infoPct: config.entryTargetPct,
      recheckEveryMs: config.recheckSeconds * 1000,
      weighCost: p.weighsCost ?? true,
      breachCostPerEntry: config.breachCostPerEntry,
      buyWhenBreachUnavoidable: config.buyWhenBreachUnavoidable
    },
    hedgeRules: {
      limitPriceBuffer: config.limitPriceBuffer,
      minExitPrice: config.minExitPrice,
      fillTimeoutMs: config.fillTimeoutSeconds * 1000,
      orderPollMs: ORDER_POLL_SECONDS * 1000,
      maxReprices: config.maxReprices
    },
    cooldownMs: config.cooldownSeconds * 1000,
    exitBufferMs: config.exitBufferMinutes * 60_000,
    spendCap: config.maxHedgeCostPerDay,
    // Absent when off: the session then has no delta clock, and its days replay as before.
    ...(deltaBandOn ? { deltaBand: { checkEveryMs: config.deltaBand.checkSeconds * 1000, spendCap: config.deltaBand.maxCostPerDay } } : {}),
    overnightGuard: config.overnightGuard.enabled
      ? {
          firstCheckAt: addMinutes(sessionTimesOf(day).closeAt, -config.overnightGuard.minutesBeforeClose),
          retryMs: config.overnightGuard.retrySeconds * 1000,
          mayExceedSpendCap: config.overnightGuard.mayExceedSpendCap
        }
      : null
  }
  return {
    trading,
    session,
    model: p.model,
    selection: p.selection ?? config.selectionMethod,
    foresight: p.foresight ?? true,
    anticipateBandExhaustion: config.anticipateBandExhaustion,
    lotSize: day.lotSize,
    strikeStep: day.strikeStep,
    unitLots: config.lotsPerBasket[day.index] * day.baskets,
    band: hedgeBandOf(config, day.index),
    exitRules: { exitTriggerPct: config.exitTriggerPct, triggerPct: config.entryTriggerPct, minExitPrice: config.minExitPrice },
    ...(deltaBandOn ? { deltaBand: { limitPerPct: config.deltaBand.limitPerPct, maxLotsPerWing: config.deltaBand.maxLotsPerWing, span: config.span } } : {}),
    overnightWing: {
      by: config.overnightGuard.wingBy,
      distance: config.overnightGuard.wingDistance[day.index],
      minPremium: config.overnightGuard.wingMinPremium[day.index],
      maxPremium: config.overnightGuard.wingMaxPremium[day.index],
      limitPriceBuffer: config.limitPriceBuffer
    }
  }
}

/**
 * What a session learns of the positions held at the open: the engine's own wings (origin `hedge`,
 * long) become hedges it holds, and the carried portfolios (origin `entry`) are watched until the
 * platform exits them, so a wing covering one is never sold while its short is held (a wing that names
 * no portfolio covers every carried portfolio short on its side). The trader's
 * positions themselves are the broker's, not the session's. No carries: nothing (the session's input
 * is as it was before carried days existed).
 */
export const carriedInputOf = (openingPositions: ReadonlyArray<OpeningPosition>): Pick<SessionInput, "carriedHedges" | "carriedEntries"> => {
  const carriedEntries = carriedPortfolios(openingPositions).map(entryIdOf)
  // A wing covers the carried portfolio it names; naming none, every carried portfolio short on its side and expiry.
  const shortOn = (w: OpeningPosition) =>
    carriedPortfolios(openingPositions.filter((p) => p.quantity < 0 && p.optionType === w.optionType && p.expiry === w.expiry)).map(entryIdOf)
  const carriedHedges = openingPositions.flatMap((p): ReadonlyArray<CarriedHedge> =>
    p.origin?.kind === "hedge" && p.quantity > 0
      ? [{ strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: p.expiry, avgPrice: p.avgPrice, covers: p.origin.portfolio === undefined ? shortOn(p) : [entryIdOf(p.origin.portfolio)] }]
      : []
  )
  return { ...(carriedEntries.length === 0 ? {} : { carriedEntries }), ...(carriedHedges.length === 0 ? {} : { carriedHedges }) }
}
