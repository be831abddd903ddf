// One trading day as the engine runs it: which index and expiry, how many baskets against what
// budget, whether auto-hedge is on, and in which mode. Every session is built through this schema,
// so a bad value (from a day file, the schedule, the config or an operator) is named before a run.
import { Result, Schema } from "effect"
import { expiryTypeOf } from "./margin.ts"
import type { IndexName } from "./market.ts"
import { keyPath, schemaProblems } from "./schema-issues.ts"
import { isIsoDate } from "./time.ts"

export const TRADING_MODES = ["live", "paper", "recommend", "simulation"] as const
export type TradingMode = (typeof TRADING_MODES)[number]

const IsoDate = Schema.String.check(Schema.makeFilter((s: string) => isIsoDate(s) || `expected a date "YYYY-MM-DD", got ${JSON.stringify(s)}`))
const Positive = Schema.Finite.check(Schema.isGreaterThan(0))

export const TradingSessionSchema = Schema.Struct({
  date: IsoDate,
  index: Schema.Literals(["NIFTY", "SENSEX"]),
  expiry: IsoDate,
  expiryType: Schema.Literals(["0DTE", "1DTE", "2DTE"]),
  baskets: Schema.Int.check(Schema.isGreaterThan(0)),
  budgetPerBasket: Positive,
  totalBudget: Positive,
  autoHedgeEnabled: Schema.Boolean,
  mode: Schema.Literals(TRADING_MODES)
}).check(
  Schema.makeFilter((s: { date: string; expiry: string; baskets: number; budgetPerBasket: number; totalBudget: number }) => {
    const issues: Array<Schema.FilterIssue> = []
    if (s.expiry < s.date) issues.push({ path: ["expiry"], issue: `must not be before the date ${s.date}` })
    if (Math.abs(s.totalBudget - s.baskets * s.budgetPerBasket) > 0.005) {
      issues.push({ path: ["totalBudget"], issue: `must equal baskets × budgetPerBasket (${s.baskets * s.budgetPerBasket})` })
    }
    return issues
  })
)

export type TradingSession = typeof TradingSessionSchema.Type

export class SessionError extends Schema.TaggedError<SessionError>()("SessionError", {
  key: Schema.String,
  value: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `invalid session: ${this.key} = ${this.value}: ${this.problem}`
  }
}

/** The session of a day; the expiry type and the total budget follow from the rest. Throws SessionError. */
export const tradingSessionOf = (p: {
  readonly date: string
  readonly index: IndexName
  readonly expiry: string
  readonly baskets: number
  readonly budgetPerBasket: number
  readonly autoHedgeEnabled: boolean
  readonly mode: TradingMode
}): TradingSession => {
  const raw = {
    ...p,
    expiryType: isIsoDate(p.date) && isIsoDate(p.expiry) && p.expiry >= p.date ? expiryTypeOf(p.date, p.expiry) : "0DTE",
    totalBudget: p.baskets * p.budgetPerBasket
  }
  const decoded = Schema.decodeUnknownResult(TradingSessionSchema)(raw, { errors: "all" })
  if (Result.isSuccess(decoded)) return decoded.success
  const first = schemaProblems(decoded.failure.issue, raw)[0]
  throw new SessionError({
    key: first === undefined ? "session" : keyPath(first.path),
    value: JSON.stringify(first?.value),
    problem: first?.problem ?? "invalid"
  })
}
