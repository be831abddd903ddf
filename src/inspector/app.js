// The day's dashboard: the summary, the chart, the hedges held and closed, the entries, the alerts and
// recommendations, the risk now, and beneath them the engine's actors and transitions; it loads the day
// (GET api/hedge/day, the one read model the CLI and Telegram read too), then follows the live stream.
// Plain DOM, no framework: each part is rendered whole from the day's answer, the actor tree in place.
import { api, ApiError, getJson, openStream, throttle, token } from "./api.js"
import { createChart } from "./chart.js"
import { alertParts, bigRupees, clock, duration, hhmm, kindInWords, payloadText, pct, pnlText, price, readableJson, rupees, stateTone, summaryText } from "./format.js"

const $ = (id) => document.getElementById(id)

/** A new element: `h("td", { className: "num" }, "12")`. */
const h = (tag, { dataset, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props)
  for (const [k, v] of Object.entries(dataset ?? {})) node.dataset[k] = v
  node.append(...children.filter((c) => c !== null && c !== undefined))
  return node
}

const page = {
  status: null,
  /** id → { id, kind, parent, state, since, summary } */
  actors: new Map(),
  /** id → the actor's <li>. */
  actorNodes: new Map(),
  /** Transitions streamed while the actor list is being fetched, applied again over the answer. */
  actorsBuffer: null,
  log: null,
  busy: false,
  /** A read was refused for want of the token (a server off loopback). */
  readsRefused: false
}

// ---- Messages -------------------------------------------------------------------------------------

const say = (text, kind = "ok") => {
  const box = $("message")
  box.hidden = false
  box.textContent = text
  box.className = `message ${kind}`
  box.dataset.kind = kind
  box.setAttribute("aria-live", kind === "error" ? "assertive" : "polite")
}

/** A read that failed; one refused for want of the token is read again once the token is given. */
const readFailed = (what, error) => {
  if (error instanceof ApiError && error.status === 401) page.readsRefused = true
  say(`Cannot load ${what}: ${errorText(error)}`, "error")
}

const errorText = (error) =>
  error instanceof ApiError
    ? `${error.status > 0 ? `${error.status}: ` : ""}${error.message}${error.field ? ` (${error.field})` : ""}`
    : String(error instanceof Error ? error.message : error)

// ---- Status, controls and hedges ---------------------------------------------------------------

const renderStatus = (s) => {
  renderHealth(s.health)
  page.status = s
  const session = s.session
  $("session-line").textContent =
    session === null ? "No session today" : `${session.index} ${session.date} · expiry ${session.expiry} · ${session.mode} · policy ${session.policy}`
  $("now").textContent = clock(s.now)
  $("now").dateTime = s.now ?? ""

  const toggle = $("toggle")
  toggle.disabled = page.busy || session === null
  toggle.setAttribute("aria-pressed", String(s.enabled))
  toggle.dataset.enabled = String(s.enabled)
  toggle.replaceChildren("Auto-hedge ", h("strong", {}, s.enabled ? "ON" : "OFF"))
  toggle.title = s.enabled ? "Click to turn automatic hedging off" : "Click to turn automatic hedging on"

  const u = s.utilisation
  // The session's state in words when the actor list has told them (a halted engine says "halted").
  const words = s.state === "halted" ? null : page.actors.get("session")?.stateInWords
  $("f-state").textContent = `${words ?? s.state}${s.enabled ? "" : " (auto-hedge off)"}`
  $("f-state").title = s.state
  $("f-state").dataset.enabled = String(s.enabled)
  // Halted, or the watchdog sees a stale world: said plainly, above everything else in the panel.
  const health = s.health ?? { ok: true, halted: null, problems: [] }
  $("f-health").textContent = health.ok ? "ok" : [health.halted === null ? null : `HALTED: ${health.halted}`, ...health.problems.map((p) => p.message)].filter((x) => x !== null).join(" · ")
  $("f-health").dataset.ok = String(health.ok)
  $("f-current").textContent = pct(u.currentPct)
  $("f-projected").textContent = u.projectedPct === null ? "—" : pct(u.projectedPct)
  $("f-thresholds").textContent = `${pct(u.triggerPct)} / ${pct(u.targetPct)} / ${pct(u.exitTriggerPct)}`
  $("f-margin").textContent = `${rupees(u.marginInUse)} / ${rupees(u.budget)}`
  $("f-spend").textContent = `${rupees(s.spend.today)} / ${rupees(s.spend.cap)} (${rupees(s.spend.left)} left)`
  $("f-next").textContent = s.nextEntry === null ? "none left today" : `${s.nextEntry.portfolio} at ${clock(s.nextEntry.at)} (in ${duration(s.nextEntry.secondsUntil)})`
  $("f-cooldown").textContent = s.cooldownRemainingSeconds > 0 ? duration(s.cooldownRemainingSeconds) : "none"
  chart.setThresholds(u)
}

