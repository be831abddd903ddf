// The hedge configuration: thresholds, bands, spend caps and per-basket margin constants.
// Sources, later overriding earlier: built-in defaults < config file (JSON, any subset of keys, nested
// objects merged per key) < environment variables. Every problem of every source is collected and
// reported together in one ConfigError, each naming the key (env var or file key path) and the value.
import { Effect, Predicate, Result, Schema, SchemaTransformation } from "effect"
import type { ExpiryType, IndexName } from "./market.ts"
import { defaultSpanParameters, SpanParametersSchema, type SpanParameters } from "./span.ts"
import { type KeyPath, schemaProblems, valueAt } from "./schema-issues.ts"
import { above, Baskets, between, BudgetPerBasket, LotsPerBasket, MAX_RUPEES, SESSION_MINUTES, SESSION_SECONDS, wholeBetween } from "./bounds.ts"
import { parseBoundedJson } from "./bounded-json.ts"

// ---------------------------------------------------------------------------------------------
// Types

export interface PerIndex<A> {
  readonly NIFTY: A
  readonly SENSEX: A
}

/** Per-basket margin of a one-lot short straddle, rupees, without and with a hedge pair (see margin.ts). */
export interface StraddleMarginRow {
  readonly withoutHedge: number
  readonly withHedge: number
}

/** Per-basket straddle margin by index and expiry type; absent rows are unknown. */
export type MarginConstantsTable = Partial<Record<IndexName, Partial<Record<ExpiryType, StraddleMarginRow>>>>

export type ExitOrder = "farthestFirst"

/** Where the engine's own margin estimate comes from (the broker's margin in use stays the truth for "now"). */
export type MarginEstimate = "constants" | "span" | "broker"
export const MARGIN_ESTIMATES: ReadonlyArray<MarginEstimate> = ["constants", "span", "broker"]

/** How hedges are chosen: minimum cost (exact), or the origin's greedy best-benefit-per-rupee. */
export type SelectionMethod = "optimal" | "greedy"
export const SELECTION_METHODS: ReadonlyArray<SelectionMethod> = ["optimal", "greedy"]

export interface HedgeConfig {
  /** Buy hedges when the next entry would push utilisation above this (percent of budget). */
  readonly entryTriggerPct: number
  /** Utilisation to bring the projection back down to with hedges (percent). */
  readonly entryTargetPct: number
  /** Consider removing hedges when utilisation falls below this (percent). */
  readonly exitTriggerPct: number
  /** How long before a scheduled entry the projection is checked (minutes). */
  readonly lookaheadMinutes: number
  /** Don't remove hedges when an entry is due within this many minutes. */
  readonly exitBufferMinutes: number
  /** Premium band of a hedge strike, rupees per unit. */
  readonly minPremium: number
  readonly maxPremium: number
  /** Distance band of a hedge strike from the index level (spot), index points (the origin's rule). */
  readonly minOtmDistance: PerIndex<number>
  readonly maxOtmDistance: PerIndex<number>
  /** Most spent on hedges per day, rupees. */
  readonly maxHedgeCostPerDay: number
  /**
   * What one entry above 100 % of the budget costs the trader beyond the shortfall penalty, rupees:
   * the value the objective J puts on a blocked or over-budget entry (src/domain/objective.ts).
   */
  readonly breachCostPerEntry: number
  /** Least time between two hedge actions (seconds). */
  readonly cooldownSeconds: number
  /**
   * While an entry is still ahead, its decision is taken again this often (seconds; 0: never): the
   * market moves between the look-ahead and the entry, and a hedge may come into the band.
   */
  readonly recheckSeconds: number
  /** Limit price = LTP + this, rupees. */
  readonly limitPriceBuffer: number
  /** Never sell a hedge below this price; let it expire instead. */
  readonly minExitPrice: number
  /** Which hedges go first when hedges are removed. */
  readonly exitOrder: ExitOrder
  /** Hedge lots bought per basket. */
  readonly lotsPerBasket: PerIndex<number>
  /** How long one order attempt may wait for a fill (seconds). */
  readonly fillTimeoutSeconds: number
  /** How many times an unfilled order is re-priced before giving up. */
  readonly maxReprices: number
  /** Baskets traded when a session does not say. */
  readonly defaultBaskets: number
  /** Margin budget per basket, rupees. */
  readonly defaultBudgetPerBasket: number
  /** Per-basket straddle margin by index and expiry type (from the config file only). */
  readonly marginConstants: MarginConstantsTable
  /** The engine's margin estimate: the constants table, the SPAN-style model, or the broker's basket margin. */
  readonly marginEstimate: MarginEstimate
  /** How hedges are chosen. */
  readonly selectionMethod: SelectionMethod
  /**
   * Buy ahead at the last chance: when no hedge is forecast to be left in the premium band by the next
   * entry's look-ahead, hedge for every entry still to come (fewer breaches on expiry afternoons, more
   * spend).
   */
  readonly anticipateBandExhaustion: boolean
  /**
   * Buy for an entry even when the best set within the spend left cannot bring it under 100 % of the
   * budget (off: such spend saves no entry, and the engine says so instead of buying).
   */
  readonly buyWhenBreachUnavoidable: boolean
  /** The SPAN-style model's parameters (src/domain/span.ts). */
  readonly span: SpanParameters
  /** How long each outside call may take before it counts as failed (see ReliabilityConfig below). */
  readonly deadlines: DeadlinesConfig
  /** How stale the daemon's view may grow before it alerts and stops deciding. */
  readonly watchdog: WatchdogConfig
}

