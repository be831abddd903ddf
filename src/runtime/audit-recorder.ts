// Which XState inspection events become audit rows, and what those rows say. Shared by the engine
// (which writes them) and the verifier (which rebuilds a day and compares), so both follow one rule.
import { createHash } from "node:crypto"
import type { AnyActorRef, AnyMachineSnapshot, InspectionEvent } from "xstate"
import type { TransitionRow } from "../services/services.ts"

/** A state value as one string: `hedging.selecting`. */
export const stateName = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value !== null && typeof value === "object") {
    // Asked at every transition: built in one pass (regions joined by ",").
    let name = ""
    let first = true
    const record = value as Record<string, unknown>
    for (const k of Object.keys(record)) {
      const v = record[k]
      const part = v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0) ? k : `${k}.${stateName(v)}`
      name = first ? part : `${name},${part}`
      first = false
    }
    return name
  }
  return String(value)
}

/** The audited kind of a machine actor, by its id; undefined for actors that are not audited (services). */
export const kindOf = (actorId: string): TransitionRow["kind"] | undefined =>
  actorId === "session" ? "session" : actorId.startsWith("entry:") ? "entry" : actorId.startsWith("hedge-") ? "hedge" : undefined

/** Take every machine actor's state in a persisted tree as known: a restored start is no transition. */
export const rememberStates = (persisted: unknown, actorId: string, into: AuditRecorder, latestRows: Readonly<Record<string, number>>): void => {
  const p = persisted as { value?: unknown; children?: Record<string, { snapshot?: unknown }> }
  if (p.value === undefined) return
  into.remember(actorId, stateName(p.value), latestRows[actorId])
  for (const [id, child] of Object.entries(p.children ?? {})) rememberStates(child.snapshot, id, into, latestRows)
}

/** What JSON leaves out of an object (undefined, functions, symbols). */
const OMITTED = Symbol("omitted")

/**
 * A value as `JSON.parse(JSON.stringify(value, replacer))` gives it back, without the text in between
 * (a row is made per transition): `toJSON` first, then `replace`, non-finite numbers as null, -0 as 0,
 * boxed primitives unboxed, what JSON omits left out of objects and null in arrays.
 */
const asJson = (key: string, raw: unknown, replace: (value: unknown) => unknown): unknown => {
  let value = raw
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key)
  }
  value = replace(value)
  if (value instanceof Number) value = Number(value)
  else if (value instanceof String) value = String(value)
  else if (value instanceof Boolean) value = value.valueOf()
  if (value === null || typeof value === "string" || typeof value === "boolean") return value
  if (typeof value === "number") return Number.isFinite(value) ? (value === 0 ? 0 : value) : null
  if (typeof value === "bigint") throw new TypeError("Do not know how to serialize a BigInt")
  if (typeof value !== "object") return OMITTED
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      const v = asJson(String(i), value[i], replace)
      out[i] = v === OMITTED ? null : v
    }
    return out
  }
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(value)) {
    const v = asJson(k, (value as Record<string, unknown>)[k], replace)
    if (v === OMITTED) continue
    if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
    else out[k] = v
  }
  return out
}

const asPayload = (value: unknown): unknown => {
  if (value instanceof Error) return { error: value.message }
  if (value !== null && typeof value === "object" && "sessionId" in value && "send" in value) return `actor:${(value as AnyActorRef).id}`
  return value
}

/** The event's payload as plain JSON: actor refs become their ids, errors their messages. */
export const payloadOf = (event: { readonly type: string }): unknown => {
  const { type: _type, ...rest } = event as Record<string, unknown>
  const payload = asJson("", rest, asPayload)
  return payload === OMITTED ? {} : payload
}

/**
 * Did this microstep take a transition? One that took none leaves the snapshot it was given (the
 * actor's latest); one that took a transition whose actions changed nothing does too, and is told
 * apart by asking the machine which transitions the event enables there.
 */
const tookTransition = (snapshot: AnyMachineSnapshot, before: unknown, event: { readonly type: string }): boolean => {
  // A stop, or an error no transition handles: XState reports them as microsteps without one.
  if (snapshot.status === "stopped" || snapshot.status === "error") return false
  return snapshot !== before || snapshot.machine.getTransitionData(snapshot, event as never).length > 0
}

/**
 * Turns inspection events into numbered audit rows: one row per microstep that took a transition, plus
 * each actor's first snapshot (its start). It remembers every actor's last state, the `from` of its
 * next row.
 */
export class AuditRecorder {
  private readonly lastState = new Map<string, string>()
  /** Each audited actor's latest row: what an event it sends next was caused by. */
  private readonly lastSeq = new Map<string, number>()
  /** The row each event in flight was caused by (events are keyed by identity). */
  private readonly causes = new WeakMap<object, number>()
  /** For service actors, the row of the transition that started them. */
  private readonly startedBy = new WeakMap<object, number>()
  /** Services started whose starting transition has no row yet: the next row of the actor holding them. */
  private readonly starting = new WeakSet<object>()
  private startingCount = 0
  /** Each audited actor's latest snapshot: what a microstep that took no transition leaves as it was. */
  private readonly lastSnapshot = new Map<string, unknown>()
  private seq_: number