/** Halted, or the daemon behind the market or blind to it: a banner across the page, in words. */
const renderHealth = (health) => {
  const banner = $("health-banner")
  const hx = health ?? { ok: true, halted: null, problems: [], lagSeconds: 0 }
  const lag = hx.problems.find((p) => p.kind === "lag")
  const lines = [
    hx.halted === null ? null : `Engine halted: ${hx.halted}. No further hedge decisions are taken.`,
    lag === undefined ? null : `Behind the market by ${duration(hx.lagSeconds > 0 ? hx.lagSeconds : lag.seconds)} (limit ${duration(lag.limitSeconds)}): what the page shows is older than the market.`,
    ...hx.problems.filter((p) => p.kind !== "lag").map((p) => p.message)
  ].filter((x) => x !== null)
  banner.hidden = lines.length === 0 && hx.ok
  banner.dataset.kind = hx.halted !== null ? "halted" : lag !== undefined ? "lag" : hx.ok ? "ok" : "problem"
  banner.replaceChildren(...(lines.length === 0 ? ["The engine reports a problem."] : lines).map((l) => h("p", {}, l)))
}

// ---- The day: summary, hedges, entries, feed, chart markers ------------------------------------------

const DAY_BADGE = { closed: "day closed", live: "trading", none: "no day" }

const renderSummary = (s, status) => {
  const dayState = s === null ? "none" : s.closed ? "closed" : "live"
  $("day-badge").dataset.day = dayState
  $("day-badge").textContent = DAY_BADGE[dayState]
  $("summary-when").textContent = s === null ? "" : s.closed ? "· closed" : `· so far, at ${hhmm(status.now)} IST`
  if (s === null) return
  $("s-entries").textContent = `${s.entries.entered} of ${s.entries.scheduled} entered${s.entries.missed > 0 ? `, ${s.entries.missed} missed` : ""}`
  $("s-breaches").textContent = String(s.breaches.length)
  $("s-breaches").dataset.count = String(s.breaches.length)
  $("s-peak").textContent = pct(s.peakUtilisationPct)
  $("s-peak").dataset.over = String((s.peakUtilisationPct ?? 0) > 100)
  $("s-hedges").textContent = `${s.hedges.bought} bought · ${s.hedges.held} held · ${s.hedges.closed} closed`
  $("s-gross").textContent = rupees(s.spend.gross)
  $("s-recovered").textContent = rupees(s.spend.recovered)
  $("s-net").textContent = rupees(s.spend.net)
  const needless = s.needless !== null && s.needless.hedges.length > 0
  $("s-needless-tile").hidden = !needless
  $("s-needless").textContent = needless ? `${rupees(s.needless.cost)} · ${s.needless.hedges.length} hedge${s.needless.hedges.length === 1 ? "" : "s"}` : "—"
  $("s-needless").title = needless ? `Hedges no entry needed, with hindsight: ${s.needless.hedges.join(", ")}` : ""
  const list = $("breach-list")
  list.hidden = s.breaches.length === 0
  list.replaceChildren(
    h("strong", {}, "Over the budget: "),
    ...s.breaches.flatMap((b, i) => [i === 0 ? null : ", ", h("span", { className: "breach" }, `${b.portfolio} at ${hhmm(b.at)} (${pct(b.utilisationPct)})`)]).filter((x) => x !== null)
  )
}

