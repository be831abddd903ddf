import { defaultSpanParameters } from "../../src/domain/span.ts"
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  AUTOHEDGE_ENV_NAMES,
  ConfigError,
  configKeyPaths,
  defaultConfig,
  envKeyOf,
  loadConfig,
  unrecognisedEnvNames,
  type ConfigSources,
  type HedgeConfig
} from "../../src/domain/config.ts"

const root = new URL("../../", import.meta.url)
const readText = (path: string) => readFileSync(new URL(path, root), "utf8")

const load = (sources: ConfigSources): HedgeConfig => Effect.runSync(loadConfig(sources))
const fail = (sources: ConfigSources): ConfigError => Effect.runSync(Effect.flip(loadConfig(sources)))
const file = (value: unknown) => ({ fileText: JSON.stringify(value), fileName: "autohedge.json" })

describe("defaults", () => {
  it("are the original design's values", () => {
    expect(defaultConfig).toEqual({
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
        SENSEX: { "0DTE": { withoutHedge: 366666.67, withHedge: 160000 } }
      },
      marginEstimate: "span",
      selectionMethod: "optimal",
      anticipateBandExhaustion: false,
      buyWhenBreachUnavoidable: true,
      span: defaultSpanParameters,
      deadlines: { databaseSeconds: 10, brokerSeconds: 15, marketDataSeconds: 10, notifierSeconds: 10, shutdownSeconds: 15 },
      watchdog: { lagSeconds: 60, writeSeconds: 120, quoteSeconds: 90, brokerSeconds: 90 },
      deltaBand: { enabled: false, limitPerPct: 100_000, checkSeconds: 300, maxLotsPerWing: 100, maxCostPerDay: 10_000 },
      overnightGuard: {
        enabled: true,
        minutesBeforeClose: 10,
        retrySeconds: 60,
        wingBy: "distance",
        wingDistance: { NIFTY: 500, SENSEX: 1600 },
        wingMinPremium: { NIFTY: 1, SENSEX: 1 },
        wingMaxPremium: { NIFTY: 15, SENSEX: 15 },
        mayExceedSpendCap: false
      }
    })
  })

  it("load unchanged from an empty environment and no file", () => {
    expect(load({ env: {} })).toEqual(defaultConfig)
  })

  it("are frozen", () => {
    expect(Object.isFrozen(defaultConfig)).toBe(true)
    expect(Object.isFrozen(defaultConfig.marginConstants.NIFTY?.["0DTE"])).toBe(true)
  })

  it("ignore unrelated environment variables", () => {
    expect(load({ env: { PATH: "/usr/bin", HOME: "/root", OPENALGO_API_KEY: "x" } })).toEqual(defaultConfig)
  })
})