// ---- Deadlines and the watchdog (issue 19): declared together, types, defaults and schemas.

/** Seconds an outside call may take: past it, the call failed, exactly as a refused connection. */
export interface DeadlinesConfig {
  /** A database read or write (audit, journal, broker state); past it the engine halts. */
  readonly databaseSeconds: number
  /** A broker call (orders, positions, margin); past it the broker is unavailable. */
  readonly brokerSeconds: number
  /** A market data call (quotes, chain). */
  readonly marketDataSeconds: number
  /** Sending an alert. */
  readonly notifierSeconds: number
  /** After SIGINT / SIGTERM, the longest the process takes to exit, whatever it waits on. */
  readonly shutdownSeconds: number
}

/** Past these limits the daemon raises a critical alert, shows it in status and takes no decision. */
export interface WatchdogConfig {
  /** The held market instant behind the wall clock. */
  readonly lagSeconds: number
  /** Since the last audit write that succeeded. */
  readonly writeSeconds: number
  /** Since the last market quote. */
  readonly quoteSeconds: number
  /** Since the broker last answered. */
  readonly brokerSeconds: number
}

export const defaultDeadlines: DeadlinesConfig = { databaseSeconds: 10, brokerSeconds: 15, marketDataSeconds: 10, notifierSeconds: 10, shutdownSeconds: 15 }
export const defaultWatchdog: WatchdogConfig = { lagSeconds: 60, writeSeconds: 120, quoteSeconds: 90, brokerSeconds: 90 }

/** Whole seconds or fractions, at least 0.1 s (a shorter deadline fails healthy calls), at most 10 min. */
const DeadlineSeconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0.1), Schema.isLessThanOrEqualTo(600))
/** At least 5 s (a tick or two), at most an hour. */
const WatchdogSeconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(5), Schema.isLessThanOrEqualTo(3600))
const DeadlinesSchema = Schema.Struct({
  databaseSeconds: DeadlineSeconds,
  brokerSeconds: DeadlineSeconds,
  marketDataSeconds: DeadlineSeconds,
  notifierSeconds: DeadlineSeconds,
  shutdownSeconds: DeadlineSeconds
})
const WatchdogSchema = Schema.Struct({ lagSeconds: WatchdogSeconds, writeSeconds: WatchdogSeconds, quoteSeconds: WatchdogSeconds, brokerSeconds: WatchdogSeconds })
const patchOf = <F extends Schema.Struct.Fields>(struct: Schema.Struct<F>) =>
  Schema.Struct(Object.fromEntries(Object.entries(struct.fields).map(([k, v]) => [k, Schema.optionalKey(v)])) as { readonly [K in keyof F]: Schema.optionalKey<F[K]> })
