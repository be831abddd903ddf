// OpenAlgo symbology both ways, and the date formats of its requests, listings and order book.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  expiryFromListing,
  expiryParam,
  optionsExchange,
  parseOptionSymbol,
  parseOrderTimestamp,
  spotExchange
} from "../../../adapters/openalgo/symbols.ts"
import { optionSymbol } from "../../../src/domain/symbols.ts"
import { instantOf } from "../../../src/domain/time.ts"

describe("option symbols", () => {
  it("reads the documented examples", () => {
    expect(parseOptionSymbol("NIFTY30DEC2525800PE")).toEqual({ underlying: "NIFTY", expiry: "2025-12-30", strike: 25800, optionType: "PE" })
    expect(parseOptionSymbol("SENSEX25DEC2480000CE")).toEqual({ underlying: "SENSEX", expiry: "2024-12-25", strike: 80000, optionType: "CE" })
    expect(parseOptionSymbol("VEDL25APR24292.5CE")).toEqual({ underlying: "VEDL", expiry: "2024-04-25", strike: 292.5, optionType: "CE" })
  })

  it("keeps digits that belong to the underlying", () => {
    expect(parseOptionSymbol("NIFTYNXT5030DEC2525800CE")?.underlying).toBe("NIFTYNXT50")
  })

  it("refuses what is not an option symbol", () => {
    for (const s of ["NIFTY30DEC25FUT", "RELIANCE", "NIFTY31FEB2625800PE", "NIFTY30XYZ2525800PE", "nifty30dec2525800pe", "NIFTY30DEC2525800XX", ""]) {
      expect(parseOptionSymbol(s), s).toBeNull()
    }
  })

  it("reads back every symbol optionSymbol builds", () => {
    const day = fc.date({ min: new Date("2024-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10))
    fc.assert(
      fc.property(fc.constantFrom("NIFTY", "SENSEX" as const), day, fc.integer({ min: 1, max: 2000 }), fc.constantFrom("CE", "PE" as const), (index, expiry, steps, optionType) => {
        const strike = steps * 50
        expect(parseOptionSymbol(optionSymbol(index, expiry, strike, optionType))).toEqual({ underlying: index, expiry, strike, optionType })
      })
    )
  })
})

describe("dates and exchanges", () => {
  it("writes the optionchain expiry as DDMMMYY", () => {
    expect(expiryParam("2026-02-10")).toBe("10FEB26")
    expect(expiryParam("2025-12-30")).toBe("30DEC25")
  })

  it("reads /expiry listings (DD-MMM-YY, any case) and refuses other text", () => {
    expect(expiryFromListing("30-DEC-25")).toBe("2025-12-30")
    expect(expiryFromListing("10-Feb-26")).toBe("2026-02-10")
    expect(expiryFromListing("2026-02-10")).toBeNull()
    expect(expiryFromListing("31-FEB-26")).toBeNull()
  })

  it("reads order timestamps of the live and the sandbox order book as Indian time", () => {
    const expected = instantOf("2025-04-08", "13:58:03")
    expect(parseOrderTimestamp("08-Apr-2025 13:58:03")).toBe(expected)
    expect(parseOrderTimestamp("2025-04-08 13:58:03")).toBe(expected)
    expect(parseOrderTimestamp("2025-04-08T13:58:03+05:30")).toBe(expected)
    expect(parseOrderTimestamp("yesterday")).toBeNull()
  })

  it("knows where each index's options and spot are", () => {
    expect([optionsExchange("NIFTY"), spotExchange("NIFTY")]).toEqual(["NFO", "NSE_INDEX"])
    expect([optionsExchange("SENSEX"), spotExchange("SENSEX")]).toEqual(["BFO", "BSE_INDEX"])
  })
})