describe("sources", () => {
  it("the file overrides the defaults, merging nested objects per key", () => {
    const config = load({
      env: {},
      ...file({
        minPremium: 1.5,
        minOtmDistance: { SENSEX: 600 },
        marginConstants: {
          NIFTY: { "0DTE": { withHedge: 180000 } },
          SENSEX: { "1DTE": { withoutHedge: 300000, withHedge: 130000 } }
        }
      })
    })
    expect(config.minPremium).toBe(1.5)
    expect(config.maxPremium).toBe(6)
    expect(config.minOtmDistance).toEqual({ NIFTY: 200, SENSEX: 600 })
    expect(config.marginConstants.NIFTY?.["0DTE"]).toEqual({ withoutHedge: 433333.33, withHedge: 180000 })
    expect(config.marginConstants.NIFTY?.["1DTE"]).toEqual({ withoutHedge: 320000, withHedge: 140000 })
    expect(config.marginConstants.SENSEX).toEqual({
      "0DTE": { withoutHedge: 366666.67, withHedge: 160000 },
      "1DTE": { withoutHedge: 300000, withHedge: 130000 }
    })
  })

  it("the margin estimate, the selection method and SPAN parameters come from the file, SPAN merged per key", () => {
    const config = load({ env: {}, ...file({ marginEstimate: "constants", selectionMethod: "greedy", span: { priceScanFloorPct: 8, priceShift: "multiplicative" } }) })
    expect(config.marginEstimate).toBe("constants")
    expect(config.selectionMethod).toBe("greedy")
    expect(config.span).toEqual({ ...defaultSpanParameters, priceScanFloorPct: 8, priceShift: "multiplicative" })
    const problems = fail({ env: {}, ...file({ marginEstimate: "guess", span: { volScanPts: -1, priceShift: "sideways" } }) }).problems
    expect(problems.map((p) => p.key).sort()).toEqual(["marginEstimate", "span.priceShift", "span.volScanPts"])
  })

  it("the environment overrides the file", () => {
    const config = load({
      env: { HEDGE_MIN_PREMIUM: "3", HEDGE_MIN_OTM_NIFTY: "250", HEDGE_LOTS_PER_BASKET_SENSEX: "2" },
      ...file({ minPremium: 1.5, maxPremium: 5, minOtmDistance: { NIFTY: 300, SENSEX: 600 } })
    })
    expect(config.minPremium).toBe(3)
    expect(config.maxPremium).toBe(5)
    expect(config.minOtmDistance).toEqual({ NIFTY: 250, SENSEX: 600 })
    expect(config.lotsPerBasket).toEqual({ NIFTY: 1, SENSEX: 2 })
  })

  it("every env var sets its key", () => {
    // A value valid for every key that differs from the default where it can.
    const values: Record<string, string> = {
      HEDGE_ENTRY_TRIGGER_PCT: "96",
      HEDGE_ENTRY_TARGET_PCT: "80",
      HEDGE_EXIT_TRIGGER_PCT: "60",
      HEDGE_LOOKAHEAD_MINUTES: "7",
      HEDGE_EXIT_BUFFER_MINUTES: "20",
      HEDGE_MIN_PREMIUM: "1.5",
      HEDGE_MAX_PREMIUM: "8",
      HEDGE_MIN_OTM_NIFTY: "150",
      HEDGE_MIN_OTM_SENSEX: "400",
      HEDGE_MAX_OTM_NIFTY: "1200",
      HEDGE_MAX_OTM_SENSEX: "3000",
      HEDGE_MAX_COST_PER_DAY: "40000",
      HEDGE_BREACH_COST_PER_ENTRY: "15000",
      HEDGE_COOLDOWN_SECONDS: "90",
      HEDGE_RECHECK_SECONDS: "45",
      HEDGE_LIMIT_PRICE_BUFFER: "0.15",
      HEDGE_MIN_EXIT_PRICE: "0.25",
      HEDGE_LOTS_PER_BASKET_NIFTY: "2",
      HEDGE_LOTS_PER_BASKET_SENSEX: "3",
      HEDGE_FILL_TIMEOUT_SECONDS: "30",
      HEDGE_MAX_REPRICES: "5",
      DEFAULT_BASKETS: "10",
      DEFAULT_BUDGET_PER_BASKET: "900000",
      AUTOHEDGE_DEADLINE_DATABASE_SECONDS: "5",
      AUTOHEDGE_DEADLINE_BROKER_SECONDS: "20",
      AUTOHEDGE_DEADLINE_MARKET_DATA_SECONDS: "7.5",
      AUTOHEDGE_DEADLINE_NOTIFIER_SECONDS: "3",
      AUTOHEDGE_SHUTDOWN_SECONDS: "30",
      AUTOHEDGE_WATCHDOG_LAG_SECONDS: "45",
      AUTOHEDGE_WATCHDOG_WRITE_SECONDS: "100",
      AUTOHEDGE_WATCHDOG_QUOTE_SECONDS: "120",
      AUTOHEDGE_WATCHDOG_BROKER_SECONDS: "150",
      HEDGE_DELTA_BAND_LIMIT_PER_PCT: "150000",
      HEDGE_DELTA_BAND_CHECK_SECONDS: "120",
      HEDGE_DELTA_BAND_MAX_LOTS: "40",
      HEDGE_DELTA_BAND_MAX_COST_PER_DAY: "5000"
    }
    expect(Object.keys(values).sort()).toEqual([...AUTOHEDGE_ENV_NAMES].sort())
    const config = load({ env: values })
    for (const [name, text] of Object.entries(values)) {
      const key = envKeyOf(name)!
      const value = key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config)
      expect(value, name).toBe(Number(text))
    }
  })

  it("the example file lists every key with its default", () => {
    const text = readText("config/autohedge.example.json")
    expect(configKeyPaths(JSON.parse(text))).toEqual(configKeyPaths(defaultConfig))
    expect(load({ env: {}, fileText: text, fileName: "autohedge.example.json" })).toEqual(defaultConfig)
  })

  it("margin constants have no env var", () => {
    expect(AUTOHEDGE_ENV_NAMES.map(envKeyOf).filter((k) => k?.startsWith("marginConstants"))).toEqual([])
  })
})