const RELIABILITY_ENV: ReadonlyArray<{ readonly name: string; readonly path: ReadonlyArray<string>; readonly value: Schema.Codec<number, number> }> = [
  { name: "AUTOHEDGE_DEADLINE_DATABASE_SECONDS", path: ["deadlines", "databaseSeconds"], value: DeadlineSeconds },
  { name: "AUTOHEDGE_DEADLINE_BROKER_SECONDS", path: ["deadlines", "brokerSeconds"], value: DeadlineSeconds },
  { name: "AUTOHEDGE_DEADLINE_MARKET_DATA_SECONDS", path: ["deadlines", "marketDataSeconds"], value: DeadlineSeconds },
  { name: "AUTOHEDGE_DEADLINE_NOTIFIER_SECONDS", path: ["deadlines", "notifierSeconds"], value: DeadlineSeconds },
  { name: "AUTOHEDGE_SHUTDOWN_SECONDS", path: ["deadlines", "shutdownSeconds"], value: DeadlineSeconds },
  { name: "AUTOHEDGE_WATCHDOG_LAG_SECONDS", path: ["watchdog", "lagSeconds"], value: WatchdogSeconds },
  { name: "AUTOHEDGE_WATCHDOG_WRITE_SECONDS", path: ["watchdog", "writeSeconds"], value: WatchdogSeconds },
  { name: "AUTOHEDGE_WATCHDOG_QUOTE_SECONDS", path: ["watchdog", "quoteSeconds"], value: WatchdogSeconds },
  { name: "AUTOHEDGE_WATCHDOG_BROKER_SECONDS", path: ["watchdog", "brokerSeconds"], value: WatchdogSeconds }
]

// ---- (end of deadlines and the watchdog)

// ---------------------------------------------------------------------------------------------
// Defaults (the origin's values; lots per basket 1 for both indices, see seeds/README.md)

const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

export const defaultConfig: HedgeConfig = deepFreeze({
  entryTriggerPct: 95,
  entryTargetPct: 85,
  exitTriggerPct: 70,
  lookaheadMinutes: 5,
  exitBufferMinutes: 15,
  minPremium: 2,
  maxPremium: 6,
  minOtmDistance: { NIFTY: 200, SENSEX: 500 },
  maxOtmDistance: { NIFTY: 1000, SENSEX: 2500 },
  maxHedgeCostPerDay: 50000,
  breachCostPerEntry: 20000,
  cooldownSeconds: 120,
  recheckSeconds: 30,
  limitPriceBuffer: 0.1,
  minExitPrice: 0.5,
  exitOrder: "farthestFirst",
  lotsPerBasket: { NIFTY: 1, SENSEX: 1 },
  fillTimeoutSeconds: 60,
  maxReprices: 3,
  defaultBaskets: 15,
  defaultBudgetPerBasket: 1000000,
  marginConstants: {
    NIFTY: {
      "0DTE": { withoutHedge: 433333.33, withHedge: 186666.67 },
      "1DTE": { withoutHedge: 320000, withHedge: 140000 },
      "2DTE": { withoutHedge: 320000, withHedge: 140000 }
    },
    SENSEX: {
      "0DTE": { withoutHedge: 366666.67, withHedge: 160000 }
    }
  },
  marginEstimate: "span",
  selectionMethod: "optimal",
  anticipateBandExhaustion: false,
  buyWhenBreachUnavoidable: true,
  span: defaultSpanParameters,
  deadlines: defaultDeadlines,
  watchdog: defaultWatchdog
})

// ---------------------------------------------------------------------------------------------
// Schemas

const INDICES: ReadonlyArray<IndexName> = ["NIFTY", "SENSEX"]
const EXPIRY_TYPES: ReadonlyArray<ExpiryType> = ["0DTE", "1DTE", "2DTE"]

// Every setting has a floor and a ceiling (src/domain/bounds.ts says why).
const Percent = above(0, 200)
const Minutes = between(0, SESSION_MINUTES)
const Seconds = between(0, SESSION_SECONDS)
/** 0 (off), or at least a second: a shorter period would keep the day deciding for minutes. */
const RecheckSeconds = Schema.Finite.check(
  Schema.makeFilter((n: number) => n === 0 || (n >= 1 && n <= SESSION_SECONDS), {
    expected: `0 (off) or a number of seconds between 1 and ${SESSION_SECONDS}`
  })
)

const perIndex = <S extends Schema.Top>(value: S) => Schema.Struct({ NIFTY: value, SENSEX: value })
const perIndexPatch = <S extends Schema.Top>(value: S) =>
  Schema.Struct({ NIFTY: Schema.optionalKey(value), SENSEX: Schema.optionalKey(value) })

const StraddleMarginRowSchema = Schema.Struct({ withoutHedge: above(0, MAX_RUPEES), withHedge: above(0, MAX_RUPEES) })
const StraddleMarginRowPatch = Schema.Struct({
  withoutHedge: Schema.optionalKey(StraddleMarginRowSchema.fields.withoutHedge),
  withHedge: Schema.optionalKey(StraddleMarginRowSchema.fields.withHedge)
})
const byExpiry = <S extends Schema.Top>(row: S) =>
  Schema.Struct({ "0DTE": Schema.optionalKey(row), "1DTE": Schema.optionalKey(row), "2DTE": Schema.optionalKey(row) })
