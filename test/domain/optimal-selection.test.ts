import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/domain/config.ts"
import {
  constantsMarginModel,
  coveredShortLots,
  evaluateLinear,
  MarginModelError,
  netPositions,
  type LinearMargin,
  type MarginModel,
  type MarginQuery
} from "../../src/domain/margin.ts"
import { toTick, type ChainRow, type OptionType, type Position } from "../../src/domain/market.ts"
import { MilpFailed, solveLpRelaxation, solveMilp, toLpText, type Milp } from "../../src/domain/milp.ts"
import { selectHedgesOptimal } from "../../src/domain/optimal-selection.ts"
import {
  hedgeCandidates,
  selectHedges,
  selectHedgesBy,
  shortContracts,
  type HedgeBand,
  type HedgeSelection,
  type SelectionRequest
} from "../../src/domain/selection.ts"
import { black76, yearFraction } from "../../src/domain/pricing.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { instantOf } from "../../src/domain/time.ts"
import { band, chain, EXPIRY, key, long, LOT, market, PER_LOT, request, short, SPOT, straddle, STRIKES } from "../fixtures/selection.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

const constants = constantsMarginModel(defaultConfig.marginConstants)
const optimal = (over: Partial<SelectionRequest>, model: MarginModel = constants) => run(selectHedgesOptimal(model, request(over)))
const greedy = (over: Partial<SelectionRequest>, model: MarginModel = constants) => run(selectHedges(model, request(over)))
const marginOf = (positions: ReadonlyArray<Position>, model: MarginModel = constants, m: Omit<MarginQuery, "positions"> = market) =>
  run(model.margin({ ...m, positions }))
const picked = (req: SelectionRequest, r: HedgeSelection): Array<Position> => [
  ...req.positions,
  ...r.picks.map((p) => ({ strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: req.market.expiry }))
]

// ---------------------------------------------------------------------------------------------
// The solver wrapper

