// The hedge configuration: thresholds, bands, spend caps and per-basket margin constants.
// Sources, later overriding earlier: built-in defaults < config file (JSON, any subset of keys, nested
// objects merged per key) < environment variables. Every problem of every source is collected and
// reported together in one ConfigError, each naming the key (env var or file key path) and the value.
//
// Each setting is declared once, in HedgeConfigFields: its type and bounds, and the environment
// variable that sets it (an `env` annotation). The HedgeConfig type, the config file's schema (any
// subset of the keys) and the environment bindings are derived from it; the defaults are a value of
// that type.
import { Effect, Predicate, Result, Schema, SchemaAST, SchemaTransformation } from "effect"
import type { ExpiryType, IndexName } from "./market.ts"
import { defaultSpanParameters, SpanParametersSchema } from "./span.ts"
import { type KeyPath, schemaProblems, valueAt } from "./schema-issues.ts"
import { above, Baskets, between, BudgetPerBasket, LotsPerBasket, MAX_RUPEES, SESSION_MINUTES, SESSION_SECONDS, wholeBetween } from "./bounds.ts"
import { parseBoundedJson } from "./bounded-json.ts"

// ---------------------------------------------------------------------------------------------
// The settings

/** The setting can also be given as the environment variable `name` (a decimal number). */
const env = <S extends Schema.Top>(name: string, schema: S): S => schema.annotate({ env: name }) as S

const INDICES: ReadonlyArray<IndexName> = ["NIFTY", "SENSEX"]
const EXPIRY_TYPES: ReadonlyArray<ExpiryType> = ["0DTE", "1DTE", "2DTE"]

/** One value per index; with `envPrefix`, set by `${envPrefix}_NIFTY` and `${envPrefix}_SENSEX`. */
const perIndex = <S extends Schema.Top>(value: S, envPrefix?: string) =>
  Schema.Struct({
    NIFTY: envPrefix === undefined ? value : env(`${envPrefix}_NIFTY`, value),
    SENSEX: envPrefix === undefined ? value : env(`${envPrefix}_SENSEX`, value)
  })

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
/** Whole seconds or fractions, at least 0.1 s (a shorter deadline fails healthy calls), at most 10 min. */
const DeadlineSeconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0.1), Schema.isLessThanOrEqualTo(600))
/** At least 5 s (a tick or two), at most an hour. */
const WatchdogSeconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(5), Schema.isLessThanOrEqualTo(3600))

/** Per-basket margin of a one-lot short straddle, rupees, without and with a hedge pair (see margin.ts). */
const StraddleMarginRowSchema = Schema.Struct({ withoutHedge: above(0, MAX_RUPEES), withHedge: above(0, MAX_RUPEES) })
const byExpiry = <S extends Schema.Top>(row: S) =>
  Schema.Struct({ "0DTE": Schema.optionalKey(row), "1DTE": Schema.optionalKey(row), "2DTE": Schema.optionalKey(row) })
/** Per-basket straddle margin by index and expiry type; absent rows are unknown. */
const MarginConstantsSchema = Schema.Struct({
  NIFTY: Schema.optionalKey(byExpiry(StraddleMarginRowSchema)),
  SENSEX: Schema.optionalKey(byExpiry(StraddleMarginRowSchema))
})

/** Where the engine's own margin estimate comes from (the broker's margin in use stays the truth for "now"). */
export const MARGIN_ESTIMATES = ["constants", "span", "broker"] as const
/** How hedges are chosen: minimum cost (exact), or the reference policy's greedy best benefit per rupee. */
export const SELECTION_METHODS = ["optimal", "greedy"] as const

