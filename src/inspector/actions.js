// The page's actions: a manual buy picked from the chain near the engine's band, previewed (what it
// would cost and free, placing nothing) and then confirmed with the token; and the schedule editor for
// a coming day's entries, whose refusals point at the field they name. History is mounted beside them.
// Self-mounting: the page loads this module and it adds its own cards to <main>.
import { ApiError, getJson, postJson, putJson } from "./api.js"
import { mountHistory } from "./history.js"

// ---- Small helpers (shared with history.js) ------------------------------------------------------

/** A new element: `el("td", { className: "num" }, "12")`; `dataset` and `attrs` are set as given. */
export const el = (tag, props = {}, ...children) => {
  const { dataset, attrs, ...rest } = props
  const node = Object.assign(document.createElement(tag), rest)
  for (const [k, v] of Object.entries(dataset ?? {})) node.dataset[k] = v
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v)
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false))
  return node
}

/** Rupees in the Indian grouping, paise shown when there are any: ₹1,99,285 or ₹9,184.50. */
export const money = (x) => {
  if (x === null || x === undefined) return "—"
  const paise = Math.round(Number(x) * 100) % 100 !== 0
  return `₹${Number(x).toLocaleString("en-IN", { minimumFractionDigits: paise ? 2 : 0, maximumFractionDigits: 2 })}`
}
export const percent = (x) => (x === null || x === undefined ? "—" : `${Number(x).toFixed(2)} %`)
/** "10:16:30" of an ISO time in IST. */
export const hhmmss = (iso) => (typeof iso === "string" ? iso.slice(11, 19) : "—")

export const errorText = (error) =>
  error instanceof ApiError ? `${error.status > 0 ? `${error.status}: ` : ""}${error.message}` : String(error instanceof Error ? error.message : error)

/** A message box of a card: ok or error, read out by screen readers. */
export const sayIn = (box, text, kind = "ok") => {
  box.hidden = false
  box.textContent = text
  box.className = `message ${kind}`
  box.dataset.kind = kind
  box.setAttribute("aria-live", kind === "error" ? "assertive" : "polite")
}

const card = (id, title, ...children) => {
  const h2 = el("h2", { id: `${id}-title` }, title)
  return el("section", { className: "card wide action-card", id, dataset: { testid: id }, attrs: { "aria-labelledby": `${id}-title` } }, h2, ...children)
}

const field = (label, input, hint) => el("label", { className: "action-field" }, el("span", {}, label, hint ? el("span", { className: "muted" }, ` ${hint}`) : null), input)

// ---- Manual buy ---------------------------------------------------------------------------------

const buy = {
  side: el("select", { dataset: { testid: "buy-side" }, attrs: { "aria-label": "Option type" } }, el("option", { value: "CE" }, "CE (call)"), el("option", { value: "PE" }, "PE (put)")),
  strike: el("select", { dataset: { testid: "buy-strike" }, attrs: { "aria-label": "Strike" } }),
  lots: el("input", { type: "number", min: "1", step: "1", inputMode: "numeric", name: "lots", dataset: { testid: "buy-lots" } }),
  limit: el("input", { type: "text", inputMode: "decimal", name: "limitPrice", placeholder: "last price + buffer", dataset: { testid: "buy-limit" } }),
  reload: el("button", { type: "button", className: "secondary", textContent: "Reload strikes", dataset: { testid: "buy-reload" } }),
  preview: el("button", { type: "submit", className: "primary", textContent: "Preview", dataset: { testid: "buy-preview" } }),
  confirm: el("button", { type: "button", className: "primary", textContent: "Confirm buy", disabled: true, dataset: { testid: "buy-confirm" } }),
  panel: el("dl", { className: "preview-grid", hidden: true, dataset: { testid: "buy-preview-panel" } }),
  band: el("p", { className: "muted band-line", dataset: { testid: "buy-band" } }),
  message: el("p", { className: "message", hidden: true, dataset: { testid: "buy-message" }, attrs: { role: "status" } }),
  /** The inputs the shown preview was made for; the confirm sends exactly these. */
  previewed: null
}