describe("solveMilp", () => {
  const knapsack: Milp = {
    sense: "maximize",
    objective: [
      { variable: "chairs", coefficient: 30 },
      { variable: "tables", coefficient: 50 }
    ],
    rows: [
      { name: "carpentry", terms: [{ variable: "chairs", coefficient: 1 }, { variable: "tables", coefficient: 2 }], upper: 40 },
      { name: "finishing", terms: [{ variable: "chairs", coefficient: 2 }, { variable: "tables", coefficient: 1 }], upper: 50 }
    ],
    variables: [
      { name: "chairs", lower: 0, upper: Infinity, integer: true },
      { name: "tables", lower: 0, upper: Infinity, integer: true }
    ]
  }

  it("solves a small MILP to its optimum, integers whole", async () => {
    const s = await run(solveMilp(knapsack))
    expect(s.status).toBe("optimal")
    expect(s.objective).toBeCloseTo(1100, 6)
    expect(s.values.get("chairs")).toBe(20)
    expect(s.values.get("tables")).toBe(10)
  })

  it("relaxes integrality for the LP bound and reports reduced costs", async () => {
    // 2a + 3b ≥ 7 at costs 2 and 3.5: the LP buys 3.5 of a (cost 7); in whole units a = 2, b = 1 (7.5) is best
    const p: Milp = {
      sense: "minimize",
      objective: [
        { variable: "a", coefficient: 2 },
        { variable: "b", coefficient: 3.5 }
      ],
      rows: [{ name: "need", terms: [{ variable: "a", coefficient: 2 }, { variable: "b", coefficient: 3 }], lower: 7 }],
      variables: [
        { name: "a", lower: 0, upper: 10, integer: true },
        { name: "b", lower: 0, upper: 10, integer: true }
      ]
    }
    const lp = await run(solveLpRelaxation(p))
    const ip = await run(solveMilp(p))
    expect(lp.objective).toBeCloseTo(7, 6)
    expect(lp.values.get("a")).toBeCloseTo(3.5, 6)
    expect(lp.reducedCosts.get("a")).toBeCloseTo(0, 6)
    expect(lp.reducedCosts.get("b")).toBeCloseTo(0.5, 6) // 3.5 − 3 · (2/2)
    // whole: 2a + 3b ≥ 7 → a = 2, b = 1 costs 7.5; a = 4 costs 8
    expect(ip.objective).toBeCloseTo(7.5, 6)
    expect(ip.values.get("a")).toBe(2)
    expect(ip.values.get("b")).toBe(1)
  })

  it("handles free variables (−Infinity bounds), equality rows and repeated terms", async () => {
    const p: Milp = {
      sense: "minimize",
      objective: [{ variable: "z", coefficient: 1 }],
      rows: [
        { name: "s1", terms: [{ variable: "z", coefficient: 1 }, { variable: "n", coefficient: 5 }], lower: -3 },
        { name: "s2", terms: [{ variable: "z", coefficient: 1 }, { variable: "n", coefficient: -2 }, { variable: "n", coefficient: -2 }], lower: -20 },
        { name: "fix", terms: [{ variable: "m", coefficient: 1 }], lower: 2, upper: 2 }
      ],
      variables: [
        { name: "z", lower: -Infinity, upper: Infinity, integer: false },
        { name: "n", lower: 0, upper: 10, integer: true },
        { name: "m", lower: -Infinity, upper: Infinity, integer: false }
      ]
    }
    // z = max(−3 − 5n, −20 + 4n): least at n = 2 (max(−13, −12) = −12) vs n = 1 (max(−8, −16) = −8)
    const s = await run(solveMilp(p))
    expect(s.objective).toBeCloseTo(-12, 6)
    expect(s.values.get("n")).toBe(2)
    expect(s.values.get("m")).toBeCloseTo(2, 9)
  })

  it("says infeasible, and fails typed when unbounded or malformed", async () => {
    const infeasible: Milp = { ...knapsack, rows: [...knapsack.rows, { name: "many", terms: [{ variable: "chairs", coefficient: 1 }], lower: 100 }] }
    expect((await run(solveMilp(infeasible))).status).toBe("infeasible")
    const unbounded: Milp = { ...knapsack, rows: [] }
    expect((await run(Effect.flip(solveMilp(unbounded)))).reason).toBe("unbounded")
    const unknown: Milp = { ...knapsack, objective: [{ variable: "sofas", coefficient: 1 }] }
    const e = await run(Effect.flip(solveMilp(unknown)))
    expect(e).toBeInstanceOf(MilpFailed)
    expect(e.reason).toBe("invalid")
    const badBounds: Milp = { ...knapsack, variables: [{ name: "chairs", lower: 3, upper: 1, integer: true }, knapsack.variables[1]!] }
    expect((await run(Effect.flip(solveMilp(badBounds)))).reason).toBe("invalid")
  })

  it("stops at a node limit with reason \"limit\", the same on every run", async () => {
    // Two knapsack rows over 20 binaries: more than one branch-and-bound node to prove.
    const n = 20
    const p: Milp = {
      sense: "maximize",
      objective: Array.from({ length: n }, (_, i) => ({ variable: `x${i}`, coefficient: 50 + ((i * 1299709) % 47) })),
      rows: [
        { name: "r1", terms: Array.from({ length: n }, (_, i) => ({ variable: `x${i}`, coefficient: 37 + ((i * 7919) % 61) })), upper: 20 * n + 7 },
        { name: "r2", terms: Array.from({ length: n }, (_, i) => ({ variable: `x${i}`, coefficient: 41 + ((i * 104729) % 59) })), upper: 19 * n + 3 }
      ],
      variables: Array.from({ length: n }, (_, i) => ({ name: `x${i}`, lower: 0, upper: 1, integer: true }))
    }
    expect((await run(solveMilp(p))).objective).toBeCloseTo(551, 6)
    for (let k = 0; k < 2; k++) expect((await run(Effect.flip(solveMilp(p, { nodeLimit: 1 })))).reason).toBe("limit")
  })

  it("solves a problem without variables by checking its rows at zero", async () => {
    expect((await run(solveMilp({ sense: "minimize", objective: [], rows: [{ name: "r", terms: [], lower: -1, upper: 1 }], variables: [] }))).status).toBe("optimal")
    expect((await run(solveMilp({ sense: "minimize", objective: [], rows: [{ name: "r", terms: [], lower: 1 }], variables: [] }))).status).toBe("infeasible")
  })

  it("agrees with brute force on random small integer programs (the CSR build and status mapping)", async () => {
    const term = fc.record({ v: fc.integer({ min: 0, max: 2 }), c: fc.integer({ min: -4, max: 4 }) })
    const arb = fc.record({
      sense: fc.constantFrom<"minimize" | "maximize">("minimize", "maximize"),
      objective: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 3, maxLength: 3 }),
      upper: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
      rows: fc.array(
        fc.record({ terms: fc.array(term, { minLength: 1, maxLength: 4 }), lower: fc.option(fc.integer({ min: -6, max: 6 })), upper: fc.option(fc.integer({ min: -6, max: 10 })) }),
        { maxLength: 3 }
      )
    })
    await fc.assert(
      fc.asyncProperty(arb, async (a) => {
        const p: Milp = {
          sense: a.sense,
          objective: a.objective.map((c, v) => ({ variable: `v${v}`, coefficient: c })),
          rows: a.rows.map((r, i) => ({
            name: `r${i}`,
            terms: r.terms.map((t) => ({ variable: `v${t.v}`, coefficient: t.c })),
            ...(r.lower === null ? {} : { lower: r.lower }),
            ...(r.upper === null ? {} : { upper: Math.max(r.upper, r.lower ?? -Infinity) })
          })),
          variables: a.upper.map((u, v) => ({ name: `v${v}`, lower: 0, upper: u, integer: true }))
        }
        let best: number | undefined
        for (let x0 = 0; x0 <= a.upper[0]!; x0++)
          for (let x1 = 0; x1 <= a.upper[1]!; x1++)
            for (let x2 = 0; x2 <= a.upper[2]!; x2++) {
              const x = [x0, x1, x2]
              const ok = p.rows.every((r) => {
                const act = r.terms.reduce((s, t) => s + t.coefficient * x[Number(t.variable.slice(1))]!, 0)
                return act >= (r.lower ?? -Infinity) && act <= (r.upper ?? Infinity)
              })
              if (!ok) continue
              const obj = a.objective.reduce((s, c, i) => s + c * x[i]!, 0)
              if (best === undefined || (a.sense === "minimize" ? obj < best : obj > best)) best = obj
            }
        const s = await run(solveMilp(p))
        if (best === undefined) expect(s.status).toBe("infeasible")
        else {
          expect(s.status).toBe("optimal")
          expect(s.objective).toBeCloseTo(best, 6)
          const x = [0, 1, 2].map((v) => s.values.get(`v${v}`)!)
          expect(a.objective.reduce((t, c, i) => t + c * x[i]!, 0)).toBeCloseTo(best, 6)
        }
      }),
      { numRuns: 150 }
    )
  })

  it("writes the same problem as LP text for reproduction outside the engine", () => {
    expect(toLpText(knapsack)).toContain("Maximize")
    expect(toLpText(knapsack)).toContain("carpentry_hi:  1 chairs + 2 tables <= 40")
    expect(toLpText(knapsack)).toContain("Generals\n chairs tables")
  })
})