describe("validation", () => {
  it("reports every bad key of every source in one error", () => {
    const error = fail({
      env: { HEDGE_ENTRY_TRIGGER_PCT: "abc", HEDGE_LOTS_PER_BASKET_NIFTY: "1.5" },
      ...file({ minPremium: -1, minPremum: 3, minOtmDistance: { NIFTY: 300, BANKNIFTY: 100 } })
    })
    expect(error).toBeInstanceOf(ConfigError)
    expect(error._tag).toBe("ConfigError")
    const byKey = Object.fromEntries(error.problems.map((p) => [p.key, p]))
    expect(Object.keys(byKey).sort()).toEqual(
      ["HEDGE_ENTRY_TRIGGER_PCT", "HEDGE_LOTS_PER_BASKET_NIFTY", "minOtmDistance.BANKNIFTY", "minPremium", "minPremum"].sort()
    )
    expect(byKey["HEDGE_ENTRY_TRIGGER_PCT"]!.value).toBe('"abc"')
    expect(byKey["minPremium"]!.value).toBe("-1")
    expect(byKey["minPremum"]!.problem).toMatch(/unknown key/)
    expect(byKey["minOtmDistance.BANKNIFTY"]!.problem).toMatch(/unknown key/)
    expect(byKey["HEDGE_LOTS_PER_BASKET_NIFTY"]!.problem).toMatch(/integer/)
    // The message lists every problem on its own line, naming key and value.
    const lines = error.message.split("\n")
    expect(lines).toHaveLength(1 + 5)
    expect(lines.some((l) => l.includes("HEDGE_ENTRY_TRIGGER_PCT") && l.includes('"abc"'))).toBe(true)
    expect(lines.some((l) => l.startsWith("minPremium = -1") && l.includes("autohedge.json"))).toBe(true)
    expect(lines.some((l) => l.startsWith("minPremum = 3") && l.includes("unknown key"))).toBe(true)
  })

  it.each([
    ["abc"],
    [""],
    [" 95"],
    ["1e2"],
    ["0x5f"],
    ["95%"],
    ["Infinity"],
    ["NaN"]
  ])("rejects the env number %j", (text) => {
    const error = fail({ env: { HEDGE_ENTRY_TRIGGER_PCT: text } })
    expect(error.problems).toEqual([
      expect.objectContaining({ key: "HEDGE_ENTRY_TRIGGER_PCT", value: JSON.stringify(text) })
    ])
  })

  it.each([
    ["HEDGE_ENTRY_TRIGGER_PCT", "0"],
    ["HEDGE_ENTRY_TRIGGER_PCT", "201"],
    ["HEDGE_EXIT_TRIGGER_PCT", "-5"],
    ["HEDGE_LOOKAHEAD_MINUTES", "-1"],
    ["HEDGE_COOLDOWN_SECONDS", "-0.5"],
    ["HEDGE_MIN_PREMIUM", "0"],
    ["HEDGE_MAX_PREMIUM", "-2"],
    ["HEDGE_MAX_REPRICES", "2.5"],
    ["HEDGE_MAX_REPRICES", "-1"],
    ["DEFAULT_BASKETS", "0"],
    ["DEFAULT_BASKETS", "1.5"],
    ["HEDGE_LOTS_PER_BASKET_SENSEX", "0"],
    ["HEDGE_FILL_TIMEOUT_SECONDS", "0"],
    ["DEFAULT_BUDGET_PER_BASKET", "0"]
  ])("rejects out-of-range %s=%s", (name, text) => {
    const error = fail({ env: { [name]: text } })
    expect(error.problems.map((p) => p.key)).toEqual([name])
  })

  // Values that once ran for minutes or silently distorted a day (issue 19): each has a floor and a ceiling.
  it.each([
    ["HEDGE_RECHECK_SECONDS", "0.000001"],
    ["HEDGE_RECHECK_SECONDS", "0.5"],
    ["HEDGE_RECHECK_SECONDS", "100000"],
    ["HEDGE_FILL_TIMEOUT_SECONDS", "0.001"],
    ["HEDGE_COOLDOWN_SECONDS", "99999999"],
    ["HEDGE_LOOKAHEAD_MINUTES", "10000"],
    ["HEDGE_MAX_COST_PER_DAY", "100000000000"],
    ["HEDGE_MAX_PREMIUM", "99999"],
    ["HEDGE_MAX_OTM_NIFTY", "1000000"],
    ["HEDGE_MAX_REPRICES", "1000000"],
    ["HEDGE_LOTS_PER_BASKET_NIFTY", "5000"],
    ["DEFAULT_BASKETS", "30000000"],
    ["DEFAULT_BUDGET_PER_BASKET", "0.0001"],
    ["DEFAULT_BUDGET_PER_BASKET", "100000000000000"]
  ])("rejects the implausible %s=%s in one line naming it and the bounds", (name, text) => {
    const error = fail({ env: { [name]: text } })
    expect(error.problems.map((p) => p.key)).toEqual([name])
    const line = error.message.split("\n")[1]!
    expect(line).toMatch(new RegExp(`^${name} = "${text.replace(".", "\\.")}": expected .*between`))
  })

  it("rejects implausible values in the file too, naming the key path and the value", () => {
    const error = fail({ env: {}, ...file({ defaultBudgetPerBasket: 1e-300, maxHedgeCostPerDay: 1e308, recheckSeconds: 0.000001, marginConstants: { NIFTY: { "0DTE": { withoutHedge: 1e308 } } } }) })
    expect(error.problems.map((p) => `${p.key} = ${p.value}`).sort()).toEqual(
      ["defaultBudgetPerBasket = 1e-300", "marginConstants.NIFTY.0DTE.withoutHedge = 1e+308", "maxHedgeCostPerDay = 1e+308", "recheckSeconds = 0.000001"]
    )
  })

  it.each([
    ["HEDGE_RECHECK_SECONDS", "1"],
    ["HEDGE_RECHECK_SECONDS", "22500"],
    ["HEDGE_FILL_TIMEOUT_SECONDS", "1"],
    ["DEFAULT_BASKETS", "10000"],
    ["DEFAULT_BUDGET_PER_BASKET", "1000"],
    ["HEDGE_ENTRY_TRIGGER_PCT", "200"],
    ["HEDGE_LOOKAHEAD_MINUTES", "0"],
    ["HEDGE_COOLDOWN_SECONDS", "0"],
    ["HEDGE_MAX_REPRICES", "0"],
    ["HEDGE_LIMIT_PRICE_BUFFER", "0"],
    ["HEDGE_MIN_EXIT_PRICE", ".25"]
  ])("accepts the boundary %s=%s", (name, text) => {
    expect(() => load({ env: { [name]: text } })).not.toThrow()
  })

  it("rejects wrong types and values in the file, naming the key path", () => {
    const error = fail({
      env: {},
      ...file({
        entryTriggerPct: "95",
        exitOrder: "nearestFirst",
        lotsPerBasket: { NIFTY: 2.5 },
        marginConstants: { NIFTY: { "0DTE": { withHedge: -1 } }, SENSEX: { "3DTE": {} }, BANKNIFTY: {} }
      })
    })
    const keys = error.problems.map((p) => p.key).sort()
    expect(keys).toEqual(
      [
        "entryTriggerPct",
        "exitOrder",
        "lotsPerBasket.NIFTY",
        "marginConstants.BANKNIFTY",
        "marginConstants.NIFTY.0DTE.withHedge",
        "marginConstants.SENSEX.3DTE"
      ].sort()
    )
    expect(error.problems.find((p) => p.key === "entryTriggerPct")!.value).toBe('"95"')
    expect(error.message).toContain("marginConstants.NIFTY.0DTE.withHedge = -1")
  })

  it("bounds the SPAN parameters too: a volatility written in percent is refused", () => {
    const error = fail({ env: {}, ...file({ span: { indexVolAnnual: 12, extremeMoveMultiple: 1e9 } }) })
    expect(error.problems.map((p) => `${p.key} = ${p.value}`).sort()).toEqual(["span.extremeMoveMultiple = 1000000000", "span.indexVolAnnual = 12"])
  })

  it("refuses a file nested 100,000 deep before parsing it, naming the file", () => {
    const error = fail({ env: {}, fileText: '{"span":' + "[".repeat(100_000) + "]".repeat(100_000) + "}", fileName: "deep.json" })
    expect(error.message).toBe("invalid configuration (1 problem):\ndeep.json: invalid JSON: nested deeper than 32 levels at position 39")
  })

  it("reports invalid JSON with the file name", () => {
    const error = fail({ env: {}, fileText: '{ "minPremium": 2, }', fileName: "/etc/autohedge.json" })
    expect(error.problems).toHaveLength(1)
    expect(error.message).toMatch(/\/etc\/autohedge\.json: invalid JSON/)
  })

  it("reports invalid JSON together with env problems", () => {
    const error = fail({ env: { HEDGE_MAX_PREMIUM: "six" }, fileText: "minPremium = 2", fileName: "a.json" })
    expect(error.problems.map((p) => p.key)).toEqual(["a.json", "HEDGE_MAX_PREMIUM"])
  })

  it("rejects a file that is not an object", () => {
    const error = fail({ env: {}, fileText: "[1, 2]", fileName: "a.json" })
    expect(error.message).toMatch(/a\.json.*JSON object/)
  })
})