const buyInputs = () => {
  const limit = buy.limit.value.trim()
  return { strike: Number(buy.strike.value), optionType: buy.side.value, lots: Number(buy.lots.value), ...(limit === "" ? {} : { limitPrice: Number(limit) }) }
}

/** Marks the input a refusal names (`lots`, `strike`, `limitPrice`), clearing the others. */
const markBuyField = (name) => {
  for (const [key, input] of [["strike", buy.strike], ["lots", buy.lots], ["limitPrice", buy.limit], ["optionType", buy.side]]) {
    if (key === name) input.setAttribute("aria-invalid", "true")
    else input.removeAttribute("aria-invalid")
  }
}

const forgetPreview = () => {
  buy.previewed = null
  buy.confirm.disabled = true
  buy.panel.hidden = true
}

const loadStrikes = async () => {
  const keep = buy.strike.value
  try {
    const chain = await getJson(`api/hedge/manual/strikes?${new URLSearchParams({ optionType: buy.side.value })}`)
    const b = chain.band
    buy.band.textContent = `Spot ${chain.spot.toLocaleString("en-IN")} at ${hhmmss(chain.at)} IST · the engine's band: ₹${b.minPremium}–₹${b.maxPremium}, ${b.minOtmDistance}–${b.maxOtmDistance} points out of the money · one hedge unit is ${chain.unitLots} lots of ${chain.lotSize}`
    buy.strike.replaceChildren(
      ...chain.strikes.map((s) =>
        el("option", { value: String(s.strike), dataset: { inBand: String(s.inBand), ltp: String(s.ltp) } }, `${s.strike} ${s.optionType} · ₹${s.ltp.toFixed(2)} · ${Math.round(s.otmDistance)} pts out${s.inBand ? " · in band" : ""}`)
      )
    )
    // The first strike in the band is where the engine would look first.
    const inBand = chain.strikes.find((s) => s.inBand)
    buy.strike.value = chain.strikes.some((s) => String(s.strike) === keep) ? keep : String(inBand?.strike ?? chain.strikes[0]?.strike ?? "")
    if (buy.lots.value === "") buy.lots.value = String(chain.unitLots)
    buy.strike.disabled = chain.strikes.length === 0
  } catch (error) {
    buy.strike.replaceChildren()
    buy.strike.disabled = true
    buy.band.textContent = ""
    sayIn(buy.message, `No strikes to pick from — ${errorText(error)}`, "error")
  }
}

/** A margin change in words: freed, or needed on top (a wing that covers no binding scenario adds its premium). */
const freed = (saved) => (saved >= 0 ? `${money(saved)} freed` : `${money(-saved)} more needed`)

const showPreview = (p) => {
  const m = p.margin
  const next = m.nextEntry
  const row = (label, value, key) => el("div", { dataset: { key } }, el("dt", {}, label), el("dd", {}, value))
  buy.panel.replaceChildren(
    row("Contract", `${p.index} ${p.strike} ${p.optionType} · ${p.lots} lots (${p.quantity} units)`, "contract"),
    row("Limit", `₹${p.limitPrice.toFixed(2)} ${p.limitGiven ? "(yours)" : `(last ₹${p.ltp.toFixed(2)} + buffer)`}`, "limit"),
    row("Cost", money(p.cost), "cost"),
    row("Spend cap left", `${money(p.spend.left)} → ${money(p.spend.leftAfter)} of ${money(p.spend.cap)}`, "spend"),
    row("Utilisation now", `${percent(m.pctNow)} → ${percent(m.pctAfter)}`, "now"),
    row("Margin now", freed(m.marginSaved), "saved"),
    next === null
      ? row("Next entry", "none left today", "next")
      : row(`At ${next.portfolio} (${hhmmss(next.at)})`, `${percent(next.projectedPct)} → ${percent(next.projectedPctAfter)}, ${freed(next.marginSaved)}`, "next")
  )
  Object.assign(buy.panel.dataset, { cost: String(p.cost), pctNow: String(m.pctNow), pctAfter: String(m.pctAfter), leftAfter: String(p.spend.leftAfter) })
  buy.panel.hidden = false
}