  constructor(seq = 0) {
    this.seq_ = seq
  }

  /** The number of the last row made. */
  get seq(): number {
    return this.seq_
  }

  /** Take an actor's state as known without a row (a restored actor: its start is no transition). */
  remember(actorId: string, state: string, lastSeq?: number): void {
    this.lastState.set(actorId, state)
    if (lastSeq !== undefined) this.lastSeq.set(actorId, lastSeq)
  }

  /** Every audited actor's latest row (kept with a checkpoint, so a restored run links causes alike). */
  latestRows(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.lastSeq)
  }

  /** Note who sent an event and which service started when, before the rows they lead to. */
  observe(ev: InspectionEvent): void {
    const ref = ev.actorRef as AnyActorRef
    if (ev.type === "@xstate.actor" && kindOf(ref.id) === undefined) {
      // A service starts inside the microstep that enters its state: that microstep's row, made next.
      this.starting.add(ref)
      this.startingCount++
    }
    if (ev.type === "@xstate.event" && ev.sourceRef !== undefined) {
      const source = ev.sourceRef as AnyActorRef
      const cause = kindOf(source.id) === undefined ? this.startedBy.get(source) : this.lastSeq.get(source.id)
      if (cause !== undefined) this.causes.set(ev.event, cause)
    }
  }

  /** The row this inspection event makes, if it makes one; `now` gives its market time. */
  rowOf(ev: InspectionEvent, now: () => number): TransitionRow | undefined {
    if (ev.type !== "@xstate.microstep" && ev.type !== "@xstate.snapshot") return undefined
    const actorId = (ev.actorRef as AnyActorRef).id
    const kind = kindOf(actorId)
    if (kind === undefined) return undefined
    const snapshot = ev.snapshot as AnyMachineSnapshot
    const before = this.lastSnapshot.get(actorId)
    this.lastSnapshot.set(actorId, snapshot)
    // XState reports a microstep even when no transition was enabled (e.g. a refused command).
    if (ev.type === "@xstate.microstep" && !tookTransition(snapshot, before, ev.event)) return undefined
    const from = this.lastState.get(actorId)
    // A snapshot after the first is only the end of a macrostep already recorded by its microsteps.
    if (ev.type === "@xstate.snapshot" && from !== undefined) return undefined
    const to = stateName(snapshot.value)
    this.lastState.set(actorId, to)
    // A clock tick that changes nothing is no transition for the children; for the session it is
    // still recorded: the session's events are the day's inputs, from which `replay` rebuilds it.
    if (from === to && ev.event.type === "CLOCK" && kind !== "session") return undefined
    const row = { seq: ++this.seq_, actorId, kind, from: from ?? "", to, event: ev.event.type, payload: payloadOf(ev.event), at: now(), causation: this.causes.get(ev.event) ?? null }
    this.lastSeq.set(actorId, row.seq)
    if (this.startingCount > 0) {
      for (const child of Object.values(snapshot.children as Record<string, AnyActorRef | undefined>)) {
        if (child === undefined || !this.starting.delete(child)) continue
        this.startedBy.set(child, row.seq)
        this.startingCount--
      }
    }
    return row
  }

  /** A row that is no machine transition (a restore), numbered in the same sequence. */
  row(row: Omit<TransitionRow, "seq" | "causation">): TransitionRow {
    return { seq: ++this.seq_, ...row, causation: null }
  }
}

/** An array index as JSON.stringify orders it: integer keys come first, in numeric order. */
const isIndexKey = (k: string): boolean => {
  const c = k.charCodeAt(0)
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d*)$/.test(k) && Number(k) < 4294967295
}

const keyOrder = (a: string, b: string): number => {
  const ia = isIndexKey(a)
  const ib = isIndexKey(b)
  if (ia || ib) return ia && ib ? Number(a) - Number(b) : ia ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * JSON with object keys sorted: the same rows give the same text wherever they were stored. Written
 * out by hand (the day's digest serialises every row), to the very text of `JSON.stringify` with keys
 * sorted: undefined and functions left out of objects and null in arrays, `toJSON` honoured.
 */
const canonical = (value: unknown, key = ""): string | undefined => {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key)
  }
  if (value === null || typeof value !== "object") return typeof value === "function" || typeof value === "symbol" ? undefined : JSON.stringify(value)
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + (canonical(value[i], String(i)) ?? "null")
    return out + "]"
  }
  const record = value as Record<string, unknown>
  let out = "{"
  let first = true
  for (const k of Object.keys(record).sort(keyOrder)) {
    const v = canonical(record[k], k)
    if (v === undefined) continue
    out += (first ? "" : ",") + JSON.stringify(k) + ":" + v
    first = false
  }
  return out + "}"
}

/** SHA-256 of the audit rows (like Lean's order-list hash): equal digests mean identical decisions. */
export const auditDigest = (rows: ReadonlyArray<TransitionRow>): string =>
  createHash("sha256").update(rows.map((r) => canonical(r)).join("\n")).digest("hex")