const MarginConstantsSchema = Schema.Struct({
  NIFTY: Schema.optionalKey(byExpiry(StraddleMarginRowSchema)),
  SENSEX: Schema.optionalKey(byExpiry(StraddleMarginRowSchema))
})
const MarginConstantsPatch = Schema.Struct({
  NIFTY: Schema.optionalKey(byExpiry(StraddleMarginRowPatch)),
  SENSEX: Schema.optionalKey(byExpiry(StraddleMarginRowPatch))
})

const ExitOrderSchema = Schema.Literal("farthestFirst")
const MarginEstimateSchema = Schema.Literals(MARGIN_ESTIMATES)
const SelectionMethodSchema = Schema.Literals(SELECTION_METHODS)

/**
 * Rules that tie fields together, reported at the path of the field named first. `name` says how to
 * call the other field in the message (its env var when the environment set it).
 */
const crossFieldRules = (name: (key: string) => string = (key) => key) =>
  Schema.makeFilter((c: Omit<HedgeConfig, "exitOrder">) => {
    const issues: Array<Schema.FilterIssue> = []
    if (!(c.exitTriggerPct < c.entryTargetPct))
      issues.push({ path: ["exitTriggerPct"], issue: `must be less than ${name("entryTargetPct")} (${c.entryTargetPct})` })
    if (!(c.entryTargetPct < c.entryTriggerPct))
      issues.push({ path: ["entryTargetPct"], issue: `must be less than ${name("entryTriggerPct")} (${c.entryTriggerPct})` })
    if (!(c.minPremium <= c.maxPremium))
      issues.push({ path: ["minPremium"], issue: `must not exceed ${name("maxPremium")} (${c.maxPremium})` })
    for (const index of INDICES) {
      if (!(c.minOtmDistance[index] <= c.maxOtmDistance[index]))
        issues.push({
          path: ["minOtmDistance", index],
          issue: `must not exceed ${name(`maxOtmDistance.${index}`)} (${c.maxOtmDistance[index]})`
        })
      const rows = c.marginConstants[index]
      for (const expiry of EXPIRY_TYPES) {
        const row = rows?.[expiry]
        if (row !== undefined && !(row.withHedge <= row.withoutHedge))
          issues.push({
            path: ["marginConstants", index, expiry, "withHedge"],
            issue: `must not exceed ${name(`marginConstants.${index}.${expiry}.withoutHedge`)} (${row.withoutHedge})`
          })
      }
    }
    return issues
  })

/** Each setting's type and bounds, in one place: the file, the environment and the whole config use these. */
const scalarFields = {
  entryTriggerPct: Percent,
  entryTargetPct: Percent,
  exitTriggerPct: Percent,
  lookaheadMinutes: Minutes,
  exitBufferMinutes: Minutes,
  minPremium: above(0, 10_000),
  maxPremium: above(0, 10_000),
  minOtmDistance: between(0, 50_000),
  maxOtmDistance: above(0, 50_000),
  maxHedgeCostPerDay: between(0, MAX_RUPEES),
  breachCostPerEntry: between(0, MAX_RUPEES),
  cooldownSeconds: Seconds,
  recheckSeconds: RecheckSeconds,
  limitPriceBuffer: between(0, 10_000),
  minExitPrice: between(0, 10_000),
  lotsPerBasket: LotsPerBasket,
  fillTimeoutSeconds: between(1, 3600),
  maxReprices: wholeBetween(0, 100),
  defaultBaskets: Baskets,
  defaultBudgetPerBasket: BudgetPerBasket
} as const

const HedgeConfigFields = Schema.Struct({
  entryTriggerPct: scalarFields.entryTriggerPct,
  entryTargetPct: scalarFields.entryTargetPct,
  exitTriggerPct: scalarFields.exitTriggerPct,
  lookaheadMinutes: scalarFields.lookaheadMinutes,
  exitBufferMinutes: scalarFields.exitBufferMinutes,
  minPremium: scalarFields.minPremium,
  maxPremium: scalarFields.maxPremium,
  minOtmDistance: perIndex(scalarFields.minOtmDistance),
  maxOtmDistance: perIndex(scalarFields.maxOtmDistance),
  maxHedgeCostPerDay: scalarFields.maxHedgeCostPerDay,
  breachCostPerEntry: scalarFields.breachCostPerEntry,
  cooldownSeconds: scalarFields.cooldownSeconds,
  recheckSeconds: scalarFields.recheckSeconds,
  limitPriceBuffer: scalarFields.limitPriceBuffer,
  minExitPrice: scalarFields.minExitPrice,
  exitOrder: ExitOrderSchema,
  lotsPerBasket: perIndex(scalarFields.lotsPerBasket),
  fillTimeoutSeconds: scalarFields.fillTimeoutSeconds,
  maxReprices: scalarFields.maxReprices,
  defaultBaskets: scalarFields.defaultBaskets,
  defaultBudgetPerBasket: scalarFields.defaultBudgetPerBasket,
  marginConstants: MarginConstantsSchema,
  marginEstimate: MarginEstimateSchema,
  selectionMethod: SelectionMethodSchema,
  anticipateBandExhaustion: Schema.Boolean,
  buyWhenBreachUnavoidable: Schema.Boolean,
  span: SpanParametersSchema,
  deadlines: DeadlinesSchema,
  watchdog: WatchdogSchema
})

