// Reads the configuration's sources from the outside world: the config file named by --config or
// AUTOHEDGE_CONFIG, then the environment. Validation is config.ts's job.
import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import { ConfigError, loadConfig, type HedgeConfig } from "../domain/config.ts"

export const loadConfigFrom = (
  env: Record<string, string | undefined>,
  configPath: string | undefined
): Effect.Effect<HedgeConfig, ConfigError> =>
  Effect.gen(function*() {
    const path = configPath ?? env.AUTOHEDGE_CONFIG
    if (path === undefined || path === "") return yield* loadConfig({ env })
    const fileText = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (e) =>
        new ConfigError({
          problems: [{ key: "AUTOHEDGE_CONFIG", value: path, problem: `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? String(e)})` }]
        })
    })
    return yield* loadConfig({ env, fileText, fileName: path })
  })