// ---------------------------------------------------------------------------------------------
// The constants model's linear form

describe("constantsMarginModel.linear", () => {
  const typeArb = fc.constantFrom<OptionType>("CE", "PE")
  const positionArb = fc.record({
    strike: fc.constantFrom(...STRIKES),
    optionType: typeArb,
    lots: fc.integer({ min: -6, max: 4 }).filter((n) => n !== 0)
  })
  const contractArb = fc.record({ strike: fc.constantFrom(...STRIKES), optionType: typeArb, lots: fc.integer({ min: 0, max: 5 }) })
  const rowArb = fc.record({ withoutHedge: fc.integer({ min: 1, max: 900_000 }), withHedge: fc.integer({ min: 1, max: 900_000 }) })

  it("equals the model's margin for any long additions it prices, and prices exactly the wings beyond every short of their side", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(positionArb, { maxLength: 6 }), fc.array(contractArb, { maxLength: 6 }), rowArb, async (ps, cs, row) => {
        const model = constantsMarginModel({ NIFTY: { "0DTE": row } })
        const positions = ps.map((p) => ({ strike: p.strike, optionType: p.optionType, quantity: p.lots * LOT, expiry: EXPIRY }))
        const contracts = cs.map((c) => ({ strike: c.strike, optionType: c.optionType, expiry: EXPIRY }))
        const form = await run(model.linear!({ ...market, positions }, contracts))
        const netted = netPositions(positions)
        cs.forEach((c, i) => {
          const shorts = netted.filter((p) => p.optionType === c.optionType && p.quantity < 0).map((p) => p.strike)
          const beyond = shorts.every((k) => (c.optionType === "CE" ? c.strike > k : c.strike < k))
          expect(form.perUnit[i] !== null).toBe(beyond && row.withoutHedge >= row.withHedge)
        })
        // Units of the priced contracts only (a null contract's quantity stays 0).
        const n = cs.map((c, i) => (form.perUnit[i] === null ? 0 : c.lots * LOT))
        const added = cs.flatMap((c, i) => (n[i] === 0 ? [] : [{ strike: c.strike, optionType: c.optionType, quantity: n[i]!, expiry: EXPIRY }]))
        const truth = await marginOf([...positions, ...added], model)
        // The model rounds to the paisa; the form does not.
        expect(Math.abs(evaluateLinear(form, n) - truth)).toBeLessThanOrEqual(0.005 + 1e-9 * truth)
        expect(Math.abs(evaluateLinear(form, cs.map(() => 0)) - (await marginOf(positions, model)))).toBeLessThanOrEqual(0.005 + 1e-9 * truth)
      }),
      { numRuns: 300 }
    )
  })

  it("has one group per side with two scenarios and no floor", async () => {
    const form = await run(constants.linear!({ ...market, positions: [...straddle(3), long("CE", 25600, 1)] }, [{ strike: 25700, optionType: "CE", expiry: EXPIRY }]))
    expect(form.groups).toEqual([
      { floor: -Infinity, base: [-2 * PER_LOT, 0] },
      { floor: -Infinity, base: [-3 * PER_LOT, 0] }
    ])
    expect(form.perUnit[0]).toEqual([
      [0, -PER_LOT / LOT],
      [0, 0]
    ])
    expect(coveredShortLots([...straddle(3), long("CE", 25600, 1)], "CE", LOT)).toEqual({ shortLots: 3, coveredLots: 1 })
  })

  it("fails like margin when the table has no row", async () => {
    const e = await run(Effect.flip(constants.linear!({ ...market, index: "SENSEX", date: "2026-02-09", positions: [] }, [])))
    expect(e).toBeInstanceOf(MarginModelError)
    expect(e.message).toContain("no margin constants for SENSEX 1DTE")
  })
})

// ---------------------------------------------------------------------------------------------
// Selection on the constants model