/** Seconds an outside call may take: past it, the call failed, exactly as a refused connection. */
const DeadlinesSchema = Schema.Struct({
  /** A database read or write (audit, journal, broker state); past it the engine halts. */
  databaseSeconds: env("AUTOHEDGE_DEADLINE_DATABASE_SECONDS", DeadlineSeconds),
  /** A broker call (orders, positions, margin); past it the broker is unavailable. */
  brokerSeconds: env("AUTOHEDGE_DEADLINE_BROKER_SECONDS", DeadlineSeconds),
  /** A market data call (quotes, chain). */
  marketDataSeconds: env("AUTOHEDGE_DEADLINE_MARKET_DATA_SECONDS", DeadlineSeconds),
  /** Sending an alert. */
  notifierSeconds: env("AUTOHEDGE_DEADLINE_NOTIFIER_SECONDS", DeadlineSeconds),
  /** After SIGINT / SIGTERM, the longest the process takes to exit, whatever it waits on. */
  shutdownSeconds: env("AUTOHEDGE_SHUTDOWN_SECONDS", DeadlineSeconds)
})

/**
 * The delta band (src/domain/delta-band.ts, docs/delta-band.md): a second policy beside the margin
 * engine, off by default. When the portfolio's delta leaves ±limitPerPct it buys one wing that brings it back.
 */
const DeltaBandSchema = Schema.Struct({
  /** Off by default: the margin engine alone decides. */
  enabled: Schema.Boolean,
  /**
   * The band's half-width in rupees per 1 % index move (delta × spot / 100): the first-order P&L of a
   * 1 % move the book may carry either way.
   */
  limitPerPct: env("HEDGE_DELTA_BAND_LIMIT_PER_PCT", above(0, MAX_RUPEES)),
  /** How often the delta is checked, seconds from the open. */
  checkSeconds: env("HEDGE_DELTA_BAND_CHECK_SECONDS", between(10, SESSION_SECONDS)),
  /** Most lots one delta wing may have. */
  maxLotsPerWing: env("HEDGE_DELTA_BAND_MAX_LOTS", wholeBetween(1, 10_000)),
  /**
   * Most the band's wings may cost a day, rupees, within the day's hedge cap (maxHedgeCostPerDay):
   * what the band may take from the margin engine's spend.
   */
  maxCostPerDay: env("HEDGE_DELTA_BAND_MAX_COST_PER_DAY", between(0, MAX_RUPEES))
})

/** Past these limits the daemon raises a critical alert, shows it in status and takes no decision. */
const WatchdogSchema = Schema.Struct({
  /** The held market instant behind the wall clock. */
  lagSeconds: env("AUTOHEDGE_WATCHDOG_LAG_SECONDS", WatchdogSeconds),
  /** Since the last audit write that succeeded. */
  writeSeconds: env("AUTOHEDGE_WATCHDOG_WRITE_SECONDS", WatchdogSeconds),
  /** Since the last market quote. */
  quoteSeconds: env("AUTOHEDGE_WATCHDOG_QUOTE_SECONDS", WatchdogSeconds),
  /** Since the broker last answered. */
  brokerSeconds: env("AUTOHEDGE_WATCHDOG_BROKER_SECONDS", WatchdogSeconds)
})

/** The overnight guard (docs/overnight-guard.md): no short option held past the close without a wing. From the config file only. */
const OvernightGuardSchema = Schema.Struct({
  /** Off: shorts held past the close are left as they are. */
  enabled: Schema.Boolean,
  /** The first check, minutes before the close (10: 15:20 IST on a regular day). */
  minutesBeforeClose: between(0, SESSION_MINUTES),
  /** While a short is uncovered or its wing is being bought, check again this often, seconds. */
  retrySeconds: between(5, SESSION_SECONDS),
  /** How a wing is chosen: at `wingDistance` beyond the short's strike, or in the premium band. */
  wingBy: Schema.Literals(["distance", "premium"]),
  /** Points beyond the short's strike (further out of the money) a wing is bought at. */
  wingDistance: perIndex(above(0, 50_000)),
  /** The premium band of a wing chosen by premium, rupees per unit. */
  wingMinPremium: perIndex(above(0, 10_000)),
  wingMaxPremium: perIndex(above(0, 10_000)),
  /** Let the guard's wings exceed the day's spend cap (maxHedgeCostPerDay). */
  mayExceedSpendCap: Schema.Boolean
})

