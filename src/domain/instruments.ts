// Contract data per index: exchange segment, strike step, freeze quantity and the lot size in force for
// an expiry. Lot sizes change (NIFTY 75 -> 65 for expiries from January 2026), so they are data
// (config/instruments.json), never constants in code.
//
// SENSEX freeze quantity (1000) is a placeholder to be confirmed from the broker's instrument data
// before trading live; NIFTY's 1800 is the exchange's published figure.
import { readFileSync } from "node:fs"
import { Result, Schema } from "effect"
import type { IndexName } from "./market.ts"
import { issuesOf, keyPath } from "./schema-issues.ts"
import { isIsoDate } from "./time.ts"
import { parseBoundedJson } from "./bounded-json.ts"

export interface LotSizeEntry {
  /** First expiry ("YYYY-MM-DD") this lot size applies to. */
  readonly fromExpiry: string
  readonly lotSize: number
}

export interface InstrumentSpec {
  readonly exchange: "NFO" | "BFO"
  /** Distance between listed strikes, index points. */
  readonly strikeStep: number
  /** Largest quantity (units) one order may carry; bigger orders must be sliced. */
  readonly freezeQuantity: number
  readonly note?: string
  /** Ascending by fromExpiry. */
  readonly lotSizes: ReadonlyArray<LotSizeEntry>
}

export type Instruments = Readonly<Record<IndexName, InstrumentSpec>>

export const BUNDLED_INSTRUMENTS_FILE = "config/instruments.json"

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const IsoDate = Schema.String.check(Schema.makeFilter(isIsoDate, { expected: 'a date "YYYY-MM-DD"' }))

const InstrumentSpecSchema = Schema.Struct({
  exchange: Schema.Literals(["NFO", "BFO"]),
  strikeStep: Schema.Finite.check(Schema.isGreaterThan(0)),
  freezeQuantity: PositiveInt,
  note: Schema.optionalKey(Schema.String),
  lotSizes: Schema.Array(Schema.Struct({ fromExpiry: IsoDate, lotSize: PositiveInt })).check(
    Schema.isMinLength(1, { expected: "at least one lot size" }),
    Schema.makeFilter((entries) => {
      const issues: Array<Schema.FilterIssue> = []
      for (let i = 1; i < entries.length; i++)
        if (!(entries[i - 1]!.fromExpiry < entries[i]!.fromExpiry))
          issues.push({ path: [i, "fromExpiry"], issue: `must be after lotSizes[${i - 1}].fromExpiry` })
      return issues
    })
  )
})

export const InstrumentsSchema = Schema.Struct({ NIFTY: InstrumentSpecSchema, SENSEX: InstrumentSpecSchema })

const _fromSchema = (i: typeof InstrumentsSchema.Type): Instruments => i
void _fromSchema

export class InstrumentsError extends Schema.TaggedError<InstrumentsError>()("InstrumentsError", {
  message: Schema.String
}) {}

/**
 * Parse instrument data; without text, the bundled config/instruments.json. Throws an InstrumentsError
 * naming every bad key.
 */
export const loadInstruments = (text?: string): Instruments => {
  const source = text === undefined ? BUNDLED_INSTRUMENTS_FILE : "instrument data"
  const json = text ?? readFileSync(new URL("../../config/instruments.json", import.meta.url), "utf8")
  let raw: unknown
  try {
    raw = parseBoundedJson(json)
  } catch (e) {
    throw new InstrumentsError({ message: `${source}: invalid JSON: ${e instanceof Error ? e.message : String(e)}` })
  }
  const decoded = Schema.decodeUnknownResult(InstrumentsSchema)(raw, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(decoded)) return decoded.success
  const lines = issuesOf(decoded.failure.issue).map((i) => {
    const path = keyPath(i.path)
    return `${path === "" ? "(root)" : path}: ${i.message}`
  })
  throw new InstrumentsError({ message: `${source}: invalid instrument data:\n${lines.join("\n")}` })
}

/** Lot size of the index's contracts of an expiry ("YYYY-MM-DD"). */
export const lotSizeFor = (instruments: Instruments, index: IndexName, expiry: string): number => {
  if (!isIsoDate(expiry))
    throw new InstrumentsError({ message: `invalid expiry ${JSON.stringify(expiry)}, expected YYYY-MM-DD` })
  const entries = instruments[index].lotSizes
  let found: LotSizeEntry | undefined
  for (const entry of entries)
    if (entry.fromExpiry <= expiry && (found === undefined || entry.fromExpiry > found.fromExpiry)) found = entry
  if (found === undefined)
    throw new InstrumentsError({
      message: `no ${index} lot size known for expiry ${expiry}: the earliest entry applies from ${entries.map((e) => e.fromExpiry).sort()[0] ?? "(none)"}; add the lot size in force then to the instrument data`
    })
  return found.lotSize
}

export const strikeStepOf = (instruments: Instruments, index: IndexName): number => instruments[index].strikeStep

export const freezeQuantityOf = (instruments: Instruments, index: IndexName): number =>
  instruments[index].freezeQuantity

export const exchangeOf = (instruments: Instruments, index: IndexName): "NFO" | "BFO" => instruments[index].exchange
