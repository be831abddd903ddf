// The inspector page in a real headless Chromium (Debian's, driven by playwright-core) against a day
// replayed by the simulator: the actor tree updates live, the chart is drawn, the toggle goes through
// the token, and a screenshot is kept under test-output/.
import { existsSync, mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveSimulation } from "../../simulations/serve.ts"

const CHROMIUM = "/usr/bin/chromium"
const DAY = fileURLToPath(new URL("../../simulations/days/2026-02-09-NIFTY.jsonl", import.meta.url))
const OUTPUT = fileURLToPath(new URL("../../test-output/", import.meta.url))
const TOKEN = "inspector-test-token"
/** The day's market time (09:15–15:35) in about 50 s. */
const SPEED = 450

const inCI = process.env.CI !== undefined && process.env.CI !== ""
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium && !inCI) {
  console.warn(`inspector browser test skipped: ${CHROMIUM} is missing (apt-get install chromium); in CI it runs`)
}

describe.skipIf(!haveChromium && !inCI)("inspector page in headless Chromium", () => {
  let server: Awaited<ReturnType<typeof serveSimulation>>
  let browser: Browser
  let page: Page
  const pageErrors: Array<string> = []
  const consoleErrors: Array<string> = []

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`)
    server = await serveSimulation({ file: DAY, speed: SPEED, host: "127.0.0.1", port: 0, token: TOKEN })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // The machine's network is closed: no QUIC, no background fetches, no component updates.
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    })
    page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, timezoneId: "UTC" })
    page.on("pageerror", (error) => pageErrors.push(error.message))
    page.on("console", (message) => void (message.type() === "error" && consoleErrors.push(message.text())))
    page.on("dialog", (dialog) => void dialog.accept())
    await page.goto(server.url)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const actorStates = (p: Page) =>
    p.$$eval('[data-testid^="actor-entry"]', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute("data-testid"), r.getAttribute("data-state")])))

  it("shows the session and its entries", async () => {
    await page.locator('[data-testid="actor-session"]').waitFor({ timeout: 15_000 })
    await expect.poll(async () => Object.keys(await actorStates(page)).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(6)
    await expect.poll(() => page.locator('[data-testid="session-line"]').textContent()).toContain("NIFTY 2026-02-09")
    expect(await page.locator('[data-testid="actor-session"]').getAttribute("data-state")).not.toBe("")
  })

  it("updates entry states live, without a reload", async () => {
    await page.evaluate(() => Object.assign(window, { __notReloaded: true }))
    const before = await actorStates(page)
    await expect
      .poll(async () => {
        const now = await actorStates(page)
        return Object.keys(before).some((id) => now[id] !== undefined && now[id] !== before[id])
      }, { timeout: 30_000, interval: 250 })
      .toBe(true)
    expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true)
    await expect.poll(() => page.locator('[data-testid="stream-status"]').getAttribute("data-stream")).toBe("live")
  })

  it("draws the utilisation line on the chart canvas", async () => {
    await expect.poll(async () => Number(await page.locator('[data-testid="chart"]').getAttribute("data-points")), { timeout: 15_000 }).toBeGreaterThan(2)
    // Pixels of the line's colour (#2563eb) on the canvas: the line is really drawn, not just the axes.
    const linePixels = await page.locator('[data-testid="chart"] canvas').evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height)
      let n = 0
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i]! - 37) < 40 && Math.abs(data[i + 1]! - 99) < 40 && Math.abs(data[i + 2]! - 235) < 40 && data[i + 3]! > 200) n++
      }
      return n
    })
    expect(linePixels).toBeGreaterThan(20)
  })

  it("refuses the toggle without a token and with a wrong one, showing the server's error", async () => {
    const toggle = page.locator('[data-testid="toggle"]')
    const message = page.locator('[data-testid="message"]')
    await expect.poll(() => toggle.getAttribute("data-enabled")).toBe("true")
    // What the server says to each, asked directly: the page must show those very words.
    const refusal = async (headers: Record<string, string>) => {
      const response = await fetch(new URL("api/hedge/toggle", server.url), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{\"enabled\":true}" })
      expect(response.status).toBe(401)
      return ((await response.json()) as { error: string }).error
    }

    await page.locator('[data-testid="token"]').fill("")
    await toggle.click()
    const missing = await refusal({})
    await expect.poll(() => message.textContent()).toContain(missing)
    expect(await message.getAttribute("data-kind")).toBe("error")
    expect(await message.textContent()).toContain("401")

    await page.locator('[data-testid="token"]').fill("not-the-token")
    await toggle.click()
    const wrong = await refusal({ authorization: "Bearer not-the-token" })
    expect(wrong).not.toBe(missing)
    await expect.poll(() => message.textContent()).toContain(wrong)
    expect(await message.getAttribute("data-kind")).toBe("error")
    expect(await toggle.getAttribute("data-enabled")).toBe("true")
  })

  it("turns auto-hedge off with the token, and the session logs the TOGGLE", async () => {
    await page.locator('[data-testid="actor-session"]').click()
    await expect.poll(() => page.locator('[data-testid="log-actor"]').textContent()).toContain("session")

    await page.locator('[data-testid="token"]').fill(TOKEN)
    await page.locator('[data-testid="reason"]').fill("browser test")
    // By keyboard: the toggle is a real button.
    await page.locator('[data-testid="toggle"]').focus()
    await page.keyboard.press("Enter")
    await expect.poll(() => page.locator('[data-testid="message"]').getAttribute("data-kind")).toBe("ok")
    await expect.poll(() => page.locator('[data-testid="toggle"]').getAttribute("data-enabled")).toBe("false")
    await expect.poll(() => page.locator('[data-testid="status-state"]').getAttribute("data-enabled")).toBe("false")
    // The token is kept for the tab only.
    expect(await page.evaluate(() => sessionStorage.getItem("autohedge.token"))).toBe(TOKEN)

    const toggleRow = page.locator('[data-testid="transition-log"] tr[data-event="TOGGLE"]')
    await toggleRow.first().waitFor({ timeout: 15_000 })
    await toggleRow.first().locator("summary").click()
    expect(await toggleRow.first().locator("pre").textContent()).toContain('"enabled": false')
  })

  it("leaves a screenshot and no script error", async () => {
    // An entry's log shows the payloads of a real decision; let the day run a little further first.
    await page.waitForTimeout(3000)
    const entry = page.locator('[data-testid^="actor-entry"]').first()
    await entry.click()
    await page.locator('[data-testid="transition-log"] tbody tr').first().waitFor({ timeout: 10_000 })
    // One payload opened, as a reader would: the entry's projection.
    const projection = page.locator('[data-testid="transition-log"] tr[data-event="xstate.done.actor.projectEntry"] summary')
    if ((await projection.count()) > 0) await projection.first().click()
    mkdirSync(OUTPUT, { recursive: true })
    await page.screenshot({ path: `${OUTPUT}inspector.png`, fullPage: true })
    expect(existsSync(`${OUTPUT}inspector.png`)).toBe(true)
    expect(pageErrors).toEqual([])
    // The refused toggles answer 401, which the browser logs as a failed resource: nothing else may fail.
    expect(consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([])
  })
})
