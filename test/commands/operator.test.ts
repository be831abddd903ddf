// The operator's actions on real replayed days, without HTTP: each is checked against the day as it is,
// queued, and taken by the session at the next instant before that instant's clock event (so it is a
// transition row stamped with market time, and the day still verifies from its trail alone).
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { BuyPreviewer } from "../../src/commands/buy-preview.ts"
import { CommandRefused, OperatorCommands, type BuyPreview } from "../../src/commands/operator.ts"
import { ScheduleStore } from "../../src/commands/schedule-store.ts"
import { SessionPlans } from "../../src/commands/session-plans.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { constantsMarginModel } from "../../src/domain/margin.ts"
import { toTick } from "../../src/domain/market.ts"
import { parseSchedule, type Schedule } from "../../src/domain/schedule.ts"
import { instantOf } from "../../src/domain/time.ts"
import { DayView } from "../../src/views/day-view.ts"
import { formatVerification, verifyDay } from "../../src/runtime/verify.ts"
import type { TransitionRow } from "../../src/services/services.ts"
import type { RecordedDay } from "../../src/domain/recorded-day.ts"
import { replayDay } from "../../simulations/replay.ts"
import { calmExpiryDay, straddle } from "../fixtures/entries.ts"

const DATE = "2026-02-10"
const at = (time: string) => instantOf(DATE, time)
const model = constantsMarginModel(defaultConfig.marginConstants)

const calmDay = (budgetPerBasket: number): RecordedDay =>
  calmExpiryDay([straddle("A", "09:30:00", null), straddle("B", "11:00:00", null)], budgetPerBasket)

const scheduleText = await readFile("config/schedule.json", "utf8")

const scratchSchedule = async () => {
  const dir = await mkdtemp(join(tmpdir(), "autohedge-commands-"))
  const file = join(dir, "schedule.json")
  await writeFile(file, scheduleText)
  return { dir, file, store: new ScheduleStore(file, parseSchedule(scheduleText, file)) }
}

const refusalOf = async <A>(effect: Effect.Effect<A, CommandRefused>) => {
  const exit = await Effect.runPromiseExit(effect)
  expect(Exit.isFailure(exit), "expected the action to be refused").toBe(true)
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail")?.error : undefined
  expect(error).toBeInstanceOf(CommandRefused)
  return error as CommandRefused
}

const accept = <A>(effect: Effect.Effect<A, CommandRefused>) => Effect.runPromise(effect)

/**
 * A replayed day with the operator's actions: `script[time]` runs just before the first instant at or
 * after `time` (what it queues is taken at that instant).
 */
