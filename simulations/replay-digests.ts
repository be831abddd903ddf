// `npx tsx simulations/replay-digests.ts [--out file | --check file] [dirs...]`: every day of the
// bundled week and the 4-week set replayed under every policy the simulator knows (the engine on each
// margin estimate too), each day's report reduced to its audit digest and its outcome. A speed-up must
// leave this output byte for byte as it was: record it before the change (`--out`), compare after
// (`--check`, which names every day that differs and exits 1).
import { readFileSync, writeFileSync } from "node:fs"
import { Effect } from "effect"
import { defaultConfig } from "../src/domain/config.ts"
import { engineWith, policyPlan, type PolicyPlan } from "../src/runtime/policies.ts"
import { readDays, simulate } from "./simulate.ts"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const value = args[i + 1]
  args.splice(i, 2)
  return value
}
const out = flag("--out")
const check = flag("--check")
const dirs = args.length > 0 ? args : ["simulations/days", "simulations/four-weeks"]

const config = defaultConfig
const plans: ReadonlyArray<PolicyPlan> = [
  engineWith("span", config),
  engineWith("constants", config),
  engineWith("broker", config),
  policyPlan("reference", config),
  policyPlan("static", config),
  policyPlan("none", config)
]

const lines: Array<string> = []
for (const dir of dirs) {
  const days = await Effect.runPromise(readDays([dir]))
  const runs = await Effect.runPromise(simulate(days, plans, config))
  for (const run of runs) {
    for (const d of run.days) {
      // The digest covers every decision; the rest of the report (spend, hedges, alerts) rides along so
      // a difference is readable.
      const { auditDigest, ...outcome } = d
      lines.push(`${run.policy}\t${d.file}\t${auditDigest}\t${JSON.stringify(outcome)}`)
    }
  }
}
const text = lines.join("\n") + "\n"

if (out !== undefined) writeFileSync(out, text)
if (check !== undefined) {
  const expected = readFileSync(check, "utf8").split("\n")
  const differing = lines.filter((l, i) => l !== expected[i]).map((l) => l.split("\t").slice(0, 2).join(" "))
  if (differing.length > 0 || expected.length !== lines.length + 1) {
    console.error(`replay digests differ from ${check}: ${differing.length} of ${lines.length} day runs${differing.length > 0 ? ":\n  " + differing.join("\n  ") : ` (${expected.length - 1} expected)`}`)
    process.exit(1)
  }
  console.log(`replay digests unchanged: ${lines.length} day runs`)
}
if (out === undefined && check === undefined) process.stdout.write(text)
