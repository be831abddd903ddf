// The daemon's structured log: one line per event, as text or as JSON lines, each naming the session
// and the actor it is about, stamped in IST as the alerts are. Secrets never reach it: callers pass
// redacted values only.
import { DateTime } from "luxon"
import type { Alert } from "../../machines/protocol.ts"
import { formatAlert } from "../domain/alerts.ts"
import { MARKET_ZONE } from "../domain/time.ts"
import type { AuditLog, Notifier, TransitionRow } from "../services/services.ts"
import { Effect } from "effect"

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFields = Readonly<Record<string, unknown>>

/** A multi-line message (an alert's text) as one line: its lines joined by " | ". */
const oneLine = (message: string): string => message.split(/\s*\n+\s*/).filter((l) => l !== "").join(" | ")

export interface DaemonLog {
  readonly write: (level: LogLevel, actor: string, message: string, fields?: LogFields) => void
  /** The same log, about another session. */
  readonly forSession: (session: string) => DaemonLog
}

/** Lines below `minLevel` are left out (debug: every clock transition). */
export const makeLog = (format: "text" | "json", out: (line: string) => void, session = "-", now: () => number = Date.now, minLevel: LogLevel = "info"): DaemonLog => ({
  write: (level, actor, text, fields = {}) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(minLevel)) return
    const time = DateTime.fromMillis(now(), { zone: MARKET_ZONE }).toISO()
    const message = oneLine(text)
    out(
      format === "json"
        ? JSON.stringify({ time, level, session, actor, message, ...fields })
        : `${time} ${level.toUpperCase().padEnd(5)} [${session}] ${actor}: ${message}${Object.keys(fields).length === 0 ? "" : ` ${JSON.stringify(fields)}`}`
    )
  },
  forSession: (s) => makeLog(format, out, s, now, minLevel)
})

/** An audit log that also writes each transition to the daemon's log once it is stored. */
export const loggedAudit = (audit: AuditLog["Service"], log: DaemonLog): AuditLog["Service"] => ({
  ...audit,
  append: (rows, checkpoint) =>
    Effect.tap(audit.append(rows, checkpoint), () =>
      Effect.sync(() => {
        for (const r of rows) log.write(r.event === "CLOCK" ? "debug" : "info", r.actorId, `${r.from === "" ? "(start)" : r.from} -> ${r.to} on ${r.event}`, transitionFields(r))
      })
    )
})

const transitionFields = (r: TransitionRow): LogFields => ({ seq: r.seq, event: r.event, from: r.from, to: r.to })

/** Alerts as log lines (the operator's channel until a messenger is configured). */
export const logNotifier = (log: DaemonLog): Notifier["Service"] => ({
  notify: (alert: Alert, at: number) =>
    Effect.sync(() => log.write(alert.severity === "critical" ? "error" : alert.severity === "warning" ? "warn" : "info", alert.actor, formatAlert(alert, at), { alert: alert.kind }))
})
