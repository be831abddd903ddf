// The page as the day's dashboard, in a real headless Chromium (Debian's, driven by playwright-core), at
// a desktop and a phone width, on a replayed SENSEX expiry day (2026-07-23: 13 entries, 3 of them over
// the budget, 4 hedges: 3 left to expire and 1 sold). The replay runs on a stepping clock the test holds:
// first at 12:00, with the 4 hedges held and a book to price (the risk view), then to the close. What the
// page shows is checked against the day the same server answers (GET api/hedge/day, the read model the
// CLI and Telegram print): the summary, the breach markers on the chart, the hedges held and closed with
// their P&L, the feed, times in IST, the lag banner, the risk view, and no sideways scrolling on a phone.
// Screenshots go to test-output/ (git-ignored).
import { existsSync, mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { instantOf } from "../../src/domain/time.ts"
import type { RiskView } from "../../src/domain/risk.ts"
import { serveSimulation } from "../../simulations/serve.ts"
import type { Day } from "../../src/views/schemas.ts"
import { SteppingClock } from "../daemon/stepping-clock.ts"

const CHROMIUM = "/usr/bin/chromium"
const FILE = "simulations/four-weeks/2026-07-23-SENSEX.jsonl"
const DAY = fileURLToPath(new URL(`../../${FILE}`, import.meta.url))
const OUTPUT = fileURLToPath(new URL("../../test-output/", import.meta.url))
const TOKEN = "dashboard-test-token"
const DATE = "2026-07-23"
const MIDDAY = instantOf(DATE, "12:00:00")

const inCI = process.env.CI !== undefined && process.env.CI !== ""
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium && !inCI) console.warn(`dashboard browser test skipped: ${CHROMIUM} is missing (apt-get install chromium); in CI it runs`)

const ist = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
const istOf = (iso: string) => ist.format(new Date(iso))
const rupees = (n: number) => new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", maximumFractionDigits: 0 }).format(n)
const signedRupees = (n: number) => `${n > 0 ? "+" : n < 0 ? "−" : ""}${rupees(Math.abs(n))}`

interface Box {
  readonly text: string
  readonly kind: string
  readonly x: number
  readonly y: number
  readonly w: number
  readonly h: number
}
const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h

const LAUNCH = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

/** The page and every visible box in it fit the device's width (a phone widens its layout to fit overflow: innerWidth grows). */
const expectNoSideways = async (page: Page, width: number) => {
  const { scroll, inner, sideways } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    sideways: [...document.querySelectorAll("body *")]
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && e.checkVisibility() && ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
  }))
  expect(inner).toBe(width)
  expect(scroll).toBeLessThanOrEqual(width)
  expect(sideways).toEqual([])
}

const screenshot = async (page: Page, name: string) => {
  mkdirSync(OUTPUT, { recursive: true })
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path: `${OUTPUT}${name}.png`, fullPage: true })
  expect(existsSync(`${OUTPUT}${name}.png`)).toBe(true)
}

const WIDTHS: ReadonlyArray<{ readonly name: "desktop" | "phone"; readonly context: BrowserContextOptions }> = [
  { name: "desktop", context: { viewport: { width: 1440, height: 1000 } } },
  { name: "phone", context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } }
]