/** A cell that says what it is when the table is shown as cards (a phone). */
const cell = (label, content, className = "") => {
  const td = h("td", { className }, ...(Array.isArray(content) ? content : [content]))
  td.dataset.label = label
  return td
}
const pnlCell = (value) => cell("P&L", h("span", { className: `pnl ${value === null ? "" : value >= 0 ? "up" : "down"}` }, pnlText(value)), "num")
const contractCell = (x) =>
  cell("Hedge", [h("strong", {}, `${x.strike} ${x.optionType}`), " ", h("span", { className: "muted" }, `${x.lots} lot${x.lots === 1 ? "" : "s"}${x.manual ? " · manual" : ""}`), h("div", { className: "mono small-print" }, `${x.symbol} · ${x.hedgeId}`)], "contract")
const tradeText = (at, p) => (at === null ? "—" : `${clock(at)}${p === null ? "" : ` @ ${price(p)}`}`)

const renderHedges = (hedges) => {
  const held = hedges.held.map((x) => {
    const exit = h("button", { type: "button", className: "small", textContent: "Exit", disabled: !String(x.state).startsWith("open") })
    exit.dataset.testid = `exit-${x.hedgeId}`
    exit.setAttribute("aria-label", `Exit hedge ${x.symbol}`)
    exit.addEventListener("click", () => manualExit(x))
    const tr = h(
      "tr",
      {},
      contractCell(x),
      cell("State", [wordsBadge(x.state, x.stateInWords), x.lastMessage === null ? null : h("div", { className: "small-print" }, x.lastMessage)]),
      cell("Bought", tradeText(x.boughtAt, x.buyPrice)),
      cell("Paid", rupees(x.paid), "num"),
      cell("Last", `${price(x.ltp)}${x.value === null ? "" : ` (${rupees(x.value)})`}`, "num"),
      pnlCell(x.pnl),
      cell("", exit, "action")
    )
    tr.dataset.testid = `hedge-${x.hedgeId}`
    tr.dataset.state = x.state
    return tr
  })
  const closed = hedges.closed.map((x) => {
    const tr = h(
      "tr",
      {},
      contractCell(x),
      cell("How it ended", wordsBadge(x.state, x.stateInWords)),
      cell("Bought", tradeText(x.boughtAt, x.buyPrice)),
      cell("Closed", tradeText(x.closedAt, x.sellPrice)),
      cell("Paid", rupees(x.paid), "num"),
      cell("Received", rupees(x.received), "num"),
      pnlCell(x.pnl)
    )
    tr.dataset.testid = `hedge-${x.hedgeId}`
    tr.dataset.state = x.state
    return tr
  })
  $("held-body").replaceChildren(...held)
  $("closed-body").replaceChildren(...closed)
  $("held-empty").hidden = held.length > 0
  $("closed-empty").hidden = closed.length > 0
  $("held-count").textContent = held.length === 0 ? "" : `· ${held.length}`
  const pnl = hedges.closed.reduce((sum, x) => sum + (x.pnl ?? 0), 0)
  $("closed-count").textContent = closed.length === 0 ? "" : `· ${closed.length}, P&L ${pnlText(pnl)}`
}

const renderEntries = (entries) => {
  $("entries").replaceChildren(
    ...entries.map((e) => {
      const li = h(
        "li",
        { className: `entry${e.breached ? " breached" : ""}` },
        h("time", { className: "when" }, hhmm(e.entryAt)),
        h("span", { className: "name" }, e.portfolio),
        h("span", { className: "words" }, e.stateInWords),
        h(
          "span",
          { className: "figures-line" },
          e.breached ? `breached: ${pct(e.utilisationAtEntryPct)}` : e.utilisationAtEntryPct !== null ? `went in at ${pct(e.utilisationAtEntryPct)}` : e.projectedPct !== null ? `projected ${pct(e.projectedPct)}` : "",
          e.hedges.length > 0 ? ` · ${e.hedges.length} hedge${e.hedges.length === 1 ? "" : "s"}` : ""
        )
      )
      li.dataset.testid = `entry-${e.id}`
      li.dataset.state = e.state
      li.dataset.breached = String(e.breached)
      return li
    })
  )
}

