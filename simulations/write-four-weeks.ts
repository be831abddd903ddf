// Regenerates the four-week set in simulations/four-weeks/ (20 trading days, Monday 6 to Friday
// 31 July 2026; see FOUR_WEEKS in generate-week.ts):
//   npx tsx simulations/write-four-weeks.ts
// The files depend only on FOUR_WEEKS, config/schedule.json, config/instruments.json and
// config/holidays.json, so the same inputs give byte-identical files on every machine.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { holidaysOf } from "../src/domain/calendar.ts"
import { parseCalendarFile } from "../src/services/calendar.ts"
import { FOUR_WEEKS, generateTradingDays, type WeekFile } from "./generate-week.ts"

const here = dirname(fileURLToPath(import.meta.url))
const CONFIG = join(here, "..", "config")

/** Where the set lives. */
export const FOUR_WEEKS_DIR = join(here, "four-weeks")

/** The four-week set's files, from the bundled schedule, instruments and holidays. */
export const fourWeeks = (): Array<WeekFile> => {
  const schedule = readFileSync(join(CONFIG, "schedule.json"), "utf8")
  const calendar = Effect.runSync(parseCalendarFile(readFileSync(join(CONFIG, "holidays.json"), "utf8"), "config/holidays.json"))
  return generateTradingDays({ ...FOUR_WEEKS, schedule, holidays: { NSE: holidaysOf(calendar, "NSE"), BSE: holidaysOf(calendar, "BSE") } })
}

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(2)}%`

const write = (): void => {
  const files = fourWeeks()
  mkdirSync(FOUR_WEEKS_DIR, { recursive: true })
  const keep = new Set(files.map((f) => f.file))
  for (const old of readdirSync(FOUR_WEEKS_DIR)) {
    if (old.endsWith(".jsonl") && !keep.has(old)) rmSync(join(FOUR_WEEKS_DIR, old))
  }
  let total = 0
  for (const f of files) {
    writeFileSync(join(FOUR_WEEKS_DIR, f.file), f.text)
    const bytes = Buffer.byteLength(f.text)
    total += bytes
    const m = f.meta
    const exits = f.text.split("\n").filter((l) => l.startsWith('{"type":"exit"')).length
    console.log(
      [
        f.date,
        f.weekday.slice(0, 3),
        f.index.padEnd(6),
        `expiry ${f.expiry}`,
        `${f.dte}DTE`,
        f.regime.padEnd(8),
        `gap ${pct(m.open / m.previousClose - 1)}`,
        `day ${pct(m.close / m.open - 1)}`,
        `range ${pct(m.high / m.low - 1)}`,
        `ATM IV ${(100 * m.atmIvOpen).toFixed(1)}→${(100 * m.atmIvClose).toFixed(1)}`,
        `${exits} SL`,
        `${(bytes / 1024).toFixed(0)} KiB`
      ].join("  ")
    )
  }
  console.log(`${files.length} files, ${(total / 1024 / 1024).toFixed(2)} MiB in ${FOUR_WEEKS_DIR}`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) write()
