// Which XState inspection events become audit rows, and what those rows say. Shared by the engine
// (which writes them) and the verifier (which rebuilds a day and compares), so both follow one rule.
import type { AnyActorRef, InspectionEvent } from "xstate"
import type { TransitionRow } from "../services/services.ts"

/** A state value as one string: `hedging.selecting`. */
export const stateName = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => (v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0) ? k : `${k}.${stateName(v)}`))
      .join(",")
  }
  return String(value)
}

/** The audited kind of a machine actor, by its id; undefined for actors that are not audited (services). */
export const kindOf = (actorId: string): TransitionRow["kind"] | undefined =>
  actorId === "session" ? "session" : actorId.startsWith("entry:") ? "entry" : actorId.startsWith("hedge-") ? "hedge" : undefined

/** The event's payload as plain JSON: actor refs become their ids, errors their messages. */
export const payloadOf = (event: { readonly type: string }): unknown => {
  const { type: _type, ...rest } = event as Record<string, unknown>
  return JSON.parse(
    JSON.stringify(rest, (_key, value: unknown) => {
      if (value instanceof Error) return { error: value.message }
      if (value !== null && typeof value === "object" && "sessionId" in value && "send" in value) return `actor:${(value as AnyActorRef).id}`
      return value
    }) ?? "{}"
  )
}

/**
 * Turns inspection events into numbered audit rows: one row per microstep that took a transition, plus
 * each actor's first snapshot (its start). It remembers every actor's last state, the `from` of its
 * next row.
 */
export class AuditRecorder {
  private readonly lastState = new Map<string, string>()
  private seq_: number

  constructor(seq = 0) {
    this.seq_ = seq
  }

  /** The number of the last row made. */
  get seq(): number {
    return this.seq_
  }

  /** Take an actor's state as known without a row (a restored actor: its start is no transition). */
  remember(actorId: string, state: string): void {
    this.lastState.set(actorId, state)
  }

  /** The row this inspection event makes, if it makes one; `now` gives its market time. */
  rowOf(ev: InspectionEvent, now: () => number): TransitionRow | undefined {
    const actorId = (ev.actorRef as AnyActorRef).id
    const kind = kindOf(actorId)
    if (kind === undefined) return undefined
    if (ev.type !== "@xstate.microstep" && ev.type !== "@xstate.snapshot") return undefined
    // XState reports a microstep even when no transition was enabled (e.g. a refused command).
    if (ev.type === "@xstate.microstep" && (ev as { _transitions?: ReadonlyArray<unknown> })._transitions?.length === 0) return undefined
    const to = stateName((ev.snapshot as { value?: unknown }).value)
    const from = this.lastState.get(actorId)
    // A snapshot after the first is only the end of a macrostep already recorded by its microsteps.
    if (ev.type === "@xstate.snapshot" && from !== undefined) return undefined
    this.lastState.set(actorId, to)
    // A clock tick that changes nothing is no transition for the children; for the session it is
    // still recorded: the session's events are the day's inputs, from which `replay` rebuilds it.
    if (from === to && ev.event.type === "CLOCK" && kind !== "session") return undefined
    return { seq: ++this.seq_, actorId, kind, from: from ?? "", to, event: ev.event.type, payload: payloadOf(ev.event), at: now() }
  }

  /** A row that is no machine transition (a restore), numbered in the same sequence. */
  row(row: Omit<TransitionRow, "seq">): TransitionRow {
    return { seq: ++this.seq_, ...row }
  }
}