/** The engine's alerts and the operator's commands, newest first, each with its time in IST. */
const renderFeed = (feed) => {
  const items = [...feed].reverse().map((f) => {
    const { title, body } = f.source === "engine" ? alertParts(f.text) : { title: f.text, body: [] }
    const li = h(
      "li",
      { className: `feed-item sev-${f.severity} kind-${String(f.kind).toLowerCase().replaceAll(" ", "-")}` },
      h("time", { className: "when", dateTime: f.at }, clock(f.at)),
      h("span", { className: "tag" }, f.kind === "RECOMMENDATION" ? "recommendation" : f.source === "operator" ? `you: ${f.kind}` : kindInWords(f.kind)),
      h("strong", { className: "title" }, title),
      body.length === 0 ? null : h("span", { className: "body" }, body.join(" · "))
    )
    li.dataset.kind = f.kind
    li.dataset.severity = f.severity
    return li
  })
  $("feed").replaceChildren(...items)
  $("feed-empty").hidden = items.length > 0
}

/** The chart's markers from the day: each entry where it went in (a breach in red), each hedge trade. */
const markersOf = (day) => {
  const entryMarks = day.entries
    .filter((e) => e.enteredAt !== null)
    .map((e) => ({
      at: Date.parse(e.enteredAt),
      kind: e.breached ? "breached" : "entered",
      pct: e.utilisationAtEntryPct,
      short: /(\d+)$/.exec(e.portfolio)?.[1] ?? e.portfolio,
      label: `${e.portfolio} went in at ${pct(e.utilisationAtEntryPct)}${e.breached ? ": over the budget" : ""}`
    }))
  const hedgeMarks = [...day.hedges.held, ...day.hedges.closed].flatMap((x) => {
    const name = `${x.lots} lot${x.lots === 1 ? "" : "s"} ${x.strike} ${x.optionType} (${x.hedgeId})`
    const marks = []
    if (x.boughtAt !== null) marks.push({ at: Date.parse(x.boughtAt), kind: "bought", label: `bought ${name}${x.buyPrice === null ? "" : ` @ ${price(x.buyPrice)}`}` })
    if (x.closedAt !== null && x.paid > 0) {
      const expired = x.state === "expired"
      marks.push({ at: Date.parse(x.closedAt), kind: expired ? "expired" : "sold", label: expired ? `${name} left to expire` : `sold ${name}${x.sellPrice === null ? "" : ` @ ${price(x.sellPrice)}`}, P&L ${pnlText(x.pnl)}` })
    }
    return marks
  })
  return [...entryMarks, ...hedgeMarks]
}

const renderDay = (day) => {
  renderStatus(day.status)
  renderSummary(day.summary, day.status)
  renderHedges(day.hedges)
  renderEntries(day.entries)
  renderFeed(day.feed)
  chart.setMarkers(markersOf(day))
}

// ---- Risk ---------------------------------------------------------------------------------------------

const greek = (label, value, unit) => h("div", {}, h("dt", {}, label), h("dd", {}, value, unit === "" ? null : h("span", { className: "muted" }, ` ${unit}`)))
const signed = (n, digits = 0) => (typeof n === "number" && Number.isFinite(n) ? `${n < 0 ? "−" : n > 0 ? "+" : ""}${Math.abs(n).toLocaleString("en-IN", { maximumFractionDigits: digits, minimumFractionDigits: digits })}` : "—")

