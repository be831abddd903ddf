// Recorded trading day: reader and writer of the file format, versions 1 and 2 (docs/recorded-day-format.md;
// version 2 says where each opening position came from). One JSON object per line: the header on line 1, then
// tick / exit / margin records in non-decreasing time order. The reader stops at the first
// problem and names it in one line: `file:line: key: problem`.
import { readdir, readFile, stat } from "node:fs/promises"
import * as nodePath from "node:path"
import { promisify } from "node:util"
import { gunzip } from "node:zlib"
import { Effect, Result, Schema } from "effect"
import type { ChainRow, EntrySpec, IndexName, Position } from "./market.ts"
import { issuesOf, keyPath, lowerFirst } from "./schema-issues.ts"
import { instantOf, isIsoDate, isWallTime, MARKET_OPEN } from "./time.ts"
import {
  Baskets,
  BudgetPerBasket,
  IndexLevel,
  LotsPerBasket,
  LotSize,
  MAX_DAYS_TO_EXPIRY,
  OptionPrice,
  SESSION_SECONDS,
  StrikeOffset,
  StrikeStep,
  wholeBetween
} from "./bounds.ts"
import { parseBoundedJson } from "./bounded-json.ts"

// ---------------------------------------------------------------------------------------------
// Model

/**
 * Where a position open at 09:15 came from (version 2): a leg of a strategy entry of an earlier day
 * (`portfolio`), a wing the engine bought (`hedge`; `portfolio`: the carried entry whose short it
 * covers, when known), or not known (what a version-1 file says of every position).
 */
export const ORIGIN_KINDS = ["entry", "hedge", "unknown"] as const
export type OriginKind = (typeof ORIGIN_KINDS)[number]
export type PositionOrigin =
  | { readonly kind: "entry"; readonly portfolio: string }
  | { readonly kind: "hedge"; readonly portfolio?: string }
  | { readonly kind: "unknown" }

export const UNKNOWN_ORIGIN: PositionOrigin = { kind: "unknown" }

/** A position open at 09:15 (carried from an earlier day); `avgPrice` is per unit, in rupees. */
export interface OpeningPosition extends Position {
  readonly avgPrice: number
  /** Absent: unknown (a version-1 file). */
  readonly origin?: PositionOrigin
}

/** The version a header needs: 2 once any opening position says where it came from, else 1. */
export const versionFor = (openingPositions: ReadonlyArray<OpeningPosition>): 1 | 2 =>
  openingPositions.some((p) => p.origin !== undefined && p.origin.kind !== "unknown") ? 2 : 1

/** The portfolios carried in: those of the opening positions that are legs of an earlier day's entry. */
export const carriedPortfolios = (openingPositions: ReadonlyArray<OpeningPosition>): ReadonlyArray<string> => [
  ...new Set(openingPositions.flatMap((p) => (p.origin?.kind === "entry" ? [p.origin.portfolio] : [])))
]

export interface DayHeader {
  /** The version read (the writer writes the lowest version that holds the header: `versionFor`). */
  readonly version: 1 | 2
  readonly date: string
  readonly index: IndexName
  readonly expiry: string
  readonly lotSize: number
  readonly strikeStep: number
  readonly tickSeconds: number
  readonly baskets: number
  readonly budgetPerBasket: number
  readonly entries: ReadonlyArray<EntrySpec>
  /**
   * `expiry` is filled in from the header's `expiry` when the file leaves it out; `origin` is there in
   * a version-2 file (absent, unknown, in a version-1 file).
   */
  readonly openingPositions: ReadonlyArray<OpeningPosition>
}

/** `at` = instantOf(header.date, time), epoch milliseconds. */
export interface TickRecord {
  readonly type: "tick"
  readonly time: string
  readonly at: number
  readonly spot: number
  readonly chain: ReadonlyArray<ChainRow>
}

export const EXIT_REASONS = ["SL_HIT", "MANUAL", "TIMED"] as const
export type ExitReason = (typeof EXIT_REASONS)[number]
export const isExitReason = (reason: string): reason is ExitReason => (EXIT_REASONS as ReadonlyArray<string>).includes(reason)

export interface ExitRecord {
  readonly type: "exit"
  readonly time: string
  readonly at: number
  readonly portfolio: string
  readonly reason: ExitReason
}