describe("selectHedgesOptimal with the constants model", () => {
  it("buys nothing when no reduction is needed", async () => {
    expect(await optimal({ reductionNeeded: 0 })).toEqual({ picks: [], cost: 0, benefit: 0, shortfall: 0, limitedBy: "none", method: "optimal" })
    expect((await optimal({ reductionNeeded: -5 })).picks).toEqual([])
  })

  it("matches greedy where whole units fit the shorts", async () => {
    const o = await optimal({ reductionNeeded: 300_000 })
    expect(o.picks.map(key)).toEqual(["CE25900"])
    expect(o.picks[0]!.lots).toBe(3)
    expect(o.cost).toBeCloseTo(409.5, 6)
    expect(o.benefit).toBeCloseTo(3 * PER_LOT, 1)
    expect(o.limitedBy).toBe("none")
    expect(o.method).toBe("optimal")
  })

  it("finds the cheaper mix where greedy's whole units overspend", async () => {
    // 500 000 needs 5 covered lots: 3 calls at 2.10 and 2 puts at 2.85; greedy buys a third put lot.
    const req = { reductionNeeded: 500_000 }
    const g = await greedy(req)
    const o = await optimal(req)
    expect(g.cost).toBeCloseTo(409.5 + 2.85 * 195, 6)
    expect(o.picks.map((p) => `${key(p)}x${p.lots}`)).toEqual(["CE25900x3", "PE24050x2"])
    expect(o.cost).toBeCloseTo(409.5 + 2.85 * 130, 6)
    expect(o.cost).toBeLessThan(g.cost)
    expect(o.benefit).toBeGreaterThanOrEqual(500_000)
    // a partial last unit: 4 short calls, units of 3 — greedy buys 6 lots, 4 are enough
    const partial = { positions: [short("CE", 4)], reductionNeeded: 4 * PER_LOT - 0.05 }
    expect((await greedy(partial)).picks[0]!.lots).toBe(6)
    const p = await optimal(partial)
    expect(p.picks.map((x) => `${key(x)}x${x.lots}`)).toEqual(["CE25900x4"])
    expect(p.cost).toBeCloseTo(2.1 * 4 * LOT, 6)
  })

  it("costs the closed form on a straddle: the needed covered lots, cheapest side first", async () => {
    // Beyond-the-shorts wings free PER_LOT each; the cheapest call lot is 2.10 · 65, the cheapest put 2.85 · 65.
    const ceLot = 2.1 * LOT
    const peLot = 2.85 * LOT
    for (const baskets of [1, 2, 5]) {
      for (const covered of [1, baskets, baskets + 1, 2 * baskets]) {
        if (covered > 2 * baskets) continue
        const reductionNeeded = covered * PER_LOT - 0.05
        const o = await optimal({ positions: straddle(baskets), reductionNeeded, unitLots: baskets })
        const closed = Math.min(covered, baskets) * ceLot + Math.max(0, covered - baskets) * peLot
        expect(o.limitedBy).toBe("none")
        expect(o.cost).toBeCloseTo(closed, 6)
      }
    }
  })

  it("breaks a price tie towards the strike farther out", async () => {
    const tied = chain.map((r) => (r.strike === 25850 ? { ...r, ce: 2 } : r))
    const o = await optimal({ chain: tied, reductionNeeded: 300_000 })
    expect(o.picks.map(key)).toEqual(["CE25900"])
  })

  it("is deterministic: the same request, or the chain in another order, gives the same picks", async () => {
    const req = { positions: [...straddle(4), short("CE", 2, 25100)], reductionNeeded: 650_000, unitLots: 2 }
    const a = await optimal(req)
    const b = await optimal(req)
    const c = await optimal({ ...req, chain: [...chain].reverse() })
    expect(b).toEqual(a)
    expect(c).toEqual(a)
  })

  it("stops with spendCap at the largest reduction the spend left buys, at its least cost", async () => {
    // 600 rupees: 3 calls (409.50) + 1 put (185.25) free 4 lots; greedy stops after the call unit.
    const o = await optimal({ reductionNeeded: 500_000, spendLeft: 600 })
    expect(o.limitedBy).toBe("spendCap")
    expect(o.picks.map((p) => `${key(p)}x${p.lots}`)).toEqual(["CE25900x3", "PE24050x1"])
    expect(o.cost).toBeCloseTo(594.75, 6)
    expect(o.benefit).toBeCloseTo(4 * PER_LOT, 1)
    expect(o.shortfall).toBeCloseTo(500_000 - o.benefit, 6)
    expect((await greedy({ reductionNeeded: 500_000, spendLeft: 600 })).benefit).toBeLessThan(o.benefit)
    // not even one lot affordable
    const none = await optimal({ reductionNeeded: 300_000, spendLeft: 100 })
    expect(none).toEqual({ picks: [], cost: 0, benefit: 0, shortfall: 300_000, limitedBy: "spendCap", method: "optimal" })
  })

  it("stops with noCandidate when every short is covered, the band is empty or nothing is uncovered", async () => {
    const all = await optimal({ reductionNeeded: 800_000 })
    expect(all.limitedBy).toBe("noCandidate")
    expect(all.picks.map((p) => `${key(p)}x${p.lots}`)).toEqual(["CE25900x3", "PE24050x3"])
    expect(all.shortfall).toBeCloseTo(800_000 - 6 * PER_LOT, 1)
    const empty = await optimal({ reductionNeeded: 300_000, band: { ...band, minPremium: 100, maxPremium: 200 } })
    expect(empty).toEqual({ picks: [], cost: 0, benefit: 0, shortfall: 300_000, limitedBy: "noCandidate", method: "optimal" })
    const hedged = await optimal({ positions: [...straddle(3), long("CE", 25600, 3), long("PE", 24400, 3)], reductionNeeded: 100_000 })
    expect(hedged.limitedBy).toBe("noCandidate")
    expect(hedged.picks).toEqual([])
  })

  it("never buys a contract the portfolio is short in", async () => {
    // The short CE 25950 sits in the band; buying it back would close a strategy leg, not hedge it.
    const c: ReadonlyArray<ChainRow> = [
      { strike: 25600, ce: 2, pe: null },
      { strike: 25950, ce: 3.6, pe: null },
      { strike: 26000, ce: 3, pe: null }
    ]
    const positions = [short("CE", 4, 25950), short("CE", 2, 24000)]
    const o = await optimal({ chain: c, positions, reductionNeeded: 100_000, unitLots: 2 })
    expect(o.limitedBy).toBe("none")
    expect(o.picks.map(key)).toEqual(["CE26000"])
  })

  it("reports each pick's benefit given the picks before it, as the model counts it", async () => {
    const req = request({ positions: [...straddle(5), short("PE", 2, 24950)], reductionNeeded: 900_000, unitLots: 5 })
    const o = await run(selectHedgesOptimal(constants, req))
    let positions = [...req.positions]
    for (const p of o.picks) {
      const before = await marginOf(positions)
      positions = [...positions, { strike: p.strike, optionType: p.optionType, quantity: p.quantity, expiry: EXPIRY }]
      expect(p.benefit).toBeCloseTo(before - (await marginOf(positions)), 6)
    }
    expect(o.benefit).toBeCloseTo((await marginOf(req.positions)) - (await marginOf(positions)), 6)
    expect(o.benefit).toBeGreaterThanOrEqual(900_000)
  })
})