const renderRisk = (r) => {
  $("risk-when").textContent = `· at ${clock(r.at)} IST, spot ${r.spot.toLocaleString("en-IN", { maximumFractionDigits: 2 })}`
  if (r.legs.length === 0) return $("risk").replaceChildren(h("p", { className: "muted", dataset: { testid: "risk-none" } }, "No open position: nothing at risk."))
  const t = r.total
  const greeks = h(
    "dl",
    { className: "tiles greeks" },
    greek("Delta", `₹${signed(t.delta)}`, "per point"),
    greek("Gamma", `₹${signed(t.gamma, 2)}`, "per point²"),
    greek("Theta", `₹${signed(t.theta)}`, "a day"),
    greek("Vega", `₹${signed(t.vega)}`, "per vol point"),
    greek("Margin (SPAN)", bigRupees(r.margin), ""),
    greek(`VaR ${Math.round(r.valueAtRisk.confidence * 100)} % (1 day)`, bigRupees(r.valueAtRisk.parametric.value), "delta-gamma")
  )
  greeks.dataset.testid = "risk-greeks"
  const spots = [...new Set(r.stress.map((p) => p.spotShiftPct))].sort((a, b) => a - b)
  const ivs = [...new Set(r.stress.map((p) => p.ivShiftPct))].sort((a, b) => a - b)
  const at = (s, v) => r.stress.find((p) => p.spotShiftPct === s && p.ivShiftPct === v)
  const table = h(
    "table",
    { className: "stress" },
    h("caption", {}, "Stress: P&L (and SPAN margin) if the spot and the implied vols moved now"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Spot"), ...ivs.map((v) => h("th", { scope: "col", className: "num" }, `IV ${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(v)} %`)))),
    h(
      "tbody",
      {},
      ...spots.map((s) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, `${s > 0 ? "+" : s < 0 ? "−" : "±"}${Math.abs(s)} %`),
          ...ivs.map((v) => {
            const p = at(s, v)
            return h(
              "td",
              { className: `num ${p === undefined ? "" : p.pnl >= 0 ? "up" : "down"}`, title: p === undefined ? "" : `spot ${p.spot.toFixed(2)}, margin ${rupees(p.margin)}` },
              p === undefined ? "—" : bigRupees(p.pnl, { signed: true }),
              p === undefined ? null : h("span", { className: "margin" }, bigRupees(p.margin))
            )
          })
        )
      )
    )
  )
  table.dataset.testid = "risk-stress"
  $("risk").replaceChildren(greeks, h("div", { className: "stress-wrap" }, table), h("p", { className: "muted small-print" }, `${r.legs.length} leg${r.legs.length === 1 ? "" : "s"} · see docs/risk.md`))
}


const toggleEnabled = async () => {
  if (page.status === null) return
  const enabled = !page.status.enabled
  page.busy = true
  $("toggle").disabled = true
  try {
    const answer = await api.toggle(enabled, $("reason").value.trim())
    say(answer?.message ?? `Auto-hedge turned ${enabled ? "on" : "off"}`)
    $("reason").value = ""
  } catch (error) {
    say(`Toggle refused — ${errorText(error)}`, "error")
  } finally {
    page.busy = false
    await loadStatus()
  }
}

const manualExit = async (hedge) => {
  if (!confirm(`Sell hedge ${hedge.symbol} (${hedge.quantity} units) now?`)) return
  try {
    const answer = await api.manualExit(hedge.hedgeId)
    say(answer?.message ?? `Exit of ${hedge.symbol} asked`)
  } catch (error) {
    say(`Exit refused — ${errorText(error)}`, "error")
  }
  await loadStatus()
}

// ---- Actor tree --------------------------------------------------------------------------------

