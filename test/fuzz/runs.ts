// How many cases each fuzz property tries: a small sample in the normal test run (a few seconds in
// all), as many as asked with AUTOHEDGE_FUZZ_RUNS (the long run: `AUTOHEDGE_FUZZ_RUNS=20000 npx vitest
// run test/fuzz`). A failure prints fast-check's seed and path; AUTOHEDGE_FUZZ_SEED replays that seed.
import type { Parameters } from "fast-check"

const runs = Number(process.env.AUTOHEDGE_FUZZ_RUNS ?? "")
const seed = Number(process.env.AUTOHEDGE_FUZZ_SEED ?? "")

export const isLongRun = Number.isInteger(runs) && runs > 0

export const fuzzParameters = <T>(sample: number): Parameters<T> => ({
  numRuns: isLongRun ? runs : sample,
  ...(Number.isInteger(seed) && process.env.AUTOHEDGE_FUZZ_SEED !== "" && process.env.AUTOHEDGE_FUZZ_SEED !== undefined ? { seed } : {})
})

/** A test's time limit: generous for the long run, which has no time target. */
export const fuzzTimeout = (sampleMs: number): number => (isLongRun ? 24 * 3600_000 : sampleMs)

/** A message fit for the operator: one line, short, no stack trace. */
export const isOperatorMessage = (message: string): boolean =>
  message.length > 0 && message.length < 600 && !/[\r\n]/.test(message) && !/\bat .*\(.*:\d+:\d+\)/.test(message)
