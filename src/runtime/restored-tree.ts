// What a restored actor tree needs that XState does not persist: when each actor entered each of its
// states (the start of its delayed transitions), and those delayed transitions armed again. Shared by
// the engine (restart) and the verifier (rebuilding from a checkpoint), so both restore alike.
import { getNextTransitions, type AnyActorRef, type AnyMachineSnapshot } from "xstate"
import type { Checkpoint, TimerClock } from "../services/services.ts"
import { stateName, type AuditRecorder } from "./audit-recorder.ts"

// A machine has few state paths and each transition asks for two: work each out once.
const PATHS_KEPT = 10_000
const knownPrefixes = new Map<string, ReadonlyArray<string>>()

/** "a.b.c" -> ["a", "a.b", "a.b.c"] (states of a single-region path). */
const prefixes = (path: string): ReadonlyArray<string> => {
  let known = knownPrefixes.get(path)
  if (known === undefined) {
    known = path === "" ? [] : path.split(".").map((_, i, parts) => parts.slice(0, i + 1).join("."))
    if (knownPrefixes.size >= PATHS_KEPT) knownPrefixes.clear()
    knownPrefixes.set(path, known)
  }
  return known
}

/** Per actor, when each of its active states was entered (epoch ms), kept up to date from audit rows. */
export class StateEntries {
  private readonly byActor: Map<string, Record<string, number>>

  constructor(from: Checkpoint["enteredAt"] = {}) {
    this.byActor = new Map(Object.entries(from).map(([id, paths]) => [id, { ...paths }]))
  }

  /** States entered by a transition from `from` to `to`: every prefix of `to` that `from` was not in. */
  note(actorId: string, from: string, to: string, at: number): void {
    const before = prefixes(from)
    const after = prefixes(to)
    const kept: Record<string, number> = {}
    const known = this.byActor.get(actorId)
    if (known !== undefined) for (const path of Object.keys(known)) if (after.includes(path)) kept[path] = known[path]!
    for (const path of after) if (!before.includes(path) || from === to) kept[path] ??= at
    this.byActor.set(actorId, kept)
  }

  enteredAt(actorId: string, path: string): number | undefined {
    return this.byActor.get(actorId)?.[path]
  }

  toJSON(): Checkpoint["enteredAt"] {
    return Object.fromEntries(this.byActor)
  }
}

/** Take every machine actor's state in a persisted tree as known: a restored start is no transition. */
export const rememberStates = (persisted: unknown, actorId: string, into: AuditRecorder, latestRows: Readonly<Record<string, number>>): void => {
  const p = persisted as { value?: unknown; children?: Record<string, { snapshot?: unknown }> }
  if (p.value === undefined) return
  into.remember(actorId, stateName(p.value), latestRows[actorId])
  for (const [id, child] of Object.entries(p.children ?? {})) rememberStates(child.snapshot, id, into, latestRows)
}

/**
 * XState does not restore delayed transitions: arm each again for the time it had left, while its
 * state lasts. They are armed in the order they were first armed (earlier first, outer states before
 * inner ones, actors in spawn order), so timers due at one instant fire in the same order as before.
 */
export const rearmTimers = (root: AnyActorRef, timers: TimerClock, now: number, entries: StateEntries): void => {
  const pending: Array<{ actor: AnyActorRef; type: string; armedAt: number; depth: number; order: number; remaining: number; armedIn: string }> = []
  const collect = (actor: AnyActorRef) => {
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot
    if (snapshot.status !== "active" || snapshot.machine === undefined) return
    const delays = (snapshot.machine.implementations.delays ?? {}) as Record<string, unknown>
    const seen = new Set<string>()
    for (const t of getNextTransitions(snapshot)) {
      const type = String(t.eventType)
      if (!type.startsWith("xstate.after.") || seen.has(type)) continue
      seen.add(type)
      const delay = (t as { delay?: string | number }).delay
      const named = typeof delay === "string" ? delays[delay] : undefined
      const ms = typeof named === "function" ? Number(named({ context: snapshot.context, event: { type: "xstate.restore" } })) : Number(named ?? delay)
      const path = (t.source as { path: ReadonlyArray<string> }).path
      // Due when it would have been: counted from the entry into the state that armed it.
      const armedAt = entries.enteredAt(actor.id, path.join(".")) ?? now
      pending.push({ actor, type, armedAt, depth: path.length, order: pending.length, remaining: Math.max(0, armedAt + ms - now), armedIn: path.join(".") })
    }
    for (const child of Object.values(snapshot.children)) if (child !== undefined) collect(child as AnyActorRef)
  }
  collect(root)
  pending.sort((a, b) => a.armedAt - b.armedAt || a.depth - b.depth || a.order - b.order)
  for (const p of pending) {
    const id = timers.setTimeout(() => {
      watch.unsubscribe()
      p.actor.send({ type: p.type })
    }, p.remaining)
    // Leaving the state that armed it cancels a timer, as XState would.
    const watch = p.actor.subscribe((s) => {
      if (prefixes(stateName((s as AnyMachineSnapshot).value)).includes(p.armedIn)) return
      timers.clearTimeout(id)
      watch.unsubscribe()
    })
  }
}