/** A dotted name (`ordering.awaitingFill.working`) that may wrap after its dots. */
const dotted = (text) => String(text).split(".").flatMap((part, i) => (i === 0 ? [part] : [".", h("wbr"), part]))
const badge = (state) => h("span", { className: `badge tone-${stateTone(state)}` }, ...dotted(state))
/** A state in words, its machine name kept in the tooltip. */
const wordsBadge = (state, words) => h("span", { className: `badge words tone-${stateTone(state)}`, title: state }, words ?? state)
const shortName = (id) => id.replace(/^entry:/, "")
const KIND_ORDER = { session: 0, entry: 1, hedge: 2 }
/** What an actor's row shows of its summary; the whole summary is shown beside its log. */
const ROW_KEYS = { session: ["spot", "grossSpend", "hedges"], entry: ["entryAt", "projectedPct", "limitedBy", "hedges"], hedge: ["symbol", "held", "paid", "received"] }
const rowSummary = (actor) => {
  const keys = ROW_KEYS[actor.kind] ?? Object.keys(actor.summary ?? {}).slice(0, 4)
  return summaryText(Object.fromEntries(keys.filter((k) => k in (actor.summary ?? {})).map((k) => [k, actor.summary[k]])))
}

/** A hedge sits under the entry it was bought for (its summary says which); the rest under their parent. */
const parentOf = (actor) => {
  const forEntry = actor.summary?.forEntry
  return actor.kind === "hedge" && typeof forEntry === "string" && page.actors.has(forEntry) ? forEntry : actor.parent
}

const actorNode = (actor) => {
  let li = page.actorNodes.get(actor.id)
  if (li === undefined) {
    const row = h("button", { type: "button", className: "actor-row" })
    row.dataset.testid = `actor-${actor.id}`
    row.addEventListener("click", () => selectActor(actor.id))
    row.addEventListener("animationend", () => row.classList.remove("changed"))
    li = h("li", { className: `actor kind-${actor.kind}` }, row, h("ul", { className: "children" }))
    page.actorNodes.set(actor.id, li)
  }
  return li
}

const renderActor = (actor, changed = false) => {
  const li = actorNode(actor)
  const row = li.firstElementChild
  row.dataset.state = actor.state
  row.dataset.kind = actor.kind
  row.setAttribute("aria-pressed", String(page.log?.actor === actor.id))
  row.title = actor.id
  const summary = rowSummary(actor)
  row.replaceChildren(
    h("span", { className: "kind" }, actor.kind),
    h("span", { className: "name" }, shortName(actor.id)),
    wordsBadge(actor.state, actor.stateInWords),
    h("span", { className: "since" }, h("span", { className: "sr-only" }, "since "), clock(actor.since)),
    ...(summary === "" ? [] : [h("span", { className: "summary" }, summary)])
  )
  if (changed) row.classList.add("changed")
  // Under its parent when the parent is known, else at the root; moved when the parent shows up.
  const parentId = parentOf(actor)
  const parent = parentId === null ? undefined : page.actorNodes.get(parentId)
  const list = parent === undefined ? $("actor-tree").firstElementChild : parent.lastElementChild
  if (li.parentElement !== list) list.append(li)
}

const setActors = (actors) => {
  const seen = new Set(actors.map((a) => a.id))
  for (const [id, li] of page.actorNodes) {
    if (!seen.has(id)) {
      li.remove()
      page.actorNodes.delete(id)
      page.actors.delete(id)
    }
  }
  for (const actor of actors) page.actors.set(actor.id, { ...actor })
  // Parents first, so children find their list.
  for (const actor of [...page.actors.values()].sort((a, b) => (KIND_ORDER[a.kind] ?? 3) - (KIND_ORDER[b.kind] ?? 3))) renderActor(actor)
  if (page.log !== null) renderActorSummary(page.actors.get(page.log.actor))
  // The session's state in words came with the list.
  if (page.status !== null) renderStatus(page.status)
}

/** Everything the selected actor holds, beside its log. */
const renderActorSummary = (actor) => {
  const box = $("actor-summary")
  const entries = Object.entries(actor?.summary ?? {})
  box.hidden = entries.length === 0
  box.replaceChildren(
    ...entries.map(([k, v]) =>
      h("div", {}, h("dt", {}, k), h("dd", { className: v === null ? "muted" : "" }, v === null ? "—" : typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : String(v)))
    )
  )
}

