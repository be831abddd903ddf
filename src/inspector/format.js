// Formatting shared by the page: times in IST, rupees, percentages, compact summaries.

const istClock = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Asia/Kolkata",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23"
})

/** HH:MM:SS in IST of an epoch-ms number or an ISO string; "—" when absent or unreadable. */
export const clock = (at) => {
  if (at === null || at === undefined || at === "") return "—"
  const date = new Date(at)
  return Number.isNaN(date.getTime()) ? "—" : istClock.format(date)
}

const rupeeFormat = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", maximumFractionDigits: 0 })
const priceFormat = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })

export const rupees = (n) => (typeof n === "number" && Number.isFinite(n) ? rupeeFormat.format(n) : "—")
export const price = (n) => (typeof n === "number" && Number.isFinite(n) ? priceFormat.format(n) : "—")
export const pct = (n) => (typeof n === "number" && Number.isFinite(n) ? `${n.toFixed(1)} %` : "—")

/** 75 → "1m 15s". */
export const duration = (seconds) => {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "—"
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`
}

/** A summary record as "key value · key value". */
export const summaryText = (summary) =>
  Object.entries(summary ?? {})
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k} ${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v}`)
    .join(" · ")

/** Colour family of a state, for its badge. */
export const stateTone = (state) => {
  const top = String(state ?? "").split(".")[0]
  if (["exited", "missed", "closed", "expired", "cancelled", "rejected", "sold"].includes(top)) return "done"
  if (["hedging", "projecting", "ordering", "exiting", "reviewing", "closing", "awaitingEntry"].includes(top)) return "busy"
  if (["entered", "open", "trading"].includes(top)) return "live"
  return "idle"
}

/** One-line JSON, cut to `max` characters. */
export const compactJson = (value, max = 72) => {
  const text = JSON.stringify(value) ?? ""
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

const istMinute = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })

/** HH:MM in IST (the chart's labels, the feed on a phone). */
export const hhmm = (at) => {
  if (at === null || at === undefined || at === "") return "—"
  const date = new Date(at)
  return Number.isNaN(date.getTime()) ? "—" : istMinute.format(date)
}

/** Rupees as a trader says large sums: ₹4,500 · ₹3.2 L · ₹1.15 Cr; a sign when asked. */
export const bigRupees = (n, { signed = false } = {}) => {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—"
  const sign = n < 0 ? "−" : signed && n > 0 ? "+" : ""
  const a = Math.abs(n)
  const body = a >= 1e7 ? `₹${(a / 1e7).toFixed(2)} Cr` : a >= 1e5 ? `₹${(a / 1e5).toFixed(1)} L` : rupeeFormat.format(Math.round(a))
  return sign + body
}

/** A P&L in rupees with its sign (+₹1,328 / −₹9,078). */
export const pnlText = (n) => (typeof n === "number" && Number.isFinite(n) ? `${n > 0 ? "+" : n < 0 ? "−" : ""}${rupeeFormat.format(Math.abs(n))}` : "—")

/** HEDGE_BOUGHT → "hedge bought". */
export const kindInWords = (kind) => String(kind ?? "").toLowerCase().replaceAll("_", " ")

/**
 * An alert's Telegram text (Markdown, several lines) as the feed shows it: the title without its emoji
 * and stars, and the body's lines without the "Time:" line (the feed shows the time itself).
 */
export const alertParts = (text) => {
  const lines = String(text ?? "")
    .replace(/[*`]/g, "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^Time:/.test(l))
  // The title's emoji goes (ℹ️ is a letter to Unicode, so it is named).
  const title = (lines.shift() ?? "").replace(/^(?:[^\p{L}\p{N}]|\u2139)+/u, "")
  return { title, body: lines }
}

/** A number that can only be a market time in epoch ms (2001–2096). */
const looksLikeEpoch = (v) => typeof v === "number" && v > 1e12 && v < 4e12

/** One value of a payload, readable: epoch times in IST, long numbers cut to two places, objects compact. */
const payloadValue = (v) => {
  if (v === null || v === undefined) return "—"
  if (looksLikeEpoch(v)) return `${clock(v)} IST`
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-IN") : v.toFixed(2)
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.length <= 3 && v.every((x) => typeof x !== "object") ? v.join(", ") : `${v.length} items`
  if (typeof v === "object") return compactJson(readableObject(v), 60)
  return String(v)
}

const readableObject = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, looksLikeEpoch(v) ? clock(v) : v]))

/** A transition's payload as "key value" pairs, times in IST, the event type left out (the row says it). */
export const payloadPairs = (payload) => {
  if (payload === null || payload === undefined || typeof payload !== "object") return payload === null || payload === undefined ? [] : [["value", String(payload)]]
  // A finished service's answer is the interesting part: its fields come first, flattened one level.
  const { type: _type, output, ...rest } = payload
  const pairs = []
  if (output !== null && output !== undefined && typeof output === "object" && !Array.isArray(output)) {
    for (const [k, v] of Object.entries(output)) pairs.push([k, payloadValue(v)])
  } else if (output !== undefined) pairs.push(["output", payloadValue(output)])
  for (const [k, v] of Object.entries(rest)) pairs.push([k, payloadValue(v)])
  return pairs
}

/** A payload as one readable line: "key value · key value". */
export const payloadText = (payload, max = 140) => {
  const text = payloadPairs(payload).map(([k, v]) => `${k} ${v}`).join(" · ")
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** A JSON payload with its epoch times also said in IST, for the expanded view. */
export const readableJson = (payload) =>
  JSON.stringify(payload, (key, v) => (looksLikeEpoch(v) ? `${v} (${clock(v)} IST)` : v), 2)
