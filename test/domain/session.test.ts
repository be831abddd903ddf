import { describe, expect, it } from "vitest"
import { SessionError, tradingSessionOf } from "../../src/domain/session.ts"

const friday = { date: "2026-02-13", index: "NIFTY", expiry: "2026-02-17", baskets: 15, budgetPerBasket: 1_000_000, autoHedgeEnabled: true, mode: "simulation" } as const

describe("a trading session", () => {
  it("derives the expiry type from trading days and the total budget from the baskets", () => {
    const s = tradingSessionOf(friday)
    expect(s.expiryType).toBe("2DTE")
    expect(s.totalBudget).toBe(15_000_000)
    expect(tradingSessionOf({ ...friday, date: "2026-02-17" }).expiryType).toBe("0DTE")
    expect(tradingSessionOf({ ...friday, date: "2026-02-16" }).expiryType).toBe("1DTE")
  })

  it.each([
    [{ baskets: 0 }, "invalid session: baskets = 0: expected a value greater than 0"],
    [{ baskets: 1.5 }, "invalid session: baskets = 1.5: expected an integer"],
    [{ budgetPerBasket: -5 }, "invalid session: budgetPerBasket = -5: expected a value greater than 0"],
    [{ expiry: "2026-02-12" }, 'invalid session: expiry = "2026-02-12": must not be before the date 2026-02-13'],
    [{ date: "2026-2-13" }, 'invalid session: date = "2026-2-13": expected a date "YYYY-MM-DD", got "2026-2-13"'],
    [{ index: "BANKNIFTY" }, 'invalid session: index = "BANKNIFTY": expected "NIFTY" | "SENSEX"'],
    [{ mode: "yolo" }, 'invalid session: mode = "yolo": expected "live" | "paper" | "recommend" | "simulation"']
  ])("rejects %o naming the field and the value", (change, message) => {
    expect(() => tradingSessionOf({ ...friday, ...change } as never)).toThrow(SessionError)
    expect(() => tradingSessionOf({ ...friday, ...change } as never)).toThrow(message)
  })
})
