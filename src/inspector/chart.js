// The day on one chart (uPlot, loaded as the global `uPlot`): utilisation against the 100 % budget line
// and the trigger, target and exit thresholds, the index's spot on a second axis, a mark where each entry
// went in (red where it breached the budget) and where hedges were bought, sold or left to expire.
// Labels are laid out in rows so that none overprints another; those that do not fit are left to the
// list under the chart, which names every marker.
import { clock, hhmm, pct } from "./format.js"

export const COLORS = {
  line: "#2563eb",
  budget: "#7f1d1d",
  trigger: "#dc2626",
  target: "#d97706",
  exit: "#059669",
  spot: "#94a3b8",
  entered: "#2563eb",
  breached: "#dc2626",
  bought: "#16a34a",
  sold: "#9333ea",
  expired: "#64748b"
}
const HEIGHT = 300
/** Rows of labels at the top of the plot; a label that finds no room in them is not drawn. */
const LABEL_ROWS = 4
const LABEL_GAP = 6

const pctValue = (_u, v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} %`)
const spotValue = (_u, v) => (v === null || v === undefined ? "—" : v.toLocaleString("en-IN", { maximumFractionDigits: 2 }))
const HEDGE_KINDS = new Set(["bought", "sold", "expired"])

/** Markers of one kind at one instant (a CE and a PE bought together) drawn as one. */
export const groupMarkers = (markers) => {
  const groups = new Map()
  for (const m of markers) {
    const key = `${m.at}:${m.kind}`
    const group = groups.get(key) ?? { at: m.at, kind: m.kind, items: [] }
    group.items.push(m)
    groups.set(key, group)
  }
  return [...groups.values()].sort((a, b) => a.at - b.at)
}

/** What a group's label says on the canvas: short; the list under the chart has the whole story. */
const groupLabel = (g) =>
  g.kind === "breached" ? g.items.map((m) => `breach ${m.short} ${pct(m.pct)}`).join(", ")
  : g.kind === "entered" ? null
  : `${g.kind} ${g.items.length}`

/**
 * Greedy rows: each label (in x order) goes in the first row whose last label ends before it starts.
 * Returns the boxes placed (canvas pixels) and how many found no row.
 */
export const layoutLabels = (labels, { left, right, top, rowHeight, rows = LABEL_ROWS, gap = LABEL_GAP }) => {
  const ends = new Array(rows).fill(Number.NEGATIVE_INFINITY)
  const placed = []
  let dropped = 0
  for (const l of [...labels].sort((a, b) => a.x - b.x)) {
    const x = Math.max(left, Math.min(l.x - l.width / 2, right - l.width))
    const row = ends.findIndex((end) => x >= end + gap)
    if (row < 0) {
      dropped++
      continue
    }
    ends[row] = x + l.width
    placed.push({ ...l, x, y: top + row * rowHeight, w: l.width, h: rowHeight, row })
  }
  return { placed, dropped }
}

export const createChart = (container, markerList) => {
  const state = { xs: [], ys: [], spots: [], thresholds: { triggerPct: null, targetPct: null, exitTriggerPct: null }, markers: [] }
  const uPlot = globalThis.uPlot
  if (uPlot === undefined) {
    container.textContent = "The chart library (uPlot) did not load; the rest of the page still works."
    return { setThresholds() {}, setPoints() {}, addPoint() {}, setMarkers() {} }
  }

  /** Utilisation at `at` (ms): the sample at or just before it. */
  const pctAt = (at) => {
    const x = at / 1000
    let lo = 0
    let hi = state.xs.length - 1
    if (hi < 0 || x < state.xs[0]) return null
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (state.xs[mid] <= x) lo = mid
      else hi = mid - 1
    }
    return state.ys[lo]
  }

  const triangle = (ctx, x, y, s, up) => {
    ctx.beginPath()
    if (up) {
      ctx.moveTo(x, y - 2 * s)
      ctx.lineTo(x - s, y - s * 0.5)
      ctx.lineTo(x + s, y - s * 0.5)
    } else {
      ctx.moveTo(x, y - s * 0.5)
      ctx.lineTo(x - s, y - 2 * s)
      ctx.lineTo(x + s, y - 2 * s)
    }
    ctx.closePath()
    ctx.fill()
  }

  const drawMarkers = (u) => {
    const drawn = []
    const { ctx, bbox } = u
    const px = uPlot.pxRatio
    const inside = (x) => Number.isFinite(x) && x >= bbox.left - 1 && x <= bbox.left + bbox.width + 1
    ctx.save()
    ctx.font = `${11 * px}px system-ui, sans-serif`
    ctx.textBaseline = "top"
    const labels = []
    const dots = []
    for (const group of groupMarkers(state.markers)) {
      const x = Math.round(u.valToPos(group.at / 1000, "x", true))
      if (!inside(x) || state.xs.length === 0) continue
      const color = COLORS[group.kind] ?? COLORS.expired
      ctx.strokeStyle = color
      ctx.fillStyle = color
      if (HEDGE_KINDS.has(group.kind)) {
        // A hedge trade: a dashed line across the plot and a triangle at its foot (up: bought; down: sold or expired).
        ctx.lineWidth = 1.2 * px
        ctx.setLineDash([3 * px, 3 * px])
        ctx.beginPath()
        ctx.moveTo(x, bbox.top)
        ctx.lineTo(x, bbox.top + bbox.height)
        ctx.stroke()
        ctx.setLineDash([])
        triangle(ctx, x, bbox.top + bbox.height, 6 * px, group.kind === "bought")
      } else {
        // An entry: a dot on the line at the utilisation it went in with; filled red when over the budget.
        // Dots are drawn last, over the labels: a label never hides a breach.
        const v = group.items[0].pct ?? pctAt(group.at)
        if (v === null || v === undefined) continue
        const y = Math.round(u.valToPos(v, "y", true))
        dots.push({ kind: group.kind, x, y, color })
        drawn.push({ kind: group.kind, at: group.at, x: x / px, y: y / px })
      }
      const text = groupLabel(group)
      if (text !== null) labels.push({ text, kind: group.kind, at: group.at, x, width: ctx.measureText(text).width + 6 * px })
    }
    const { placed, dropped } = layoutLabels(labels, { left: bbox.left, right: bbox.left + bbox.width, top: bbox.top + 3 * px, rowHeight: 15 * px })
    for (const l of placed) {
      const color = COLORS[l.kind] ?? COLORS.expired
      ctx.fillStyle = "rgba(255, 255, 255, 0.9)"
      ctx.fillRect(l.x, l.y, l.w, l.h - 2 * px)
      ctx.fillStyle = color
      ctx.fillText(l.text, l.x + 3 * px, l.y + 1 * px)
    }
    ctx.setLineDash([])
    ctx.lineWidth = 2 * px
    for (const d of dots) {
      const breached = d.kind === "breached"
      ctx.beginPath()
      ctx.arc(d.x, d.y, (breached ? 5.5 : 4) * px, 0, 2 * Math.PI)
      ctx.fillStyle = breached ? d.color : "#fff"
      ctx.strokeStyle = breached ? "#fff" : d.color
      ctx.fill()
      ctx.stroke()
    }
    ctx.restore()
    // What was drawn, in CSS pixels: for tests and for anyone reading the page's state.
    container.dataset.labels = JSON.stringify(placed.map((l) => ({ text: l.text, kind: l.kind, x: l.x / px, y: l.y / px, w: l.w / px, h: l.h / px })))
    container.dataset.labelsDropped = String(dropped)
    container.dataset.dots = JSON.stringify(drawn)
  }

  const line = (label, stroke, dash) => ({ label, stroke, width: dash === undefined ? 2 : 1.5, ...(dash === undefined ? {} : { dash }), points: { show: false }, value: pctValue })
  const plot = new uPlot(
    {
      width: Math.max(280, container.clientWidth),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Asia/Kolkata"),
      cursor: { points: { show: false } },
      scales: {
        x: { time: true },
        // Headroom above the line for the rows of labels.
        y: { range: (_u, _min, max) => [0, Math.max(130, Math.ceil(((max ?? 0) * 1.3) / 10) * 10)] },
        spot: { range: (_u, min, max) => (min === null || max === null ? [0, 1] : [min - (max - min) * 0.1 - 1, max + (max - min) * 0.1 + 1]) }
      },
      series: [
        { label: "Time (IST)", value: (_u, v) => (v === null || v === undefined ? "—" : clock(v * 1000)) },
        { label: "Utilisation", stroke: COLORS.line, width: 2, fill: "rgba(37, 99, 235, 0.08)", points: { show: false }, value: pctValue },
        line("Budget 100 %", COLORS.budget),
        line("Trigger", COLORS.trigger, [8, 5]),
        line("Target", COLORS.target, [8, 5]),
        line("Exit", COLORS.exit, [8, 5]),
        { label: "Spot", scale: "spot", stroke: COLORS.spot, width: 1, points: { show: false }, value: spotValue }
      ],
      axes: [
        { values: (_u, splits) => splits.map((s) => hhmm(s * 1000)) },
        { values: (_u, splits) => splits.map((s) => `${s} %`), size: 52 },
        { scale: "spot", side: 1, grid: { show: false }, size: 64, stroke: COLORS.spot, values: (_u, splits) => splits.map((s) => s.toLocaleString("en-IN", { maximumFractionDigits: 0 })) }
      ],
      hooks: { draw: [drawMarkers] }
    },
    [[], [], [], [], [], [], []],
    container
  )

  let frame = 0
  const redraw = () => {
    if (frame !== 0) return
    frame = requestAnimationFrame(() => {
      frame = 0
      const { triggerPct, targetPct, exitTriggerPct } = state.thresholds
      const flat = (v) => state.xs.map(() => (typeof v === "number" ? v : null))
      plot.setData([state.xs, state.ys, flat(100), flat(triggerPct), flat(targetPct), flat(exitTriggerPct), state.spots])
      container.dataset.points = String(state.xs.length)
      container.dataset.spots = String(state.spots.filter((s) => s !== null).length)
    })
  }

  const renderMarkerList = () => {
    markerList.replaceChildren(
      ...state.markers
        .filter((m) => m.kind !== "entered")
        .map((m) => {
          const li = document.createElement("li")
          li.className = `marker marker-${m.kind}`
          li.dataset.kind = m.kind
          li.textContent = `${hhmm(m.at)} ${m.label}`
          return li
        })
    )
  }

  new ResizeObserver(() => {
    const width = Math.max(280, container.clientWidth)
    if (width !== plot.width) plot.setSize({ width, height: HEIGHT })
  }).observe(container)

  const point = (p) => ({ x: p.at / 1000, y: p.pct, spot: typeof p.spot === "number" ? p.spot : null })
  return {
    setThresholds(t) {
      state.thresholds = { triggerPct: t.triggerPct, targetPct: t.targetPct, exitTriggerPct: t.exitTriggerPct }
      redraw()
    },
    /** Replaces the points, keeping those already streamed that are newer than the last one given. */
    setPoints(points) {
      const last = points.length > 0 ? points[points.length - 1].at / 1000 : Number.NEGATIVE_INFINITY
      const newer = state.xs.map((x, i) => ({ x, y: state.ys[i], spot: state.spots[i] })).filter((p) => p.x > last)
      const all = [...points.map(point), ...newer]
      state.xs = all.map((p) => p.x)
      state.ys = all.map((p) => p.y)
      state.spots = all.map((p) => p.spot)
      redraw()
    },
    addPoint(raw) {
      const p = point(raw)
      const lastX = state.xs[state.xs.length - 1]
      if (lastX !== undefined && p.x < lastX) return
      if (lastX !== undefined && p.x === lastX) {
        state.ys[state.ys.length - 1] = p.y
        state.spots[state.spots.length - 1] = p.spot
      } else {
        state.xs.push(p.x)
        state.ys.push(p.y)
        state.spots.push(p.spot)
      }
      redraw()
    },
    /** Markers: `{ at (ms), kind: entered | breached | bought | sold | expired, label, short?, pct? }`. */
    setMarkers(markers) {
      state.markers = [...markers].sort((a, b) => a.at - b.at)
      renderMarkerList()
      redraw()
    }
  }
}
