// The notifier against a fake Bot API server on loopback: alerts are written first and delivered in
// the order raised; a 429 waits Telegram's retry_after; an unreachable Telegram is waited out with
// back-off, the alert marked failed and still tried, in order; Markdown Telegram refuses goes again
// as plain text; a full queue drops a non-critical alert loudly, never a critical one; the token and
// chat id appear in no log line and no row. Time passes only when the test releases a wait.
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { postgresAlertStore } from "../../../adapters/telegram/alert-store.ts"
import { forEachServer } from "../../fixtures/databases.ts"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { FakeBotApi } from "./fake-bot-api.ts"
import { alertOf, AT, CHAT_ID, harness, leaks, TOKEN } from "./support.ts"

const info = (n: number) => alertOf("ENTRY_INFO", "info", `entry:E${n}`, { portfolio: `E${n}`, currentPct: 40, projectedPct: 70 + n })
const halted = alertOf("ENGINE_HALTED", "critical", "session", { reason: "audit write failed: connection to the database lost" })

let fake: FakeBotApi
beforeEach(async () => {
  fake = await FakeBotApi.start(TOKEN)
})
afterEach(async () => {
  await fake.close()
})

describe("alerts over the Bot API", () => {
  it("are written first, then delivered in the order raised, each at its first attempt", async () => {
    const h = harness(fake)
    const raised: Array<number> = []
    for (let n = 1; n <= 20; n++) {
      raised.push(performance.now())
      await h.notify(info(n))
    }
    await h.delivery.idle()
    const sent = fake.sent()
    expect(sent.map((m) => m.text)).toEqual((await h.store.all()).map((r) => r.text))
    expect(sent.map((m) => String(m.text).match(/Portfolio: (E\d+)/)?.[1])).toEqual(Array.from({ length: 20 }, (_, i) => `E${i + 1}`))
    expect(sent.every((m) => m.chat_id === CHAT_ID && m.parse_mode === "Markdown")).toBe(true)
    const rows = await h.store.all()
    expect(rows.every((r) => r.status === "sent" && r.attempts === 1 && r.telegramMessageId !== null)).toBe(true)
    expect(new Set(rows.map((r) => r.telegramMessageId)).size).toBe(20)
    // Telegram answering, nothing waits: no back-off, no retry. The latency is measured, not asserted.
    expect(h.sleeps.asked).toEqual([])
    const latencies = fake.calls.filter((c) => c.method === "sendMessage").map((c, i) => c.receivedAt - raised[i]!)
    console.log(`telegram delivery against the loopback fake: ${latencies.length} alerts, max ${Math.max(...latencies).toFixed(1)} ms, median ${latencies.sort((a, b) => a - b)[10]!.toFixed(1)} ms from notify to the server`)
    expect(leaks(h.lines)).toEqual([])
  })

  it("a 429 waits the retry_after Telegram asked for, then the same alert goes, still first", async () => {
    const h = harness(fake)
    fake.failSends({ error_code: 429, description: "Too Many Requests: retry after 7", retry_after: 7 })
    await h.notify(halted)
    await h.notify(info(1))
    await h.sleeps.until(1)
    expect(h.sleeps.asked).toEqual([7000])
    expect((await h.store.all())[0]).toMatchObject({ status: "retrying", attempts: 1, lastError: "Telegram answered 429: Too Many Requests: retry after 7" })
    expect(fake.sent()).toHaveLength(1)
    h.sleeps.release()
    await h.delivery.idle()
    expect(fake.sent().map((m) => String(m.text).split("\n")[0])).toEqual(["🛑 *AUTO-HEDGE HALTED*", "🛑 *AUTO-HEDGE HALTED*", "ℹ️ *Entry coming*"])
    expect((await h.store.all()).map((r) => [r.status, r.attempts])).toEqual([["sent", 2], ["sent", 1]])
    expect(h.lines.some((l) => l.includes("waiting the 7 s Telegram asked for"))).toBe(true)
  })

  it("Telegram unreachable: backs off, marks the alert failed and says so, keeps trying in order, delivers when it is back", async () => {
    const h = harness(fake, { attemptsBeforeFailed: 3, backoff: { firstMs: 1000, maxMs: 4000 } })
    fake.down = true
    await h.notify(halted)
    await h.notify(info(1))
    // Both rows are written although Telegram never answered: notify did not wait for it.
    expect((await h.store.all()).map((r) => r.kind)).toEqual(["ENGINE_HALTED", "ENTRY_INFO"])
    for (let n = 1; n <= 5; n++) {
      await h.sleeps.until(n)
      h.sleeps.release()
    }
    await h.sleeps.until(6)
    expect(h.sleeps.asked).toEqual([1000, 2000, 4000, 4000, 4000, 4000])
    const [first, second] = await h.store.all()
    expect(first).toMatchObject({ status: "failed", attempts: 6 })
    expect(first!.lastError).toMatch(/^Network request for 'sendMessage' failed/)
    expect(second).toMatchObject({ status: "queued", attempts: 0 })
    const failedLines = h.lines.filter((l) => l.includes("marked failed in the alerts table and still tried"))
    expect(failedLines).toHaveLength(1)
    expect(JSON.parse(failedLines[0]!)).toMatchObject({ level: "error", severity: "critical" })
    fake.down = false
    h.sleeps.release()
    await h.delivery.idle()
    expect(fake.sent().map((m) => String(m.text).split("\n")[0])).toEqual(["🛑 *AUTO-HEDGE HALTED*", "ℹ️ *Entry coming*"])
    expect((await h.store.all()).map((r) => [r.status, r.attempts])).toEqual([["sent", 7], ["sent", 1]])
    expect(h.lines.some((l) => l.includes("delivered after 7 attempts"))).toBe(true)
    expect(leaks([...h.lines, JSON.stringify(await h.store.all())])).toEqual([])
  })

  it("a Telegram that never answers holds nothing: notify returns with the row written, and a stop does not wait for it", async () => {
    const h = harness(fake)
    fake.hang = true
    await h.notify(halted)
    await h.notify(info(1))
    await fake.until((calls) => calls.some((c) => c.method === "sendMessage"))
    expect((await h.store.all()).map((r) => [r.kind, r.status])).toEqual([["ENGINE_HALTED", "queued"], ["ENTRY_INFO", "queued"]])
    expect(h.delivery.waiting).toBe(2)
    h.delivery.stop()
    expect(fake.sent()).toHaveLength(1)
  })

  it("Markdown Telegram cannot parse goes again as plain text, at once", async () => {
    const h = harness(fake)
    fake.failSends({ error_code: 400, description: "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 12" })
    await h.notify(alertOf("HEDGE_ORDER_FAILED", "critical", "H1", { entry: "entry:E_4", symbol: "NIFTY10FEB2625450CE", strike: 25450, optionType: "CE", quantity: 2700, trigger: "PRE_STRATEGY:E_4", utilisationBefore: 80, otmDistance: 300, error: "RMS: margin_exceeded" }))
    await h.delivery.idle()
    const [markdown, plain] = fake.sent()
    expect(markdown!.parse_mode).toBe("Markdown")
    expect(plain!.parse_mode).toBeUndefined()
    expect(plain!.text).toBe(markdown!.text)
    expect(h.sleeps.asked).toEqual([])
    expect((await h.store.all())[0]).toMatchObject({ status: "sent", attempts: 2 })
  })

  it("a full queue drops a non-critical alert, loudly; a critical alert is always queued", async () => {
    const h = harness(fake, { capacity: 2 })
    fake.down = true
    await h.notify(info(1)) // in flight
    await h.notify(info(2))
    await h.notify(info(3)) // full: dropped
    await h.notify(halted) // full: info 2 gives way
    await h.sleeps.until(1)
    const rows = await h.store.all()
    expect(rows.map((r) => [r.kind, r.status])).toEqual([["ENTRY_INFO", "retrying"], ["ENTRY_INFO", "failed"], ["ENTRY_INFO", "failed"], ["ENGINE_HALTED", "queued"]])
    expect(rows[1]!.lastError).toMatch(/gave way to a critical alert/)
    expect(h.lines.filter((l) => l.includes("NOT delivered and not tried again"))).toHaveLength(2)
    fake.down = false
    await h.sleeps.until(1)
    h.sleeps.release()
    await h.delivery.idle()
    expect(fake.sent().map((m) => String(m.text).split("\n")[0])).toEqual(["ℹ️ *Entry coming*", "🛑 *AUTO-HEDGE HALTED*"])
  })

  it("an alert the notifier could not store is still sent, and the log says so", async () => {
    const h = harness(fake, {}, { lotSize: 75, mode: "paper" }, {
      add: () => Promise.reject(new Error(`connection to postgres://u:p@db/autohedge refused (bot${TOKEN})`)),
      update: async () => undefined,
      unsent: async () => [],
      all: async () => []
    })
    await h.notify(halted)
    await h.delivery.idle()
    expect(fake.sent()).toHaveLength(1)
    const line = h.lines.find((l) => l.includes("not written to the alerts table"))
    expect(line).toContain("[token]")
    expect(leaks(h.lines)).toEqual([])
  })
})

