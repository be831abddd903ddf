// A short straddle with wings, its market a smiled Black-76 chain: the risk view /risk is tested on.
import { Effect } from "effect"
import type { ChainRow, OptionType, Position } from "../../../src/domain/market.ts"
import { black76, yearFraction } from "../../../src/domain/pricing.ts"
import { riskView, type RiskView } from "../../../src/domain/risk.ts"
import { instantOf } from "../../../src/domain/time.ts"

const LOT = 65
const DATE = "2026-02-09"
const EXPIRY = "2026-02-10"
const SPOT = 25_000
const AT = instantOf(DATE, "10:00:00")
const YEARS = yearFraction(AT, EXPIRY)
const smile = (k: number) => 0.12 + 0.5 * ((k - SPOT) / SPOT) ** 2
const CHAIN: ReadonlyArray<ChainRow> = Array.from({ length: 61 }, (_, i) => 23_500 + 50 * i).map((k) => ({ strike: k, ce: black76("CE", SPOT, k, YEARS, smile(k)), pe: black76("PE", SPOT, k, YEARS, smile(k)) }))
const leg = (optionType: OptionType, strike: number, lots: number): Position => ({ strike, optionType, quantity: lots * LOT, expiry: EXPIRY })
const positions = [leg("CE", 25_000, -15), leg("PE", 25_000, -15), leg("CE", 25_500, 16), leg("PE", 24_500, 15)]

export const straddleRisk = (held: ReadonlyArray<Position> = positions): RiskView =>
  Effect.runSync(riskView({ index: "NIFTY", date: DATE, expiry: EXPIRY, lotSize: LOT, spot: SPOT, at: AT, positions: held, chain: CHAIN }))
