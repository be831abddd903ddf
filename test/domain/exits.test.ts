import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Policy } from "../../machines/protocol.ts"
import { chooseExit, type ExitOption, type ExitRules } from "../../src/domain/exits.ts"

const BUDGET = 15_000_000
const rules: ExitRules = { exitTriggerPct: 70, triggerPct: 95, minExitPrice: 0.5 }

const option = (hedgeId: string, over: Partial<ExitOption> = {}): ExitOption => ({
  hedgeId,
  forEntry: "e1",
  price: 1,
  projectedMarginWithout: 12_000_000, // 80 %
  ...over
})

const decide = (p: {
  policy?: Policy
  options: ReadonlyArray<ExitOption>
  liveEntries?: ReadonlyArray<string>
  marginInUse?: number
  rules?: ExitRules
}) =>
  chooseExit({
    policy: p.policy ?? "engine",
    options: p.options,
    liveEntries: p.liveEntries ?? [],
    marginInUse: p.marginInUse ?? 9_000_000, // 60 %
    budget: BUDGET,
    rules: p.rules ?? rules
  })

describe("chooseExit, engine policy", () => {
  it("sells nothing at or above the exit threshold", () => {
    for (const marginInUse of [10_500_000, 12_000_000, 16_000_000]) {
      const d = decide({ options: [option("h1")], marginInUse })
      expect(d.hedgeId).toBeNull()
      expect(d.reason).toContain("not below the exit threshold")
      expect(d.utilisationPct).toBe(Math.round((marginInUse / BUDGET) * 10_000) / 100)
    }
  })

  it("sells just below the exit threshold", () => {
    const d = decide({ options: [option("h1")], marginInUse: 10_498_500 }) // 69.99 %
    expect(d).toEqual({ hedgeId: "h1", reason: "EXCESS_MARGIN", utilisationPct: 69.99 })
  })

  it("sells the first acceptable option in the given order", () => {
    expect(decide({ options: [option("far"), option("near")] })).toEqual({ hedgeId: "far", reason: "EXCESS_MARGIN", utilisationPct: 60 })
    expect(decide({ options: [option("near"), option("far")] }).hedgeId).toBe("near")
  })

  it("skips an option whose sale would push projected utilisation over the trigger", () => {
    const d = decide({
      options: [
        option("far", { projectedMarginWithout: 14_500_000 }), // 96.67 %
        option("mid", { projectedMarginWithout: 14_250_000 }), // exactly 95 %: acceptable
        option("near", { projectedMarginWithout: 10_000_000 })
      ]
    })
    expect(d.hedgeId).toBe("mid")
    expect(d.reason).toBe("EXCESS_MARGIN")
  })

  it("skips options below the minimum exit price or without a price", () => {
    const d = decide({
      options: [option("none", { price: null }), option("cheap", { price: 0.45 }), option("ok", { price: 0.5 }), option("later", { price: 3 })]
    })
    expect(d.hedgeId).toBe("ok")
  })

  it("sells nothing, with a reason, when no option is acceptable", () => {
    const d = decide({
      options: [option("over", { projectedMarginWithout: 15_000_000 }), option("cheap", { price: 0.1 }), option("none", { price: null })]
    })
    expect(d.hedgeId).toBeNull()
    expect(d.reason).toMatch(/over the trigger/)
    expect(d.utilisationPct).toBe(60)
    expect(decide({ options: [] }).hedgeId).toBeNull()
  })

  it("ignores whether the hedge's entry is live", () => {
    expect(decide({ options: [option("h1", { forEntry: "e1" })], liveEntries: ["e1"] }).hedgeId).toBe("h1")
  })

  it("only ever sells an acceptable option, the first one (property)", () => {
    const optionArb = fc.record({
      price: fc.option(fc.integer({ min: 0, max: 200 }).map((n) => n / 20), { nil: null }),
      projectedMarginWithout: fc.integer({ min: 0, max: 20_000_000 })
    })
    fc.assert(
      fc.property(fc.array(optionArb, { maxLength: 6 }), fc.integer({ min: 0, max: 20_000_000 }), (raw, marginInUse) => {
        const options = raw.map((o, i) => option(`h${i}`, o))
        const d = decide({ options, marginInUse })
        const acceptable = (o: ExitOption) =>
          o.price !== null && o.price >= rules.minExitPrice && Math.round((o.projectedMarginWithout / BUDGET) * 10_000) / 100 <= rules.triggerPct
        const below = Math.round((marginInUse / BUDGET) * 10_000) / 100 < rules.exitTriggerPct
        const expected = below ? options.find(acceptable)?.hedgeId ?? null : null
        expect(d.hedgeId).toBe(expected)
        if (d.hedgeId !== null) expect(d.reason).toBe("EXCESS_MARGIN")
      }),
      { numRuns: 500 }
    )
  })
})

describe("chooseExit, static policy", () => {
  it("sells a hedge whose entry is no longer live, whatever the utilisation", () => {
    const options = [option("h1", { forEntry: "e1" }), option("h2", { forEntry: "e2", projectedMarginWithout: 16_000_000 })]
    const d = decide({ policy: "static", options, liveEntries: ["e1"], marginInUse: 13_500_000 })
    expect(d).toEqual({ hedgeId: "h2", reason: "ENTRY_EXITED", utilisationPct: 90 })
  })

  it("keeps every hedge whose entry is live", () => {
    const d = decide({ policy: "static", options: [option("h1", { forEntry: "e1" }), option("h2", { forEntry: "e2" })], liveEntries: ["e1", "e2"] })
    expect(d.hedgeId).toBeNull()
    expect(d.reason).toBe("every static hedge's entry is still open")
  })

  it("does not sell below the minimum exit price (the hedge is left to expire)", () => {
    const options = [option("h1", { forEntry: "e1", price: 0.2 }), option("h2", { forEntry: "e2", price: null }), option("h3", { forEntry: "e3" })]
    expect(decide({ policy: "static", options, liveEntries: [] }).hedgeId).toBe("h3")
    expect(decide({ policy: "static", options: options.slice(0, 2), liveEntries: [] }).hedgeId).toBeNull()
  })
})

describe("chooseExit, none policy", () => {
  it("never sells", () => {
    const d = decide({ policy: "none", options: [option("h1", { forEntry: "gone" })], liveEntries: [], marginInUse: 0 })
    expect(d).toEqual({ hedgeId: null, reason: "policy never hedges", utilisationPct: 0 })
  })
})
