// Mixed-integer linear programs, solved exactly by HiGHS (the `highs` WebAssembly build), and their LP
// relaxations. Problems are plain data with named variables; a solve hands HiGHS the structured form
// (CSR rows, bounds, integrality) through its persistent-model API, which skips LP-text writing and
// parsing, and always disposes the model. The solver is loaded once per process and reused; a solve is
// synchronous once it is loaded.
import { Effect, Schema } from "effect"
import * as HighsModule from "highs"
import type { Highs, ModelData } from "highs"

export interface MilpTerm {
  readonly variable: string
  readonly coefficient: number
}

/** lower ≤ Σ terms ≤ upper; a missing side is unbounded. */
export interface MilpRow {
  readonly name: string
  readonly terms: ReadonlyArray<MilpTerm>
  readonly lower?: number
  readonly upper?: number
}

export interface MilpVariable {
  readonly name: string
  /** Bounds; ±Infinity for none. */
  readonly lower: number
  readonly upper: number
  readonly integer: boolean
}

export interface Milp {
  readonly sense: "minimize" | "maximize"
  readonly objective: ReadonlyArray<MilpTerm>
  readonly rows: ReadonlyArray<MilpRow>
  readonly variables: ReadonlyArray<MilpVariable>
}

export interface MilpSolution {
  readonly status: "optimal" | "infeasible"
  /** The optimum (NaN when infeasible). */
  readonly objective: number
  /** Value of every variable (integers rounded to the nearest whole number); empty when infeasible. */
  readonly values: ReadonlyMap<string, number>
}

/** The LP relaxation's optimum, with each variable's reduced cost (objective change per unit moved off its bound). */
export interface LpSolution extends MilpSolution {
  readonly reducedCosts: ReadonlyMap<string, number>
}

export interface MilpOptions {
  /** Give up (MilpFailed, reason "limit") after this long; a decision must not hang on a solve. Default 10 s. */
  readonly timeLimitSeconds?: number
  /**
   * Give up (MilpFailed, reason "limit") after this many branch-and-bound nodes: a work limit that,
   * unlike time, gives the same outcome on every run.
   */
  readonly nodeLimit?: number
  /**
   * A solution this close to the optimum (objective units) counts as optimal. Default: HiGHS's 1e-6.
   * For a continuous objective (rupees of margin) where proving the last paisa is not worth the time.
   */
  readonly absoluteGap?: number
}

/**
 * Why no answer: the problem was malformed ("invalid"), has no finite optimum ("unbounded"), hit a
 * time or node limit ("limit"), or the solver failed or ended in a state that proves nothing ("solver").
 */
export class MilpFailed extends Schema.TaggedError<MilpFailed>()("MilpFailed", {
  reason: Schema.Literals(["invalid", "unbounded", "limit", "solver"]),
  message: Schema.String
}) {}

// The package's types are CommonJS-shaped while Node loads its ES module build: take whichever
// default is the loader function.
type Loader = (options?: object) => Promise<Highs>
const loadHighs: Loader = (typeof HighsModule.default === "function"
  ? HighsModule.default
  : (HighsModule.default as unknown as { default: Loader }).default) as Loader
let solver: Promise<Highs> | undefined

/** The solver, loaded on first use (about 30 ms) and kept for the process; a failed load is retried next time. */
const highs: Effect.Effect<Highs, MilpFailed> = Effect.tryPromise({
  try: () => (solver ??= loadHighs().catch((e: unknown) => {
    solver = undefined
    throw e
  })),
  catch: (e) => new MilpFailed({ reason: "solver", message: `could not load HiGHS: ${String(e)}` })
})

/**
 * Solver settings. Exactness: a zero relative gap (and HiGHS's default 1e-6 absolute gap) means the
 * reported optimum is proven. Speed, measured in CPU time on the hedge-selection MILPs (the
 * simulator's bench-selection.ts): the feasibility-jump heuristic was most of a solve's time and the
 * RINS/RENS sub-MIPs a good part of the rest, without ever being what closed the gap, so they are
 * off. The random seed stays HiGHS's fixed default, so a solve is deterministic: the same problem
 * gives the same solution on every run.
 */
const SETTINGS = {
  output_flag: false,
  mip_rel_gap: 0,
  mip_heuristic_run_feasibility_jump: false,
  mip_heuristic_run_rins: false,
  mip_heuristic_run_rens: false
} as const

const DEFAULT_TIME_LIMIT_SECONDS = 10

const invalid = (message: string) => new MilpFailed({ reason: "invalid", message })