// ---------------------------------------------------------------------------------------------
// Properties on the constants model

const priceArb = fc.option(fc.integer({ min: 1, max: 200 }).map((n) => n / 20), { nil: null, freq: 4 })
const chainArb = fc
  .array(fc.tuple(priceArb, priceArb), { minLength: STRIKES.length, maxLength: STRIKES.length })
  .map((prices) => STRIKES.map((strike, i) => ({ strike, ce: prices[i]![0], pe: prices[i]![1] })))
// The engine's regime: shorts near the money (inside the band's least distance), wings anywhere.
const engineArb = fc.record({
  chain: chainArb,
  shorts: fc.array(fc.record({ d: fc.integer({ min: -3, max: 3 }), optionType: fc.constantFrom<OptionType>("CE", "PE"), lots: fc.integer({ min: 1, max: 6 }) }), {
    minLength: 1,
    maxLength: 4
  }),
  longs: fc.array(fc.record({ strike: fc.constantFrom(...STRIKES), optionType: fc.constantFrom<OptionType>("CE", "PE"), lots: fc.integer({ min: 1, max: 3 }) }), {
    maxLength: 2
  }),
  reductionNeeded: fc.integer({ min: 1, max: 2_000_000 }),
  spendLeft: fc.integer({ min: 0, max: 5_000 }),
  unitLots: fc.integer({ min: 1, max: 4 })
})
type EngineCase = typeof engineArb extends fc.Arbitrary<infer T> ? T : never
const engineRequest = (s: EngineCase): SelectionRequest =>
  request({
    chain: s.chain,
    positions: netPositions([
      ...s.shorts.map((x) => short(x.optionType, x.lots, SPOT + 50 * x.d)),
      ...s.longs.map((x) => long(x.optionType, x.strike, x.lots))
    ]),
    reductionNeeded: s.reductionNeeded,
    spendLeft: s.spendLeft,
    unitLots: s.unitLots
  })

