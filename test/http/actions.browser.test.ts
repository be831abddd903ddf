// The page's actions in a real headless Chromium (Debian's, driven by playwright-core) against a day the
// simulator replays, held at 10:05 by a stepping clock so what the page meets never depends on speed:
// a strike picked from the chain, previewed with the API's own numbers, refused with the server's reason,
// then confirmed with the token and taken by the session; the schedule editor refusing a bad time at
// its field, then saving; the history list and a day's detail. At desktop and phone widths, with no
// sideways scrolling, and screenshots under test-output/. Then the history of days simulated under
// engine, static and none into a database: a day's league as the page shows it.
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { instantOf } from "../../src/domain/time.ts"
import { defaultConfig } from "../../src/domain/config.ts"
import { serveSimulation, type SimulationServer } from "../../simulations/serve.ts"
import { databaseStore, simulate } from "../../simulations/simulate.ts"
import { OperatorCommands } from "../../src/commands/operator.ts"
import { ScheduleStore } from "../../src/commands/schedule-store.ts"
import { parseRecordedDay } from "../../src/domain/recorded-day.ts"
import { parseSchedule } from "../../src/domain/schedule.ts"
import { databaseRecords } from "../../src/http/records.ts"
import { startOperatorServer, type OperatorServer } from "../../src/http/server.ts"
import { DayView } from "../../src/views/day-view.ts"
import { forEachServer } from "../fixtures/databases.ts"
import { SteppingClock } from "../daemon/stepping-clock.ts"
import { call } from "./client.ts"

const CHROMIUM = "/usr/bin/chromium"
const FILE = fileURLToPath(new URL("../../simulations/days/2026-02-10-NIFTY.jsonl", import.meta.url))
const DATE = "2026-02-10"
const OUTPUT = fileURLToPath(new URL("../../test-output/", import.meta.url))
const TOKEN = "actions-browser-token-0123"
const WIDTHS = [
  { name: "desktop", width: 1440, height: 1000 },
  { name: "phone", width: 390, height: 844 }
] as const

const inCI = process.env.CI !== undefined && process.env.CI !== ""
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium && !inCI) console.warn(`actions browser test skipped: ${CHROMIUM} is missing (apt-get install chromium); in CI it runs`)

/** Elements wider than the page (what would make it scroll sideways), by test id or tag. */
const overflowing = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const wide = [...document.querySelectorAll("#buy *, #schedule-editor *, #history *")]
      .filter((n) => n.getBoundingClientRect().right > width + 1 && n.getBoundingClientRect().width > 0)
      .map((n) => (n as HTMLElement).dataset.testid ?? n.tagName.toLowerCase())
    return { scrolls: document.documentElement.scrollWidth > width, wide: [...new Set(wide)].slice(0, 10) }
  })