const applyTransition = (row) => {
  let actor = page.actors.get(row.actorId)
  let changed = false
  if (actor === undefined) {
    // Born since the last list: placed by kind until the next list tells its parent and summary.
    actor = { id: row.actorId, kind: row.kind, parent: row.kind === "session" ? null : page.actors.has("session") ? "session" : null, state: row.to, since: new Date(row.at).toISOString(), summary: {} }
    page.actors.set(actor.id, actor)
    refreshActors()
    changed = true
  } else if (actor.state !== row.to) {
    actor.state = row.to
    // Its words come with the next list; until then its machine name.
    actor.stateInWords = undefined
    actor.since = new Date(row.at).toISOString()
    changed = true
  }
  if (changed) renderActor(actor, true)
}

const onTransition = (row) => {
  applyTransition(row)
  if (page.actorsBuffer !== null) page.actorsBuffer.push(row)
  if (page.log?.actor === row.actorId) {
    if (page.log.loading) page.log.pending.push(row)
    else appendLog([row])
  }
  const tick = row.event === "CLOCK"
  if (!tick) refreshActors()
  if (row.kind === "hedge" || (row.kind === "session" && !tick)) refreshStatus()
  if (row.kind === "hedge") {
    refreshUtilisation()
    refreshRisk()
  }
}

// ---- Transition log ------------------------------------------------------------------------------

const LOG_PAGE = 500
const LOG_KEEP = 2000

const logRow = (row) => {
  const payloadEmpty = row.payload === null || row.payload === undefined || (typeof row.payload === "object" && Object.keys(row.payload).length === 0)
  const payload = payloadEmpty
    ? h("span", { className: "muted" }, "—")
    : h("details", {}, h("summary", {}, payloadText(row.payload)), h("pre", {}, readableJson(row.payload)))
  const seq = h("td", { className: "num mono" }, String(row.seq))
  if (row.causation !== null && row.causation !== undefined) seq.append(h("span", { className: "cause", title: `caused by transition #${row.causation}` }, ` ← ${row.causation}`))
  const tr = h(
    "tr",
    { className: row.event === "CLOCK" && row.from === row.to ? "tick" : "" },
    seq,
    h("td", { className: "mono" }, clock(row.at)),
    h("td", { className: "mono event" }, ...dotted(row.event)),
    h("td", {}, row.from === "" ? h("span", { className: "muted" }, "start") : row.from === row.to ? h("span", { className: "muted" }, "stays") : h("span", {}, ...dotted(row.from)), " → ", badge(row.to)),
    h("td", { className: "payload" }, payload)
  )
  tr.dataset.testid = `transition-${row.seq}`
  tr.dataset.event = row.event
  return tr
}

const appendLog = (rows) => {
  const log = page.log
  const fresh = rows.filter((r) => r.seq > log.lastSeq)
  if (fresh.length === 0) return
  log.lastSeq = fresh[fresh.length - 1].seq
  const scroller = $("log-scroll")
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40
  const body = $("log-body")
  body.append(...fresh.map(logRow))
  while (body.childElementCount > LOG_KEEP) body.firstElementChild.remove()
  $("log-empty").hidden = true
  if (atBottom) scroller.scrollTop = scroller.scrollHeight
}

const selectActor = async (id) => {
  const log = { actor: id, lastSeq: 0, loading: true, pending: [] }
  page.log = log
  for (const [actorId, li] of page.actorNodes) li.firstElementChild.setAttribute("aria-pressed", String(actorId === id))
  $("log-actor").textContent = `of ${id}`
  renderActorSummary(page.actors.get(id))
  $("log-body").replaceChildren()
  $("log-empty").hidden = false
  $("log-empty").textContent = "Loading…"
  try {
    for (let pages = 0; pages < 40; pages++) {
      const { rows } = await api.transitions(id, log.lastSeq, LOG_PAGE)
      if (page.log !== log) return
      appendLog(rows)
      if (rows.length < LOG_PAGE) break
    }
    log.loading = false
    appendLog(log.pending)
    log.pending = []
    $("log-empty").textContent = "No transitions yet."
    $("log-empty").hidden = $("log-body").childElementCount > 0
    $("log-scroll").scrollTop = $("log-scroll").scrollHeight
  } catch (error) {
    if (page.log === log) $("log-empty").textContent = `Cannot load the transitions: ${errorText(error)}`
  }
}

