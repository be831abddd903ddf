// Regenerates the bundled sample week in simulations/days/ (week of Monday 2026-02-09):
//   npx tsx simulations/write-sample-week.ts
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { generateWeek, SAMPLE_WEEK } from "./generate-week.ts"

const here = dirname(fileURLToPath(import.meta.url))
const schedule = readFileSync(join(here, "..", "config", "schedule.json"), "utf8")
for (const day of generateWeek({ ...SAMPLE_WEEK, schedule })) {
  const path = join(here, "days", day.file)
  writeFileSync(path, day.text)
  console.log(`${path}  ${day.index} expiry ${day.expiry}  regime ${day.regime}  ${day.text.length} bytes`)
}
