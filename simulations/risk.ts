// `autohedge risk`: the portfolio's greeks, the spot × IV stress grid with P&L and SPAN margin, and the
// one-day VaR (src/domain/risk.ts), at a recorded instant or for the live account.
//
// - `--day <file> --at HH:MM`: the market of the day's last tick at or before that time; the positions
//   are the simulated broker's after replaying the day with the engine up to that instant, or those of
//   `--positions <file>`. The historical VaR takes the spot returns of the recorded days in `--history`
//   (default: the day file's directory) of the same index, observed before the instant.
// - `--live`: the running daemon's answer to GET /api/risk (its broker's positions and market), with the
//   historical VaR of `--history` worked out here when it is given (the daemon reads no recorded days).
import { readFile } from "node:fs/promises"
import { dirname } from "node:path"
import { Console, Context, Effect, Option, Result, Schema } from "effect"
import { Broker } from "../src/services/services.ts"
import { SESSION_MINUTES } from "../src/domain/bounds.ts"
import type { HedgeConfig } from "../src/domain/config.ts"
import type { Position } from "../src/domain/market.ts"
import { riskView, RiskViewSchema, scaledIntradayReturns, withHistoricalVar, type RiskView } from "../src/domain/risk.ts"
import { keyPath, schemaProblems } from "../src/domain/schema-issues.ts"
import { instantOf, isIsoDate, MARKET_CLOSE, wallTimeOf } from "../src/domain/time.ts"
import { policyPlan } from "../src/runtime/policies.ts"
import { loadConfigFrom } from "../src/runtime/load-config.ts"
import { parseHttpBind } from "../src/http/server.ts"
import { readRecordedDay, type RecordedDay } from "../src/domain/recorded-day.ts"
import { DEFAULT_STEP_MINUTES } from "./cli.ts"
import { replayDay } from "./replay.ts"
import { readDays, replayOptionsFor, truthModelOf } from "./simulate.ts"

/** Minutes between the intraday returns the historical VaR is taken from. */

/** `--at HH:MM` (IST) as an instant of the day: between its first tick and the close. */
export const instantOfDay = (day: RecordedDay, text: string): Effect.Effect<number, Error> => {
  const m = /^(\d{2}):(\d{2})$/.exec(text.trim())
  const first = day.ticks[0]!
  const bad = (why: string) => Effect.fail(new Error(`--at: ${why}, got ${JSON.stringify(text)}`))
  if (m === null || Number(m[1]) > 23 || Number(m[2]) > 59) return bad("expected HH:MM (IST), e.g. 10:30")
  const at = instantOf(day.header.date, `${m[1]}:${m[2]}:00`)
  if (at < first.at || at > instantOf(day.header.date, MARKET_CLOSE)) return bad(`${day.header.date} is recorded from ${first.time.slice(0, 5)} to ${MARKET_CLOSE.slice(0, 5)}`)
  return Effect.succeed(at)
}

const PositionsFileSchema = Schema.Array(
  Schema.Struct({
    strike: Schema.Finite.check(Schema.isGreaterThan(0)),
    optionType: Schema.Literals(["CE", "PE"]),
    side: Schema.Literals(["BUY", "SELL"]),
    lots: Schema.Int.check(Schema.isGreaterThan(0)),
    /** Default: the day's expiry. */
    expiry: Schema.optional(Schema.String.check(Schema.makeFilter((s: string) => isIsoDate(s) || "expected a date YYYY-MM-DD")))
  })
)

/** `--positions <file>`: a JSON array of { strike, optionType, side, lots, expiry? }; every problem names the key. */
export const positionsFromFile = (path: string, day: RecordedDay): Effect.Effect<ReadonlyArray<Position>, Error> =>
  Effect.gen(function*() {
    const text = yield* Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: () => new Error(`--positions: cannot read ${path}`) })
    const json = yield* Effect.try({ try: () => JSON.parse(text) as unknown, catch: (e) => new Error(`--positions: ${path}: not JSON (${(e as Error).message})`) })
    const decoded = Schema.decodeUnknownResult(PositionsFileSchema)(json, { onExcessProperty: "error" })
    if (Result.isFailure(decoded)) {
      const p = schemaProblems(decoded.failure.issue, json)[0]
      return yield* Effect.fail(new Error(`--positions: ${path}: ${p === undefined ? "not a list of positions" : `${keyPath(p.path) || "the file"}: ${p.problem}`}`))
    }
    return decoded.success.map((p) => ({
      strike: p.strike,
      optionType: p.optionType,
      quantity: (p.side === "SELL" ? -1 : 1) * p.lots * day.header.lotSize,
      expiry: p.expiry ?? day.header.expiry
    }))
  })

