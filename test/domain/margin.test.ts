import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultConfig, type MarginConstantsTable } from "../../src/domain/config.ts"
import {
  constantsMarginModel,
  coveredShortLots,
  expiryTypeOf,
  MarginModelError,
  netPositions,
  straddleMarginFor,
  type MarginModel,
  type MarginQuery
} from "../../src/domain/margin.ts"
import type { IndexName, OptionType, Position } from "../../src/domain/market.ts"
import { instantOf } from "../../src/domain/time.ts"

// The original design's NIFTY rows (per basket, one-lot short straddle).
const N0_WITHOUT = 433333.33
const N0_WITH = 186666.67
const N1_WITHOUT = 320000
const N1_WITH = 140000
const S0_WITHOUT = 366666.67

const LOT = 65
const EXPIRY = "2026-02-10" // a Tuesday (NIFTY weekly expiry)

const model = constantsMarginModel(defaultConfig.marginConstants)

const query = (positions: ReadonlyArray<Position>, over: Partial<MarginQuery> = {}): MarginQuery => ({
  index: "NIFTY",
  date: EXPIRY,
  expiry: EXPIRY,
  lotSize: LOT,
  spot: 25000,
  at: instantOf(EXPIRY, "10:00:00"),
  positions,
  ...over
})

const marginOf = (m: MarginModel, positions: ReadonlyArray<Position>, over: Partial<MarginQuery> = {}): number =>
  Effect.runSync(m.margin(query(positions, over)))

const failureOf = (m: MarginModel, positions: ReadonlyArray<Position>, over: Partial<MarginQuery> = {}): MarginModelError =>
  Effect.runSync(Effect.flip(m.margin(query(positions, over))))

const pos = (optionType: OptionType, strike: number, lots: number, lotSize = LOT, expiry = EXPIRY): Position => ({
  strike,
  optionType,
  quantity: lots * lotSize,
  expiry
})
const short = (optionType: OptionType, strike: number, lots = 1, lotSize = LOT) => pos(optionType, strike, -lots, lotSize)
const long = (optionType: OptionType, strike: number, lots = 1, lotSize = LOT) => pos(optionType, strike, lots, lotSize)

const straddle = (baskets: number, strike = 25000, lotSize = LOT) => [
  short("CE", strike, baskets, lotSize),
  short("PE", strike, baskets, lotSize)
]

describe("constantsMarginModel on hand-computed portfolios (NIFTY 0DTE)", () => {
  it("prices one basket's naked straddle at the withoutHedge row", () => {
    expect(marginOf(model, straddle(1))).toBeCloseTo(N0_WITHOUT, 2)
  })

  it("prices one basket's straddle with a hedge pair at the withHedge row", () => {
    const positions = [...straddle(1), long("CE", 25600), long("PE", 24400)]
    expect(marginOf(model, positions)).toBeCloseTo(N0_WITH, 2)
  })

  it("gives exactly half the pair's benefit for one wing, on either side", () => {
    const naked = marginOf(model, straddle(1))
    const pair = marginOf(model, [...straddle(1), long("CE", 25600), long("PE", 24400)])
    const ceWing = marginOf(model, [...straddle(1), long("CE", 25600)])
    const peWing = marginOf(model, [...straddle(1), long("PE", 24400)])
    // hand-computed: 433333.33/2 + 186666.67/2 = 310000
    expect(ceWing).toBeCloseTo(310000, 2)
    expect(peWing).toBeCloseTo(310000, 2)
    expect(naked - ceWing).toBeCloseTo((naked - pair) / 2, 1)
    expect(naked - peWing).toBeCloseTo((naked - pair) / 2, 1)
  })

  it("gives nothing for a wing on the wrong side of the short", () => {
    const naked = marginOf(model, straddle(1))
    // long CE below the short CE strike, long PE above the short PE strike
    expect(marginOf(model, [...straddle(1), long("CE", 24800)])).toBeCloseTo(naked, 2)
    expect(marginOf(model, [...straddle(1), long("PE", 25200)])).toBeCloseTo(naked, 2)
    // a long CE at a strike between two shorts covers only the lower one
    expect(marginOf(model, [short("CE", 25000), short("CE", 25200), long("CE", 25100)])).toBeCloseTo(N0_WITH / 2 + N0_WITHOUT / 2, 1)
    // a long of the other side does not cover (long PE far below does not cover the short CE)
    expect(marginOf(model, [short("CE", 25000), long("PE", 24000)])).toBeCloseTo(N0_WITHOUT / 2, 1)
  })

  it("gives no more for two wings on one short lot than for one", () => {
    const oneWing = marginOf(model, [...straddle(1), long("CE", 25600)])
    expect(marginOf(model, [...straddle(1), long("CE", 25600), long("CE", 25800)])).toBeCloseTo(oneWing, 2)
    expect(marginOf(model, [...straddle(1), long("CE", 25600, 2)])).toBeCloseTo(oneWing, 2)
  })

  it("scales linearly with baskets (15 baskets)", () => {
    expect(marginOf(model, straddle(15))).toBeCloseTo(15 * N0_WITHOUT, 1)
    const hedged = [...straddle(15), long("CE", 25700, 15), long("PE", 24300, 15)]
    expect(marginOf(model, hedged)).toBeCloseTo(15 * N0_WITH, 1)
    // 10 of 15 CE lots covered, no PE cover
    const partly = [...straddle(15), long("CE", 25700, 10)]
    expect(marginOf(model, partly)).toBeCloseTo(10 * (N0_WITH / 2) + 5 * (N0_WITHOUT / 2) + 15 * (N0_WITHOUT / 2), 1)
  })

  it("charges nothing for long options alone", () => {
    expect(marginOf(model, [])).toBe(0)
    expect(marginOf(model, [long("CE", 25600, 3), long("PE", 24400, 2), long("CE", 25000)])).toBe(0)
  })

  it("counts shorts by lots of the query's lot size", () => {
    // SENSEX lot of 20: one basket naked straddle = the SENSEX 0DTE row
    const sensex = { index: "SENSEX" as IndexName, lotSize: 20, spot: 83000, date: "2026-02-12", expiry: "2026-02-12" }
    expect(marginOf(model, straddle(1, 83000, 20), sensex)).toBeCloseTo(S0_WITHOUT, 2)
    expect(marginOf(model, straddle(2, 83000, 20), sensex)).toBeCloseTo(2 * S0_WITHOUT, 2)
  })
})