/** The problem as HiGHS model data: columns in declaration order, rows as CSR. */
const toModelData = (h: Highs, p: Milp, relax: boolean): ModelData => {
  const index = new Map<string, number>()
  p.variables.forEach((v, i) => {
    if (index.has(v.name)) throw invalid(`duplicate variable ${v.name}`)
    if (Number.isNaN(v.lower) || Number.isNaN(v.upper) || v.lower > v.upper || v.lower === Infinity || v.upper === -Infinity) {
      throw invalid(`bad bounds on ${v.name}: [${v.lower}, ${v.upper}]`)
    }
    index.set(v.name, i)
  })
  const column = (variable: string, where: string): number => {
    const i = index.get(variable)
    if (i === undefined) throw invalid(`${where} uses unknown variable ${variable}`)
    return i
  }
  const finite = (x: number, where: string): number => {
    if (!Number.isFinite(x)) throw invalid(`${where}: coefficient ${x} is not finite`)
    return x
  }
  const n = p.variables.length
  const colCost = new Float64Array(n)
  for (const t of p.objective) colCost[column(t.variable, "objective")]! += finite(t.coefficient, "objective")
  const starts: Array<number> = [0]
  const indices: Array<number> = []
  const values: Array<number> = []
  const rowLower: Array<number> = []
  const rowUpper: Array<number> = []
  for (const r of p.rows) {
    // HiGHS rejects a column listed twice in one row: add repeated terms up.
    const byColumn = new Map<number, number>()
    for (const t of r.terms) {
      const j = column(t.variable, `row ${r.name}`)
      byColumn.set(j, (byColumn.get(j) ?? 0) + finite(t.coefficient, `row ${r.name}`))
    }
    for (const [j, a] of [...byColumn.entries()].sort((x, y) => x[0] - y[0])) {
      if (a === 0) continue
      indices.push(j)
      values.push(a)
    }
    starts.push(indices.length)
    const lo = r.lower ?? -Infinity
    const hi = r.upper ?? Infinity
    if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi || lo === Infinity || hi === -Infinity) {
      throw invalid(`bad bounds on row ${r.name}: [${lo}, ${hi}]`)
    }
    rowLower.push(lo)
    rowUpper.push(hi)
  }
  const integer = h.constants.variableType.integer
  const continuous = h.constants.variableType.continuous
  return {
    numCols: n,
    numRows: p.rows.length,
    sense: p.sense === "minimize" ? h.constants.objectiveSense.minimize : h.constants.objectiveSense.maximize,
    colCost,
    colLower: p.variables.map((v) => v.lower),
    colUpper: p.variables.map((v) => v.upper),
    rowLower,
    rowUpper,
    matrix: { format: "csr", numRows: p.rows.length, numCols: n, starts, indices, values },
    integrality: p.variables.map((v) => (v.integer && !relax ? integer : continuous))
  }
}

const INFEASIBLE: LpSolution = { status: "infeasible", objective: NaN, values: new Map(), reducedCosts: new Map() }

type Outcome =
  | { readonly kind: "optimal"; readonly objective: number; readonly columnValues: Float64Array; readonly columnDuals: Float64Array }
  | { readonly kind: "infeasible" }
  | { readonly kind: "ambiguous" }
  | { readonly kind: "failed"; readonly reason: MilpFailed["reason"]; readonly message: string }

const run = (h: Highs, data: ModelData, settings: Readonly<Record<string, string | number | boolean>>): Outcome =>
  h.withModel(data, (model): Outcome => {
    model.options.set(settings)
    const status = model.run().modelStatus
    const s = h.constants.modelStatus
    switch (status) {
      case s.optimal: {
        const solution = model.getSolution()
        return { kind: "optimal", objective: model.getObjectiveValue(), columnValues: solution.colValue, columnDuals: solution.colDual }
      }
      case s.infeasible:
        return { kind: "infeasible" }
      case s.unboundedOrInfeasible:
        return { kind: "ambiguous" }
      case s.unbounded:
        return { kind: "failed", reason: "unbounded", message: "the objective is unbounded" }
      case s.timeLimit:
      case s.iterationLimit:
      case s.solutionLimit:
      case s.interrupted:
      case s.objectiveBound:
      case s.objectiveTarget:
        return { kind: "failed", reason: "limit", message: `HiGHS stopped early (model status ${status})` }
      default:
        return { kind: "failed", reason: "solver", message: `HiGHS ended with model status ${status}` }
    }
  })

