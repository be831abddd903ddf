// The validation set in simulations/validation/: 48 trading days kept apart from development. Nobody
// tunes on it: it is run to check a change, never to choose one (simulations/validation/README.md).
//   npx tsx simulations/write-validation.ts           # (re)write the files
//   npx tsx simulations/write-validation.ts --check   # regenerate in memory, compare with the files
// Its seed was never used in development. A day type's j-th day (j = 0, 1, …) takes the j-th regime
// in turn and the budget level (j + its weekday's number) in turn: every day type meets every regime
// and every budget level, and every budget level every regime (a holiday skips a day without breaking
// that). The files are gzipped: what must match byte for byte is the text inside (gzip's own bytes
// depend on zlib).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync, gzipSync } from "node:zlib"
import { Effect } from "effect"
import { holidaysOf } from "../src/domain/calendar.ts"
import { parseCalendarFile } from "../src/services/calendar.ts"
import { REGIMES, type Regime } from "./generator.ts"
import { type BudgetScale, generateTradingDays, type WeekFile } from "./generate-week.ts"

const here = dirname(fileURLToPath(import.meta.url))
const CONFIG = join(here, "..", "config")

export const VALIDATION_DIR = join(here, "validation")

const LEVELS: ReadonlyArray<BudgetScale> = ["comfortable", "standard", "lean", "short"]

/** 48 trading days from Monday 7 September 2026 (the calendar's holidays skipped). */
export const VALIDATION = {
  start: "2026-09-07",
  days: 48,
  seed: 58213977,
  tickSeconds: 60,
  baskets: 15,
  budgetPerBasket: 1_000_000,
  model: "v2",
  chainStrikes: "tick",
  borrow: { Wednesday: "Friday" }
} as const

const WEEKDAY_NUMBER: Readonly<Record<string, number>> = { Monday: 0, Tuesday: 1, Wednesday: 2, Thursday: 3, Friday: 4 }

/** Regime and budget level of each day: the j-th day of a day type takes the j-th regime, level j + weekday. */
const plan = (days: ReadonlyArray<{ readonly date: string; readonly weekday: string }>) => {
  const seen = new Map<string, number>()
  return days.map(({ date, weekday }) => {
    const j = seen.get(weekday) ?? 0
    seen.set(weekday, j + 1)
    return { date, regime: REGIMES[j % REGIMES.length]! as Regime, level: LEVELS[(j + WEEKDAY_NUMBER[weekday]!) % LEVELS.length]! }
  })
}

export const validationDays = (): Array<WeekFile> => {
  const schedule = readFileSync(join(CONFIG, "schedule.json"), "utf8")
  const calendar = Effect.runSync(parseCalendarFile(readFileSync(join(CONFIG, "holidays.json"), "utf8"), "config/holidays.json"))
  const common = { ...VALIDATION, schedule, holidays: { NSE: holidaysOf(calendar, "NSE"), BSE: holidaysOf(calendar, "BSE") } }
  // The dates first (they depend on the calendar only), then the days with a regime and level each.
  const days = plan(generateTradingDays({ ...common, days: VALIDATION.days, tickSeconds: 3600 }))
  return generateTradingDays({
    ...common,
    regime: Object.fromEntries(days.map((d) => [d.date, d.regime])),
    budget: Object.fromEntries(days.map((d) => [d.date, d.level]))
  })
}

const fileName = (f: WeekFile) => `${f.file}.gz`

const check = (): void => {
  const files = validationDays()
  const wrong = files.filter((f) => {
    try {
      return gunzipSync(readFileSync(join(VALIDATION_DIR, fileName(f)))).toString("utf8") !== f.text
    } catch {
      return true
    }
  })
  const extra = readdirSync(VALIDATION_DIR).filter((n) => n.endsWith(".gz") && !files.some((f) => fileName(f) === n))
  for (const f of wrong) console.error(`differs: ${fileName(f)}`)
  for (const n of extra) console.error(`not in the set: ${n}`)
  console.log(wrong.length + extra.length === 0 ? `${files.length} files: identical` : "the validation set does not match its generator")
  if (wrong.length + extra.length > 0) process.exitCode = 1
}

const write = (): void => {
  const files = validationDays()
  mkdirSync(VALIDATION_DIR, { recursive: true })
  for (const old of readdirSync(VALIDATION_DIR)) if (old.endsWith(".gz") && !files.some((f) => fileName(f) === old)) rmSync(join(VALIDATION_DIR, old))
  for (const f of files) {
    writeFileSync(join(VALIDATION_DIR, fileName(f)), gzipSync(f.text, { level: 9 }))
    console.log([f.date, f.weekday.slice(0, 3), f.index.padEnd(6), `${f.dte}DTE`, f.regime.padEnd(9), f.budget ?? ""].join("  "))
  }
  console.log(`${files.length} files in ${VALIDATION_DIR}`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) check()
  else write()
}