const previewBuy = async (event) => {
  event.preventDefault()
  forgetPreview()
  const input = buyInputs()
  try {
    const query = new URLSearchParams(Object.entries(input).map(([k, v]) => [k, String(v)]))
    const p = await getJson(`api/hedge/manual/preview?${query}`)
    markBuyField(null)
    showPreview(p)
    buy.previewed = input
    buy.confirm.disabled = false
    sayIn(buy.message, `Preview at ${hhmmss(p.margin.at)} IST: nothing is placed until you confirm.`)
  } catch (error) {
    markBuyField(error instanceof ApiError ? error.field : null)
    sayIn(buy.message, `Preview refused — ${errorText(error)}`, "error")
  }
}

const confirmBuy = async () => {
  const input = buy.previewed
  if (input === null) return
  buy.confirm.disabled = true
  try {
    const answer = await postJson("api/hedge/manual/buy", input)
    sayIn(buy.message, answer?.message ?? "Buy queued")
    forgetPreview()
  } catch (error) {
    markBuyField(error instanceof ApiError ? error.field : null)
    sayIn(buy.message, `Buy refused — ${errorText(error)}`, "error")
    buy.confirm.disabled = false
  }
}

const buyCard = () => {
  const form = el(
    "form",
    { className: "action-form", autocomplete: "off", noValidate: true },
    field("Side", buy.side),
    field("Strike", buy.strike),
    field("Lots", buy.lots),
    field("Limit price", buy.limit, "(optional)"),
    el("div", { className: "action-buttons" }, buy.preview, buy.reload)
  )
  form.addEventListener("submit", previewBuy)
  buy.side.addEventListener("change", () => (forgetPreview(), loadStrikes()))
  for (const input of [buy.strike, buy.lots, buy.limit]) input.addEventListener("input", forgetPreview)
  buy.reload.addEventListener("click", () => (forgetPreview(), loadStrikes()))
  // Opened before any strike was read (the page was loaded before the open): read them now.
  buy.strike.addEventListener("focus", () => buy.strike.options.length === 0 && loadStrikes())
  buy.confirm.addEventListener("click", confirmBuy)
  return card(
    "buy",
    "Buy a hedge by hand",
    el("p", { className: "muted hint" }, "Pick a strike, preview what it would cost and free, then confirm with the API token (above). The engine's exit review leaves a hedge bought by hand to you."),
    buy.band,
    form,
    buy.panel,
    el("div", { className: "action-buttons" }, buy.confirm),
    buy.message
  )
}

// ---- Schedule editor ----------------------------------------------------------------------------

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

const sched = {
  day: el("select", { dataset: { testid: "schedule-day" }, attrs: { "aria-label": "Weekday" } }, ...WEEKDAYS.map((d) => el("option", { value: d }, d))),
  about: el("p", { className: "muted", dataset: { testid: "schedule-about" } }),
  index: el("select", { dataset: { testid: "schedule-index" }, attrs: { "aria-label": "Index" } }, el("option", { value: "NIFTY" }, "NIFTY"), el("option", { value: "SENSEX" }, "SENSEX")),
  expiryType: el("select", { dataset: { testid: "schedule-expiry" }, attrs: { "aria-label": "Expiry" } }, ...["0DTE", "1DTE", "2DTE"].map((e) => el("option", { value: e }, e))),
  rows: el("div", { className: "entry-rows", dataset: { testid: "schedule-entries" } }),
  add: el("button", { type: "button", className: "secondary", textContent: "Add entry", dataset: { testid: "schedule-add" } }),
  save: el("button", { type: "submit", className: "primary", textContent: "Save schedule", dataset: { testid: "schedule-save" } }),
  reload: el("button", { type: "button", className: "secondary", textContent: "Discard changes", dataset: { testid: "schedule-reload" } }),
  message: el("p", { className: "message", hidden: true, dataset: { testid: "schedule-message" }, attrs: { role: "status" } }),
  /** The schedule as last read from the server; the form edits one weekday of it. */
  schedule: null
}