describe("expiry types", () => {
  it("classifies the date against the expiry by trading days", () => {
    expect(expiryTypeOf("2026-02-10", "2026-02-10")).toBe("0DTE")
    expect(expiryTypeOf("2026-02-09", "2026-02-10")).toBe("1DTE") // Monday -> Tuesday
    expect(expiryTypeOf("2026-02-13", "2026-02-17")).toBe("2DTE") // Friday -> Tuesday over a weekend
    expect(expiryTypeOf("2026-02-16", "2026-02-17")).toBe("1DTE") // Monday -> Tuesday
    expect(expiryTypeOf("2026-02-05", "2026-02-10")).toBe("2DTE") // 3 trading days out still prices as 2DTE
  })

  it("uses the 1DTE row the day before expiry", () => {
    const over = { date: "2026-02-09", expiry: "2026-02-10" }
    expect(marginOf(model, straddle(1), over)).toBeCloseTo(N1_WITHOUT, 2)
    expect(marginOf(model, [...straddle(1), long("CE", 25600), long("PE", 24400)], over)).toBeCloseTo(N1_WITH, 2)
  })

  it("uses the 2DTE row two trading days out, falling back to 1DTE when it is missing", () => {
    const table: MarginConstantsTable = {
      NIFTY: {
        "0DTE": { withoutHedge: 400000, withHedge: 200000 },
        "1DTE": { withoutHedge: 300000, withHedge: 100000 },
        "2DTE": { withoutHedge: 250000, withHedge: 90000 }
      }
    }
    const over = { date: "2026-02-13", expiry: "2026-02-17" }
    expect(marginOf(constantsMarginModel(table), straddle(1), over)).toBeCloseTo(250000, 2)
    const no2dte: MarginConstantsTable = { NIFTY: { "0DTE": table.NIFTY!["0DTE"]!, "1DTE": table.NIFTY!["1DTE"]! } }
    expect(marginOf(constantsMarginModel(no2dte), straddle(1), over)).toBeCloseTo(300000, 2)
    expect(straddleMarginFor(no2dte, "NIFTY", "2DTE")).toEqual({ withoutHedge: 300000, withHedge: 100000 })
    // the fallback is for 2DTE only: a missing 1DTE does not fall back to 0DTE
    expect(straddleMarginFor({ NIFTY: { "0DTE": table.NIFTY!["0DTE"]! } }, "NIFTY", "1DTE")).toBeUndefined()
  })

  it("fails with a MarginModelError naming SENSEX and 1DTE when that row is missing", () => {
    const e = failureOf(model, straddle(1, 83000, 20), {
      index: "SENSEX",
      lotSize: 20,
      spot: 83000,
      date: "2026-02-11",
      expiry: "2026-02-12"
    })
    expect(e).toBeInstanceOf(MarginModelError)
    expect(e._tag).toBe("MarginModelError")
    expect(e.model).toBe("constants")
    expect(e.message).toContain("SENSEX")
    expect(e.message).toContain("1DTE")
  })

  it("fails naming the index when the table has no row at all for it", () => {
    const e = failureOf(constantsMarginModel({ NIFTY: defaultConfig.marginConstants.NIFTY! }), straddle(1), {
      index: "SENSEX",
      lotSize: 20
    })
    expect(e.message).toContain("SENSEX")
    expect(e.message).toContain("0DTE")
  })
})