describe.skipIf(!haveChromium && !inCI)("the day's dashboard in headless Chromium", () => {
  let server: Awaited<ReturnType<typeof serveSimulation>>
  let browser: Browser
  let day: Day
  const clock = new SteppingClock(instantOf(DATE, "09:15:00"))
  const readDay = async () => (await (await fetch(new URL("api/hedge/day", server.url))).json()) as Day

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`)
    clock.hold(MIDDAY)
    server = await serveSimulation({ file: DAY, speed: clock, host: "127.0.0.1", port: 0, token: TOKEN })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH })
    expect(await clock.asleep()).toBe(MIDDAY)
  }, 120_000)

  afterAll(async () => {
    clock.release()
    await browser?.close()
    await server?.close()
  })

  describe.each(WIDTHS)("held at 12:00, at $name width", ({ name, context }) => {
    let page: Page
    let midday: Day
    let risk: RiskView

    beforeAll(async () => {
      midday = await readDay()
      risk = (await (await fetch(new URL("api/risk", server.url))).json()) as RiskView
      page = await browser.newPage({ ...context, timezoneId: "UTC" })
      await page.goto(server.url)
      await page.locator('[data-testid="day-badge"][data-day="live"]').waitFor({ timeout: 15_000 })
      await page.locator('[data-testid="risk-stress"]').waitFor({ timeout: 15_000 })
      await page.locator('[data-testid="hedges-held"] tbody tr').first().waitFor({ timeout: 15_000 })
    }, 60_000)

    afterAll(async () => {
      await page?.close()
    })

    it("is the day so far: trading, its breaches counted, its hedges held", async () => {
      expect(midday.summary!.closed).toBe(false)
      expect(await page.locator('[data-testid="day-badge"]').innerText()).toBe("trading")
      // The session's state in words ("trading"), its machine name (trading.watching) only in the tooltip.
      expect(midday.status.state).toMatch(/^trading\./)
      await expect.poll(() => page.locator('[data-testid="status-state"]').innerText()).toBe("trading")
      expect(await page.locator('[data-testid="summary-breaches"]').innerText()).toBe(String(midday.summary!.breaches.length))
      expect(midday.summary!.breaches.length).toBe(3)
      expect(midday.hedges.held.length).toBe(4)
    })

    it("lists each hedge held: held, bought when (IST) and at what price, last price, P&L marked at it, an Exit button", async () => {
      expect(await page.locator('[data-testid="hedges-held"] tbody tr').count()).toBe(midday.hedges.held.length)
      expect(await page.locator('[data-testid="hedges-closed"] tbody tr').count()).toBe(midday.hedges.closed.length)
      for (const h of midday.hedges.held) {
        const row = page.locator(`[data-testid="hedges-held"] [data-testid="hedge-${h.hedgeId}"]`)
        const text = await row.innerText()
        expect(text).toContain(`${h.strike} ${h.optionType}`)
        expect(text).toContain(h.stateInWords)
        expect(h.stateInWords).toBe("held")
        expect(text).toContain(`${istOf(h.boughtAt!)} @ ${h.buyPrice!.toFixed(2)}`)
        expect(text).toContain(h.ltp!.toFixed(2))
        expect(text).toContain(signedRupees(h.pnl!))
        expect(await page.locator(`[data-testid="exit-${h.hedgeId}"]`).isEnabled()).toBe(true)
      }
      const display = await page.locator('[data-testid="hedges-held"] thead').evaluate((e) => getComputedStyle(e).display)
      expect(display === "none").toBe(name === "phone")
    })

    it("shows the risk of the book now: the greeks in rupees and the 7 × 3 stress table", async () => {
      const greeks = await page.locator('[data-testid="risk-greeks"]').innerText()
      const whole = (n: number) => `${n < 0 ? "−" : n > 0 ? "+" : ""}${Math.abs(n).toLocaleString("en-IN", { maximumFractionDigits: 0 })}`
      expect(greeks).toContain(`Delta\n₹${whole(risk.total.delta)}`)
      expect(greeks).toContain(`Vega\n₹${whole(risk.total.vega)}`)
      for (const word of ["Gamma", "Theta", "Margin", "VaR"]) expect(greeks).toContain(word)
      expect(await page.locator('[data-testid="risk-stress"] tbody tr').count()).toBe(7)
      expect(await page.locator('[data-testid="risk-stress"] tbody td').count()).toBe(21)
      expect(risk.stress.length).toBe(21)
    })

    it("does not scroll sideways, and leaves a screenshot", async () => {
      await expectNoSideways(page, context.viewport!.width)
      await screenshot(page, `dashboard-midday-${name}`)
    })
  })

  it("the replayed day, run to its end, is the one described: closed, with breaches, hedges sold and expired, needless spend", async () => {
    clock.release()
    await server.done
    day = await readDay()
    const s = day.summary!
    expect(s.closed).toBe(true)
    expect(s.breaches.length).toBe(3)
    expect(day.hedges.closed.map((h) => h.state).sort()).toEqual(["closed", "expired", "expired", "expired"])
    expect(s.needless).not.toBeNull()
  })

  it("says plainly when nothing is at risk (the served day is over: every position expired)", async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 800 }, timezoneId: "UTC" })
    try {
      await page.goto(server.url)
      await page.locator('[data-testid="risk-none"]').waitFor({ timeout: 15_000 })
      expect(await page.locator('[data-testid="risk-none"]').innerText()).toBe("No open position: nothing at risk.")
      expect(await page.locator('[data-testid="risk-stress"]').count()).toBe(0)
    } finally {
      await page.close()
    }
  })

  describe.each(WIDTHS)("the day closed, at $name width", ({ name, context }) => {
    let page: Page
    const pageErrors: Array<string> = []

    beforeAll(async () => {
      // The browser's own zone is UTC: every IST time on the page must come from the page's formatting.
      page = await browser.newPage({ ...context, timezoneId: "UTC" })
      page.on("pageerror", (error) => pageErrors.push(error.message))
      await page.goto(server.url)
      // Loaded: the day's badge, the chart's points, the risk view.
      await page.locator('[data-testid="day-badge"][data-day="closed"]').waitFor({ timeout: 15_000 })
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]')?.getAttribute("data-points")) > 300, undefined, { timeout: 15_000 })
      await page.locator('[data-testid="risk-none"]').waitFor({ timeout: 15_000 })
    }, 60_000)

    afterAll(async () => {
      await page?.close()
    })

    it("sums the day up: entries, breaches, peak, spend, needless spend, and says the day is closed", async () => {
      const s = day.summary!
      const text = (id: string) => page.locator(`[data-testid="${id}"]`).innerText()
      expect(await text("day-badge")).toBe("day closed")
      expect(await text("summary-entries")).toBe(`${s.entries.entered} of ${s.entries.scheduled} entered`)
      expect(await text("summary-breaches")).toBe(String(s.breaches.length))
      expect(await text("summary-peak")).toBe(`${s.peakUtilisationPct!.toFixed(1)} %`)
      expect(await text("summary-gross")).toBe(rupees(s.spend.gross))
      expect(await text("summary-recovered")).toBe(rupees(s.spend.recovered))
      expect(await text("summary-net")).toBe(rupees(s.spend.net))
      expect(await page.locator('[data-testid="summary-needless"]').isVisible()).toBe(s.needless!.hedges.length > 0)
      if (s.needless!.hedges.length > 0) expect(await text("summary-needless")).toContain(rupees(s.needless!.cost))
      const breaches = await text("breach-list")
      for (const b of s.breaches) expect(breaches).toContain(`${b.portfolio} at ${istOf(b.at).slice(0, 5)}`)
    })

    it("marks every breach on the chart, in red on the line, with labels that do not overprint", async () => {
      const chart = page.locator('[data-testid="chart"]')
      const breaches = day.summary!.breaches
      // The spot is drawn on its own axis: a point of it for every sample.
      expect(Number(await chart.getAttribute("data-spots"))).toBe(Number(await chart.getAttribute("data-points")))
      const dots = JSON.parse((await chart.getAttribute("data-dots"))!) as Array<{ kind: string; x: number; y: number; at: number }>
      expect(dots.filter((d) => d.kind === "breached").map((d) => d.at)).toEqual(breaches.map((b) => Date.parse(b.at)))
      expect(dots.filter((d) => d.kind === "entered")).toHaveLength(day.summary!.entries.entered - breaches.length)
      // On the canvas at each breach: the marker's red (#dc2626), not just the line.
      const red = await chart.locator("canvas").evaluate((canvas: HTMLCanvasElement, points: Array<{ x: number; y: number }>) => {
        const ctx = canvas.getContext("2d")!
        const scale = canvas.width / canvas.getBoundingClientRect().width
        return points.map((p) => {
          const [r, g, b] = ctx.getImageData(Math.round(p.x * scale), Math.round(p.y * scale), 1, 1).data
          return Math.abs(r! - 0xdc) < 30 && Math.abs(g! - 0x26) < 30 && Math.abs(b! - 0x26) < 30
        })
      }, dots.filter((d) => d.kind === "breached"))
      expect(red).toEqual(breaches.map(() => true))
      // Labels: none overlaps another; on a phone some may not fit, and the list under the chart names them all.
      const labels = JSON.parse((await chart.getAttribute("data-labels"))!) as Array<Box>
      expect(labels.length).toBeGreaterThan(0)
      for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) expect(overlap(labels[i]!, labels[j]!), `${labels[i]!.text} / ${labels[j]!.text}`).toBe(false)
      if (name === "desktop") expect(labels.filter((l) => l.kind === "breached")).toHaveLength(breaches.length)
      const list = page.locator('[data-testid="chart-markers"] li')
      const kinds = await list.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.kind))
      const count = (k: string) => kinds.filter((x) => x === k).length
      const closed = day.hedges.closed
      expect(count("breached")).toBe(breaches.length)
      expect(count("bought")).toBe(closed.length + day.hedges.held.length)
      expect(count("sold")).toBe(closed.filter((h) => h.state === "closed" || h.state === "sold").length)
      expect(count("expired")).toBe(closed.filter((h) => h.state === "expired").length)
    })

    it("lists the hedges held and closed: how each ended, when (IST), at what price, its P&L", async () => {
      expect(await page.locator('[data-testid="hedges-held"] tbody tr').count()).toBe(day.hedges.held.length)
      const rows = page.locator('[data-testid="hedges-closed"] tbody tr')
      expect(await rows.count()).toBe(day.hedges.closed.length)
      for (const h of day.hedges.closed) {
        const row = page.locator(`[data-testid="hedges-closed"] [data-testid="hedge-${h.hedgeId}"]`)
        const text = await row.innerText()
        expect(text).toContain(`${h.strike} ${h.optionType}`)
        expect(text).toContain(h.state === "expired" ? "expired" : "sold")
        expect(text).toContain(`${istOf(h.boughtAt!)} @ ${h.buyPrice!.toFixed(2)}`)
        expect(text).toContain(istOf(h.closedAt!))
        expect(h.pnl).not.toBeNull()
        expect(text).toContain(signedRupees(h.pnl!))
      }
      // A phone shows each hedge as a card: no header row, every value labelled.
      const display = await page.locator('[data-testid="hedges-closed"] thead').evaluate((e) => getComputedStyle(e).display)
      expect(display === "none").toBe(name === "phone")
    })

    it("shows the alerts as a feed, newest first, each at its IST time", async () => {
      const items = page.locator('[data-testid="feed"] li')
      expect(await items.count()).toBe(day.feed.length)
      const newestFirst = [...day.feed].reverse()
      const shown = await items.evaluateAll((lis) => lis.map((li) => ({ kind: (li as HTMLElement).dataset.kind, time: li.querySelector("time")!.textContent, text: (li as HTMLElement).innerText })))
      expect(shown.map((s) => [s.kind, s.time])).toEqual(newestFirst.map((f) => [f.kind, istOf(f.at)]))
      expect(shown[0]!.kind).toBe("EOD_SUMMARY")
      // Readable: no Markdown stars or backticks, the symbol in plain text.
      const bought = shown.find((s) => s.kind === "HEDGE_BOUGHT")!
      expect(bought.text).toMatch(/Symbol: SENSEX23JUL26\d+(CE|PE)/)
      expect(shown.every((s) => !/[*`]/.test(s.text))).toBe(true)
    })

    it("says states in words and times in IST: no epoch milliseconds, no machine names in the hedges and entries", async () => {
      await page.locator('[data-testid="actor-session"]').click()
      await page.locator('[data-testid="transition-log"] tbody tr').first().waitFor({ timeout: 10_000 })
      const text = await page.locator("body").innerText()
      expect(text.match(/\b1\d{12}\b/g) ?? []).toEqual([])
      const entries = await page.locator('[data-testid="entries"] li .words').allInnerTexts()
      expect(entries).toEqual(day.entries.map((e) => e.stateInWords))
      expect(await page.locator('[data-testid="now"]').innerText()).toBe(istOf(day.status.now))
    })

    it("does not scroll sideways, neither the page nor a box in it", async () => {
      await expectNoSideways(page, context.viewport!.width)
    })

    it("leaves a screenshot and no script error", async () => {
      await screenshot(page, `dashboard-${name}`)
      expect(pageErrors).toEqual([])
    })

    it("shows a recommend-mode day's advice as a recommendation in the feed, not as a failure", async () => {
      // What DayView answers for a recommend-mode order (test/views/day-view-dashboard.test.ts).
      const advice = { at: day.feed.at(-1)!.at, source: "engine", kind: "RECOMMENDATION", severity: "info", text: "💡 *RECOMMENDATION*\n\nBuy 15 lots SENSEX 83400 CE at ≤ 2.50 for entry TH_SX_EXP 9\n\n*Symbol:* `SENSEX23JUL2683400CE`\n*Utilization now:* 96.2%\n\n*Time:* 15:35:00\n\nRecommend mode: nothing was placed; place it yourself if you agree." }
      await page.route("**/api/hedge/day", async (route) => {
        const answer = (await (await route.fetch()).json()) as Day
        await route.fulfill({ json: { ...answer, feed: [...answer.feed, advice] } })
      })
      try {
        await page.reload()
        const first = page.locator('[data-testid="feed"] li').first()
        await expect.poll(() => first.getAttribute("data-kind"), { timeout: 15_000 }).toBe("RECOMMENDATION")
        expect(await first.locator(".tag").innerText()).toMatch(/^recommendation$/i)
        expect(await first.locator(".title").innerText()).toBe("RECOMMENDATION")
        expect(await first.innerText()).toContain("Buy 15 lots SENSEX 83400 CE at ≤ 2.50 for entry TH_SX_EXP 9")
        expect(await first.evaluate((li) => li.classList.contains("kind-recommendation"))).toBe(true)
      } finally {
        await page.unroute("**/api/hedge/day")
      }
    })

    it("puts a banner over the page when the daemon falls behind the market", async () => {
      const banner = page.locator('[data-testid="health-banner"]')
      await page.reload()
      await page.locator('[data-testid="day-badge"][data-day="closed"]').waitFor({ timeout: 15_000 })
      expect(await banner.isVisible()).toBe(false)
      // The daemon's answer when its watchdog sees the lag (the served replay never lags).
      await page.route("**/api/hedge/day", async (route) => {
        const answer = (await (await route.fetch()).json()) as Day
        const lag = { kind: "lag" as const, seconds: 95, limitSeconds: 30, message: "the engine is 95 s behind the market clock" }
        await route.fulfill({ json: { ...answer, status: { ...answer.status, health: { ...answer.status.health, ok: false, lagSeconds: 95, problems: [lag] } } } })
      })
      await page.reload()
      await expect.poll(() => banner.isVisible(), { timeout: 15_000 }).toBe(true)
      expect(await banner.getAttribute("data-kind")).toBe("lag")
      expect(await banner.innerText()).toContain("Behind the market by 1m 35s")
      const box = await banner.boundingBox()
      expect(box!.y).toBeLessThan(200)
      await page.unroute("**/api/hedge/day")
    })
  })
})