/** A complete, valid configuration (field ranges and cross-field rules). */
export const HedgeConfigSchema = HedgeConfigFields.check(crossFieldRules())

/** The config file: any subset of the keys; unknown keys are rejected by the decoder options. */
export const HedgeConfigFileSchema = Schema.Struct({
  entryTriggerPct: Schema.optionalKey(scalarFields.entryTriggerPct),
  entryTargetPct: Schema.optionalKey(scalarFields.entryTargetPct),
  exitTriggerPct: Schema.optionalKey(scalarFields.exitTriggerPct),
  lookaheadMinutes: Schema.optionalKey(scalarFields.lookaheadMinutes),
  exitBufferMinutes: Schema.optionalKey(scalarFields.exitBufferMinutes),
  minPremium: Schema.optionalKey(scalarFields.minPremium),
  maxPremium: Schema.optionalKey(scalarFields.maxPremium),
  minOtmDistance: Schema.optionalKey(perIndexPatch(scalarFields.minOtmDistance)),
  maxOtmDistance: Schema.optionalKey(perIndexPatch(scalarFields.maxOtmDistance)),
  maxHedgeCostPerDay: Schema.optionalKey(scalarFields.maxHedgeCostPerDay),
  breachCostPerEntry: Schema.optionalKey(scalarFields.breachCostPerEntry),
  cooldownSeconds: Schema.optionalKey(scalarFields.cooldownSeconds),
  recheckSeconds: Schema.optionalKey(scalarFields.recheckSeconds),
  limitPriceBuffer: Schema.optionalKey(scalarFields.limitPriceBuffer),
  minExitPrice: Schema.optionalKey(scalarFields.minExitPrice),
  exitOrder: Schema.optionalKey(ExitOrderSchema),
  lotsPerBasket: Schema.optionalKey(perIndexPatch(scalarFields.lotsPerBasket)),
  fillTimeoutSeconds: Schema.optionalKey(scalarFields.fillTimeoutSeconds),
  maxReprices: Schema.optionalKey(scalarFields.maxReprices),
  defaultBaskets: Schema.optionalKey(scalarFields.defaultBaskets),
  defaultBudgetPerBasket: Schema.optionalKey(scalarFields.defaultBudgetPerBasket),
  marginConstants: Schema.optionalKey(MarginConstantsPatch),
  marginEstimate: Schema.optionalKey(MarginEstimateSchema),
  selectionMethod: Schema.optionalKey(SelectionMethodSchema),
  anticipateBandExhaustion: Schema.optionalKey(Schema.Boolean),
  buyWhenBreachUnavoidable: Schema.optionalKey(Schema.Boolean),
  span: Schema.optionalKey(
    Schema.Struct(Object.fromEntries(Object.entries(SpanParametersSchema.fields).map(([k, v]) => [k, Schema.optionalKey(v)])) as {
      readonly [K in keyof typeof SpanParametersSchema.fields]: Schema.optionalKey<(typeof SpanParametersSchema.fields)[K]>
    })
  ),
  deadlines: Schema.optionalKey(patchOf(DeadlinesSchema)),
  watchdog: Schema.optionalKey(patchOf(WatchdogSchema))
})

// The schema and the interface describe the same thing; keep them in step.
type SchemaConfig = typeof HedgeConfigSchema.Type
const _schemaMatchesInterface = (c: SchemaConfig): HedgeConfig => c
const _interfaceMatchesSchema = (c: HedgeConfig): SchemaConfig => c
void _schemaMatchesInterface
void _interfaceMatchesSchema