describe("coveredShortLots", () => {
  it("matches wings nearest the money first (maximum matching)", () => {
    // CE: shorts 25000, 25200; wings 25100, 25300 -> both shorts covered
    const ce = [short("CE", 25000), short("CE", 25200), long("CE", 25100), long("CE", 25300)]
    expect(coveredShortLots(ce, "CE", LOT)).toEqual({ shortLots: 2, coveredLots: 2 })
    // PE mirror: shorts 25000, 24800; wings 24900, 24700
    const pe = [short("PE", 25000), short("PE", 24800), long("PE", 24900), long("PE", 24700)]
    expect(coveredShortLots(pe, "PE", LOT)).toEqual({ shortLots: 2, coveredLots: 2 })
  })

  it("counts only the asked side and ignores zero quantities", () => {
    const ps = [short("CE", 25000, 3), long("PE", 24000, 5), { strike: 25500, optionType: "CE" as const, quantity: 0, expiry: EXPIRY }]
    expect(coveredShortLots(ps, "CE", LOT)).toEqual({ shortLots: 3, coveredLots: 0 })
    expect(coveredShortLots(ps, "PE", LOT)).toEqual({ shortLots: 0, coveredLots: 0 })
  })
})

// ---------------------------------------------------------------------------------------------
// Properties

const STRIKES = Array.from({ length: 41 }, (_, i) => 24000 + 50 * i)
const strikeArb = fc.constantFrom(...STRIKES)
const typeArb = fc.constantFrom<OptionType>("CE", "PE")
const lotsArb = fc.integer({ min: -6, max: 6 }).filter((n) => n !== 0)
const lotSizeArb = fc.constantFrom(65, 75, 20, 1)

const positionArb = (lotSize: number) =>
  fc.record({ strike: strikeArb, optionType: typeArb, lots: lotsArb }).map((r) => pos(r.optionType, r.strike, r.lots, lotSize))

/** A table with withHedge <= withoutHedge (as the config validates), amounts in paise. */
const rowArb = fc
  .tuple(fc.integer({ min: 100, max: 100_000_000 }), fc.integer({ min: 0, max: 100_000_000 }))
  .map(([a, b]) => ({ withoutHedge: Math.max(a, b) / 100, withHedge: Math.min(a, b) / 100 }))
  .filter((r) => r.withHedge > 0)
const modelArb = fc.oneof(
  fc.constant(model),
  fc.record({ "0DTE": rowArb, "1DTE": rowArb, "2DTE": rowArb }).map((rows) => constantsMarginModel({ NIFTY: rows }))
)
const datesArb = fc.constantFrom(
  { date: "2026-02-10", expiry: "2026-02-10" },
  { date: "2026-02-09", expiry: "2026-02-10" },
  { date: "2026-02-13", expiry: "2026-02-17" }
)

const scenarioArb = fc
  .record({ lotSize: lotSizeArb, model: modelArb, dates: datesArb })
  .chain((s) =>
    fc.record({
      positions: fc.array(positionArb(s.lotSize), { maxLength: 10 }),
      extra: positionArb(s.lotSize)
    }).map((p) => ({ ...s, ...p }))
  )

const over = (s: { lotSize: number; dates: { date: string; expiry: string } }) => ({ lotSize: s.lotSize, ...s.dates })

/** Maximum bipartite matching of short lots to covering long lots (Kuhn), for reference. */
const referenceCovered = (positions: ReadonlyArray<Position>, optionType: OptionType, lotSize: number): number => {
  const sign = optionType === "CE" ? 1 : -1
  const units = (q: (p: Position) => boolean) =>
    positions.filter((p) => p.optionType === optionType && q(p)).flatMap((p) => Array(Math.abs(p.quantity) / lotSize).fill(sign * p.strike) as Array<number>)
  const shorts = units((p) => p.quantity < 0)
  const longs = units((p) => p.quantity > 0)
  const matchOfShort: Array<number> = shorts.map(() => -1)
  const tryLong = (l: number, seen: Array<boolean>): boolean => {
    for (let s = 0; s < shorts.length; s++) {
      if (seen[s] || !(longs[l]! > shorts[s]!)) continue
      seen[s] = true
      if (matchOfShort[s] === -1 || tryLong(matchOfShort[s]!, seen)) {
        matchOfShort[s] = l
        return true
      }
    }
    return false
  }
  let n = 0
  for (let l = 0; l < longs.length; l++) if (tryLong(l, shorts.map(() => false))) n++
  return n
}

