// Past days from the records: one line per date (the engine's session first), and a date's detail with
// every session of it, the policy league when the day was simulated under several policies
// (`autohedge simulate --db`), and the engine's hedge transactions. Tables turn into labelled blocks on
// a phone, so nothing scrolls sideways.
import { getJson } from "./api.js"
import { el, errorText, hhmmss, money, percent, sayIn } from "./actions.js"

// Made at mount: this module and actions.js import each other, so nothing of actions.js runs at load.
let hist = null
const makeParts = () => ({
  list: el("ul", { className: "history-list", dataset: { testid: "history-list" } }),
  detail: el("div", { className: "history-detail", hidden: true, dataset: { testid: "history-detail" } }),
  days: el("select", { dataset: { testid: "history-days" }, attrs: { "aria-label": "How many days" } }, ...[10, 30, 90, 365].map((n) => el("option", { value: String(n), selected: n === 30 }, `last ${n} days`))),
  reload: el("button", { type: "button", className: "secondary", textContent: "Refresh", dataset: { testid: "history-reload" } }),
  message: el("p", { className: "message", hidden: true, dataset: { testid: "history-message" }, attrs: { role: "status" } }),
  selected: null
})

/** The session a date is summed up by: the engine's, a trading mode's before a simulation's. */
const headline = (rows) => rows.find((r) => r.policy === "engine" && r.mode !== "simulation") ?? rows.find((r) => r.policy === "engine") ?? rows[0]

const sessionWords = (r) =>
  `${r.hedgeCount} hedge${r.hedgeCount === 1 ? "" : "s"} · net ${money(r.netCost)} · peak ${percent(r.peakUtilization)} · ${r.breaches ?? 0} breach${r.breaches === 1 ? "" : "es"}`

/** A table whose cells carry their column's name, shown beside the value on a phone. */
const table = (testid, columns, rows) =>
  el(
    "table",
    { className: "stack", dataset: { testid } },
    el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", className: c.num ? "num" : "" }, c.label)))),
    el("tbody", {}, ...rows.map((r) => el("tr", { dataset: r.dataset ?? {} }, ...columns.map((c) => el("td", { className: c.num ? "num" : "", dataset: { label: c.label } }, c.value(r))))))
  )

const SESSION_COLUMNS = [
  { label: "Mode", value: (r) => r.mode },
  { label: "Policy", value: (r) => r.policy },
  { label: "Hedges", num: true, value: (r) => String(r.hedgeCount) },
  { label: "Bought", num: true, value: (r) => money(r.totalCost) },
  { label: "Recovered", num: true, value: (r) => money(r.totalRecovered) },
  { label: "Net", num: true, value: (r) => money(r.netCost) },
  { label: "Peak", num: true, value: (r) => percent(r.peakUtilization) },
  { label: "Breaches", num: true, value: (r) => String(r.breaches ?? "—") }
]

const TRANSACTION_COLUMNS = [
  { label: "Time", value: (t) => hhmmss(t.at) },
  { label: "Action", value: (t) => t.action },
  { label: "Contract", value: (t) => `${t.strike} ${t.optionType}` },
  { label: "Lots", num: true, value: (t) => String(t.lots) },
  { label: "Price", num: true, value: (t) => (t.price === null ? "—" : `₹${t.price.toFixed(2)}`) },
  { label: "Total", num: true, value: (t) => money(t.total) },
  { label: "Why", value: (t) => t.trigger }
]

const showDetail = async (date) => {
  hist.selected = date
  for (const b of hist.list.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.date === date))
  try {
    const d = await getJson(`api/hedge/history/day?${new URLSearchParams({ date })}`)
    const league =
      d.league.length === 0
        ? el("p", { className: "muted", dataset: { testid: "history-no-league" } }, "No policy league for this day: it was not simulated under several policies (autohedge simulate --db DAY-FILES runs engine, static and none).")
        : table("history-league", [{ label: "#", value: (r) => String(r.rank) }, ...SESSION_COLUMNS.slice(1)], d.league.map((r, i) => ({ ...r, rank: i + 1, dataset: { policy: r.policy } })))
    hist.detail.replaceChildren(
      el("h3", {}, `${d.date} · ${d.rows[0]?.index ?? ""} · ${d.rows[0]?.dayOfWeek ?? ""}`),
      table("history-sessions", SESSION_COLUMNS, d.rows),
      el("h3", {}, "Policy league ", el("span", { className: "muted" }, "(fewest breaches, then least net spend)")),
      league,
      el("h3", {}, "Hedge transactions ", d.transactionsOf === null ? null : el("span", { className: "muted" }, `(the engine's ${d.transactionsOf} session)`)),
      d.transactions.length === 0 ? el("p", { className: "muted" }, "No hedge bought or sold by the engine that day.") : table("history-transactions", TRANSACTION_COLUMNS, d.transactions)
    )
    hist.detail.hidden = false
    hist.detail.dataset.date = date
  } catch (error) {
    sayIn(hist.message, `Cannot load ${date} — ${errorText(error)}`, "error")
  }
}

const loadHistory = async () => {
  try {
    const h = await getJson(`api/hedge/history?${new URLSearchParams({ days: hist.days.value })}`)
    hist.list.replaceChildren(
      ...h.days.map((d) => {
        const main = headline(d.rows)
        const policies = new Set(d.rows.filter((r) => r.mode === "simulation").map((r) => r.policy))
        const button = el(
          "button",
          { type: "button", className: "history-day", dataset: { date: d.date, testid: `history-day-${d.date}` }, attrs: { "aria-pressed": String(d.date === hist.selected) } },
          el("strong", {}, `${d.date} ${d.dayOfWeek.slice(0, 3)}`),
          el("span", {}, `${d.index} · ${main.mode}/${main.policy}`),
          el("span", { className: "muted" }, sessionWords(main)),
          policies.size > 1 ? el("span", { className: "league-tag" }, `league of ${policies.size}`) : null
        )
        button.addEventListener("click", () => showDetail(d.date))
        return el("li", {}, button)
      })
    )
    if (h.days.length === 0) hist.list.append(el("li", { className: "muted" }, "No day in the records yet."))
    hist.list.dataset.source = h.source
    hist.message.hidden = true
  } catch (error) {
    sayIn(hist.message, `Cannot load the history — ${errorText(error)}`, "error")
  }
}

/** Adds the history card to `main` and reads the list. */
export const mountHistory = (main) => {
  hist = makeParts()
  hist.days.addEventListener("change", loadHistory)
  hist.reload.addEventListener("click", loadHistory)
  main.append(
    el(
      "section",
      { className: "card wide action-card", id: "history", dataset: { testid: "history" }, attrs: { "aria-labelledby": "history-title" } },
      el("h2", { id: "history-title" }, "History"),
      el("div", { className: "action-buttons" }, hist.days, hist.reload),
      hist.list,
      hist.message,
      hist.detail
    )
  )
  loadHistory()
}