/** The simulated broker's positions after the engine has replayed the day up to `at` (its last instant at or before it). */
export const replayedPositions = (day: RecordedDay, at: number, config: HedgeConfig): Effect.Effect<ReadonlyArray<Position>> =>
  Effect.promise(async () => {
    const stop = new AbortController()
    let broker: Context.Context<Broker> | undefined
    let held: ReadonlyArray<Position> = day.header.openingPositions
    await replayDay(day, {
      ...replayOptionsFor(policyPlan("engine", config), config, truthModelOf("span", config)),
      onEngine: (_engine, _setup, services) => void (broker = services),
      afterInstant: async (instant) => {
        if (instant > at) return stop.abort()
        if (broker !== undefined) held = await Effect.runPromise(Effect.provideContext(Broker.use((b) => b.positions), broker))
      },
      signal: stop.signal
    })
    return held
  })

export interface RecordedInstant {
  readonly dayFile: string
  readonly at: string
  readonly positionsFile?: string | undefined
  readonly history: ReadonlyArray<string>
  readonly confidence: number
  readonly stepMinutes: number
  readonly config: HedgeConfig
}

/** The risk view at a recorded instant. */
export const recordedInstantRisk = (o: RecordedInstant): Effect.Effect<RiskView, Error> =>
  Effect.gen(function*() {
    const day = yield* readRecordedDay(o.dayFile)
    const at = yield* instantOfDay(day, o.at)
    const tick = day.ticks.filter((t) => t.at <= at).at(-1)!
    const positions = o.positionsFile === undefined ? yield* replayedPositions(day, at, o.config) : yield* positionsFromFile(o.positionsFile, day)
    const h = day.header
    return yield* riskView(
      { index: h.index, date: h.date, expiry: h.expiry, lotSize: h.lotSize, spot: tick.spot, at: tick.at, chain: tick.chain, positions },
      { span: o.config.span, confidence: o.confidence, returns: yield* historyReturns(o.history.length === 0 ? [dirname(o.dayFile)] : o.history, h.index, at, o.stepMinutes) }
    )
  })

/** The one-day returns of the recorded days in `paths` of `index`, from ticks before `before`. */
export const historyReturns = (paths: ReadonlyArray<string>, index: string, before: number, stepMinutes: number) =>
  Effect.map(readDays(paths), (days) => ({
    values: scaledIntradayReturns(days.filter(({ day }) => day.header.index === index).map(({ day }) => day.ticks), stepMinutes, before),
    stepMinutes
  }))

/** The running daemon's risk view (GET /api/risk), with the API token when one is set. */
export const liveRisk = (http: string, confidence?: number): Effect.Effect<RiskView, Error> =>
  Effect.gen(function*() {
    const bind = yield* Effect.try({ try: () => parseHttpBind(http), catch: (e) => e as Error })
    if (bind === null) return yield* Effect.fail(new Error("--http: the daemon's address, HOST:PORT (not off)"))
    const url = `http://${bind.host.includes(":") ? `[${bind.host}]` : bind.host}:${bind.port}/api/risk${confidence === undefined ? "" : `?confidence=${confidence}`}`
    const token = process.env.AUTOHEDGE_API_TOKEN?.trim()
    const response = yield* Effect.tryPromise({
      try: () => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      catch: () => new Error(`--live: no daemon answers at ${url} (start it with --http ${http})`)
    })
    const body = yield* Effect.tryPromise({ try: () => response.json() as Promise<unknown>, catch: () => new Error(`--live: ${url} answered ${response.status} without JSON`) })
    if (!response.ok) return yield* Effect.fail(new Error(`--live: ${url} answered ${response.status}: ${(body as { error?: string }).error ?? "no reason given"}`))
    return yield* Schema.decodeUnknownEffect(RiskViewSchema)(body).pipe(Effect.mapError(() => new Error(`--live: ${url} did not answer a risk view`)))
  })

// ---------------------------------------------------------------------------------------------
// Text

const rupees = (x: number) => `${x < 0 ? "-" : ""}₹${Math.abs(Math.round(x)).toLocaleString("en-IN")}`
const fixed = (x: number, digits = 2) => x.toFixed(digits)

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