describe("constantsMarginModel properties", () => {
  it("never returns a negative margin", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        expect(marginOf(s.model, s.positions, over(s))).toBeGreaterThanOrEqual(0)
      }),
      { numRuns: 500 }
    )
  })

  it("never increases when a long option is added", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const extra = { ...s.extra, quantity: Math.abs(s.extra.quantity) }
        expect(marginOf(s.model, [...s.positions, extra], over(s))).toBeLessThanOrEqual(marginOf(s.model, s.positions, over(s)))
      }),
      { numRuns: 500 }
    )
  })

  it("never decreases when a short option is added", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const extra = { ...s.extra, quantity: -Math.abs(s.extra.quantity) }
        expect(marginOf(s.model, [...s.positions, extra], over(s))).toBeGreaterThanOrEqual(marginOf(s.model, s.positions, over(s)))
      }),
      { numRuns: 500 }
    )
  })

  it("is invariant to the order of positions", () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((s) =>
          fc.shuffledSubarray(s.positions, { minLength: s.positions.length, maxLength: s.positions.length }).map((shuffled) => ({ s, shuffled }))
        ),
        ({ s, shuffled }) => {
          expect(marginOf(s.model, shuffled, over(s))).toBe(marginOf(s.model, s.positions, over(s)))
        }
      ),
      { numRuns: 500 }
    )
  })

  it("covers the maximum number of short lots (agrees with a reference matching)", () => {
    fc.assert(
      fc.property(scenarioArb, typeArb, (s, t) => {
        const { coveredLots } = coveredShortLots(s.positions, t, s.lotSize)
        expect(coveredLots).toBe(referenceCovered(s.positions, t, s.lotSize))
      }),
      { numRuns: 500 }
    )
  })

  it("is preserved by netPositions when no contract is both long and short", () => {
    // distinct contracts, each with one sign, split into several same-sign parts and shuffled
    const contractArb = fc.record({ strike: strikeArb, optionType: typeArb, lots: lotsArb })
    const arb = fc
      .record({
        lotSize: lotSizeArb,
        model: modelArb,
        dates: datesArb,
        contracts: fc.uniqueArray(contractArb, { selector: (c) => `${c.optionType}${c.strike}`, maxLength: 8 })
      })
      .chain((s) =>
        fc
          .tuple(...s.contracts.map((c) => fc.integer({ min: 1, max: 3 }).map((parts) => ({ c, parts }))))
          .map((split) =>
            split.flatMap(({ c, parts }) => {
              // split |lots| into `parts` same-sign pieces (some may be zero)
              const total = Math.abs(c.lots)
              const sign = Math.sign(c.lots)
              const pieces = Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0))
              return pieces.map((l) => pos(c.optionType, c.strike, sign * l, s.lotSize))
            })
          )
          .chain((positions) => fc.shuffledSubarray(positions, { minLength: positions.length, maxLength: positions.length }))
          .map((positions) => ({ ...s, positions }))
      )
    fc.assert(
      fc.property(arb, (s) => {
        const netted = netPositions(s.positions)
        expect(netted.every((p) => p.quantity !== 0)).toBe(true)
        expect(new Set(netted.map((p) => `${p.optionType}${p.strike}`)).size).toBe(netted.length)
        expect(marginOf(s.model, netted, over(s))).toBe(marginOf(s.model, s.positions, over(s)))
      }),
      { numRuns: 500 }
    )
  })

  it("gives a long and a short of the same contract the margin of their net position", () => {
    // The same portfolio written netted or not must cost the same: +1 lot and -1 lot of CE 25000 is flat.
    const raw = [short("CE", 25000), long("CE", 25000), short("PE", 25000)]
    const netted = netPositions(raw)
    expect(netted).toEqual([short("PE", 25000)])
    expect(marginOf(model, raw)).toBeCloseTo(marginOf(model, netted), 2) // = 433333.33 / 2
  })
})

describe("netPositions", () => {
  it("merges one contract into a signed quantity and drops flat contracts", () => {
    const ps = [short("CE", 25000, 2), long("CE", 25000, 1), long("PE", 24400, 1), short("PE", 24400, 1), long("CE", 25600, 1)]
    expect(netPositions(ps)).toEqual([short("CE", 25000, 1), long("CE", 25600, 1)])
  })

  it("keeps contracts of different expiries apart", () => {
    const ps = [short("CE", 25000), pos("CE", 25000, 1, LOT, "2026-02-17")]
    expect(netPositions(ps)).toHaveLength(2)
  })
})