export interface MarginRecord {
  readonly type: "margin"
  readonly time: string
  readonly at: number
  readonly used: number
  readonly available: number
}

export interface RecordedDay {
  readonly header: DayHeader
  readonly ticks: ReadonlyArray<TickRecord>
  readonly exits: ReadonlyArray<ExitRecord>
  readonly margins: ReadonlyArray<MarginRecord>
}

/** The first tick must be at or before this time, the last at or after LAST_TICK_FROM. */
export const FIRST_TICK_BY = MARKET_OPEN
export const LAST_TICK_FROM = "15:29:00"

// ---------------------------------------------------------------------------------------------
// Error

/** A problem with a day file. `line` is 1-based; 0 means the file as a whole (unreadable). */
export class DayFileError extends Schema.TaggedError<DayFileError>()("DayFileError", {
  file: Schema.String,
  line: Schema.Number,
  key: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.file}:${this.line}: ${this.key}: ${this.problem}`
  }
}

const MAX_PROBLEM = 240

/** One line, bounded length: the message must never become a dump. */
const oneLine = (s: string): string => {
  const flat = s.replace(/\s*[\r\n]+\s*/g, " ")
  return flat.length > MAX_PROBLEM ? `${flat.slice(0, MAX_PROBLEM - 1)}…` : flat
}

/** A short rendering of an offending value. */
const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  let s: string
  try {
    s = JSON.stringify(value) ?? String(value)
  } catch {
    s = String(value)
  }
  return s.length > 80 ? `${s.slice(0, 79)}…` : s
}

class Fail {
  constructor(readonly file: string) {}
  at(line: number, key: string, problem: string): DayFileError {
    return new DayFileError({ file: this.file, line, key, problem: oneLine(problem) })
  }
}

// ---------------------------------------------------------------------------------------------
// Shapes (effect Schema for the header and the small records; chain rows are checked by hand,
// they are the hot path: ~400 rows per tick, ~380 ticks per day)

/** Far beyond any real schedule (about a dozen entries of two to four legs), small enough to stay fast. */
const MAX_ENTRIES = 200
const MAX_LEGS = 20

const WallTime = Schema.String.check(Schema.makeFilter(isWallTime, { expected: `"HH:MM:SS"` }))
const IsoDate = Schema.String.check(Schema.makeFilter(isIsoDate, { expected: `a real date "YYYY-MM-DD"` }))
const OptionTypeSchema = Schema.Literals(["CE", "PE"])

const LegSchema = Schema.Struct({
  side: Schema.Literals(["SELL", "BUY"]),
  optionType: OptionTypeSchema,
  strikeOffset: StrikeOffset,
  lotsPerBasket: LotsPerBasket
})

const EntrySchema = Schema.Struct({
  portfolio: Schema.String.check(Schema.isMinLength(1)),
  entryTime: WallTime,
  exitTime: Schema.NullOr(WallTime).annotate({ expected: `"HH:MM:SS" or null` }),
  legs: Schema.Array(LegSchema).check(Schema.isMinLength(1), Schema.isMaxLength(MAX_LEGS))
})

const OriginSchema = Schema.Struct({
  kind: Schema.Literals(ORIGIN_KINDS),
  portfolio: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1)))
})

const OpeningPositionSchema = Schema.Struct({
  strike: IndexLevel,
  optionType: OptionTypeSchema,
  quantity: wholeBetween(-10_000_000, 10_000_000),
  avgPrice: OptionPrice,
  expiry: Schema.optionalKey(IsoDate),
  /** Version 2 (a version-1 reader ignores it, as it ignores any key it does not know). */
  origin: Schema.optionalKey(OriginSchema)
})

const HeaderSchema = Schema.Struct({
  type: Schema.Literal("day"),
  version: Schema.Literals([1, 2]),
  date: IsoDate,
  index: Schema.Literals(["NIFTY", "SENSEX"]),
  expiry: IsoDate,
  lotSize: LotSize,
  strikeStep: StrikeStep,
  tickSeconds: wholeBetween(1, SESSION_SECONDS),
  baskets: Baskets,
  budgetPerBasket: BudgetPerBasket,
  entries: Schema.Array(EntrySchema).check(Schema.isMaxLength(MAX_ENTRIES)),
  openingPositions: Schema.optionalKey(Schema.Array(OpeningPositionSchema).check(Schema.isMaxLength(MAX_ENTRIES * MAX_LEGS)))
})

const RecordTypeSchema = Schema.Struct({ type: Schema.Literals(["tick", "exit", "margin"]) })

const TickSchema = Schema.Struct({
  type: Schema.Literal("tick"),
  time: WallTime,
  spot: IndexLevel,
  chain: Schema.Unknown, // an array of rows, checked by hand below
  /** A recording started after the open writes its first reading at 09:15:00 too, saying when it was read. */
  copiedFrom: Schema.optionalKey(WallTime)
})

const ExitSchema = Schema.Struct({
  type: Schema.Literal("exit"),
  time: WallTime,
  portfolio: Schema.String,
  reason: Schema.Literals(EXIT_REASONS)
})

const MarginSchema = Schema.Struct({
  type: Schema.Literal("margin"),
  time: WallTime,
  used: Schema.Finite,
  available: Schema.Finite
})

const decodeOptions = { errors: "first", reportInput: true } as const
const decodeHeader = Schema.decodeUnknownResult(HeaderSchema, decodeOptions)
const decodeRecordType = Schema.decodeUnknownResult(RecordTypeSchema, decodeOptions)
const decodeTick = Schema.decodeUnknownResult(TickSchema, decodeOptions)
const decodeExit = Schema.decodeUnknownResult(ExitSchema, decodeOptions)
const decodeMargin = Schema.decodeUnknownResult(MarginSchema, decodeOptions)

const schemaProblem = (
  fail: Fail,
  line: number,
  error: Schema.SchemaError,
  rootKey: string
): DayFileError => {
  const first = issuesOf(error.issue)[0]
  if (first === undefined) return fail.at(line, rootKey, "invalid")
  const key = keyPath(first.path) || rootKey
  // The shared formatter says "required" for a missing key (the decoders here never report unknown keys).
  return fail.at(line, key, first.message === "required" ? "missing required key" : lowerFirst(first.message))
}

// ---------------------------------------------------------------------------------------------
// Reader

const isMultipleOf = (value: number, step: number): boolean => {
  const q = value / step
  return Math.abs(q - Math.round(q)) <= 1e-9 * Math.max(1, Math.abs(q))
}

const MAX_PRICE = 1_000_000
const isPrice = (v: unknown): v is number | null =>
  v === null || (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_PRICE)

const checkChain = (
  fail: Fail,
  line: number,
  chain: unknown,
  strikeStep: number
): ReadonlyArray<ChainRow> => {
  if (!Array.isArray(chain)) throw fail.at(line, "chain", `expected an array of [strike, ce, pe] rows, got ${show(chain)}`)
  const rows: Array<ChainRow> = new Array(chain.length)
  let previous = -Infinity
  for (let i = 0; i < chain.length; i++) {
    const row: unknown = chain[i]
    if (!Array.isArray(row) || (row.length !== 3 && row.length !== 7)) {
      throw fail.at(
        line,
        `chain[${i}]`,
        `expected [strike, ce, pe] or [strike, ce, pe, ceBid, ceAsk, peBid, peAsk], got ${show(row)}`
      )
    }
    const strike: unknown = row[0]
    if (typeof strike !== "number" || !Number.isFinite(strike) || strike <= 0) {
      throw fail.at(line, `chain[${i}][0]`, `expected a strike (number > 0), got ${show(strike)}`)
    }
    if (!isMultipleOf(strike, strikeStep)) {
      throw fail.at(line, `chain[${i}][0]`, `expected a multiple of strikeStep ${strikeStep}, got ${strike}`)
    }
    if (!(strike > previous)) {
      throw fail.at(line, `chain[${i}][0]`, `expected strikes strictly ascending, got ${strike} after ${previous}`)
    }
    previous = strike
    for (let j = 1; j < row.length; j++) {
      if (!isPrice(row[j])) {
        throw fail.at(line, `chain[${i}][${j}]`, `expected a price (a number from 0 to ${MAX_PRICE}) or null, got ${show(row[j])}`)
      }
    }
    rows[i] = { strike, ce: row[1] as number | null, pe: row[2] as number | null }
  }
  return rows
}

/** The band of strikes every tick lists: the format says at least every strike within ±10 % of spot. */
export const CHAIN_COVERAGE = 0.1

/** The chain must reach the outermost listed strikes within ±10 % of spot on both sides. */
const checkCoverage = (fail: Fail, line: number, chain: ReadonlyArray<ChainRow>, spot: number, strikeStep: number): void => {
  const low = Math.ceil((spot * (1 - CHAIN_COVERAGE)) / strikeStep - 1e-9) * strikeStep
  const high = Math.floor((spot * (1 + CHAIN_COVERAGE)) / strikeStep + 1e-9) * strikeStep
  const first = chain[0]?.strike
  const last = chain[chain.length - 1]?.strike
  if (first === undefined || last === undefined || first > low + 1e-9 || last < high - 1e-9) {
    const got = first === undefined || last === undefined ? "an empty chain" : `strikes ${first} to ${last}`
    throw fail.at(line, "chain", `expected every strike within ±10 % of spot ${spot} (${low} to ${high}), got ${got}`)
  }
}

/** instantOf(date, time) for many times of one date; exact, and fast when the day has no offset change. */
const instantsOf = (date: string): ((time: string) => number) => {
  const midnight = instantOf(date, "00:00:00")
  if (instantOf(date, "23:59:59") - midnight !== 86_399_000) return (time) => instantOf(date, time)
  return (time) =>
    midnight +
    ((Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5))) * 60 + Number(time.slice(6, 8))) * 1000
}

const parseJsonLine = (fail: Fail, line: number, text: string): unknown => {
  try {
    return parseBoundedJson(text)
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    const position = /position (\d+)/.exec(reason)
    const at = position === null ? 0 : Number(position[1])
    const near = text.slice(Math.max(0, at - 20), at + 20)
    throw fail.at(line, "json", `invalid JSON: ${reason}, near ${JSON.stringify(near)}`)
  }
}

const parseHeader = (fail: Fail, text: string): DayHeader => {
  const decoded = decodeHeader(parseJsonLine(fail, 1, text))
  if (Result.isFailure(decoded)) throw schemaProblem(fail, 1, decoded.failure, "header")
  const h = decoded.success
  if (h.expiry < h.date) {
    throw fail.at(1, "expiry", `expected a date on or after date ${show(h.date)}, got ${show(h.expiry)}`)
  }
  if (instantOf(h.expiry, "00:00:00") - instantOf(h.date, "00:00:00") > MAX_DAYS_TO_EXPIRY * 86_400_000) {
    throw fail.at(1, "expiry", `expected a date within ${MAX_DAYS_TO_EXPIRY} days of date ${show(h.date)}, got ${show(h.expiry)}`)
  }
  const seen = new Map<string, number>()
  h.entries.forEach((entry, i) => {
    const earlier = seen.get(entry.portfolio)
    if (earlier !== undefined) {
      throw fail.at(1, `entries[${i}].portfolio`, `duplicate portfolio ${show(entry.portfolio)} (also entries[${earlier}])`)
    }
    seen.set(entry.portfolio, i)
    if (entry.exitTime !== null && entry.exitTime <= entry.entryTime) {
      throw fail.at(
        1,
        `entries[${i}].exitTime`,
        `expected a time after entryTime ${show(entry.entryTime)}, got ${show(entry.exitTime)}`
      )
    }
  })
  // Version 1 knows no origins: an `origin` key there is ignored (as any key the version does not know).
  const openingPositions: ReadonlyArray<OpeningPosition> = (h.openingPositions ?? []).map(({ origin, ...p }, i) => ({
    ...p,
    expiry: p.expiry ?? h.expiry,
    ...(h.version === 1 ? {} : { origin: originOf(fail, i, origin, seen) })
  }))
  const carried = carriedPortfolios(openingPositions)
  openingPositions.forEach((p, i) => {
    const covers = p.origin?.kind === "hedge" ? p.origin.portfolio : undefined
    if (covers !== undefined && !carried.includes(covers)) {
      throw fail.at(1, `openingPositions[${i}].origin.portfolio`, `expected the portfolio of an opening position of kind "entry" (the short this wing covers), got ${show(covers)}`)
    }
    if (p.expiry < h.date) {
      throw fail.at(1, `openingPositions[${i}].expiry`, `expected a date on or after date ${show(h.date)} (a position expired before the day is not held), got ${show(p.expiry)}`)
    }
  })
  const { type: _type, ...header } = h
  return { ...header, openingPositions }
}

/** A version-2 opening position's origin: required, and an entry's names a portfolio not traded today. */
const originOf = (
  fail: Fail,
  i: number,
  origin: { readonly kind: OriginKind; readonly portfolio?: string } | undefined,
  todays: ReadonlyMap<string, number>
): PositionOrigin => {
  const key = `openingPositions[${i}].origin`
  if (origin === undefined) throw fail.at(1, key, `missing required key (version 2 says where every opening position came from: {"kind":"entry","portfolio":…}, {"kind":"hedge"} or {"kind":"unknown"})`)
  switch (origin.kind) {
    case "entry": {
      const portfolio = origin.portfolio
      if (portfolio === undefined) throw fail.at(1, `${key}.portfolio`, `missing required key (an origin of kind "entry" names the entry's portfolio)`)
      const today = todays.get(portfolio)
      // Its exit records and today's entry would be one portfolio: the day could not tell them apart.
      if (today !== undefined) throw fail.at(1, `${key}.portfolio`, `expected a portfolio not entered today, got ${show(portfolio)} (also entries[${today}])`)
      return { kind: "entry", portfolio }
    }
    case "hedge":
      return origin.portfolio === undefined ? { kind: "hedge" } : { kind: "hedge", portfolio: origin.portfolio }
    case "unknown":
      if (origin.portfolio !== undefined) throw fail.at(1, `${key}.portfolio`, `expected no portfolio for an origin of kind "unknown", got ${show(origin.portfolio)}`)
      return UNKNOWN_ORIGIN
  }
}