describe.skipIf(!haveChromium && !inCI)("the page's actions in headless Chromium", () => {
  let server: SimulationServer
  let browser: Browser
  const clock = new SteppingClock(instantOf(DATE, "09:15:00"))
  const pageErrors: Array<string> = []

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`)
    clock.hold(instantOf(DATE, "10:05:00"))
    server = await serveSimulation({ file: FILE, speed: clock, port: 0, token: TOKEN, config: { ...defaultConfig, maxHedgeCostPerDay: 200_000 } })
    await clock.asleep()
    browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    clock.release()
    await server?.close()
  })

  const open = async (viewport: { readonly width: number; readonly height: number }) => {
    const page = await browser.newPage({ viewport, timezoneId: "UTC" })
    page.on("pageerror", (error) => pageErrors.push(error.message))
    await page.goto(server.url)
    await page.locator('[data-testid="buy-strike"] option').first().waitFor({ state: "attached", timeout: 15_000 })
    return page
  }

  for (const size of WIDTHS) {
    describe(`at ${size.name} width (${size.width} px)`, () => {
      let page: Page
      beforeAll(async () => {
        page = await open(size)
      }, 30_000)
      afterAll(() => page?.close())

      it("picks a strike, previews it with the API's numbers, shows a refusal's reason, and confirms with the token", async () => {
        const message = page.locator('[data-testid="buy-message"]')
        const panel = page.locator('[data-testid="buy-preview-panel"]')
        await page.locator('[data-testid="buy-side"]').selectOption("CE")
        await expect.poll(() => page.locator('[data-testid="buy-strike"] option').first().textContent()).toContain("CE")
        // The first strike in the engine's band is chosen for you.
        const strike = await page.locator('[data-testid="buy-strike"]').inputValue()
        expect(await page.locator(`[data-testid="buy-strike"] option[value="${strike}"]`).getAttribute("data-in-band")).toBe("true")

        // Too many lots: the server's refusal, word for word, and the field marked.
        await page.locator('[data-testid="buy-lots"]').fill("9000")
        await page.locator('[data-testid="buy-preview"]').click()
        const refusal = (await call(server.url, `api/hedge/manual/preview?strike=${strike}&optionType=CE&lots=9000`)).json as { error: string }
        await expect.poll(() => message.textContent()).toContain(refusal.error)
        expect(await message.getAttribute("data-kind")).toBe("error")
        expect(await page.locator('[data-testid="buy-lots"]').getAttribute("aria-invalid")).toBe("true")
        expect(await page.locator('[data-testid="buy-confirm"]').isDisabled()).toBe(true)

        await page.locator('[data-testid="buy-lots"]').fill("2")
        await page.locator('[data-testid="buy-preview"]').click()
        await panel.waitFor({ state: "visible" })
        const expected = (await call(server.url, `api/hedge/manual/preview?strike=${strike}&optionType=CE&lots=2`)).json as {
          cost: number
          spend: { leftAfter: number }
          margin: { pctNow: number; pctAfter: number; nextEntry: { portfolio: string } }
        }
        expect(Number(await panel.getAttribute("data-cost"))).toBe(expected.cost)
        expect(Number(await panel.getAttribute("data-pct-after"))).toBe(expected.margin.pctAfter)
        expect(Number(await panel.getAttribute("data-left-after"))).toBe(expected.spend.leftAfter)
        expect(await panel.textContent()).toContain(expected.margin.nextEntry.portfolio)
        expect(await panel.textContent()).toContain(`${expected.margin.pctNow.toFixed(2)} % → ${expected.margin.pctAfter.toFixed(2)} %`)
        expect(await page.locator('[data-testid="buy-lots"]').getAttribute("aria-invalid")).toBeNull()
        mkdirSync(OUTPUT, { recursive: true })
        await page.locator('[data-testid="buy"]').screenshot({ path: `${OUTPUT}actions-${size.name}-buy-preview.png` })

        // Confirmed without the token: refused, nothing bought.
        await page.locator('[data-testid="token"]').fill("")
        await page.locator('[data-testid="buy-confirm"]').click()
        await expect.poll(() => message.getAttribute("data-kind")).toBe("error")
        expect(await message.textContent()).toContain("401")

        // With it: queued, and the session takes it at its next instant.
        const buysBefore = await manualBuys()
        await page.locator('[data-testid="token"]').fill(TOKEN)
        await page.locator('[data-testid="buy-confirm"]').click()
        await expect.poll(() => message.getAttribute("data-kind")).toBe("ok")
        expect(await message.textContent()).toContain("queued")
        await expect.poll(manualBuys, { timeout: 15_000 }).toEqual([...buysBefore, expect.objectContaining({ strike: Number(strike), optionType: "CE", quantity: 130 })])
        expect(await page.locator('[data-testid="buy-confirm"]').isDisabled()).toBe(true)
      })

      it("edits the coming day's entries: a bad time refused at its field, then saved", async () => {
        const editor = page.locator('[data-testid="schedule-editor"]')
        // The replayed day is a Tuesday: the editor opens on Wednesday, not traded; Thursday is.
        expect(await page.locator('[data-testid="schedule-day"]').inputValue()).toBe("Wednesday")
        await page.locator('[data-testid="schedule-day"]').selectOption("Thursday")
        const entry = editor.locator('[data-testid="schedule-entryTime-1"]')
        await entry.fill("25:61:00")
        await page.locator('[data-testid="schedule-save"]').click()
        const error = editor.locator('[data-testid="schedule-error-1"]')
        await error.waitFor({ state: "visible" })
        expect(await error.textContent()).toMatch(/^days\.Thursday\.entries\[1\]\.entryTime: .*"25:61:00"/)
        expect(await entry.getAttribute("aria-invalid")).toBe("true")
        expect(await page.locator('[data-testid="schedule-message"]').getAttribute("data-kind")).toBe("error")

        const time = size.name === "desktop" ? "09:23:00" : "09:24:00"
        await entry.fill(time)
        await page.locator('[data-testid="schedule-save"]').click()
        await expect.poll(() => page.locator('[data-testid="schedule-message"]').getAttribute("data-kind")).toBe("ok")
        expect(await error.isHidden()).toBe(true)
        const saved = (await call(server.url, "api/hedge/schedule")).json as { days: { Thursday: { entries: Array<{ entryTime: string }> } } }
        expect(saved.days.Thursday.entries[1]!.entryTime).toBe(time)
        if (size.name !== "desktop") return

        // An untraded weekday gets an entry (an ATM straddle, one lot a basket), then loses it again.
        const days = async () => ((await call(server.url, "api/hedge/schedule")).json as { days: Record<string, { index: string; expiryType: string; entries: Array<{ portfolio: string; legs: Array<unknown> }> } | undefined> }).days
        const saveOk = async () => {
          await page.locator('[data-testid="schedule-message"]').evaluate((n) => (n.dataset.kind = ""))
          await page.locator('[data-testid="schedule-save"]').click()
          await expect.poll(() => page.locator('[data-testid="schedule-message"]').getAttribute("data-kind")).toBe("ok")
        }
        await page.locator('[data-testid="schedule-day"]').selectOption("Wednesday")
        await page.locator('[data-testid="schedule-add"]').click()
        await editor.locator('[data-testid="schedule-portfolio-0"]').fill("WED 1")
        await editor.locator('[data-testid="schedule-entryTime-0"]').fill("09:30:00")
        await page.locator('[data-testid="schedule-index"]').selectOption("SENSEX")
        await saveOk()
        expect((await days()).Wednesday).toMatchObject({ index: "SENSEX", expiryType: "0DTE", entries: [{ portfolio: "WED 1", entryTime: "09:30:00", exitTime: null }] })
        expect((await days()).Wednesday!.entries[0]!.legs).toHaveLength(2)
        await editor.locator('[data-testid="schedule-remove-0"]').click()
        await saveOk()
        expect((await days()).Wednesday).toBeUndefined()
      })

      it("lists the history and opens a day", async () => {
        const day = page.locator(`[data-testid="history-day-${DATE}"]`)
        await day.waitFor()
        expect(await day.textContent()).toContain("NIFTY · simulation/engine")
        await day.click()
        const detail = page.locator('[data-testid="history-detail"]')
        await detail.waitFor({ state: "visible" })
        expect(await detail.getAttribute("data-date")).toBe(DATE)
        expect(await detail.locator('[data-testid="history-sessions"] tbody tr').count()).toBe(1)
        expect(await detail.locator('[data-testid="history-no-league"]').isVisible()).toBe(true)
      })

      it("does not scroll sideways, and leaves a screenshot", async () => {
        expect(await overflowing(page)).toEqual({ scrolls: false, wide: [] })
        mkdirSync(OUTPUT, { recursive: true })
        const path = `${OUTPUT}actions-${size.name}.png`
        await page.screenshot({ path, fullPage: true })
        expect(existsSync(path)).toBe(true)
        // Each card on its own, as a reviewer reads it.
        for (const card of ["buy", "schedule-editor", "history"]) await page.locator(`[data-testid="${card}"]`).screenshot({ path: `${OUTPUT}actions-${size.name}-${card}.png` })
        expect(pageErrors).toEqual([])
      })
    })
  }

  const manualBuys = async () => {
    const rows = ((await call(server.url, "api/inspector/transitions?actor=session&limit=5000")).json as { rows: Array<{ event: string; payload: unknown }> }).rows
    return rows.filter((r) => r.event === "MANUAL_BUY").map((r) => r.payload)
  }
})

const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

describe.skipIf(!haveChromium && !inCI)("the history page over the records", () => {
  forEachServer("with a policy league", (db) => {
    let server: OperatorServer
    let browser: Browser
    let scratch = ""

    beforeAll(async () => {
      const file = "2026-02-10-NIFTY"
      const days = [{ file, day: parseRecordedDay(readFileSync(`simulations/days/${file}.jsonl`, "utf8"), `${file}.jsonl`) }]
      await db.run(simulate(days, ["engine", "static", "none"], defaultConfig, databaseStore()))
      const sql = await db.run(Effect.context<SqlClient>())
      scratch = await mkdtemp(join(tmpdir(), "autohedge-history-page-"))
      const schedule = new ScheduleStore(join(scratch, "schedule.json"), parseSchedule(readFileSync("config/schedule.json", "utf8"), "schedule"))
      const now = () => instantOf("2026-02-11", "08:00:00")
      const view = new DayView({ now, thresholds: { triggerPct: 95, targetPct: 85, exitTriggerPct: 70 } })
      const commands = new OperatorCommands({ day: () => view.running(), log: () => undefined, schedule, today: () => "2026-02-11" })
      server = await startOperatorServer({ host: "127.0.0.1", port: 0, token: null, view, commands, schedule, records: databaseRecords("simulation", sql), now, log: () => undefined })
      browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs })
    }, 120_000)
    afterAll(async () => {
      await browser?.close()
      await server?.close()
      if (scratch !== "") await rm(scratch, { recursive: true, force: true })
    })

    for (const size of WIDTHS) {
      it(`shows a day's league, best first, at ${size.name} width`, async () => {
        const page = await browser.newPage({ viewport: size, timezoneId: "UTC" })
        const errors: Array<string> = []
        page.on("pageerror", (error) => errors.push(error.message))
        await page.goto(server.url)
        const day = page.locator(`[data-testid="history-day-${DATE}"]`)
        await day.waitFor({ timeout: 15_000 })
        expect(await day.textContent()).toContain("league of 3")
        await day.click()
        const league = page.locator('[data-testid="history-league"] tbody tr')
        await league.first().waitFor()
        const expected = ((await call(server.url, `api/hedge/history/day?date=${DATE}`)).json as { league: Array<{ policy: string }> }).league.map((r) => r.policy)
        expect(expected).toHaveLength(3)
        expect(await league.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.policy))).toEqual(expected)
        expect(await league.evaluateAll((rows) => rows.map((r) => r.querySelector("td")!.textContent))).toEqual(["1", "2", "3"])
        expect(await overflowing(page)).toEqual({ scrolls: false, wide: [] })
        mkdirSync(OUTPUT, { recursive: true })
        await page.locator('[data-testid="history"]').screenshot({ path: `${OUTPUT}history-league-${size.name}.png` })
        expect(errors).toEqual([])
        await page.close()
      }, 60_000)
    }
  }, { migrated: true })
})