/** Every setting: its type, its bounds and the environment variable that sets it, if any. */
const HedgeConfigFields = Schema.Struct({
  /** Buy hedges when the next entry would push utilisation above this (percent of budget). */
  entryTriggerPct: env("HEDGE_ENTRY_TRIGGER_PCT", Percent),
  /** Utilisation to bring the projection back down to with hedges (percent). */
  entryTargetPct: env("HEDGE_ENTRY_TARGET_PCT", Percent),
  /** Consider removing hedges when utilisation falls below this (percent). */
  exitTriggerPct: env("HEDGE_EXIT_TRIGGER_PCT", Percent),
  /** How long before a scheduled entry the projection is checked (minutes). */
  lookaheadMinutes: env("HEDGE_LOOKAHEAD_MINUTES", Minutes),
  /** Don't remove hedges when an entry is due within this many minutes. */
  exitBufferMinutes: env("HEDGE_EXIT_BUFFER_MINUTES", Minutes),
  /** Premium band of a hedge strike, rupees per unit. */
  minPremium: env("HEDGE_MIN_PREMIUM", above(0, 10_000)),
  maxPremium: env("HEDGE_MAX_PREMIUM", above(0, 10_000)),
  /** Distance band of a hedge strike from the index level (spot), index points (the original design's rule). */
  minOtmDistance: perIndex(between(0, 50_000), "HEDGE_MIN_OTM"),
  maxOtmDistance: perIndex(above(0, 50_000), "HEDGE_MAX_OTM"),
  /** Most spent on hedges per day, rupees. */
  maxHedgeCostPerDay: env("HEDGE_MAX_COST_PER_DAY", between(0, MAX_RUPEES)),
  /**
   * What one entry above 100 % of the budget costs the trader beyond the shortfall penalty, rupees:
   * the value the objective J puts on a blocked or over-budget entry (src/domain/objective.ts).
   */
  breachCostPerEntry: env("HEDGE_BREACH_COST_PER_ENTRY", between(0, MAX_RUPEES)),
  /** Least time between two hedge actions (seconds). */
  cooldownSeconds: env("HEDGE_COOLDOWN_SECONDS", Seconds),
  /**
   * While an entry is still ahead, its decision is taken again this often (seconds; 0: never): the
   * market moves between the look-ahead and the entry, and a hedge may come into the band.
   */
  recheckSeconds: env("HEDGE_RECHECK_SECONDS", RecheckSeconds),
  /** Limit price = LTP + this, rupees. */
  limitPriceBuffer: env("HEDGE_LIMIT_PRICE_BUFFER", between(0, 10_000)),
  /** Never sell a hedge below this price; let it expire instead. */
  minExitPrice: env("HEDGE_MIN_EXIT_PRICE", between(0, 10_000)),
  /** Which hedges go first when hedges are removed. */
  exitOrder: Schema.Literal("farthestFirst"),
  /** Hedge lots bought per basket. */
  lotsPerBasket: perIndex(LotsPerBasket, "HEDGE_LOTS_PER_BASKET"),
  /** How long one order attempt may wait for a fill (seconds). */
  fillTimeoutSeconds: env("HEDGE_FILL_TIMEOUT_SECONDS", between(1, 3600)),
  /** How many times an unfilled order is re-priced before giving up. */
  maxReprices: env("HEDGE_MAX_REPRICES", wholeBetween(0, 100)),
  /** Baskets traded when a session does not say. */
  defaultBaskets: env("DEFAULT_BASKETS", Baskets),
  /** Margin budget per basket, rupees. */
  defaultBudgetPerBasket: env("DEFAULT_BUDGET_PER_BASKET", BudgetPerBasket),
  /** Per-basket straddle margin by index and expiry type (from the config file only). */
  marginConstants: MarginConstantsSchema,
  /** The engine's margin estimate: the constants table, the SPAN-style model, or the broker's basket margin. */
  marginEstimate: Schema.Literals(MARGIN_ESTIMATES),
  /** How hedges are chosen. */
  selectionMethod: Schema.Literals(SELECTION_METHODS),
  /**
   * Buy ahead at the last chance: when no hedge is forecast to be left in the premium band by the next
   * entry's look-ahead, hedge for every entry still to come (fewer breaches on expiry afternoons, more
   * spend).
   */
  anticipateBandExhaustion: Schema.Boolean,
  /**
   * Buy for an entry even when the best set within the spend left cannot bring it under 100 % of the
   * budget (off: such spend saves no entry, and the engine says so instead of buying).
   */
  buyWhenBreachUnavoidable: Schema.Boolean,
  /** The SPAN-style model's parameters (src/domain/span.ts). */
  span: SpanParametersSchema,
  /** How long each outside call may take before it counts as failed. */
  deadlines: DeadlinesSchema,
  /** How stale the daemon's view may grow before it alerts and stops deciding. */
  watchdog: WatchdogSchema,
  /** The optional delta band, a second policy beside the margin engine. */
  deltaBand: DeltaBandSchema,
  /** The overnight guard. */
  overnightGuard: OvernightGuardSchema
})

