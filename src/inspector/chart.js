// The utilisation line over the day (uPlot, loaded as the global `uPlot`), with the trigger, target and
// exit thresholds as dashed lines and a marker where each hedge was bought or sold.
import { clock } from "./format.js"

const COLORS = { line: "#2563eb", trigger: "#dc2626", target: "#d97706", exit: "#059669", buy: "#16a34a", sell: "#9333ea" }
const HEIGHT = 280

const pctValue = (_u, v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} %`)

/** Markers at the same instant and of the same kind (a CE and a PE bought together) drawn as one. */
const groupMarkers = (markers) => {
  const groups = new Map()
  for (const m of markers) {
    const key = `${m.at}:${m.kind}`
    const group = groups.get(key) ?? { at: m.at, kind: m.kind, ids: [] }
    group.ids.push(m.hedgeId)
    groups.set(key, group)
  }
  return [...groups.values()].sort((a, b) => a.at - b.at)
}

export const createChart = (container, markerList) => {
  const state = { xs: [], ys: [], thresholds: { triggerPct: null, targetPct: null, exitTriggerPct: null }, markers: [] }
  const uPlot = globalThis.uPlot
  if (uPlot === undefined) {
    container.textContent = "The chart library (uPlot) did not load; the rest of the page still works."
    return { setThresholds() {}, setPoints() {}, addPoint() {}, setMarkers() {} }
  }

  const drawMarkers = (u) => {
    if (state.xs.length === 0) return
    const { ctx, bbox } = u
    const px = uPlot.pxRatio
    ctx.save()
    ctx.font = `${11 * px}px system-ui, sans-serif`
    ctx.textBaseline = "top"
    groupMarkers(state.markers).forEach((group, i) => {
      const x = Math.round(u.valToPos(group.at / 1000, "x", true))
      if (!Number.isFinite(x) || x < bbox.left || x > bbox.left + bbox.width) return
      const color = group.kind === "buy" ? COLORS.buy : COLORS.sell
      ctx.strokeStyle = color
      ctx.fillStyle = color
      ctx.lineWidth = 1.5 * px
      ctx.setLineDash([3 * px, 3 * px])
      ctx.beginPath()
      ctx.moveTo(x, bbox.top)
      ctx.lineTo(x, bbox.top + bbox.height)
      ctx.stroke()
      // A triangle at the foot: pointing up for a buy, down for a sale.
      const y = bbox.top + bbox.height
      const s = 6 * px
      ctx.setLineDash([])
      ctx.beginPath()
      if (group.kind === "buy") {
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
      // Labels alternate between two rows so neighbours do not overprint each other.
      // The canvas names the hedges; the full labels are in the list under the chart.
      const label = `${group.kind} ${group.ids.join(", ")}`
      const width = ctx.measureText(label).width
      const lx = Math.min(x + 4 * px, bbox.left + bbox.width - width)
      ctx.fillText(label, lx, bbox.top + (4 + (i % 2) * 14) * px)
    })
    ctx.restore()
  }

  const threshold = (label, stroke) => ({ label, stroke, width: 1.5, dash: [8, 5], points: { show: false }, value: pctValue })
  const plot = new uPlot(
    {
      width: Math.max(320, container.clientWidth),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Asia/Kolkata"),
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(110, Math.ceil((max ?? 0) / 10) * 10 + 10)] }
      },
      series: [
        { label: "Time (IST)", value: (_u, v) => (v === null || v === undefined ? "—" : clock(v * 1000)) },
        { label: "Utilisation", stroke: COLORS.line, width: 2, fill: "rgba(37, 99, 235, 0.08)", points: { show: false }, value: pctValue },
        threshold("Trigger", COLORS.trigger),
        threshold("Target", COLORS.target),
        threshold("Exit", COLORS.exit)
      ],
      axes: [
        { values: (_u, splits) => splits.map((s) => clock(s * 1000).slice(0, 5)) },
        { values: (_u, splits) => splits.map((s) => `${s} %`), size: 56 }
      ],
      hooks: { draw: [drawMarkers] }
    },
    [[], [], [], [], []],
    container
  )

  let frame = 0
  const redraw = () => {
    if (frame !== 0) return
    frame = requestAnimationFrame(() => {
      frame = 0
      const { triggerPct, targetPct, exitTriggerPct } = state.thresholds
      const flat = (v) => state.xs.map(() => (typeof v === "number" ? v : null))
      plot.setData([state.xs, state.ys, flat(triggerPct), flat(targetPct), flat(exitTriggerPct)])
      container.dataset.points = String(state.xs.length)
    })
  }

  const renderMarkerList = () => {
    markerList.replaceChildren(
      ...state.markers.map((m) => {
        const li = document.createElement("li")
        li.className = `marker marker-${m.kind}`
        li.textContent = `${clock(m.at)} ${m.label || `${m.kind} ${m.hedgeId}`}`
        return li
      })
    )
  }

  new ResizeObserver(() => {
    const width = Math.max(320, container.clientWidth)
    if (width !== plot.width) plot.setSize({ width, height: HEIGHT })
  }).observe(container)

  return {
    setThresholds(t) {
      state.thresholds = { triggerPct: t.triggerPct, targetPct: t.targetPct, exitTriggerPct: t.exitTriggerPct }
      redraw()
    },
    /** Replaces the points, keeping those already streamed that are newer than the last one given. */
    setPoints(points) {
      const last = points.length > 0 ? points[points.length - 1].at : Number.NEGATIVE_INFINITY
      const newer = state.xs.map((x, i) => ({ at: x * 1000, pct: state.ys[i] })).filter((p) => p.at > last)
      const all = [...points, ...newer]
      state.xs = all.map((p) => p.at / 1000)
      state.ys = all.map((p) => p.pct)
      redraw()
    },
    addPoint(point) {
      const lastX = state.xs[state.xs.length - 1]
      const x = point.at / 1000
      if (lastX !== undefined && x < lastX) return
      if (lastX !== undefined && x === lastX) state.ys[state.ys.length - 1] = point.pct
      else {
        state.xs.push(x)
        state.ys.push(point.pct)
      }
      redraw()
    },
    setMarkers(markers) {
      state.markers = [...markers]
      renderMarkerList()
      redraw()
    }
  }
}