// ---- Loading ---------------------------------------------------------------------------------------

/** Runs `load` once at a time; a call during a run runs it once more afterwards. */
const single = (load) => {
  let running = null
  let again = false
  const run = async () => {
    if (running !== null) {
      again = true
      return running
    }
    running = (async () => {
      try {
        do {
          again = false
          await load()
        } while (again)
      } finally {
        running = null
      }
    })()
    return running
  }
  return run
}

const loadStatus = single(async () => {
  try {
    renderDay(await getJson("api/hedge/day"))
  } catch (error) {
    readFailed("the day", error)
  }
})

const loadActors = single(async () => {
  page.actorsBuffer = []
  try {
    const { actors } = await api.actors()
    const during = page.actorsBuffer
    page.actorsBuffer = null
    setActors(actors)
    for (const row of during) applyTransition(row)
  } catch (error) {
    page.actorsBuffer = null
    readFailed("the actors", error)
  }
})

const loadUtilisation = single(async () => {
  try {
    const u = await api.utilisation()
    chart.setThresholds(u)
    chart.setPoints(u.points)
  } catch (error) {
    readFailed("the utilisation", error)
  }
})

const loadRisk = single(async () => {
  try {
    renderRisk(await getJson("api/risk"))
  } catch (error) {
    $("risk").replaceChildren(h("p", { className: "muted" }, `Risk not available: ${errorText(error)}`))
  }
})

const refreshStatus = throttle(loadStatus, 750)
const refreshActors = throttle(loadActors, 1000)
const refreshUtilisation = throttle(loadUtilisation, 1500)
const refreshRisk = throttle(loadRisk, 15_000)

// ---- Start -----------------------------------------------------------------------------------------

const chart = createChart($("chart"), $("markers"))
$("actor-tree").append(h("ul", { className: "tree" }))

// A token handed over in the address (#token=…) is kept for the tab and taken out of the address.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token")
if (fromHash) {
  token.set(fromHash)
  history.replaceState(null, "", location.pathname + location.search)
}
$("token").value = token.get()
$("token").addEventListener("input", (e) => token.set(e.target.value.trim()))
$("credentials").addEventListener("submit", (e) => e.preventDefault())
$("toggle").addEventListener("click", toggleEnabled)
$("show-clock").addEventListener("change", (e) => $("log-body").closest("table").classList.toggle("hide-ticks", !e.target.checked))
$("log-body").closest("table").classList.add("hide-ticks")

const streamStatus = $("stream-status")
let stream = null
/** Opens the stream (before the first reads, so nothing between them is missed) and reads everything. */
const connect = () => {
  stream?.close()
  stream = openStream({
    onTransition,
    onUtilisation: (point) => {
      chart.addPoint(point)
      $("f-current").textContent = pct(point.pct)
      refreshStatus()
    },
    onState: (state) => {
      streamStatus.dataset.stream = state
      streamStatus.textContent = state === "live" ? "live" : state === "closed" ? "stream closed" : "reconnecting…"
      // A reconnect resumes after Last-Event-ID (a new day starts over): the lists are read again too.
      if (state === "live") {
        loadActors()
        loadStatus()
        loadUtilisation()
        loadRisk()
      }
    }
  })
  return Promise.all([loadStatus(), loadActors(), loadUtilisation(), loadRisk()])
}
// A server off loopback refuses reads without the token: once one is given, everything is read again.
$("token").addEventListener("change", () => {
  if (page.readsRefused) {
    page.readsRefused = false
    connect()
  }
})
connect()
// Prices, countdowns and summaries move without transitions: they are also read every few seconds.
setInterval(() => {
  refreshStatus()
  refreshActors()
  refreshRisk()
}, 5000)