/** The view as the trader reads it: legs and totals, the stress grid (P&L / margin), the VaR. */
export const formatRiskView = (v: RiskView): string => {
  const legs = table(
    ["leg", "lots", "vol %", "price", "delta ₹/pt", "gamma ₹/pt²", "theta ₹/day", "vega ₹/vol pt"],
    [
      ...v.legs.map((l) => [`${l.side} ${l.strike} ${l.optionType} ${l.expiry}`, String(l.lots), fixed(100 * l.vol), fixed(l.price), fixed(l.delta), fixed(l.gamma, 4), rupees(l.theta), rupees(l.vega)]),
      ["total", "", "", rupees(v.total.value), fixed(v.total.delta), fixed(v.total.gamma, 4), rupees(v.total.theta), rupees(v.total.vega)]
    ]
  )
  const ivShifts = [...new Set(v.stress.map((p) => p.ivShiftPct))]
  const spotShifts = [...new Set(v.stress.map((p) => p.spotShiftPct))]
  const cell = (s: number, i: number) => v.stress.find((p) => p.spotShiftPct === s && p.ivShiftPct === i)!
  const signed = (x: number) => (x > 0 ? `+${x}` : String(x))
  const stress = table(
    ["spot", ...ivShifts.map((i) => `IV ${signed(i)} %: P&L / margin`)],
    spotShifts.map((s) => [`${signed(s)} %`, ...ivShifts.map((i) => `${rupees(cell(s, i).pnl)} / ${rupees(cell(s, i).margin)}`)])
  )
  const var_ = v.valueAtRisk
  const pct = `${Math.round(var_.confidence * 1000) / 10} %`
  const h = var_.historical
  return [
    `${v.index} ${v.date} ${wallTimeOf(v.at)} IST, spot ${fixed(v.spot)}, expiry ${v.expiry}, lot ${v.lotSize}; margin (SPAN + exposure) ${rupees(v.margin)}`,
    "",
    v.legs.length === 0 ? "no open positions" : legs,
    "",
    "stress (spot × relative IV, time held; P&L by full repricing, margin by the SPAN model):",
    stress,
    "",
    `one-day VaR at ${pct}:`,
    `  parametric (delta-gamma, spot daily vol ${fixed(100 * var_.parametric.dailyVol, 3)} % from the ATM IV): ${rupees(var_.parametric.value)}`,
    h.value === null
      ? `  historical: none (${h.reason ?? "no history"})`
      : `  historical (${h.returns} ${h.stepMinutes}-minute spot returns scaled to a day, full repricing): ${rupees(h.value)}`
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------
// The command (its flags are in simulations/cli.ts)

/** `autohedge risk`'s flags, as simulations/cli.ts declares them. */
export interface RiskFlags {
  readonly day: Option.Option<string>
  readonly at: Option.Option<string>
  readonly positions: Option.Option<string>
  readonly history: ReadonlyArray<string>
  readonly live: boolean
  readonly http: string
  readonly confidence: number
  readonly stepMinutes: number
  readonly config: Option.Option<string>
  readonly json: boolean
}

export const runRisk = Effect.fn(function*(o: RiskFlags) {
    if (!(o.confidence > 0.5 && o.confidence < 1)) return yield* Effect.fail(new Error(`--confidence: between 0.5 and 1, got ${o.confidence}`))
    if (!(o.stepMinutes >= 1 && o.stepMinutes <= SESSION_MINUTES)) return yield* Effect.fail(new Error(`--step-minutes: between 1 and ${SESSION_MINUTES}, got ${o.stepMinutes}`))
    let view: RiskView
    if (o.live) {
      if (Option.isSome(o.day) || Option.isSome(o.at) || Option.isSome(o.positions)) return yield* Effect.fail(new Error("--live: the daemon's own positions and market; leave out --day, --at and --positions"))
      const live = yield* liveRisk(o.http, o.confidence)
      // The daemon reads no recorded days: the historical VaR is taken here, from the history given.
      if (o.history.length === 0) view = live
      else {
        const { span } = yield* loadConfigFrom(process.env, Option.getOrUndefined(o.config))
        view = withHistoricalVar(live, yield* historyReturns(o.history, live.index, live.at, o.stepMinutes), span.rate)
      }
    } else {
      if (Option.isNone(o.day) || Option.isNone(o.at)) return yield* Effect.fail(new Error("risk: give --day <file> --at HH:MM (a recorded instant) or --live"))
      const config = yield* loadConfigFrom(process.env, Option.getOrUndefined(o.config))
      view = yield* recordedInstantRisk({
        dayFile: o.day.value,
        at: o.at.value,
        positionsFile: Option.getOrUndefined(o.positions),
        history: o.history,
        confidence: o.confidence,
        stepMinutes: o.stepMinutes,
        config
      })
    }
    yield* Console.log(o.json ? JSON.stringify(view, null, 2) : formatRiskView(view))
})