/**
 * Parse the text of a day file. Throws a DayFileError naming the first problem
 * (`file` is only used in the error).
 */
export const parseRecordedDay = (text: string, file: string): RecordedDay => {
  const fail = new Fail(file)
  const lines = text.split("\n")
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop() // the trailing newline
  const lineAt = (i: number): string => {
    const raw = lines[i] ?? ""
    return raw.endsWith("\r") ? raw.slice(0, -1) : raw
  }

  const first = lineAt(0)
  if (first.trim() === "") {
    throw fail.at(1, "type", `expected the header {"type":"day", ...} on line 1, got ${lines.length === 1 ? "an empty file" : "a blank line"}`)
  }
  const header = parseHeader(fail, first)
  const atOf = instantsOf(header.date)
  const entryOf = new Map(header.entries.map((e) => [e.portfolio, e] as const))
  const carried = new Set(carriedPortfolios(header.openingPositions))
  const exitedAt = new Map<string, { readonly time: string; readonly line: number }>()

  const ticks: Array<TickRecord> = []
  const exits: Array<ExitRecord> = []
  const margins: Array<MarginRecord> = []
  let previousTime = ""
  let previousLine = 0
  let lastTickLine = 0

  for (let i = 1; i < lines.length; i++) {
    const line = i + 1
    const text = lineAt(i)
    if (text.trim() === "") throw fail.at(line, "line", "blank line inside the file (one JSON object per line)")
    const value = parseJsonLine(fail, line, text)
    /** The line's value decoded as a record of one type, or the error naming its first problem. */
    const record = <A>(decode: (value: unknown) => Result.Result<A, Schema.SchemaError>): A => {
      const decoded = decode(value)
      if (Result.isFailure(decoded)) throw schemaProblem(fail, line, decoded.failure, "record")
      return decoded.success
    }

    const checkOrder = (time: string): void => {
      if (time < previousTime) {
        throw fail.at(
          line,
          "time",
          `records out of time order: ${show(time)} is before ${show(previousTime)} on line ${previousLine}`
        )
      }
      previousTime = time
      previousLine = line
    }

    switch (record(decodeRecordType).type) {
      case "tick": {
        const { time, spot, chain } = record(decodeTick)
        checkOrder(time)
        if (ticks.length === 0 && time > FIRST_TICK_BY) {
          throw fail.at(line, "time", `expected the first tick at or before ${FIRST_TICK_BY}, got ${show(time)}`)
        }
        const rows = checkChain(fail, line, chain, header.strikeStep)
        checkCoverage(fail, line, rows, spot, header.strikeStep)
        ticks.push({ type: "tick", time, at: atOf(time), spot, chain: rows })
        lastTickLine = line
        break
      }
      case "exit": {
        const { time, portfolio, reason } = record(decodeExit)
        checkOrder(time)
        const entry = entryOf.get(portfolio)
        // A carried portfolio (an opening position's, version 2) is held from the open: it may exit any time.
        if (entry === undefined && !carried.has(portfolio)) {
          throw fail.at(line, "portfolio", `no entry in the header (nor carried opening position) has portfolio ${show(portfolio)}`)
        }
        if (entry !== undefined && time < entry.entryTime) {
          throw fail.at(line, "time", `exit of ${show(portfolio)} before its entryTime ${show(entry.entryTime)}, got ${show(time)}`)
        }
        const earlier = exitedAt.get(portfolio)
        if (earlier !== undefined) {
          throw fail.at(
            line,
            "portfolio",
            `${show(portfolio)} already exited at ${show(earlier.time)} on line ${earlier.line}`
          )
        }
        exitedAt.set(portfolio, { time, line })
        exits.push({ type: "exit", time, at: atOf(time), portfolio, reason })
        break
      }
      case "margin": {
        const { time, used, available } = record(decodeMargin)
        checkOrder(time)
        margins.push({ type: "margin", time, at: atOf(time), used, available })
        break
      }
    }
  }

  const lastLine = lines.length
  const lastTick = ticks[ticks.length - 1]
  if (lastTick === undefined) {
    throw fail.at(lastLine, "time", `the file has no tick record (need one at or before ${FIRST_TICK_BY} and one at or after ${LAST_TICK_FROM})`)
  }
  if (lastTick.time < LAST_TICK_FROM) {
    throw fail.at(
      lastLine,
      "time",
      `the file ends too early: expected a last tick at or after ${LAST_TICK_FROM}, got ${show(lastTick.time)} on line ${lastTickLine}`
    )
  }
  return { header, ticks, exits, margins }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b

const gunzipAsync = promisify(gunzip)

/**
 * The largest day read, plain or decompressed: a SENSEX day at one tick a minute is about 1.2 MiB, so
 * this allows a tick every second; a gzip bomb stops here instead of filling the memory.
 */
export const MAX_DAY_FILE_BYTES = 128 * 1024 * 1024

const tooLarge = (fail: Fail, what: string): DayFileError =>
  fail.at(0, "file", `${what} larger than ${MAX_DAY_FILE_BYTES / 1024 / 1024} MiB: not a recorded day`)

/** Read and parse a `.jsonl` or `.jsonl.gz` day file. */
export const readRecordedDay: (path: string) => Effect.Effect<RecordedDay, DayFileError> = Effect.fnUntraced(
  function*(path: string) {
    const fail = new Fail(path)
    const size = yield* Effect.tryPromise({
      try: () => stat(path).then((s) => s.size),
      catch: (e) => fail.at(0, "file", `cannot read: ${errorText(e)}`)
    })
    if (size > MAX_DAY_FILE_BYTES) return yield* tooLarge(fail, "the file is")
    const bytes = yield* Effect.tryPromise({
      try: () => readFile(path),
      catch: (e) => fail.at(0, "file", `cannot read: ${errorText(e)}`)
    })
    const plain = path.endsWith(".gz") || isGzip(bytes)
      ? yield* Effect.tryPromise({
        try: () => gunzipAsync(bytes, { maxOutputLength: MAX_DAY_FILE_BYTES }),
        catch: (e) =>
          (e as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"
            ? tooLarge(fail, "decompressed, the file is")
            : fail.at(0, "file", `cannot gunzip: ${errorText(e)}`)
      })
      : bytes
    const text = yield* Effect.try({
      try: () => new TextDecoder("utf-8", { fatal: true }).decode(plain),
      catch: () => fail.at(0, "file", "not valid UTF-8 text")
    })
    return yield* Effect.try({
      try: () => parseRecordedDay(text, path),
      catch: (e) => (e instanceof DayFileError ? e : fail.at(0, "file", errorText(e)))
    })
  }
)

// ---------------------------------------------------------------------------------------------
// Writer

// The writer encodes every line through the schema the reader decodes it with, so what one writes the
// other reads, key for key.

const lineOf = <S extends Schema.Codec<unknown, unknown>>(schema: S): ((value: S["Type"]) => string) => {
  const encode = Schema.encodeSync(schema)
  return (value) => JSON.stringify(encode(value))
}
const encodeHeaderLine = lineOf(HeaderSchema)
const encodeTickLine = lineOf(TickSchema)

/**
 * The header line, in the lowest version that holds it: version 1 unless an opening position says where
 * it came from; version 2 then writes every position's origin.
 */
export const headerLine = (header: Omit<DayHeader, "version"> & { readonly version?: 1 | 2 }): string => {
  const version = versionFor(header.openingPositions)
  const openingPositions = header.openingPositions.map(({ origin, ...p }) => (version === 1 ? p : { ...p, origin: origin ?? UNKNOWN_ORIGIN }))
  return encodeHeaderLine({ type: "day", ...header, version, openingPositions })
}
/** A tick line: the chain as `[strike, ce, pe]` rows. */
export const tickLine = (tick: Pick<TickRecord, "time" | "spot" | "chain"> & { readonly copiedFrom?: string }): string =>
  encodeTickLine({
    type: "tick",
    time: tick.time,
    spot: tick.spot,
    chain: tick.chain.map((r) => [r.strike, r.ce, r.pe]),
    ...(tick.copiedFrom === undefined ? {} : { copiedFrom: tick.copiedFrom })
  })
/** An exit line. */
export const exitLine: (exit: Omit<ExitRecord, "at">) => string = lineOf(ExitSchema)
/** A margin line. */
export const marginLine: (margin: Omit<MarginRecord, "at">) => string = lineOf(MarginSchema)

const RECORD_RANK = { tick: 0, exit: 1, margin: 2 } as const

/** The day in the file format: header first, then every record merged in time order. */
export const formatRecordedDay = (day: RecordedDay): string => {
  const records: Array<{ readonly time: string; readonly rank: number; readonly line: () => string }> = [
    ...day.ticks.map((t) => ({ time: t.time, rank: RECORD_RANK.tick, line: () => tickLine(t) })),
    ...day.exits.map((x) => ({ time: x.time, rank: RECORD_RANK.exit, line: () => exitLine(x) })),
    ...day.margins.map((m) => ({ time: m.time, rank: RECORD_RANK.margin, line: () => marginLine(m) }))
  ]
  // stable sort: records of one kind keep their order
  records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.rank - b.rank))
  return [headerLine(day.header), ...records.map((r) => r.line())].join("\n") + "\n"
}