/** A decimal number as written in an environment variable ("95", "0.10", "-1"); no exponents or hex. */
const DecimalString = Schema.String.check(
  Schema.isPattern(/^[+-]?(\d+(\.\d*)?|\.\d+)$/, { expected: "a decimal number" })
)
const fromEnv = <S extends Schema.Codec<number, number>>(value: S) =>
  DecimalString.pipe(Schema.decodeTo(value, SchemaTransformation.numberFromString))

// ---------------------------------------------------------------------------------------------
// Environment

interface EnvBinding {
  readonly name: string
  readonly path: ReadonlyArray<string>
  readonly schema: Schema.Codec<number, string>
}

const ENV_BINDINGS: ReadonlyArray<EnvBinding> = [
  { name: "HEDGE_ENTRY_TRIGGER_PCT", path: ["entryTriggerPct"], schema: fromEnv(scalarFields.entryTriggerPct) },
  { name: "HEDGE_ENTRY_TARGET_PCT", path: ["entryTargetPct"], schema: fromEnv(scalarFields.entryTargetPct) },
  { name: "HEDGE_EXIT_TRIGGER_PCT", path: ["exitTriggerPct"], schema: fromEnv(scalarFields.exitTriggerPct) },
  { name: "HEDGE_LOOKAHEAD_MINUTES", path: ["lookaheadMinutes"], schema: fromEnv(scalarFields.lookaheadMinutes) },
  { name: "HEDGE_EXIT_BUFFER_MINUTES", path: ["exitBufferMinutes"], schema: fromEnv(scalarFields.exitBufferMinutes) },
  { name: "HEDGE_MIN_PREMIUM", path: ["minPremium"], schema: fromEnv(scalarFields.minPremium) },
  { name: "HEDGE_MAX_PREMIUM", path: ["maxPremium"], schema: fromEnv(scalarFields.maxPremium) },
  { name: "HEDGE_MIN_OTM_NIFTY", path: ["minOtmDistance", "NIFTY"], schema: fromEnv(scalarFields.minOtmDistance) },
  { name: "HEDGE_MIN_OTM_SENSEX", path: ["minOtmDistance", "SENSEX"], schema: fromEnv(scalarFields.minOtmDistance) },
  { name: "HEDGE_MAX_OTM_NIFTY", path: ["maxOtmDistance", "NIFTY"], schema: fromEnv(scalarFields.maxOtmDistance) },
  { name: "HEDGE_MAX_OTM_SENSEX", path: ["maxOtmDistance", "SENSEX"], schema: fromEnv(scalarFields.maxOtmDistance) },
  { name: "HEDGE_MAX_COST_PER_DAY", path: ["maxHedgeCostPerDay"], schema: fromEnv(scalarFields.maxHedgeCostPerDay) },
  { name: "HEDGE_BREACH_COST_PER_ENTRY", path: ["breachCostPerEntry"], schema: fromEnv(scalarFields.breachCostPerEntry) },
  { name: "HEDGE_COOLDOWN_SECONDS", path: ["cooldownSeconds"], schema: fromEnv(scalarFields.cooldownSeconds) },
  { name: "HEDGE_RECHECK_SECONDS", path: ["recheckSeconds"], schema: fromEnv(scalarFields.recheckSeconds) },
  { name: "HEDGE_LIMIT_PRICE_BUFFER", path: ["limitPriceBuffer"], schema: fromEnv(scalarFields.limitPriceBuffer) },
  { name: "HEDGE_MIN_EXIT_PRICE", path: ["minExitPrice"], schema: fromEnv(scalarFields.minExitPrice) },
  { name: "HEDGE_LOTS_PER_BASKET_NIFTY", path: ["lotsPerBasket", "NIFTY"], schema: fromEnv(scalarFields.lotsPerBasket) },
  { name: "HEDGE_LOTS_PER_BASKET_SENSEX", path: ["lotsPerBasket", "SENSEX"], schema: fromEnv(scalarFields.lotsPerBasket) },
  { name: "HEDGE_FILL_TIMEOUT_SECONDS", path: ["fillTimeoutSeconds"], schema: fromEnv(scalarFields.fillTimeoutSeconds) },
  { name: "HEDGE_MAX_REPRICES", path: ["maxReprices"], schema: fromEnv(scalarFields.maxReprices) },
  { name: "DEFAULT_BASKETS", path: ["defaultBaskets"], schema: fromEnv(scalarFields.defaultBaskets) },
  { name: "DEFAULT_BUDGET_PER_BASKET", path: ["defaultBudgetPerBasket"], schema: fromEnv(scalarFields.defaultBudgetPerBasket) },
  ...RELIABILITY_ENV.map((b) => ({ name: b.name, path: b.path, schema: fromEnv(b.value) }))
]