const solve = (p: Milp, options: MilpOptions, relax: boolean): Effect.Effect<LpSolution, MilpFailed> =>
  Effect.gen(function*() {
    // Without variables the only point is the empty one: feasible when every row admits 0.
    if (p.variables.length === 0) {
      if (p.objective.length > 0) return yield* invalid("objective uses variables the problem does not declare")
      const feasible = p.rows.every((r) => (r.lower ?? -Infinity) <= 0 && 0 <= (r.upper ?? Infinity))
      return feasible ? { status: "optimal" as const, objective: 0, values: new Map(), reducedCosts: new Map() } : INFEASIBLE
    }
    const h = yield* highs
    const data = yield* Effect.try({
      try: () => toModelData(h, p, relax),
      catch: (e) => (e instanceof MilpFailed ? e : invalid(String(e)))
    })
    const settings = {
      ...SETTINGS,
      time_limit: options.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
      ...(options.nodeLimit === undefined ? {} : { mip_max_nodes: options.nodeLimit }),
      ...(options.absoluteGap === undefined ? {} : { mip_abs_gap: options.absoluteGap })
    }
    const attempt = (extra: Readonly<Record<string, string | number | boolean>>) =>
      Effect.try({
        try: () => run(h, data, { ...settings, ...extra }),
        catch: (e) => new MilpFailed({ reason: "solver", message: `HiGHS failed: ${String(e)}` })
      })
    let outcome = yield* attempt({})
    // Presolve may prove "infeasible or unbounded" without saying which; the full solve without it does.
    if (outcome.kind === "ambiguous") outcome = yield* attempt({ presolve: "off" })
    switch (outcome.kind) {
      case "infeasible":
        return INFEASIBLE
      case "ambiguous":
        return yield* new MilpFailed({ reason: "solver", message: "HiGHS could not tell infeasible from unbounded" })
      case "failed":
        return yield* new MilpFailed({ reason: outcome.reason, message: outcome.message })
      case "optimal": {
        const values = new Map<string, number>()
        const reducedCosts = new Map<string, number>()
        p.variables.forEach((v, i) => {
          const x = outcome.columnValues[i] ?? 0
          values.set(v.name, v.integer && !relax ? Math.round(x) : x)
          if (relax) reducedCosts.set(v.name, outcome.columnDuals[i] ?? 0)
        })
        return { status: "optimal" as const, objective: outcome.objective, values, reducedCosts }
      }
    }
  })

/** Solve to proven optimality: the answer is the optimum, or "infeasible"; anything else is MilpFailed. */
export const solveMilp = (p: Milp, options: MilpOptions = {}): Effect.Effect<MilpSolution, MilpFailed> =>
  Effect.map(solve(p, options, false), ({ status, objective, values }): MilpSolution => ({ status, objective, values }))

/** The LP relaxation (integrality dropped), with reduced costs: a bound on the MILP's optimum. */
export const solveLpRelaxation = (p: Milp, options: MilpOptions = {}): Effect.Effect<LpSolution, MilpFailed> =>
  solve(p, options, true)

// LP text accepts plain decimal numbers; names are ours, so they need no escaping beyond a check.
const num = (x: number): string => {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`)
  return String(x)
}
const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/
const expr = (terms: ReadonlyArray<MilpTerm>): string =>
  terms.length === 0 ? "0 _zero" : terms.map((t, i) => `${t.coefficient < 0 ? "-" : i === 0 ? "" : "+"} ${num(Math.abs(t.coefficient))} ${t.variable}`).join(" ")

/** The problem as CPLEX LP text: for logs and for reproducing a solve outside the engine. */
export const toLpText = (p: Milp): string => {
  for (const v of p.variables) if (!NAME.test(v.name)) throw new Error(`bad variable name: ${v.name}`)
  const lines = [p.sense === "minimize" ? "Minimize" : "Maximize", ` obj: ${expr(p.objective)}`, "Subject To"]
  for (const r of p.rows) {
    const body = expr(r.terms)
    const lo = r.lower ?? -Infinity
    const hi = r.upper ?? Infinity
    if (lo === hi) lines.push(` ${r.name}: ${body} = ${num(lo)}`)
    else {
      if (Number.isFinite(lo)) lines.push(` ${r.name}_lo: ${body} >= ${num(lo)}`)
      if (Number.isFinite(hi)) lines.push(` ${r.name}_hi: ${body} <= ${num(hi)}`)
    }
  }
  lines.push("Bounds", " _zero = 0")
  for (const v of p.variables) {
    const lo = Number.isFinite(v.lower) ? num(v.lower) : "-inf"
    const hi = Number.isFinite(v.upper) ? num(v.upper) : "+inf"
    lines.push(` ${lo} <= ${v.name} <= ${hi}`)
  }
  const integers = p.variables.filter((v) => v.integer).map((v) => v.name)
  if (integers.length > 0) lines.push("Generals", ` ${integers.join(" ")}`)
  lines.push("End")
  return lines.join("\n")
}