forEachServer("the alerts table", (db) => {
  it("keeps each alert with its delivery, and gives back the unsent ones after a restart", async () => {
    const store = postgresAlertStore(await db.run(Effect.context<SqlClient>()))
    const h = harness(fake, { attemptsBeforeFailed: 2 }, { lotSize: 75, mode: "paper" }, store)
    await h.notify(info(1))
    await h.delivery.idle()
    fake.down = true
    await h.notify(halted, AT + 60_000)
    await h.sleeps.until(1)
    h.sleeps.release()
    await h.sleeps.until(2)
    await h.delivery.stop()
    const rows = await store.all()
    expect(rows.map((r) => ({ kind: r.kind, status: r.status, attempts: r.attempts, raisedAt: r.raisedAt }))).toEqual([
      { kind: "ENTRY_INFO", status: "sent", attempts: 1, raisedAt: AT },
      { kind: "ENGINE_HALTED", status: "failed", attempts: 2, raisedAt: AT + 60_000 }
    ])
    expect(rows[0]!.telegramMessageId).toBeGreaterThan(0)
    // The next process sends what this one could not, first.
    fake.down = false
    const next = harness(fake, {}, { lotSize: 75, mode: "paper" }, store)
    next.delivery.start(await store.unsent())
    await next.delivery.idle()
    expect((await store.all()).map((r) => r.status)).toEqual(["sent", "sent"])
    expect(fake.sent().at(-1)!.text).toBe(rows[1]!.text)
    expect(leaks([JSON.stringify(await store.all())])).toEqual([])
  })
}, { migrated: true })