export interface HedgeConfig extends Schema.Schema.Type<typeof HedgeConfigFields> {}
export type PerIndex<A> = { readonly [I in IndexName]: A }
export type StraddleMarginRow = typeof StraddleMarginRowSchema.Type
export type MarginConstantsTable = typeof MarginConstantsSchema.Type
export type ExitOrder = HedgeConfig["exitOrder"]
export type MarginEstimate = HedgeConfig["marginEstimate"]
export type SelectionMethod = HedgeConfig["selectionMethod"]
export type DeadlinesConfig = HedgeConfig["deadlines"]
export type WatchdogConfig = HedgeConfig["watchdog"]
export type DeltaBandConfig = HedgeConfig["deltaBand"]
export type OvernightGuardConfig = HedgeConfig["overnightGuard"]

/**
 * Rules that tie fields together, reported at the path of the field named first. `name` says how to
 * call the other field in the message (its env var when the environment set it).
 */
const crossFieldRules = (name: (key: string) => string = (key) => key) =>
  Schema.makeFilter((c: HedgeConfig) => {
    const issues: Array<Schema.FilterIssue> = []
    if (!(c.exitTriggerPct < c.entryTargetPct))
      issues.push({ path: ["exitTriggerPct"], issue: `must be less than ${name("entryTargetPct")} (${c.entryTargetPct})` })
    if (!(c.entryTargetPct < c.entryTriggerPct))
      issues.push({ path: ["entryTargetPct"], issue: `must be less than ${name("entryTriggerPct")} (${c.entryTriggerPct})` })
    if (!(c.minPremium <= c.maxPremium))
      issues.push({ path: ["minPremium"], issue: `must not exceed ${name("maxPremium")} (${c.maxPremium})` })
    for (const index of INDICES) {
      if (!(c.overnightGuard.wingMinPremium[index] <= c.overnightGuard.wingMaxPremium[index]))
        issues.push({
          path: ["overnightGuard", "wingMinPremium", index],
          issue: `must not exceed ${name(`overnightGuard.wingMaxPremium.${index}`)} (${c.overnightGuard.wingMaxPremium[index]})`
        })
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

/** A complete, valid configuration (field ranges and cross-field rules). */
export const HedgeConfigSchema = HedgeConfigFields.check(crossFieldRules())

/** A struct with every key optional, in nested structs too, and without rules tying fields together. */
const partialOf = (schema: Schema.Top): Schema.Codec<unknown> => {
  const inner = SchemaAST.isOptional(schema.ast) && "schema" in schema ? (schema.schema as Schema.Top) : schema
  if (!("fields" in inner)) return inner as Schema.Codec<unknown>
  const fields = inner.fields as Record<string, Schema.Top>
  return Schema.Struct(Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, Schema.optionalKey(partialOf(field))])))
}

/** The config file: any subset of the keys; unknown keys are rejected by the decoder options. */
export const HedgeConfigFileSchema = partialOf(HedgeConfigFields)

