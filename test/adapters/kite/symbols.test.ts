// Kite's option symbols: the weekly and monthly forms, which expiry is the monthly, and reading back.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  expiryOfParsed,
  isMonthlyByCalendar,
  kiteOptionSymbol,
  monthlyExpiriesOf,
  monthlyRuleFrom,
  parseKiteOptionSymbol
} from "../../../adapters/kite/symbols.ts"

describe("kiteOptionSymbol", () => {
  it("writes the reference's weekly and monthly examples", () => {
    expect(kiteOptionSymbol("NIFTY", "2020-12-17", 13600, "CE", false)).toBe("NIFTY20D1713600CE")
    expect(kiteOptionSymbol("SENSEX", "2025-10-23", 82700, "CE", false)).toBe("SENSEX25O2382700CE")
    expect(kiteOptionSymbol("SENSEX", "2026-08-13", 69500, "CE", false)).toBe("SENSEX2681369500CE")
    expect(kiteOptionSymbol("NIFTY", "2025-12-30", 25900, "CE", true)).toBe("NIFTY25DEC25900CE")
    expect(kiteOptionSymbol("NIFTY", "2026-02-10", 25650, "PE", false)).toBe("NIFTY2621025650PE")
  })

  it("rejects a bad expiry or strike, naming it", () => {
    expect(() => kiteOptionSymbol("NIFTY", "2026-02-30", 25000, "CE", false)).toThrow('expiry "2026-02-30"')
    expect(() => kiteOptionSymbol("NIFTY", "2026-02-10", -5, "CE", false)).toThrow("strike -5")
  })
})

describe("which expiry is the monthly", () => {
  it("by the calendar: the last expiry weekday of the month, before and after the weekday changes", () => {
    expect(isMonthlyByCalendar("NIFTY", "2020-12-17")).toBe(false) // Thursday weekly
    expect(isMonthlyByCalendar("NIFTY", "2020-12-31")).toBe(true) // last Thursday
    expect(isMonthlyByCalendar("NIFTY", "2025-12-23")).toBe(false)
    expect(isMonthlyByCalendar("NIFTY", "2025-12-30")).toBe(true) // last Tuesday
    expect(isMonthlyByCalendar("SENSEX", "2025-10-23")).toBe(false)
    expect(isMonthlyByCalendar("SENSEX", "2025-10-30")).toBe(true) // last Thursday
    // NSE moved the March-2026 monthly from Tuesday 31st (a holiday) to Monday 30th.
    expect(isMonthlyByCalendar("NIFTY", "2026-03-30")).toBe(true)
    expect(isMonthlyByCalendar("NIFTY", "2026-03-24")).toBe(false)
  })

  it("by the listing: the last listed expiry of each month", () => {
    const listed = ["2026-02-10", "2026-02-17", "2026-02-24", "2026-03-03", "2026-03-10", "2026-03-30", "2026-06-30"]
    expect([...monthlyExpiriesOf(listed)].sort()).toEqual(["2026-02-24", "2026-03-30", "2026-06-30"])
    const rule = monthlyRuleFrom(listed)
    expect(rule("NIFTY", "2026-02-17")).toBe(false)
    expect(rule("NIFTY", "2026-02-24")).toBe(true)
    expect(rule("NIFTY", "2026-03-30")).toBe(true) // the holiday-shifted monthly
    // Not listed: the calendar decides.
    expect(rule("NIFTY", "2026-01-27")).toBe(true)
    expect(rule("NIFTY", "2026-01-20")).toBe(false)
    // The last listed says nothing of the rest of its month: the calendar decides.
    expect(monthlyRuleFrom(["2026-02-10"])("NIFTY", "2026-02-10")).toBe(false)
    expect(monthlyRuleFrom(["2026-02-10", "2026-02-24"])("NIFTY", "2026-02-24")).toBe(true)
    // A listing that knows better than the calendar (a monthly moved to another weekday) wins.
    expect(monthlyRuleFrom(["2026-02-19", "2026-03-05"])("NIFTY", "2026-02-19")).toBe(true)
  })

  it("the calendar agrees with the last-Tuesday rule on every NIFTY Tuesday of 2026 but the holiday month", () => {
    for (let d = new Date("2026-01-06T00:00:00Z"); d.getUTCFullYear() === 2026; d.setUTCDate(d.getUTCDate() + 7)) {
      const iso = d.toISOString().slice(0, 10)
      const next = new Date(d)
      next.setUTCDate(d.getUTCDate() + 7)
      expect(isMonthlyByCalendar("NIFTY", iso), iso).toBe(next.getUTCMonth() !== d.getUTCMonth())
    }
  })
})

describe("parseKiteOptionSymbol", () => {
  it("reads weekly and monthly symbols of the index, and nothing else", () => {
    expect(parseKiteOptionSymbol("NIFTY", "NIFTY20D1713600CE")).toEqual({ strike: 13600, optionType: "CE", expiry: { kind: "weekly", date: "2020-12-17" } })
    expect(parseKiteOptionSymbol("SENSEX", "SENSEX25O2382700CE")).toEqual({ strike: 82700, optionType: "CE", expiry: { kind: "weekly", date: "2025-10-23" } })
    expect(parseKiteOptionSymbol("NIFTY", "NIFTY25DEC25900CE")).toEqual({ strike: 25900, optionType: "CE", expiry: { kind: "monthly", month: "2025-12" } })
    expect(parseKiteOptionSymbol("NIFTY", "BANKNIFTY25DEC55000CE")).toBeNull()
    expect(parseKiteOptionSymbol("NIFTY", "NIFTYNXT5025DEC70000CE")).toBeNull()
    expect(parseKiteOptionSymbol("NIFTY", "NIFTY25DECFUT")).toBeNull()
    expect(parseKiteOptionSymbol("NIFTY", "NIFTY26A1025000CE")).toBeNull() // no month A
    expect(parseKiteOptionSymbol("NIFTY", "NIFTY2623125000CE")).toBeNull() // 31 February
  })

  it("dates a monthly by the listing, else by the calendar", () => {
    const monthly = parseKiteOptionSymbol("NIFTY", "NIFTY26MAR25000PE")!
    expect(expiryOfParsed("NIFTY", monthly, ["2026-03-24", "2026-03-30"])).toBe("2026-03-30")
    expect(expiryOfParsed("NIFTY", monthly)).toBe("2026-03-31") // the holiday is the listing's business
    expect(expiryOfParsed("SENSEX", parseKiteOptionSymbol("SENSEX", "SENSEX25OCT82000CE")!)).toBe("2025-10-30")
  })

  it("reads back every symbol it writes", () => {
    const days = fc.integer({ min: 0, max: 3000 }).map((n) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10))
    fc.assert(
      fc.property(fc.constantFrom("NIFTY" as const, "SENSEX" as const), days, fc.integer({ min: 100, max: 2000 }), fc.constantFrom("CE" as const, "PE" as const), fc.boolean(), (index, expiry, k, type, monthly) => {
        const strike = k * 50
        const parsed = parseKiteOptionSymbol(index, kiteOptionSymbol(index, expiry, strike, type, monthly))
        expect(parsed).not.toBeNull()
        expect(parsed!.strike).toBe(strike)
        expect(parsed!.optionType).toBe(type)
        expect(parsed!.expiry).toEqual(monthly ? { kind: "monthly", month: expiry.slice(0, 7) } : { kind: "weekly", date: expiry })
      })
    )
  })
})