// ---------------------------------------------------------------------------------------------
// Listing

const isDayFileName = (name: string): boolean =>
  !name.startsWith(".") && (name.endsWith(".jsonl") || name.endsWith(".jsonl.gz"))

/**
 * Expand directories to their `*.jsonl` / `*.jsonl.gz` files (not recursive, dot-files skipped),
 * sorted by name; plain file paths are kept as given, in the order given.
 */
export const listDayFiles: (paths: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, DayFileError> =
  Effect.fnUntraced(function*(paths: ReadonlyArray<string>) {
    const out: Array<string> = []
    for (const path of paths) {
      const fail = new Fail(path)
      const info = yield* Effect.tryPromise({
        try: () => stat(path),
        catch: (e) => fail.at(0, "file", `cannot read: ${errorText(e)}`)
      })
      if (!info.isDirectory()) {
        out.push(path)
        continue
      }
      const entries = yield* Effect.tryPromise({
        try: () => readdir(path, { withFileTypes: true }),
        catch: (e) => fail.at(0, "file", `cannot list directory: ${errorText(e)}`)
      })
      const names = entries
        .filter((d) => !d.isDirectory() && isDayFileName(d.name))
        .map((d) => d.name)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      for (const name of names) out.push(nodePath.join(path, name))
    }
    return out
  })
