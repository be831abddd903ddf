// Fuzzing the settings: random environments (every variable the configuration reads, set to numbers
// of every size, signs and spellings, or text) and random config files (known keys, misspelt ones,
// any JSON, deep nesting, not JSON at all). Loading either gives a configuration inside every bound
// or fails with a ConfigError: one line per problem, each naming its key and value. Never a defect.
import fc from "fast-check"
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { AUTOHEDGE_ENV_NAMES, ConfigError, configKeyPaths, defaultConfig, loadConfig } from "../../src/domain/config.ts"
import { fuzzParameters, fuzzTimeout, isOperatorMessage } from "./runs.ts"

const KEY_PATHS = configKeyPaths(defaultConfig)

const number = fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constantFrom(0, -0, 1e-300, 1e308, 0.000001, 30_000_000, 2 ** 53, -1, 0.5, 1, 22_500, 22_501))
const envText = fc.oneof(
  number.map(String),
  number.map((n) => (Number.isFinite(n) ? n.toFixed(6) : String(n))),
  fc.constantFrom("", " ", "abc", "1e3", "0x10", "Infinity", "-", ".", "95%", "1_000"),
  fc.string({ maxLength: 12 })
)
const environment = fc.dictionary(fc.oneof(fc.constantFrom(...AUTOHEDGE_ENV_NAMES), fc.constant("HEDGE_TYPO")), envText, { maxKeys: 6 })

const setPath = (root: Record<string, unknown>, path: string, value: unknown) => {
  const keys = path.split(".")
  let cur = root
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>
  cur[keys[keys.length - 1]!] = value
}
const fileValue = fc.oneof(number, fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("95", null, true, "optimal", "broker", [], {}))
const fileObject = fc
  .array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KEY_PATHS) }, fc.string({ maxLength: 10 })), fileValue), { maxLength: 6 })
  .map((pairs) => {
    const root: Record<string, unknown> = {}
    for (const [path, value] of pairs) {
      try {
        setPath(root, path, value)
      } catch {
        // a path through a value that is not an object: leave it
      }
    }
    return JSON.stringify(root)
  })
const fileText = fc.oneof(
  { weight: 6, arbitrary: fileObject },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 33, max: 100_000 }).map((d) => `{"span":${"[".repeat(d)}${"]".repeat(d)}}`) }
)

describe("fuzzing settings", () => {
  it("every environment and config file loads inside the bounds or fails naming each key and value", () => {
    fc.assert(
      fc.property(environment, fc.option(fileText, { nil: undefined }), (env, text) => {
        const exit = Effect.runSyncExit(loadConfig({ env, ...(text === undefined ? {} : { fileText: text, fileName: "fuzz.json" }) }))
        if (Exit.isSuccess(exit)) {
          const c = exit.value
          expect(c.recheckSeconds === 0 || (c.recheckSeconds >= 1 && c.recheckSeconds <= 22_500)).toBe(true)
          expect(c.fillTimeoutSeconds).toBeGreaterThanOrEqual(1)
          expect(c.defaultBaskets * c.defaultBudgetPerBasket).toBeLessThanOrEqual(1e13)
          expect(c.defaultBudgetPerBasket).toBeGreaterThanOrEqual(1000)
          expect(Number.isFinite(c.maxHedgeCostPerDay)).toBe(true)
          return
        }
        expect(Cause.hasDies(exit.cause), Cause.pretty(exit.cause)).toBe(false)
        const error = Cause.squash(exit.cause)
        expect(error).toBeInstanceOf(ConfigError)
        const problems = (error as ConfigError).problems
        expect(problems.length).toBeGreaterThan(0)
        const lines = (error as ConfigError).message.split("\n")
        expect(lines).toHaveLength(problems.length + 1)
        problems.forEach((p, i) => {
          expect(p.key.length, lines[i + 1]).toBeGreaterThan(0)
          expect(lines[i + 1]!.startsWith(p.key), lines[i + 1]).toBe(true)
          expect(isOperatorMessage(lines[i + 1]!), lines[i + 1]).toBe(true)
        })
      }),
      fuzzParameters(400)
    )
  }, fuzzTimeout(60_000))
})