/** Every environment variable the configuration reads, in documentation order. */
export const AUTOHEDGE_ENV_NAMES: ReadonlyArray<string> = ENV_BINDINGS.map((b) => b.name)

/** The config key path ("minOtmDistance.NIFTY") an environment variable sets. */
export const envKeyOf = (name: string): string | undefined =>
  ENV_BINDINGS.find((b) => b.name === name)?.path.join(".")

/**
 * Variables that look like hedge settings (HEDGE_*) but are not read: likely typos. Not an error (other
 * parts of the system may own HEDGE_* names); callers should warn about them.
 */
export const unrecognisedEnvNames = (env: Record<string, string | undefined>): ReadonlyArray<string> =>
  Object.keys(env)
    .filter((k) => k.startsWith("HEDGE_") && !AUTOHEDGE_ENV_NAMES.includes(k))
    .sort()

// ---------------------------------------------------------------------------------------------
// Errors

export const ConfigProblem = Schema.Struct({
  /** The env var name, or the key path in the config file ("marginConstants.NIFTY.0DTE.withHedge"). */
  key: Schema.String,
  /** The offending value as written (JSON for file values). */
  value: Schema.String,
  problem: Schema.String,
  /** Where the value came from: "environment", the config file name, or "default". */
  source: Schema.optionalKey(Schema.String)
})
export type ConfigProblem = typeof ConfigProblem.Type