/** The next weekday after `date` (YYYY-MM-DD): the coming day the editor opens on. */
const nextWeekday = (date) => {
  const d = new Date(`${date}T12:00:00Z`)
  do d.setUTCDate(d.getUTCDate() + 1)
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6)
  return WEEKDAYS[d.getUTCDay() - 1]
}

const legsText = (legs) => legs.map((l) => `${l.side} ${l.optionType}${l.strikeOffset === 0 ? "" : (l.strikeOffset > 0 ? `+${l.strikeOffset}` : l.strikeOffset)} ×${l.lotsPerBasket}`).join(", ")

const entryRow = (entry, i, weekday) => {
  const path = `days.${weekday}.entries[${i}]`
  const input = (key, value, label, placeholder) =>
    el("input", { type: "text", value: value ?? "", placeholder, dataset: { field: `${path}.${key}`, testid: `schedule-${key}-${i}` }, attrs: { "aria-label": `${label} of entry ${i + 1}` } })
  const remove = el("button", { type: "button", className: "small", textContent: "Remove", dataset: { testid: `schedule-remove-${i}` }, attrs: { "aria-label": `Remove entry ${i + 1}` } })
  const row = el(
    "div",
    { className: "entry-row", dataset: { index: String(i), legs: JSON.stringify(entry.legs) } },
    field("Portfolio", input("portfolio", entry.portfolio, "Portfolio", "name")),
    field("Entry", input("entryTime", entry.entryTime, "Entry time", "HH:MM:SS")),
    field("Exit", input("exitTime", entry.exitTime, "Exit time", "none")),
    el("span", { className: "legs muted" }, legsText(entry.legs)),
    remove,
    el("p", { className: "field-error", hidden: true, dataset: { testid: `schedule-error-${i}` }, attrs: { role: "alert" } })
  )
  remove.addEventListener("click", () => {
    const entries = readEntries().filter((_, k) => k !== i)
    renderEntries(weekday, entries)
  })
  return row
}

const renderEntries = (weekday, entries) => {
  sched.rows.replaceChildren(...entries.map((e, i) => entryRow(e, i, weekday)))
  if (entries.length === 0) sched.rows.append(el("p", { className: "muted" }, "No entries this day."))
}

/** The entries as the form has them now. */
const readEntries = () =>
  [...sched.rows.querySelectorAll(".entry-row")].map((row) => {
    const value = (key) => row.querySelector(`[data-field$=".${key}"]`).value.trim()
    const exit = value("exitTime")
    return { portfolio: value("portfolio"), entryTime: value("entryTime"), exitTime: exit === "" ? null : exit, legs: JSON.parse(row.dataset.legs) }
  })

const showDay = () => {
  const weekday = sched.day.value
  const day = sched.schedule?.days?.[weekday]
  sched.about.textContent = day === undefined ? `${weekday}: not traded (add an entry, with its index and expiry, to trade it)` : `${weekday}: ${day.index} ${day.expiryType} · ${day.entries.length} entries`
  sched.index.value = day?.index ?? "NIFTY"
  sched.expiryType.value = day?.expiryType ?? "0DTE"
  sched.index.dataset.field = `days.${weekday}.index`
  sched.expiryType.dataset.field = `days.${weekday}.expiryType`
  renderEntries(weekday, day?.entries ?? [])
  clearScheduleErrors()
}