const operate = async (d: RecordedDay, script: Record<string, (c: OperatorCommands) => Promise<void>>, config = defaultConfig, previewer?: BuyPreviewer) => {
  const { store } = await scratchSchedule()
  const view = new DayView({ now: () => d.ticks[0]!.at, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
  const logs: Array<string> = []
  const commands = new OperatorCommands({ day: () => view.running(), log: (level, m) => logs.push(`${level} ${m}`), schedule: store, today: () => DATE, feed: view, ...(previewer === undefined ? {} : { margins: previewer }) })
  const pending = Object.entries(script).map(([time, run]) => ({ at: at(time), run, done: false }))
  const result = await replayDay(d, {
    config,
    policy: "engine",
    truth: model,
    estimate: model,
    operator: commands,
    onEngine: (engine, setup, services) => (view.attach({ engine, setup, services, mode: "simulation", sessionId: "test" }), previewer?.attach({ engine, setup, services })),
    afterInstant: (t) => view.afterInstant(t),
    pacing: async (t) => {
      for (const p of pending) {
        if (p.done || p.at > t) continue
        p.done = true
        await p.run(commands)
      }
      return t
    }
  })
  return { result, commands, view, logs }
}

const expectVerified = async (rows: ReadonlyArray<TransitionRow>) => {
  const v = await verifyDay(rows)
  expect(v.ok, formatVerification(v)).toBe(true)
}

describe("operator actions on the running day", () => {
  it("a toggle is taken at the next instant, before its clock event, audited with its reason; a second is refused", async () => {
    const d = calmDay(400_000)
    let refusedWhileQueued: CommandRefused | undefined
    let refusedAfter: CommandRefused | undefined
    const { result, logs } = await operate(d, {
      "09:20:00": async (c) => {
        await accept(c.toggle(false, "news at 10"))
        refusedWhileQueued = await refusalOf(c.toggle(false))
      },
      "09:40:00": async (c) => {
        refusedAfter = await refusalOf(c.toggle(false))
      }
    })
    expect(refusedWhileQueued).toMatchObject({ reason: "conflict", field: "enabled" })
    expect(refusedWhileQueued!.message).toMatch(/already off.*waiting/)
    expect(refusedAfter).toMatchObject({ reason: "conflict", message: "auto-hedge is already off" })
    const toggle = result.rows.find((r) => r.event === "TOGGLE")!
    expect(toggle).toMatchObject({ actorId: "session", at: at("09:20:00"), payload: { enabled: false, reason: "news at 10" } })
    // Delivered in its instant before the clock event: the instant's CLOCK row comes right after.
    const clock = result.rows.find((r) => r.event === "CLOCK" && r.at === at("09:20:00"))!
    expect(clock.seq).toBe(toggle.seq + 1)
    // Switched off, A needs a hedge and buys none.
    expect(result.rows.find((r) => r.actorId === "entry:A" && r.to.startsWith("awaitingEntry"))!.to).toBe("awaitingEntry.disabled")
    expect(result.report.hedges).toHaveLength(0)
    expect(logs).toContain("info operator: auto-hedge off (news at 10)")
    await expectVerified(result.rows)
  })

  it("hedge now: the next entry to come decides at the next instant, audited as the trader's; refused with the reason; the day verifies", async () => {
    // Each entry alone is over the trigger: B (11:00) looks ahead at 10:55 on its own.
    const d = calmDay(400_000)
    const refusals: Record<string, CommandRefused> = {}
    let accepted = ""
    const { result, logs } = await operate(d, {
      "09:10:00": async (c) => {
        refusals.preOpen = await refusalOf(c.hedgeNow())
      },
      "10:00:00": async (c) => {
        accepted = (await accept(c.hedgeNow("telegram"))).message
        refusals.twice = await refusalOf(c.hedgeNow())
      },
      "12:00:00": async (c) => {
        refusals.noneToCome = await refusalOf(c.hedgeNow())
      }
    })
    expect(accepted).toBe("hedge now: entry B (at 11:00) decides now: queued; the session takes it at the next market instant")
    expect(refusals.preOpen!.message).toMatch(/while the market is open; the session is preOpen/)
    expect(refusals.twice).toMatchObject({ reason: "conflict", message: "a hedge-now is already waiting for the next instant" })
    expect(refusals.noneToCome).toMatchObject({ reason: "conflict", message: "no entry is still to come today: nothing to decide for" })
    // Taken by the session, forwarded to B, which decides and buys at 10:00, not at its look-ahead.
    expect(result.rows.find((r) => r.actorId === "session" && r.event === "HEDGE_NOW")!.at).toBe(at("10:00:00"))
    expect(result.rows.find((r) => r.actorId === "entry:B" && r.event === "HEDGE_NOW")).toMatchObject({ at: at("10:00:00"), from: "idle", to: "lookahead" })
    expect(result.rows.find((r) => r.event === "BUY_HEDGES" && (r.payload as { entryId: string }).entryId === "entry:B")!.at).toBe(at("10:00:00"))
    expect(logs).toContain("info operator hedge_now (telegram): hedge now: entry B (at 11:00) decides now: queued; the session takes it at the next market instant")
    expect(logs).toContain("info operator: hedge now: entry B (at 11:00) decides now")
    await expectVerified(result.rows)
  })

  it("a manual buy and a manual exit: checked, queued, taken; the day verifies", async () => {
    // Budget enough that no entry needs a hedge, whatever the margin model: the only hedge is the trader's.
    const d = calmDay(5_000_000)
    const tick = d.ticks.find((t) => t.at >= at("10:00:00"))!
    const put = [...tick.chain].filter((r) => r.strike < tick.spot - 300 && r.pe !== null && r.pe >= 1).sort((a, b) => a.strike - b.strike)[0]!
    const refusals: Record<string, CommandRefused> = {}
    const { result } = await operate(d, {
      "09:15:00": async (c) => {
        refusals.preOpenExit = await refusalOf(c.manualExit("hedge-1"))
      },
      "09:50:00": async (c) => {
        refusals.unknown = await refusalOf(c.manualExit("hedge-1"))
        refusals.offGrid = await refusalOf(c.manualBuy({ strike: put.strike + 10, optionType: "PE", lots: 1 }))
        refusals.tick = await refusalOf(c.manualBuy({ strike: put.strike, optionType: "PE", lots: 1, limitPrice: 1.03 }))
        refusals.cap = await refusalOf(c.manualBuy({ strike: put.strike, optionType: "PE", lots: 5000 }))
        refusals.noPrice = await refusalOf(c.manualBuy({ strike: 1000, optionType: "PE", lots: 1 }))
      },
      "10:00:00": async (c) => {
        await accept(c.manualBuy({ strike: put.strike, optionType: "PE", lots: 15 }))
      },
      "11:30:00": async (c) => {
        await accept(c.manualExit("hedge-1"))
        refusals.twice = await refusalOf(c.manualExit("hedge-1"))
      },
      "12:00:00": async (c) => {
        refusals.closed = await refusalOf(c.manualExit("hedge-1"))
      }
    })
    expect(refusals.preOpenExit).toMatchObject({ reason: "conflict" })
    expect(refusals.preOpenExit!.message).toMatch(/while the market is open; the session is preOpen/)
    expect(refusals.unknown).toMatchObject({ reason: "notFound", field: "hedgeId", message: 'no hedge "hedge-1" today (none bought yet)' })
    expect(refusals.offGrid).toMatchObject({ reason: "invalid", field: "strike" })
    expect(refusals.offGrid!.message).toContain(`${put.strike + 10} is not a NIFTY strike (they are every 50)`)
    expect(refusals.tick).toMatchObject({ reason: "invalid", field: "limitPrice" })
    expect(refusals.cap).toMatchObject({ reason: "conflict", field: "lots" })
    expect(refusals.cap!.message).toMatch(/^spend cap: this buy would cost ₹[\d,.]+ \(325000 × [\d.]+\); ₹50,000 is left of today's ₹50,000$/)
    expect(refusals.noPrice).toMatchObject({ reason: "conflict", field: "strike" })
    expect(refusals.twice).toMatchObject({ reason: "conflict", field: "hedgeId", message: "an exit of hedge-1 is already waiting for the next instant" })
    expect(refusals.closed).toMatchObject({ reason: "conflict", field: "hedgeId", message: "hedge-1 is closed, not open: only an open hedge can be exited" })

    const buy = result.rows.find((r) => r.event === "MANUAL_BUY")!
    expect(buy.at).toBe(at("10:00:00"))
    expect(buy.payload).toMatchObject({ strike: put.strike, optionType: "PE", quantity: 975, limitPrice: null })
    const hedge = result.report.hedges.find((h) => h.id === "hedge-1")!
    expect(hedge).toMatchObject({ trigger: "MANUAL", status: "closed", quantity: 975 })
    expect(hedge.closedAt! >= "11:30:00" && hedge.closedAt! <= "11:30:05").toBe(true)
    expect(result.rows.find((r) => r.event === "MANUAL_EXIT")!.at).toBe(at("11:30:00"))
    await expectVerified(result.rows)
  })

  it("a manual buy's preview: the buy's figures and refusals, neither queued nor audited; buys already queued count against the cap", async () => {
    const d = calmDay(5_000_000)
    const tick = d.ticks.find((t) => t.at >= at("10:00:00"))!
    const put = [...tick.chain].filter((r) => r.strike < tick.spot - 300 && r.pe !== null && r.pe >= 1).sort((a, b) => a.strike - b.strike)[0]!
    const seen: { without?: CommandRefused; first?: BuyPreview; second?: BuyPreview; capPreview?: CommandRefused; capBuy?: CommandRefused; pending?: number } = {}
    const { logs } = await operate(d, {
      "10:00:00": async (c) => {
        seen.first = await accept(c.previewBuy({ strike: put.strike, optionType: "PE", lots: 15 }))
        seen.capPreview = await refusalOf(c.previewBuy({ strike: put.strike, optionType: "PE", lots: 5000 }))
        seen.pending = c.pending
        seen.capBuy = await refusalOf(c.manualBuy({ strike: put.strike, optionType: "PE", lots: 5000 }))
        await accept(c.manualBuy({ strike: put.strike, optionType: "PE", lots: 15 }))
        // Queued, not yet taken: the next preview counts it against the cap.
        seen.second = await accept(c.previewBuy({ strike: put.strike, optionType: "PE", lots: 1 }))
      }
    }, defaultConfig, new BuyPreviewer())
    const ltp = put.pe!
    expect(seen.first).toMatchObject({ strike: put.strike, optionType: "PE", lots: 15, quantity: 975, ltp, limitPrice: toTick(ltp + defaultConfig.limitPriceBuffer), limitGiven: false })
    expect(seen.first!.cost).toBeCloseTo(toTick(ltp + defaultConfig.limitPriceBuffer) * 975, 2)
    expect(seen.first!.spend).toEqual({ cap: 50_000, left: 50_000, leftAfter: Math.round((50_000 - seen.first!.cost) * 100) / 100 })
    expect(seen.first!.margin.pctNow).toBeCloseTo((seen.first!.margin.marginNow / seen.first!.margin.budget) * 100, 2)
    expect(seen.first!.margin.nextEntry).toMatchObject({ portfolio: "B" })
    // The same refusal as the buy's, word for word; and neither the preview nor its refusal was queued or logged.
    expect(seen.capPreview).toEqual(seen.capBuy)
    expect(seen.pending).toBe(0)
    // Only the two buys are in the log (refused, accepted) and the one taken: no preview.
    expect(logs.filter((l) => / operator/.test(l)).map((l) => l.replace(/:.*/, ""))).toEqual(["warn operator buy (api) refused", "info operator buy (api)", "info operator"])
    expect(seen.second!.spend.left).toBeCloseTo(50_000 - seen.first!.cost, 2)

    // Without a margin projection (a server that has none), the preview says so.
    const bare = await operate(d, { "10:00:00": async (c) => void (seen.without = await refusalOf(c.previewBuy({ strike: put.strike, optionType: "PE", lots: 15 }))) })
    expect(bare.logs.filter((l) => l.includes("preview"))).toEqual([])
    expect(seen.without).toMatchObject({ reason: "unavailable", message: "this server cannot project margins for a preview" })
  })

  it("an exit below the minimum exit price is refused with the price and the minimum, and the hedge stays held", async () => {
    const d = calmDay(5_000_000)
    const tick = d.ticks.find((t) => t.at >= at("10:00:00"))!
    const put = [...tick.chain].filter((r) => r.strike < tick.spot - 300 && r.pe !== null && r.pe >= 1).sort((a, b) => a.strike - b.strike)[0]!
    // A minimum above any price the put reaches: every exit of it is below the minimum.
    const config = { ...defaultConfig, minExitPrice: 500 }
    let refused: CommandRefused | undefined
    const { result, view, logs } = await operate(
      d,
      {
        "10:00:00": async (c) => {
          await accept(c.manualBuy({ strike: put.strike, optionType: "PE", lots: 15 }))
        },
        "11:30:00": async (c) => {
          refused = await refusalOf(c.manualExit("hedge-1", "telegram"))
        }
      },
      config
    )
    expect(refused).toMatchObject({ reason: "conflict", field: "hedgeId" })
    expect(refused!.message).toMatch(/^hedge-1 \(NIFTY\w+PE\) is at ₹\d+\.\d\d, below the minimum exit price ₹500\.00 \(HEDGE_MIN_EXIT_PRICE\): not sold; it is held to expiry unless its price recovers$/)
    // Nothing was queued: the session never saw an exit, and the hedge was held to the close.
    expect(result.rows.some((r) => r.event === "MANUAL_EXIT")).toBe(false)
    expect(result.report.hedges.find((h) => h.id === "hedge-1")).toMatchObject({ trigger: "MANUAL", received: 0 })
    // Audited like every action: in the log with who asked, and in the day's feed with the reason.
    expect(logs).toContain(`warn operator exit (telegram) refused: ${refused!.message}`)
    expect(logs.some((l) => l.startsWith("info operator buy (api): buy 15 lots of NIFTY"))).toBe(true)
    const feed = view.feed().filter((f) => f.source === "operator")
    expect(feed.map((f) => [f.kind, f.severity])).toEqual([
      ["buy", "info"],
      ["taken", "info"],
      ["exit refused", "warning"]
    ])
    expect(feed[2]!.text).toBe(`exit (telegram) refused: ${refused!.message}`)
    // Stamped with market time: the instant the session had reached when the trader asked.
    const refusedAt = Date.parse(feed[2]!.at)
    expect(refusedAt > at("11:25:00") && refusedAt < at("11:30:00")).toBe(true)
    await expectVerified(result.rows)
  })

  it("with no day running, or the day closed, the actions say so", async () => {
    const { store } = await scratchSchedule()
    const idle = new OperatorCommands({ day: () => null, log: () => undefined, schedule: store, today: () => DATE })
    expect(await refusalOf(idle.toggle(false))).toMatchObject({ reason: "conflict", message: "no trading day is running" })
    expect(await refusalOf(idle.manualBuy({ strike: 24000, optionType: "PE", lots: 1 }))).toMatchObject({ reason: "conflict", message: "no trading day is running" })
    const { commands, view } = await operate(calmDay(5_000_000), {})
    expect(view.running()!.done).toBe(true)
    expect(await refusalOf(commands.toggle(false))).toMatchObject({ reason: "conflict", message: `the session of ${DATE} has closed: nothing more is decided today` })
    expect(await refusalOf(commands.manualExit("hedge-1"))).toMatchObject({ reason: "conflict" })
  })
})

describe("the schedule and coming sessions", () => {
  it("a new schedule is written atomically (no temporary file left), read back as written, and heard by the daemon", async () => {
    const { dir, file, store } = await scratchSchedule()
    const commands = new OperatorCommands({ day: () => null, log: () => undefined, schedule: store, today: () => DATE })
    let heard = 0
    store.onChange(() => heard++)
    const schedule: Schedule = { version: 1, days: { Wednesday: parseSchedule(scheduleText, "x").days.Monday! } }
    const accepted = await accept(commands.putSchedule(schedule))
    expect(accepted.message).toBe(`schedule saved to ${file}; it applies from the next day set up`)
    expect(parseSchedule(await readFile(file, "utf8"), file)).toEqual(schedule)
    expect(store.current()).toEqual(schedule)
    expect(await readdir(dir)).toEqual(["schedule.json"])
    expect(heard).toBe(1)
  })

  it("an invalid schedule is refused naming the key and the value, and the file is left as it was", async () => {
    const { file, store } = await scratchSchedule()
    const commands = new OperatorCommands({ day: () => null, log: () => undefined, schedule: store, today: () => DATE })
    const monday = parseSchedule(scheduleText, "x").days.Monday!
    const bad = { version: 1, days: { Monday: { ...monday, entries: [{ ...monday.entries[0]!, entryTime: "16:00:00" }] } } } as Schedule
    const refused = await refusalOf(commands.putSchedule(bad))
    expect(refused).toMatchObject({ reason: "invalid", field: "days.Monday.entries[0].entryTime" })
    expect(refused.message).toBe('days.Monday.entries[0].entryTime: must be within market hours 09:15:00-15:30:00 (got "16:00:00")')
    expect(await readFile(file, "utf8")).toBe(scheduleText)
  })

  it("a schedule that cannot be written says where", async () => {
    const store = new ScheduleStore("/nonexistent-dir/schedule.json", parseSchedule(scheduleText, "x"))
    const commands = new OperatorCommands({ day: () => null, log: () => undefined, schedule: store, today: () => DATE })
    const refused = await refusalOf(commands.putSchedule(store.current()))
    expect(refused).toMatchObject({ reason: "unavailable", message: "cannot write /nonexistent-dir/schedule.json: ENOENT" })
  })

  it("a coming day's session is set up where sessions can be (the daemon), merged field by field", async () => {
    const { store } = await scratchSchedule()
    const replaying = new OperatorCommands({ day: () => null, log: () => undefined, schedule: store, today: () => DATE })
    expect((await refusalOf(replaying.openSession({ date: "2026-02-11", baskets: 10 }))).message).toMatch(/replays a recorded day/)
    const plans = new SessionPlans()
    const commands = new OperatorCommands({ day: () => null, log: () => undefined, schedule: store, plans, today: () => DATE })
    expect(await refusalOf(commands.openSession({ date: "2026-02-09", baskets: 10 }))).toMatchObject({ reason: "invalid", field: "date", message: "date: 2026-02-09 is in the past (today is 2026-02-10)" })
    expect(await refusalOf(commands.openSession({ date: "2026-02-11" }))).toMatchObject({ reason: "invalid", message: "nothing to set: give baskets, budgetPerBasket or autoHedgeEnabled" })
    expect(await refusalOf(commands.openSession({ date: "2026-02-11", baskets: 2.5 }))).toMatchObject({ reason: "invalid", field: "baskets" })
    await accept(commands.openSession({ date: "2026-02-11", baskets: 10 }))
    const accepted = await accept(commands.openSession({ date: "2026-02-11", autoHedgeEnabled: false }))
    expect(accepted.message).toBe("session of 2026-02-11: 10 baskets, auto-hedge off; it applies when the day is set up (09:00 IST)")
    expect(plans.get("2026-02-11")).toEqual({ date: "2026-02-11", baskets: 10, budgetPerBasket: undefined, autoHedgeEnabled: false })
  })
})
