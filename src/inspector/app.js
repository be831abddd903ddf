// The inspector page: loads the day's status, actor tree and utilisation, then follows the live stream.
// Plain DOM, no framework: each actor and each hedge has one element, updated in place.
import { api, ApiError, openStream, throttle, token } from "./api.js"
import { createChart } from "./chart.js"
import { clock, compactJson, duration, pct, price, rupees, stateTone, summaryText } from "./format.js"

const $ = (id) => document.getElementById(id)

/** A new element: `h("td", { className: "num" }, "12")`. */
const h = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props)
  for (const [k, v] of Object.entries(props.dataset ?? {})) node.dataset[k] = v
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
  $("f-state").textContent = `${s.state}${s.enabled ? "" : " (disabled)"}`
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
  renderHedges(s.activeHedges)
}

const renderHedges = (hedges) => {
  const rows = hedges.map((x) => {
    const exit = h("button", { type: "button", className: "small", textContent: "Exit", disabled: !String(x.state).startsWith("open") })
    exit.dataset.testid = `exit-${x.hedgeId}`
    exit.setAttribute("aria-label", `Exit hedge ${x.symbol}`)
    exit.addEventListener("click", () => manualExit(x))
    const pnl = x.value === null ? null : x.value - x.cost
    const value = h("td", { className: "num" }, rupees(x.value))
    if (pnl !== null) value.append(h("span", { className: `pnl ${pnl >= 0 ? "up" : "down"}` }, ` ${pnl >= 0 ? "+" : "−"}${rupees(Math.abs(pnl))}`))
    const tr = h(
      "tr",
      {},
      h("td", { className: "mono" }, x.hedgeId),
      h("td", { className: "mono" }, x.symbol),
      h("td", { className: "num" }, String(x.strike)),
      h("td", {}, x.optionType),
      h("td", { className: "num" }, String(x.lots)),
      h("td", { className: "num" }, String(x.quantity)),
      h("td", {}, badge(x.state)),
      h("td", { className: "num" }, price(x.buyPrice)),
      h("td", { className: "num" }, price(x.ltp)),
      h("td", { className: "num" }, rupees(x.cost)),
      value,
      h("td", {}, exit)
    )
    tr.dataset.testid = `hedge-${x.hedgeId}`
    return tr
  })
  $("hedges-body").replaceChildren(...rows)
  $("hedges-empty").hidden = rows.length > 0
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
    badge(actor.state),
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
  if (row.kind === "hedge") refreshUtilisation()
}

// ---- Transition log ------------------------------------------------------------------------------

const LOG_PAGE = 500
const LOG_KEEP = 2000

const logRow = (row) => {
  const payloadEmpty = row.payload === null || row.payload === undefined || (typeof row.payload === "object" && Object.keys(row.payload).length === 0)
  const payload = payloadEmpty
    ? h("span", { className: "muted" }, "—")
    : h("details", {}, h("summary", {}, h("code", {}, compactJson(row.payload))), h("pre", {}, JSON.stringify(row.payload, null, 2)))
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
    renderStatus(await api.status())
  } catch (error) {
    readFailed("the status", error)
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
    chart.setMarkers(u.markers)
  } catch (error) {
    readFailed("the utilisation", error)
  }
})

const refreshStatus = throttle(loadStatus, 750)
const refreshActors = throttle(loadActors, 1000)
const refreshUtilisation = throttle(loadUtilisation, 1500)

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
      }
    }
  })
  return Promise.all([loadStatus(), loadActors(), loadUtilisation()])
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
}, 5000)
