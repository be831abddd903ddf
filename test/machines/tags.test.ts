// Machine facts read outside the machines come from the machines' tags, not from copied state names.
import { describe, expect, it } from "vitest"
import { entryMachine, isToComeState } from "../../machines/entry.ts"
import { isMarketOpenState } from "../../machines/session.ts"

describe("an entry's states", () => {
  const top = Object.keys(entryMachine.root.states)

  it("are to come until the platform enters the entry or its chance passes", () => {
    expect(top.filter((name) => !isToComeState(name)).sort()).toEqual(["entered", "exited", "missed"])
  })

  it("carry their parent's tag (a nested state named as the audit names it)", () => {
    const nested = Object.keys(entryMachine.root.states.projecting!.states).map((child) => `projecting.${child}`)
    expect(nested.length).toBeGreaterThan(0)
    for (const name of nested) expect(isToComeState(name), name).toBe(true)
  })

  it("an unknown name is no state to come", () => {
    expect(isToComeState("nowhere")).toBe(false)
  })
})

describe("the session's states", () => {
  it("are market-open while trading, in every trading sub-state", () => {
    expect(isMarketOpenState("trading")).toBe(true)
    expect(isMarketOpenState("trading.watching")).toBe(true)
    expect(isMarketOpenState("preOpen")).toBe(false)
    expect(isMarketOpenState("closing")).toBe(false)
    expect(isMarketOpenState("closed")).toBe(false)
  })
})
