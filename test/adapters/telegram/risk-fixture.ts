// A short straddle with wings, its market a smiled Black-76 chain: the risk view /risk is tested on.
import { Effect } from "effect"
import { riskView, type RiskView } from "../../../src/domain/risk.ts"
import { AT, CHAIN, DATE, EXPIRY, leg, LOT, SPOT } from "../../fixtures/smiled-chain.ts"
import type { Position } from "../../../src/domain/market.ts"

const positions = [leg("CE", 25_000, -15), leg("PE", 25_000, -15), leg("CE", 25_500, 16), leg("PE", 24_500, 15)]

export const straddleRisk = (held: ReadonlyArray<Position> = positions): RiskView =>
  Effect.runSync(riskView({ index: "NIFTY", date: DATE, expiry: EXPIRY, lotSize: LOT, spot: SPOT, at: AT, positions: held, chain: CHAIN }))
