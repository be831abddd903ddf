// /margin's span / exposure split, as the Zerodha parser answers it (final.span, final.exposure beside
// total_margin_required = final.total) and as brokers that give only the total do.
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { openAlgoClient } from "../../../adapters/openalgo/client.ts"
import { basketMargin, basketMarginBreakdown } from "../../../adapters/openalgo/margin.ts"
import { startScriptedServer } from "./scripted-http.ts"

const positions = [
  { strike: 25_000, optionType: "CE" as const, quantity: -65, expiry: "2026-02-10" },
  { strike: 25_000, optionType: "PE" as const, quantity: -65, expiry: "2026-02-10" }
]

const withReply = async <A>(data: object, use: (client: Effect.Success<ReturnType<typeof openAlgoClient>>) => Effect.Effect<A, unknown>) => {
  const server = await startScriptedServer(() => ({ status: 200, body: { status: "success", data } }))
  try {
    const client = await Effect.runPromise(openAlgoClient({ baseUrl: server.url, apiKey: Redacted.make("a-long-test-key"), index: "NIFTY", expiry: "2026-02-10", retry: { times: 0 } }))
    return await Effect.runPromise(use(client) as Effect.Effect<A>)
  } finally {
    await server.close()
  }
}

describe("basketMarginBreakdown", () => {
  it("reads the span / exposure split beside the total, numbers or text", async () => {
    const m = await withReply({ total_margin_required: 191_119, span_margin: "179780.5", exposure_margin: 78_478.5, initial_total_margin: 258_139 }, (c) => basketMarginBreakdown(c, "NIFTY", positions))
    expect(m).toEqual({ total: 191_119, span: 179_780.5, exposure: 78_478.5 })
    // basketMargin keeps answering the total, as before.
    expect(await withReply({ total_margin_required: 191_119, span_margin: 179_780.5, exposure_margin: 78_478.5 }, (c) => basketMargin(c, "NIFTY", positions))).toBe(191_119)
  })

  it("leaves the split null when the broker gives only the total", async () => {
    expect(await withReply({ total_margin_required: "91555.76" }, (c) => basketMarginBreakdown(c, "NIFTY", positions))).toEqual({ total: 91_555.76, span: null, exposure: null })
    expect(await withReply({ total_margin_required: 10, span_margin: null, exposure_margin: null }, (c) => basketMarginBreakdown(c, "NIFTY", positions))).toEqual({ total: 10, span: null, exposure: null })
  })
})