describe("selectHedgesOptimal properties (constants model)", () => {
  it("never costs more than greedy when both reach the target, and reaches it whenever greedy does", async () => {
    await fc.assert(
      fc.asyncProperty(engineArb, async (s) => {
        const req = engineRequest(s)
        const o = await run(selectHedgesOptimal(constants, req))
        const g = await run(selectHedges(constants, req))
        if (g.limitedBy === "none") expect(o.limitedBy).toBe("none")
        if (o.limitedBy === "none" && g.limitedBy === "none") expect(o.cost).toBeLessThanOrEqual(g.cost + 1e-6)
        // out of reach: optimal frees at least what greedy frees within the same spend
        // (the model rounds to the paisa, the form does not: two roundings apart at most)
        if (o.limitedBy !== "none") expect(o.benefit).toBeGreaterThanOrEqual(g.benefit - 0.02)
      }),
      { numRuns: 150 }
    )
  })

  it("picks whole lots of in-band candidates, within the spend left, with consistent totals", async () => {
    await fc.assert(
      fc.asyncProperty(engineArb, async (s) => {
        const req = engineRequest(s)
        const r = await run(selectHedgesOptimal(constants, req))
        const inBand = new Map(hedgeCandidates(req.chain, SPOT, band, ["CE", "PE"], shortContracts(req.positions)).map((c) => [key(c), c]))
        const shorts = shortContracts(req.positions)
        expect(new Set(r.picks.map(key)).size).toBe(r.picks.length)
        for (const p of r.picks) {
          expect(Number.isInteger(p.lots) && p.lots >= 1).toBe(true)
          expect(p.quantity).toBe(p.lots * LOT)
          expect(p.cost).toBeCloseTo(p.limitPrice * p.quantity, 6)
          expect(shorts.has(key(p))).toBe(false)
          expect(inBand.get(key(p))).toEqual({ strike: p.strike, optionType: p.optionType, ltp: p.ltp, limitPrice: p.limitPrice, otmDistance: p.otmDistance })
        }
        expect(r.cost).toBeLessThanOrEqual(req.spendLeft + 1e-6)
        expect(r.picks.reduce((t, p) => t + p.cost, 0)).toBeCloseTo(r.cost, 6)
        expect(r.picks.reduce((t, p) => t + p.benefit, 0)).toBeCloseTo(r.benefit, 4)
        const freed = (await marginOf(req.positions)) - (await marginOf(picked(req, r)))
        expect(freed).toBeCloseTo(r.benefit, 6)
        if (r.limitedBy === "none") expect(r.benefit).toBeGreaterThanOrEqual(req.reductionNeeded)
        else expect(r.shortfall).toBeCloseTo(req.reductionNeeded - r.benefit, 6)
      }),
      { numRuns: 150 }
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Brute force on synthetic linear models

const SLOT = 4 // a power of two, so per-unit halves and quarters stay exact

/**
 * A margin model that is its own linear form: margin = fixed + Σ_g max(floor_g, max_s(base + Σ_c n_c·unit_c)),
 * n_c the units of contract c added to `basePositions`. Values are whole rupees, so margins are exact.
 */
const syntheticModel = (
  spec: { readonly fixed: number; readonly groups: ReadonlyArray<{ floor: number; base: ReadonlyArray<number> }> },
  units: ReadonlyMap<string, ReadonlyArray<ReadonlyArray<number>> | null>,
  basePositions: ReadonlyArray<Position>
): MarginModel => {
  const added = (positions: ReadonlyArray<Position>): Map<string, number> => {
    const n = new Map<string, number>()
    for (const p of positions) n.set(key(p), (n.get(key(p)) ?? 0) + p.quantity)
    for (const p of basePositions) n.set(key(p), (n.get(key(p)) ?? 0) - p.quantity)
    return n
  }
  const valueAt = (n: ReadonlyMap<string, number>) => {
    const groups = spec.groups.map((g, gi) => ({
      floor: g.floor,
      base: g.base.map((b, s) => [...n].reduce((v, [k, q]) => (q === 0 ? v : v + q * units.get(k)![gi]![s]!), b))
    }))
    return groups
  }
  const fail = (message: string) => Effect.fail(new MarginModelError({ model: "synthetic", message }))
  return {
    name: "synthetic",
    margin: (q) => {
      const n = added(q.positions)
      for (const [k, v] of n) if (v !== 0 && (units.get(k) ?? null) === null) return fail(`cannot price ${k}`)
      return Effect.succeed(evaluateLinear({ fixed: spec.fixed, groups: valueAt(n), perUnit: [] }, []))
    },
    linear: (q, contracts) => {
      const n = added(q.positions)
      for (const [k, v] of n) if (v !== 0 && (units.get(k) ?? null) === null) return fail(`cannot price ${k}`)
      const form: LinearMargin = { fixed: spec.fixed, groups: valueAt(n), perUnit: contracts.map((c) => units.get(key(c)) ?? null) }
      return Effect.succeed(form)
    }
  }
}

const SYN_CE = [25300, 25500, 25700]
const SYN_PE = [24700, 24500]
const synArb = fc
  .record({
    groups: fc.array(
      fc.record({
        floor: fc.option(fc.integer({ min: -40, max: 40 }), { nil: -Infinity, freq: 2 }),
        base: fc.array(fc.integer({ min: -50, max: 60 }), { minLength: 1, maxLength: 3 })
      }),
      { minLength: 1, maxLength: 2 }
    ),
    fixed: fc.integer({ min: 0, max: 100 }),
    ceUse: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    peUse: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    prices: fc.array(fc.integer({ min: 40, max: 120 }).map((n) => n / 20), { minLength: 5, maxLength: 5 }),
    // per contract, per group (max 2), per scenario (max 3): the change per lot
    unit: fc.array(fc.array(fc.array(fc.integer({ min: -25, max: 8 }), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }), { minLength: 5, maxLength: 5 }),
    unpriced: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    shortCe: fc.integer({ min: 0, max: 2 }),
    shortPe: fc.integer({ min: 0, max: 2 }),
    unitLots: fc.integer({ min: 1, max: 2 }),
    reduction: fc.integer({ min: 0, max: 80 }),
    spendLeft: fc.integer({ min: 0, max: 60 })
  })
  .filter((s) => s.ceUse.some((u) => u) || s.peUse.some((u) => u))

type SynCase = typeof synArb extends fc.Arbitrary<infer T> ? T : never
const synSetup = (s: SynCase) => {
  const rows = new Map<number, { ce: number | null; pe: number | null }>()
  const contracts: Array<{ strike: number; optionType: OptionType }> = []
  SYN_CE.forEach((k, i) => s.ceUse[i] && contracts.push({ strike: k, optionType: "CE" }))
  SYN_PE.forEach((k, i) => s.peUse[i] && contracts.push({ strike: k, optionType: "PE" }))
  contracts.forEach((c, i) => {
    const row = rows.get(c.strike) ?? { ce: null, pe: null }
    rows.set(c.strike, c.optionType === "CE" ? { ...row, ce: s.prices[i]! } : { ...row, pe: s.prices[i]! })
  })
  const synChain: Array<ChainRow> = [...rows.entries()].map(([strike, p]) => ({ strike, ...p }))
  const units = new Map<string, ReadonlyArray<ReadonlyArray<number>> | null>()
  contracts.forEach((c, i) => {
    units.set(key(c), s.unpriced[i] ? null : s.groups.map((g, gi) => g.base.map((_, sc) => s.unit[i]![gi]![sc]! / SLOT)))
  })
  const positions: Array<Position> = [
    ...(s.shortCe > 0 ? [{ strike: SPOT, optionType: "CE" as const, quantity: -s.shortCe * SLOT, expiry: EXPIRY }] : []),
    ...(s.shortPe > 0 ? [{ strike: SPOT, optionType: "PE" as const, quantity: -s.shortPe * SLOT, expiry: EXPIRY }] : [])
  ]
  const model = syntheticModel({ fixed: s.fixed, groups: s.groups }, units, positions)
  const req: SelectionRequest = {
    market: { ...market, lotSize: SLOT },
    chain: synChain,
    positions,
    // Whole-rupee margins against a target half a rupee off the grid: no margin sits within FORM_TOLERANCE of it.
    reductionNeeded: s.reduction + 0.5,
    spendLeft: s.spendLeft,
    unitLots: s.unitLots,
    band: { ...band, minPremium: 1, maxPremium: 7 }
  }
  const cands = hedgeCandidates(synChain, SPOT, req.band, ["CE", "PE"], shortContracts(positions)).filter((c) => units.get(key(c)) != null)
  /** The form at whole lots of `cands`, as the model computes it (synchronously, for enumeration). */
  const marginAt = (lots: ReadonlyArray<number>) =>
    s.fixed +
    s.groups.reduce((sum, g, gi) => {
      let worst = g.floor
      g.base.forEach((b, sc) => {
        const v = cands.reduce((t, c, j) => t + lots[j]! * SLOT * units.get(key(c))![gi]![sc]!, b)
        if (v > worst) worst = v
      })
      return sum + worst
    }, 0)
  // Hedge lots per side: the side's short lots plus a unit.
  const sideCaps = { CE: s.shortCe + s.unitLots, PE: s.shortPe + s.unitLots }
  return { model, req, cands, marginAt, sideCaps }
}

/** Every mix of whole lots within the side caps and `budget`: its cost and margin. */
const enumerate = (setup: ReturnType<typeof synSetup>, budget: number) => {
  const { cands, marginAt, sideCaps } = setup
  const out: Array<{ cost: number; margin: number }> = []
  const lots = cands.map(() => 0)
  const visit = (i: number, spent: number, used: { CE: number; PE: number }): void => {
    if (i === cands.length) {
      out.push({ cost: spent, margin: marginAt(lots) })
      return
    }
    const side = cands[i]!.optionType
    const lotCost = cands[i]!.limitPrice * SLOT
    for (let n = 0; spent + n * lotCost <= budget + 1e-9 && used[side] + n <= sideCaps[side]; n++) {
      lots[i] = n
      visit(i + 1, spent + n * lotCost, { ...used, [side]: used[side] + n })
    }
    lots[i] = 0
  }
  visit(0, 0, { CE: 0, PE: 0 })
  return out
}

describe("selectHedgesOptimal against brute force (synthetic linear models)", () => {
  it("costs the brute-force minimum, or frees the brute-force maximum when the target is out of reach (hedge lots per side within the side's short lots plus a unit)", async () => {
    await fc.assert(
      fc.asyncProperty(synArb, async (s) => {
        const setup = synSetup(s)
        const { model, req, marginAt } = setup
        const r = await run(selectHedgesOptimal(model, req))
        const before = await marginOf(req.positions, model, req.market)
        expect(marginAt(setup.cands.map(() => 0))).toBe(before)
        const target = before - req.reductionNeeded
        const affordable = enumerate(setup, req.spendLeft)
        const meeting = affordable.filter((m) => m.margin <= target)
        const after = await marginOf(picked(req, r), model, req.market)
        expect(r.benefit).toBeCloseTo(before - after, 9)
        expect(r.cost).toBeLessThanOrEqual(req.spendLeft + 1e-9)
        if (meeting.length > 0) {
          expect(r.limitedBy).toBe("none")
          expect(r.cost).toBeCloseTo(Math.min(...meeting.map((m) => m.cost)), 9)
          expect(after).toBeLessThanOrEqual(target)
          return
        }
        const best = Math.min(...affordable.map((m) => m.margin))
        const leastCost = Math.min(...affordable.filter((m) => m.margin === best).map((m) => m.cost))
        expect(after).toBe(best)
        expect(r.cost).toBeCloseTo(leastCost, 9)
        expect(r.shortfall).toBeCloseTo(req.reductionNeeded - r.benefit, 9)
        // The spend cap binds when some dearer mix frees more.
        const uncapped = Math.min(...enumerate(setup, Infinity).map((m) => m.margin))
        expect(r.limitedBy).toBe(uncapped < best ? "spendCap" : "noCandidate")
      }),
      { numRuns: 200 }
    )
  })

  it("never buys more hedge lots on a side than its short lots plus a unit, however much more they would free", async () => {
    // Every call lot frees 10 more, without end; 2 short call lots and units of 1 allow 3 lots.
    const positions: Array<Position> = [{ strike: SPOT, optionType: "CE", quantity: -2 * SLOT, expiry: EXPIRY }]
    const units = new Map([["CE25300", [[-10 / SLOT]]], ["CE25500", [[-12 / SLOT]]]])
    const model = syntheticModel({ fixed: 0, groups: [{ floor: -Infinity, base: [100] }] }, units, positions)
    const req: SelectionRequest = {
      market: { ...market, lotSize: SLOT },
      chain: [
        { strike: 25300, ce: 3, pe: null },
        { strike: 25500, ce: 4, pe: null }
      ],
      positions,
      reductionNeeded: 1000,
      spendLeft: 1000,
      unitLots: 1,
      band: { ...band, minPremium: 1, maxPremium: 7 }
    }
    const r = await run(selectHedgesOptimal(model, req))
    expect(r.picks.reduce((t, p) => t + p.lots, 0)).toBe(3)
    expect(r.benefit).toBe(36) // three lots of the one freeing 12
    expect(r.limitedBy).toBe("noCandidate")
    // greedy has no such cap
    expect((await run(selectHedges(model, req))).picks.reduce((t, p) => t + p.lots, 0)).toBeGreaterThan(3)
  })

  it("fails with MarginModelError when the model's form disagrees with its margin", async () => {
    const positions = [short("CE", 2)]
    const lying: MarginModel = {
      name: "lying",
      margin: constants.margin,
      linear: (q, contracts) => Effect.map(constants.linear!(q, contracts), (f) => ({ ...f, fixed: f.fixed + 1000 }))
    }
    const e = await run(Effect.flip(selectHedgesOptimal(lying, request({ positions, reductionNeeded: 100_000 }))))
    expect(e).toBeInstanceOf(MarginModelError)
    expect(e.message).toContain("linear form gives")
    const halfTrue: MarginModel = {
      name: "half-true",
      margin: constants.margin,
      // per-unit benefit doubled: the MILP would stop short
      linear: (q, contracts) =>
        Effect.map(constants.linear!(q, contracts), (f) => ({ ...f, perUnit: f.perUnit.map((u) => u && u.map((row) => row.map((a) => 2 * a))) }))
    }
    const h = await run(Effect.flip(selectHedgesOptimal(halfTrue, request({ positions, reductionNeeded: 200_000 }))))
    expect(h.message).toContain("after the picks")
  })
})

// ---------------------------------------------------------------------------------------------
// With the SPAN model

describe("selectHedgesOptimal with the SPAN model", () => {
  const span = spanMarginModel()
  const at = instantOf("2026-02-09", "11:00:00")
  const years = yearFraction(at, EXPIRY)
  const spanChain: ReadonlyArray<ChainRow> = Array.from({ length: 121 }, (_, i) => 22000 + 50 * i).map((k) => {
    const vol = 0.12 + 0.8 * Math.log(k / SPOT) ** 2
    return { strike: k, ce: toTick(Math.max(0.05, black76("CE", SPOT, k, years, vol))), pe: toTick(Math.max(0.05, black76("PE", SPOT, k, years, vol))) }
  })
  const spanMarket = { ...market, date: "2026-02-09", at, chain: spanChain }
  const spanBand: HedgeBand = { minPremium: 0.5, maxPremium: 20, minOtmDistance: 150, maxOtmDistance: 1500, limitPriceBuffer: 0.1 }

  // (On the symmetric straddles greedy stops at once: one side's unit alone does not lower SPAN's worst
  // scenario, while the MILP buys both sides together.)
  it("meets the target by the model's count, at no more than greedy's cost when greedy keeps to the side cap", async () => {
    for (const [positions, share, unitLots] of [
      [straddle(5), 0.1, 5],
      [straddle(5), 0.3, 5],
      [[...straddle(10), short("CE", 5, 25100), short("PE", 5, 24900)], 0.2, 5],
      [[short("CE", 10), short("PE", 4)], 0.2, 2],
      [[short("CE", 8, 25100)], 0.3, 2]
    ] as const) {
      const before = await marginOf(positions, span, spanMarket)
      const req: SelectionRequest = { market: spanMarket, chain: spanChain, positions, reductionNeeded: share * before, spendLeft: 50_000, unitLots, band: spanBand }
      const o = await run(selectHedgesOptimal(span, req))
      const g = await run(selectHedges(span, req))
      expect(o.method).toBe("optimal")
      expect(o.limitedBy).toBe("none")
      expect(before - (await marginOf(picked(req, o), span, spanMarket))).toBeGreaterThanOrEqual(req.reductionNeeded)
      const shortLots = (side: OptionType) => positions.filter((p) => p.optionType === side && p.quantity < 0).reduce((t, p) => t - p.quantity / LOT, 0)
      for (const side of ["CE", "PE"] as const) {
        expect(o.picks.filter((p) => p.optionType === side).reduce((t, p) => t + p.lots, 0)).toBeLessThanOrEqual(shortLots(side) + unitLots)
      }
      const greedyWithinCap = (["CE", "PE"] as const).every(
        (side) => g.picks.filter((p) => p.optionType === side).reduce((t, p) => t + p.lots, 0) <= shortLots(side) + unitLots
      )
      if (g.limitedBy === "none" && greedyWithinCap) expect(o.cost).toBeLessThanOrEqual(g.cost + 1e-6)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Method dispatch and the greedy fallback

describe("selectHedgesBy and the fallback", () => {
  it("falls back to greedy, and says so, for a model without a linear form", async () => {
    const basket: MarginModel = { name: "broker", margin: constants.margin }
    const req = request({ reductionNeeded: 500_000 })
    const o = await run(selectHedgesOptimal(basket, req))
    const g = await run(selectHedges(basket, req))
    expect(o).toEqual({ ...g, method: "greedy" })
  })

  it("dispatches on the method and tags the result", async () => {
    const req = request({ reductionNeeded: 500_000 })
    const byGreedy = await run(selectHedgesBy("greedy", constants, req))
    const byOptimal = await run(selectHedgesBy("optimal", constants, req))
    expect(byGreedy).toEqual({ ...(await run(selectHedges(constants, req))), method: "greedy" })
    expect(byOptimal).toEqual(await run(selectHedgesOptimal(constants, req)))
    expect(byOptimal.method).toBe("optimal")
    expect(byOptimal.cost).toBeLessThan(byGreedy.cost)
  })
})
