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