const clearScheduleErrors = () => {
  for (const node of sched.rows.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid")
  for (const node of sched.rows.querySelectorAll(".field-error")) node.hidden = true
}

const loadSchedule = async () => {
  try {
    sched.schedule = await getJson("api/hedge/schedule")
    showDay()
  } catch (error) {
    sayIn(sched.message, `Cannot load the schedule — ${errorText(error)}`, "error")
  }
}

const saveSchedule = async (event) => {
  event.preventDefault()
  clearScheduleErrors()
  const weekday = sched.day.value
  const entries = readEntries()
  const current = sched.schedule ?? { version: 1, days: {} }
  // A weekday left without entries is not traded: it leaves the schedule.
  const { [weekday]: _, ...others } = current.days
  const next = { ...current, days: entries.length === 0 ? others : { ...others, [weekday]: { index: sched.index.value, expiryType: sched.expiryType.value, entries } } }
  try {
    const answer = await putJson("api/hedge/schedule", next)
    sched.schedule = next
    sayIn(sched.message, answer?.message ?? "Schedule saved")
    showDay()
  } catch (error) {
    sayIn(sched.message, `Schedule refused — ${errorText(error)}`, "error")
    // The refusal names its field (`days.Monday.entries[2].entryTime`): point at it in the form.
    const name = error instanceof ApiError ? error.field : undefined
    const input = name === undefined ? null : [...sched.rows.querySelectorAll("[data-field]")].find((n) => n.dataset.field === name)
    const row = input?.closest(".entry-row") ?? (name === undefined ? null : sched.rows.querySelector(`.entry-row[data-index="${/entries\[(\d+)\]/.exec(name)?.[1]}"]`))
    if (input) input.setAttribute("aria-invalid", "true")
    if (row) {
      const note = row.querySelector(".field-error")
      note.textContent = error.message
      note.hidden = false
      ;(input ?? row.querySelector("input"))?.focus()
    }
  }
}

const scheduleCard = () => {
  const form = el("form", { className: "schedule-form", autocomplete: "off", noValidate: true }, sched.rows, el("div", { className: "action-buttons" }, sched.add, sched.save, sched.reload))
  form.addEventListener("submit", saveSchedule)
  sched.day.addEventListener("change", showDay)
  sched.reload.addEventListener("click", loadSchedule)
  sched.add.addEventListener("click", () => {
    const entries = readEntries()
    const legs = entries.at(-1)?.legs ?? [
      { side: "SELL", optionType: "CE", strikeOffset: 0, lotsPerBasket: 1 },
      { side: "SELL", optionType: "PE", strikeOffset: 0, lotsPerBasket: 1 }
    ]
    renderEntries(sched.day.value, [...entries, { portfolio: "", entryTime: "", exitTime: null, legs }])
    sched.rows.querySelector(".entry-row:last-child input")?.focus()
  })
  return card(
    "schedule-editor",
    "Schedule",
    el("p", { className: "muted hint" }, "The weekly schedule the days are planned from: a change applies from the next day set up (today keeps its entries). Saving needs the API token."),
    el("div", { className: "action-form" }, field("Weekday", sched.day), field("Index", sched.index), field("Expiry", sched.expiryType)),
    sched.about,
    form,
    sched.message
  )
}

// ---- Mount --------------------------------------------------------------------------------------

const mount = async () => {
  document.head.append(el("link", { rel: "stylesheet", href: "assets/actions.css" }))
  const main = document.querySelector("main")
  main.append(buyCard(), scheduleCard())
  mountHistory(main)
  let status = null
  try {
    status = await getJson("api/hedge/status")
  } catch {
    status = null
  }
  sched.day.value = nextWeekday(status?.session?.date ?? new Date().toISOString().slice(0, 10))
  // Strikes are read while the market is open (outside it the server refuses, and says why on Reload).
  const trading = typeof status?.state === "string" && status.state.startsWith("trading")
  if (!trading) buy.band.textContent = "The market is not open: strikes are read once it is (Reload strikes)."
  await Promise.all([trading ? loadStrikes() : null, loadSchedule()])
}

mount()
