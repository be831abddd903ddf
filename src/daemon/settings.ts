// What the daemon needs beyond the hedge configuration, from the environment (names as in the original design
// document where it has them: OPENALGO_BASE_URL, OPENALGO_API_KEY, DATABASE_URL), checked together
// with the hedge configuration so that a start lists every problem at once. The API key is kept
// redacted from here on: no log line, error or audit row can print it.
import { Effect, Redacted } from "effect"
import { RATE_LIMIT_DEFAULTS } from "../../adapters/openalgo/client.ts"
import { ConfigError, type ConfigProblem, type HedgeConfig } from "../domain/config.ts"
import { loadConfigFrom } from "../runtime/load-config.ts"
import { LOG_LEVELS, type LogLevel } from "./log.ts"

export const DAEMON_MODES = ["live", "paper", "recommend"] as const
export type DaemonMode = (typeof DAEMON_MODES)[number]

/** The venue traded when AUTOHEDGE_VENUE is not set. */
export const DEFAULT_VENUE = "openalgo"

export interface DaemonSettings {
  readonly mode: DaemonMode
  /** The broker traded, by its name in adapters/venues.ts (default openalgo). */
  readonly venue?: string
  /** In paper mode: the venue's own sandbox (its name: "openalgo", OpenAlgo's analyzer), or "internal", this process's own paper broker over live data. */
  readonly paperBroker: string
  /** OpenAlgo's API root, "http://host:port/api/v1". */
  readonly openalgoUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly scheduleFile: string
  readonly holidaysFile: string
  /** Market milliseconds between two clock events. */
  readonly tickMs: number
  /**
   * Requests per second OpenAlgo allows on each route (its ORDER_RATE_LIMIT, API_RATE_LIMIT, and
   * API_RATE_LIMIT's own fallback on /margin); margin defaults to the data limit when only that is set.
   */
  readonly rateLimits: { readonly ordersPerSecond: number; readonly dataPerSecond: number; readonly marginPerSecond?: number }
  readonly logFormat: "text" | "json"
  /** The least level logged (default info): debug adds every clock transition. */
  readonly logLevel?: LogLevel
  readonly config: HedgeConfig
  /** Zerodha Kite Connect access, when both KITE_API_KEY and KITE_ACCESS_TOKEN are set (margin calibrate --broker kite). */
  readonly kite?: { readonly apiKey: Redacted.Redacted<string>; readonly accessToken: Redacted.Redacted<string> }
}

export interface DaemonFlags {
  readonly mode: string
  readonly paperBroker?: string | undefined
  readonly configPath?: string | undefined
}

/** Environment variables the daemon reads (documented in .env.example). */
export const DAEMON_ENV = {
  venue: "AUTOHEDGE_VENUE",
  baseUrl: "OPENALGO_BASE_URL",
  apiKey: "OPENALGO_API_KEY",
  schedule: "AUTOHEDGE_SCHEDULE",
  holidays: "AUTOHEDGE_HOLIDAYS_FILE",
  tick: "AUTOHEDGE_TICK_SECONDS",
  orderRate: "OPENALGO_ORDER_RATE_LIMIT",
  dataRate: "OPENALGO_API_RATE_LIMIT",
  marginRate: "OPENALGO_MARGIN_RATE_LIMIT",
  logFormat: "AUTOHEDGE_LOG_FORMAT",
  logLevel: "AUTOHEDGE_LOG_LEVEL",
  kiteApiKey: "KITE_API_KEY",
  kiteAccessToken: "KITE_ACCESS_TOKEN"
} as const

export const apiRootOf = (base: string): string | undefined => {
  try {
    const url = new URL(base)
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined
    const path = url.pathname.replace(/\/+$/, "")
    return `${url.origin}${path.endsWith("/api/v1") ? path : `${path}/api/v1`}`
  } catch {
    return undefined
  }
}

