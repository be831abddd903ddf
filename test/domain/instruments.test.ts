import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  exchangeOf,
  freezeQuantityOf,
  InstrumentsError,
  loadInstruments,
  lotSizeFor,
  strikeStepOf
} from "../../src/domain/instruments.ts"

const bundledText = readFileSync(new URL("../../config/instruments.json", import.meta.url), "utf8")
const instruments = loadInstruments()

const withChange = (change: (raw: any) => void): string => {
  const raw = JSON.parse(bundledText)
  change(raw)
  return JSON.stringify(raw)
}

describe("bundled instrument data", () => {
  it("loads the same with and without the text", () => {
    expect(loadInstruments(bundledText)).toEqual(instruments)
  })

  it("NIFTY: NFO, strikes every 50, freeze 1800", () => {
    expect(exchangeOf(instruments, "NIFTY")).toBe("NFO")
    expect(strikeStepOf(instruments, "NIFTY")).toBe(50)
    expect(freezeQuantityOf(instruments, "NIFTY")).toBe(1800)
  })

  it("SENSEX: BFO, strikes every 100, freeze 1000", () => {
    expect(exchangeOf(instruments, "SENSEX")).toBe("BFO")
    expect(strikeStepOf(instruments, "SENSEX")).toBe(100)
    expect(freezeQuantityOf(instruments, "SENSEX")).toBe(1000)
  })
})

describe("lotSizeFor", () => {
  it("NIFTY is 75 until the end of 2025 and 65 for expiries from 2026", () => {
    expect(lotSizeFor(instruments, "NIFTY", "2024-11-20")).toBe(75)
    expect(lotSizeFor(instruments, "NIFTY", "2025-12-23")).toBe(75)
    expect(lotSizeFor(instruments, "NIFTY", "2025-12-31")).toBe(75)
    expect(lotSizeFor(instruments, "NIFTY", "2026-01-01")).toBe(65)
    expect(lotSizeFor(instruments, "NIFTY", "2026-01-06")).toBe(65)
    expect(lotSizeFor(instruments, "NIFTY", "2027-06-29")).toBe(65)
  })

  it("SENSEX is 20", () => {
    expect(lotSizeFor(instruments, "SENSEX", "2025-12-24")).toBe(20)
    expect(lotSizeFor(instruments, "SENSEX", "2026-01-08")).toBe(20)
  })

  it("an expiry before every entry is a clear error", () => {
    expect(() => lotSizeFor(instruments, "NIFTY", "2024-11-19")).toThrow(InstrumentsError)
    expect(() => lotSizeFor(instruments, "SENSEX", "2023-01-05")).toThrow(
      /no SENSEX lot size known for expiry 2023-01-05.*2024-11-20/
    )
  })

  it("rejects a malformed expiry", () => {
    expect(() => lotSizeFor(instruments, "NIFTY", "06-01-2026")).toThrow(/invalid expiry/)
  })

  it("does not depend on the order of the entries", () => {
    const shuffled = {
      ...instruments,
      NIFTY: { ...instruments.NIFTY, lotSizes: [...instruments.NIFTY.lotSizes].reverse() }
    }
    expect(lotSizeFor(shuffled, "NIFTY", "2025-12-23")).toBe(75)
    expect(lotSizeFor(shuffled, "NIFTY", "2026-01-06")).toBe(65)
  })

  it("follows the data, not constants", () => {
    const text = withChange((raw) => raw.NIFTY.lotSizes.push({ fromExpiry: "2027-01-01", lotSize: 50 }))
    const later = loadInstruments(text)
    expect(lotSizeFor(later, "NIFTY", "2026-12-29")).toBe(65)
    expect(lotSizeFor(later, "NIFTY", "2027-01-05")).toBe(50)
  })
})

describe("loadInstruments rejects bad data", () => {
  it.each([
    ["unsorted lot sizes", (r: any) => r.NIFTY.lotSizes.reverse(), /NIFTY\.lotSizes\[1\]\.fromExpiry/],
    ["no lot sizes", (r: any) => (r.SENSEX.lotSizes = []), /SENSEX\.lotSizes/],
    ["bad date", (r: any) => (r.NIFTY.lotSizes[0].fromExpiry = "2024-02-30"), /NIFTY\.lotSizes\[0\]\.fromExpiry/],
    ["fractional lot", (r: any) => (r.SENSEX.lotSizes[0].lotSize = 20.5), /SENSEX\.lotSizes\[0\]\.lotSize/],
    ["unknown exchange", (r: any) => (r.SENSEX.exchange = "BSE"), /SENSEX\.exchange/],
    ["missing index", (r: any) => delete r.SENSEX, /SENSEX: required/],
    ["unknown key", (r: any) => (r.NIFTY.tickSize = 0.05), /NIFTY\.tickSize: unknown key/],
    ["zero strike step", (r: any) => (r.NIFTY.strikeStep = 0), /NIFTY\.strikeStep/]
  ])("%s", (_name, change, pattern) => {
    expect(() => loadInstruments(withChange(change))).toThrow(pattern)
  })

  it("reports every problem at once", () => {
    const text = withChange((r) => {
      r.NIFTY.strikeStep = -50
      r.SENSEX.freezeQuantity = "1000"
    })
    expect(() => loadInstruments(text)).toThrow(/NIFTY\.strikeStep[\s\S]*SENSEX\.freezeQuantity/)
  })

  it("invalid JSON", () => {
    expect(() => loadInstruments("{")).toThrow(/invalid JSON/)
  })
})