const problemLine = (p: ConfigProblem): string => {
  if (p.source !== undefined && p.key === p.source) return `${p.key}: ${p.problem}` // the file as a whole
  const where = p.source === undefined || p.source === "environment" ? "" : ` (${p.source === "default" ? "default" : `in ${p.source}`})`
  return `${p.key} = ${p.value}${where}: ${p.problem}`
}

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  problems: Schema.Array(ConfigProblem)
}) {
  override get message(): string {
    const n = this.problems.length
    return [`invalid configuration (${n} problem${n === 1 ? "" : "s"}):`, ...this.problems.map(problemLine)].join(
      "\n"
    )
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface ConfigSources {
  readonly env: Record<string, string | undefined>
  /** Text of the config file, if there is one (the caller reads it). */
  readonly fileText?: string
  /** The file's name, for messages. */
  readonly fileName?: string
}

/** A parsed JSON value. */
type Json = unknown

/** The key as config keys are named: "marginConstants.NIFTY.0DTE.withHedge" (see configKeyPaths). */
const pathKey = (path: KeyPath): string => path.map((k) => (k === "" ? '""' : String(k))).join(".") // an empty key still shows

const isRecord = Predicate.isObject

const show = (value: unknown): string => (value === undefined ? "(missing)" : JSON.stringify(value))

/** Remove the values at the given paths (so that the rest of a file can still be merged and checked). */
const withoutPaths = (root: Json, paths: ReadonlyArray<KeyPath>): Json => {
  const copy: Json = structuredClone(root)
  for (const path of paths) {
    if (path.length === 0) return {}
    const parent = valueAt(copy, path.slice(0, -1))
    if (isRecord(parent)) delete parent[path[path.length - 1] as string]
  }
  return copy
}

const mergeDeep = (base: Json, patch: Json): Json => {
  if (!isRecord(base) || !isRecord(patch)) return patch
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? mergeDeep(out[k], v) : v
  return out
}

const setAt = (root: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): void => {
  let cur = root
  for (const k of path.slice(0, -1)) {
    const next = cur[k]
    cur = isRecord(next) ? next : (cur[k] = {})
  }
  cur[path[path.length - 1]!] = value
}

/** Leaf key paths of a JSON value ("minOtmDistance.NIFTY", "marginConstants.NIFTY.0DTE.withHedge"). */
export const configKeyPaths = (value: unknown, prefix = ""): ReadonlyArray<string> =>
  isRecord(value)
    ? Object.entries(value).flatMap(([k, v]) => configKeyPaths(v, prefix === "" ? k : `${prefix}.${k}`))
    : [prefix]

const fileOptions = { errors: "all", onExcessProperty: "error" } as const

/** Decode the config file: its valid part, and a problem for every invalid value or unknown key. */
const readFile = (text: string, fileName: string): { patch: Json; problems: Array<ConfigProblem> } => {
  let raw: Json
  try {
    raw = parseBoundedJson(text)
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e)
    return { patch: {}, problems: [{ key: fileName, value: "", problem: `invalid JSON: ${detail}`, source: fileName }] }
  }
  if (!isRecord(raw)) {
    const value = show(raw).slice(0, 40)
    return {
      patch: {},
      problems: [{ key: fileName, value, problem: `expected a JSON object of settings, got ${value}`, source: fileName }]
    }
  }
  const decode = Schema.decodeUnknownResult(HedgeConfigFileSchema)
  const first = decode(raw, fileOptions)
  if (Result.isSuccess(first)) return { patch: first.success, problems: [] }
  const flat = schemaProblems(first.failure.issue, raw)
  const problems = flat.map((f) => ({
    key: pathKey(f.path),
    value: show(f.value),
    problem: f.problem,
    source: fileName
  }))
  const rest = decode(withoutPaths(raw, flat.map((f) => f.path)), fileOptions)
  return { patch: Result.isSuccess(rest) ? rest.success : {}, problems }
}

/** Decode the environment: its valid settings (as a patch), and a problem for every invalid one. */
const readEnv = (
  env: Record<string, string | undefined>
): { patch: Record<string, unknown>; problems: Array<ConfigProblem>; setBy: Map<string, string> } => {
  const patch: Record<string, unknown> = {}
  const problems: Array<ConfigProblem> = []
  const setBy = new Map<string, string>()
  for (const binding of ENV_BINDINGS) {
    const text = env[binding.name]
    if (text === undefined) continue
    const decoded = Schema.decodeUnknownResult(binding.schema)(text, { errors: "all" })
    if (Result.isSuccess(decoded)) {
      setAt(patch, binding.path, decoded.success)
      setBy.set(binding.path.join("."), binding.name)
    } else {
      for (const f of schemaProblems(decoded.failure.issue, text))
        problems.push({ key: binding.name, value: JSON.stringify(text), problem: f.problem, source: "environment" })
    }
  }
  return { patch, problems, setBy }
}

/** The configuration from its sources, or every problem found in them at once. */
export const loadConfig = (sources: ConfigSources): Effect.Effect<HedgeConfig, ConfigError> =>
  Effect.suspend(() => {
    const fileName = sources.fileName ?? "config file"
    const file =
      sources.fileText === undefined ? { patch: {}, problems: [] } : readFile(sources.fileText, fileName)
    const env = readEnv(sources.env)
    const merged = mergeDeep(mergeDeep(defaultConfig, file.patch), env.patch)

    const fileKeys = new Set(configKeyPaths(file.patch))
    const sourceOf = (key: string, value: unknown): { key: string; source: string } => {
      const envName = env.setBy.get(key)
      if (envName !== undefined) return { key: envName, source: "environment" }
      // A key the file set, or a key missing from an object the file added (a partial margin row).
      const parent = key.slice(0, key.lastIndexOf(".") + 1)
      const fromFile =
        fileKeys.has(key) || (value === undefined && parent !== "" && [...fileKeys].some((k) => k.startsWith(parent)))
      return { key, source: fromFile ? fileName : "default" }
    }
    // Every source value is valid on its own here; what can still fail is a margin row the file added
    // incompletely, and the cross-field rules. The struct's rules only run once its fields decode, so an
    // incomplete row is reported, dropped, and the merged config checked again.
    const schema = HedgeConfigFields.check(crossFieldRules((key) => env.setBy.get(key) ?? key))
    const combined: Array<ConfigProblem> = []
    const seen = new Set<string>()
    let candidate = merged
    let checked = Schema.decodeUnknownResult(schema)(candidate, { errors: "all" })
    for (let pass = 0; pass < 3 && Result.isFailure(checked); pass++) {
      const flat = schemaProblems(checked.failure.issue, candidate)
      for (const f of flat) {
        const key = pathKey(f.path)
        const value = f.value
        const origin = sourceOf(key, value)
        const line = `${key}: ${f.problem}`
        if (seen.has(line)) continue
        seen.add(line)
        combined.push({
          key: origin.key,
          value: origin.source === "environment" ? JSON.stringify(String(value)) : show(value),
          problem: f.problem,
          source: origin.source
        })
      }
      const incomplete = flat.filter((f) => f.value === undefined).map((f) => f.path.slice(0, -1))
      if (incomplete.length === 0) break
      candidate = withoutPaths(candidate, incomplete)
      checked = Schema.decodeUnknownResult(schema)(candidate, { errors: "all" })
    }
    const problems = [...file.problems, ...env.problems, ...combined]
    if (problems.length > 0 || Result.isFailure(checked)) return Effect.fail(new ConfigError({ problems }))
    // Decoded values are fresh objects; freeze them like the defaults.
    return Effect.succeed(deepFreeze<HedgeConfig>(checked.success))
  })