export const loadDaemonSettings = (env: Record<string, string | undefined>, flags: DaemonFlags): Effect.Effect<DaemonSettings, ConfigError> =>
  Effect.gen(function*() {
    const problems: Array<ConfigProblem> = []
    const bad = (key: string, value: string, problem: string) => problems.push({ key, value: JSON.stringify(value), problem, source: key.startsWith("--") ? "command line" : "environment" })
    const mode = flags.mode as DaemonMode
    if (!DAEMON_MODES.includes(mode)) bad("--mode", flags.mode, `must be one of ${DAEMON_MODES.join(", ")}`)
    // Which venues exist is the venue registry's to say (adapters/venues.ts), when the daemon starts.
    const venue = env[DAEMON_ENV.venue]?.trim() || DEFAULT_VENUE
    const paperBroker = flags.paperBroker ?? venue
    if (paperBroker !== venue && paperBroker !== "internal") bad("--paper-broker", paperBroker, `must be internal or ${venue} (paper trading at the venue itself: OpenAlgo's analyzer mode)`)
    const base = env[DAEMON_ENV.baseUrl]?.trim() || "http://127.0.0.1:5000"
    const openalgoUrl = apiRootOf(base)
    if (openalgoUrl === undefined) bad(DAEMON_ENV.baseUrl, base, "must be an http(s) URL such as http://127.0.0.1:5000")
    const key = env[DAEMON_ENV.apiKey]?.trim() ?? ""
    // The value is never echoed, not even in this message.
    if (key === "") problems.push({ key: DAEMON_ENV.apiKey, value: "(not set)", problem: "required: the OpenAlgo API key (OpenAlgo > API Key)", source: "environment" })
    const tickText = env[DAEMON_ENV.tick]?.trim() || "1"
    const tick = Number(tickText)
    if (!/^\d+(\.\d+)?$/.test(tickText) || !(tick > 0 && tick <= 60)) bad(DAEMON_ENV.tick, tickText, "must be a number of seconds in (0, 60]")
    const perSecond = (name: string, fallback: number) => {
      const text = env[name]?.trim() || String(fallback)
      if (!/^\d+$/.test(text) || Number(text) < 1) bad(name, text, "must be a whole number of requests per second, at least 1 (as set in OpenAlgo)")
      return Number(text)
    }
    // OpenAlgo's own fallbacks when its .env leaves them unset; API_RATE_LIMIT, once set, governs /margin too.
    const dataSet = (env[DAEMON_ENV.dataRate]?.trim() ?? "") !== ""
    const dataPerSecond = perSecond(DAEMON_ENV.dataRate, RATE_LIMIT_DEFAULTS.dataPerSecond)
    const rateLimits = {
      ordersPerSecond: perSecond(DAEMON_ENV.orderRate, RATE_LIMIT_DEFAULTS.ordersPerSecond),
      dataPerSecond,
      marginPerSecond: perSecond(DAEMON_ENV.marginRate, dataSet ? dataPerSecond : RATE_LIMIT_DEFAULTS.marginPerSecond)
    }
    const logFormat = env[DAEMON_ENV.logFormat]?.trim() || "text"
    if (logFormat !== "text" && logFormat !== "json") bad(DAEMON_ENV.logFormat, logFormat, "must be text or json")
    const logLevel = env[DAEMON_ENV.logLevel]?.trim() || "info"
    if (!(LOG_LEVELS as ReadonlyArray<string>).includes(logLevel)) bad(DAEMON_ENV.logLevel, logLevel, `must be one of ${LOG_LEVELS.join(", ")}`)
    // Kite access is optional, but half of it is a mistake; neither value is ever echoed.
    const kiteApiKey = env[DAEMON_ENV.kiteApiKey]?.trim() ?? ""
    const kiteToken = env[DAEMON_ENV.kiteAccessToken]?.trim() ?? ""
    if ((kiteApiKey === "") !== (kiteToken === "")) {
      const [missing, other] = kiteApiKey === "" ? [DAEMON_ENV.kiteApiKey, DAEMON_ENV.kiteAccessToken] : [DAEMON_ENV.kiteAccessToken, DAEMON_ENV.kiteApiKey]
      problems.push({ key: missing, value: "(not set)", problem: `required with ${other}: Kite Connect needs both the app's API key and the day's access token`, source: "environment" })
    }
    const config = yield* loadConfigFrom(env, flags.configPath).pipe(
      Effect.catchTag("ConfigError", (e) => {
        problems.push(...e.problems)
        return Effect.succeed(undefined)
      })
    )
    if (problems.length > 0 || config === undefined) return yield* new ConfigError({ problems })
    return {
      mode,
      venue,
      paperBroker,
      openalgoUrl: openalgoUrl!,
      apiKey: Redacted.make(key),
      scheduleFile: env[DAEMON_ENV.schedule]?.trim() || "config/schedule.json",
      holidaysFile: env[DAEMON_ENV.holidays]?.trim() || "config/holidays.json",
      tickMs: tick * 1000,
      rateLimits,
      logFormat: logFormat as DaemonSettings["logFormat"],
      logLevel: logLevel as LogLevel,
      config,
      ...(kiteApiKey === "" ? {} : { kite: { apiKey: Redacted.make(kiteApiKey), accessToken: Redacted.make(kiteToken) } })
    }
  })