describe("cross-field rules", () => {
  it("exitTriggerPct < entryTargetPct < entryTriggerPct", () => {
    expect(fail({ env: { HEDGE_EXIT_TRIGGER_PCT: "85" } }).problems).toEqual([
      expect.objectContaining({ key: "HEDGE_EXIT_TRIGGER_PCT", value: '"85"' })
    ])
    const e2 = fail({ env: {}, ...file({ entryTargetPct: 95 }) })
    expect(e2.problems).toEqual([expect.objectContaining({ key: "entryTargetPct", value: "95" })])
    expect(e2.problems[0]!.problem).toMatch(/entryTriggerPct \(95\)/)
  })

  it("names the other field by the env var that set it", () => {
    const error = fail({ env: { HEDGE_MAX_PREMIUM: "1" } })
    expect(error.problems).toEqual([expect.objectContaining({ key: "minPremium", value: "2", source: "default" })])
    expect(error.problems[0]!.problem).toContain("HEDGE_MAX_PREMIUM (1)")
  })

  it("minPremium <= maxPremium (equal is allowed)", () => {
    expect(load({ env: { HEDGE_MIN_PREMIUM: "4", HEDGE_MAX_PREMIUM: "4" } }).minPremium).toBe(4)
    expect(fail({ env: { HEDGE_MIN_PREMIUM: "4.05", HEDGE_MAX_PREMIUM: "4" } }).problems.map((p) => p.key)).toEqual([
      "HEDGE_MIN_PREMIUM"
    ])
  })

  it("minOtmDistance <= maxOtmDistance per index", () => {
    const error = fail({ env: { HEDGE_MAX_OTM_SENSEX: "400" }, ...file({ minOtmDistance: { NIFTY: 1001 } }) })
    expect(error.problems.map((p) => p.key).sort()).toEqual(["minOtmDistance.NIFTY", "minOtmDistance.SENSEX"])
  })

  it("withHedge <= withoutHedge in every margin row", () => {
    const error = fail({ env: {}, ...file({ marginConstants: { SENSEX: { "0DTE": { withHedge: 400000 } } } }) })
    expect(error.problems).toEqual([
      expect.objectContaining({ key: "marginConstants.SENSEX.0DTE.withHedge", value: "400000" })
    ])
  })

  it("a margin row added incompletely is reported along with cross-field violations", () => {
    const error = fail({
      env: { HEDGE_ENTRY_TARGET_PCT: "99" },
      ...file({ marginConstants: { SENSEX: { "2DTE": { withHedge: 100000 } } } })
    })
    expect(error.problems.map((p) => p.key).sort()).toEqual(
      ["HEDGE_ENTRY_TARGET_PCT", "marginConstants.SENSEX.2DTE.withoutHedge"].sort()
    )
    expect(error.problems.find((p) => p.key === "marginConstants.SENSEX.2DTE.withoutHedge")!.source).toBe(
      "autohedge.json"
    )
  })

  it("accepts any ordered thresholds (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 198 }),
        fc.integer({ min: 1, max: 198 }),
        fc.integer({ min: 1, max: 198 }),
        (a, b, c) => {
          const [exit, target, trigger] = [a, b, c].sort((x, y) => x - y) as [number, number, number]
          const result = Effect.runSyncExit(
            loadConfig({
              env: {
                HEDGE_EXIT_TRIGGER_PCT: String(exit),
                HEDGE_ENTRY_TARGET_PCT: String(target),
                HEDGE_ENTRY_TRIGGER_PCT: String(trigger)
              }
            })
          )
          const strictlyOrdered = exit < target && target < trigger
          expect(result._tag === "Success").toBe(strictlyOrdered)
        }
      )
    )
  })
})