// ---------------------------------------------------------------------------------------------
// Defaults (the original design's values, README.md says what that is; lots per basket 1 for both
// indices, where the original design's 10 SENSEX lots contradict its own margin table)

const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

export const defaultDeadlines: DeadlinesConfig = { databaseSeconds: 10, brokerSeconds: 15, marketDataSeconds: 10, notifierSeconds: 10, shutdownSeconds: 15 }
export const defaultWatchdog: WatchdogConfig = { lagSeconds: 60, writeSeconds: 120, quoteSeconds: 90, brokerSeconds: 90 }
export const defaultDeltaBand: DeltaBandConfig = { enabled: false, limitPerPct: 100_000, checkSeconds: 300, maxLotsPerWing: 100, maxCostPerDay: 10_000 }
/** docs/overnight-guard.md says why these values. */
export const defaultOvernightGuard: OvernightGuardConfig = {
  enabled: true,
  minutesBeforeClose: 10,
  retrySeconds: 60,
  wingBy: "distance",
  wingDistance: { NIFTY: 500, SENSEX: 1600 },
  wingMinPremium: { NIFTY: 1, SENSEX: 1 },
  wingMaxPremium: { NIFTY: 15, SENSEX: 15 },
  mayExceedSpendCap: false
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
  watchdog: defaultWatchdog,
  deltaBand: defaultDeltaBand,
  overnightGuard: defaultOvernightGuard
})

// ---------------------------------------------------------------------------------------------
// Environment

/** A decimal number as written in an environment variable ("95", "0.10", "-1"); no exponents or hex. */
const DecimalString = Schema.String.check(
  Schema.isPattern(/^[+-]?(\d+(\.\d*)?|\.\d+)$/, { expected: "a decimal number" })
)

interface EnvBinding {
  readonly name: string
  readonly path: ReadonlyArray<string>
  readonly schema: Schema.Codec<number, string>
}

/** The settings annotated with an environment variable, in declaration order. */
const envBindingsOf = (schema: Schema.Top, path: ReadonlyArray<string> = []): ReadonlyArray<EnvBinding> => {
  if ("fields" in schema) {
    return Object.entries(schema.fields as Record<string, Schema.Top>).flatMap(([key, field]) => envBindingsOf(field, [...path, key]))
  }
  const name = SchemaAST.resolveAt<string>("env")(schema.ast)
  if (name === undefined) return []
  const value = schema as Schema.Codec<number, number>
  return [{ name, path, schema: DecimalString.pipe(Schema.decodeTo(value, SchemaTransformation.numberFromString)) }]
}

const ENV_BINDINGS = envBindingsOf(HedgeConfigFields)

/** Every environment variable the configuration reads, in documentation order. */
export const AUTOHEDGE_ENV_NAMES: ReadonlyArray<string> = ENV_BINDINGS.map((b) => b.name)

/** The config key path ("minOtmDistance.NIFTY") an environment variable sets. */
export const envKeyOf = (name: string): string | undefined =>
  ENV_BINDINGS.find((b) => b.name === name)?.path.join(".")

/** Variables that look like hedge settings (HEDGE_*) but are none: a misspelt name would be ignored silently. */
export const unrecognisedEnvNames = (env: Record<string, string | undefined>): ReadonlyArray<string> =>
  Object.keys(env)
    .filter((k) => k.startsWith("HEDGE_") && !AUTOHEDGE_ENV_NAMES.includes(k))
    .sort()

/** Edits (insert, delete, replace a letter) that turn `a` into `b`. */
const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = row
  }
  return previous[b.length]!
}

/** The known variable nearest to a misspelt one. */
const closestEnvName = (name: string): string =>
  AUTOHEDGE_ENV_NAMES.reduce((best, known) => (editDistance(name, known) < editDistance(name, best) ? known : best))

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
  for (const name of unrecognisedEnvNames(env)) {
    problems.push({ key: name, value: JSON.stringify(env[name]), problem: `not a setting; did you mean ${closestEnvName(name)}?`, source: "environment" })
  }
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