describe("env names", () => {
  it("include the original design's names", () => {
    for (const name of [
      "HEDGE_ENTRY_TRIGGER_PCT",
      "HEDGE_ENTRY_TARGET_PCT",
      "HEDGE_EXIT_TRIGGER_PCT",
      "HEDGE_LOOKAHEAD_MINUTES",
      "HEDGE_EXIT_BUFFER_MINUTES",
      "HEDGE_MIN_PREMIUM",
      "HEDGE_MAX_PREMIUM",
      "HEDGE_MAX_COST_PER_DAY",
      "HEDGE_COOLDOWN_SECONDS",
      "DEFAULT_BUDGET_PER_BASKET"
    ])
      expect(AUTOHEDGE_ENV_NAMES).toContain(name)
    expect(new Set(AUTOHEDGE_ENV_NAMES).size).toBe(AUTOHEDGE_ENV_NAMES.length)
  })

  it("unrecognised HEDGE_* names are listed", () => {
    expect(unrecognisedEnvNames({ HEDGE_ENTRY_TRIGER_PCT: "90", HEDGE_MIN_PREMIUM: "2", PATH: "/bin" })).toEqual([
      "HEDGE_ENTRY_TRIGER_PCT"
    ])
  })

  it("a misspelt HEDGE_* variable is an error naming it and the closest setting", () => {
    const error = fail({ env: { HEDGE_ENTRY_TRIGER_PCT: "90", HEDGE_MAX_OTM_NIFTI: "900", HEDGE_MIN_PREMIUM: "2", PATH: "/bin" } })
    expect(error.message.split("\n").slice(1).sort()).toEqual([
      'HEDGE_ENTRY_TRIGER_PCT = "90": not a setting; did you mean HEDGE_ENTRY_TRIGGER_PCT?',
      'HEDGE_MAX_OTM_NIFTI = "900": not a setting; did you mean HEDGE_MAX_OTM_NIFTY?'
    ])
  })

  it("each setting's bounds hold when it comes from the environment", () => {
    expect(fail({ env: { HEDGE_MAX_REPRICES: "2.5" } }).problems.map((p) => p.key)).toEqual(["HEDGE_MAX_REPRICES"])
    expect(fail({ env: { AUTOHEDGE_WATCHDOG_LAG_SECONDS: "1" } }).problems.map((p) => p.key)).toEqual(["AUTOHEDGE_WATCHDOG_LAG_SECONDS"])
  })
})

describe("docs/configuration.md", () => {
  const docs = readText("docs/configuration.md")
  const rows = new Map<string, { env: string; def: string }>()
  for (const line of docs.split("\n")) {
    const m = /^\| `([^`]+)` \| (`[A-Z_]+`|—) \| `([^`]+)` \|/.exec(line)
    if (m) rows.set(m[1]!, { env: m[2]!.replaceAll("`", ""), def: m[3]! })
  }

  it("has a row for every key of the defaults, with its default", () => {
    const keys = configKeyPaths(defaultConfig)
    expect(keys.length).toBeGreaterThan(20)
    for (const key of keys) {
      const row = rows.get(key)
      expect(row, `docs row for ${key}`).toBeDefined()
      const value = key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], defaultConfig)
      expect(row!.def, key).toBe(JSON.stringify(value))
    }
    expect([...rows.keys()].sort()).toEqual([...keys].sort())
  })

  it("names each key's env var", () => {
    for (const [key, row] of rows) {
      const name = AUTOHEDGE_ENV_NAMES.find((n) => envKeyOf(n) === key)
      expect(row.env, key).toBe(name ?? "—")
    }
  })
})
