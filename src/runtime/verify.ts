// Rebuilds a day from its audit trail through the same machines, with nothing but the trail: the
// session's input from its start row, the outside events (clock, strategy observations, operator
// commands) from the session's rows, and every service answer from the `xstate.done.actor.*` /
// `xstate.error.actor.*` rows of the actor that asked. The rebuilt run is recorded by the engine's own
// rule (AuditRecorder) and compared row by row with the trail: equal rows mean the recorded decisions
// are exactly what these machines make of those inputs and answers.
//
// The rebuild holds instants through the daemon's and the simulator's own loop (`runInstants`), the
// trail as its world: an instant's outside events are the trail's (strategy observations, then
// operator commands and the clock event), delivered once every row recorded before them is
// reproduced. The machines keep their deadlines in their contexts and act on them on clock events, so
// the trail's clock events bring every timed transition with them. Service calls wait in one queue and are
// answered one at a time, in the order asked (as the engine's pump does), each with the trail's next
// row, which must be its answer (a call the trail does not answer there is a divergence, never a
// wait). The rebuild stops where the trail ends.
//
// A restarted day is rebuilt straight through (RESTORED rows are skipped). The restored process asked
// the calls in flight at its checkpoint again, in an order of its own, and started at its own instant:
// at a restart the rebuild takes those calls' answers in the trail's order and moves its clock to the
// restart's instant, where a new run of the loop starts (the dead process's ended mid-instant).
// Everything else must be as an uninterrupted run makes it.
import { isDeepStrictEqual } from "node:util"
import { createActor, type Actor, type AnyActorRef, type InspectionEvent } from "xstate"
import { MACHINE_VERSION, type sessionMachine, type SessionEvent, type SessionInput } from "../../machines/session.ts"
import { sessionMachineWith } from "./machine-services.ts"
import { wallTimeOf } from "../domain/time.ts"
import type { Checkpoint, TransitionRow } from "../services/services.ts"
import { AuditRecorder, auditDigest, kindOf, rememberStates } from "./audit-recorder.ts"
import { runInstants, virtualPacing, type World } from "./instants.ts"
import { VirtualClock } from "./virtual-clock.ts"

export type Verification =
  | { readonly ok: true; readonly transitions: number; readonly digest: string }
  | { readonly ok: false; readonly seq: number; readonly expected: TransitionRow | null; readonly actual: TransitionRow | null; readonly message: string }

/** Events the session receives from outside the machines: the day's inputs. */
const OUTSIDE_EVENTS: ReadonlySet<string> = new Set(["CLOCK", "ENTRY_SEEN", "ENTRY_EXITED", "TOGGLE", "MANUAL_EXIT", "MANUAL_BUY", "HEDGE_NOW"])

const DONE = "xstate.done.actor."
const ERROR = "xstate.error.actor."

/** A service call waiting for its turn. */
interface Call {
  readonly actorId: string
  readonly invokeId: string
  readonly signal: AbortSignal
  readonly resolve: (output: unknown) => void
  readonly reject: (error: unknown) => void
}

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

const isOutside = (row: TransitionRow) => row.actorId === "session" && OUTSIDE_EVENTS.has(row.event)

/** What the platform was seen doing: delivered as the world is observed, before the operator's commands and the clock. */
const OBSERVATIONS: ReadonlySet<string> = new Set(["ENTRY_SEEN", "ENTRY_EXITED"])

/** The first outside row at or after `from` (the trail's length when none is left). */
const outsideFrom = (rows: ReadonlyArray<TransitionRow>, from: number): number => {
  let i = from
  while (i < rows.length && !isOutside(rows[i]!)) i++
  return i
}

/** The instant an outside row was delivered at: a clock event's own time, else the row's. */
const deliveredAt = (row: TransitionRow): number => (row.event === "CLOCK" && typeof (row.payload as { at?: unknown })?.at === "number" ? (row.payload as { at: number }).at : row.at)

/** Thrown through the loop at a restart: the dead process's run of instants ends there. */
const RESTARTED = new Error("restarted")
/** Thrown through the loop once every row of the trail is reproduced. */
const ENDED = new Error("the trail ends")

const sameRow = (a: TransitionRow, b: TransitionRow) =>
  a.actorId === b.actorId && a.kind === b.kind && a.from === b.from && a.to === b.to && a.event === b.event && a.at === b.at && isDeepStrictEqual(a.payload, b.payload)

/** Where two JSON values first differ, as a path: `output.projectedPct`. */
const firstDifference = (a: unknown, b: unknown, path = ""): string | undefined => {
  if (isDeepStrictEqual(a, b)) return undefined
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === "" ? k : `${path}.${k}`)
      if (d !== undefined) return d
    }
  }
  return path === "" ? "(whole payload)" : path
}

/** What differs between a recorded row and the rebuilt one, in words. */
const difference = (expected: TransitionRow, actual: TransitionRow): string => {
  const parts: Array<string> = []
  if (expected.actorId !== actual.actorId) parts.push("actor")
  if (expected.from !== actual.from || expected.to !== actual.to) parts.push("states")
  if (expected.event !== actual.event) parts.push("event")
  if (expected.at !== actual.at) parts.push("time")
  const p = firstDifference(expected.payload, actual.payload)
  if (p !== undefined) parts.push(`payload (${p})`)
  return `the rebuild's transition differs from the recorded one in ${parts.join(", ")}`
}

/** The error a recorded `xstate.error.actor.*` row carried, as the service gave it. */
const recordedError = (payload: unknown): unknown => {
  const error = (payload as { error?: unknown } | null)?.error
  // The audit keeps an Error as `{ error: message }`: give an Error with that message again.
  if (error !== null && typeof error === "object" && Object.keys(error).length === 1 && typeof (error as { error?: unknown }).error === "string") {
    return new Error((error as { error: string }).error)
  }
  return error
}

/** A day being rebuilt from its trail, in lockstep with it. */
class Rebuild {
  /** The trail without its restarts: what the rebuild must reproduce, row for row. */
  private readonly recorded: ReadonlyArray<TransitionRow>
  /** Restarts, where they fall among the recorded rows (and the restored process's clock then). */
  private readonly restarts: Array<{ readonly index: number; readonly at: number }> = []
  private readonly built: Array<TransitionRow> = []
  private readonly calls: Array<Call> = []
  /** Calls in flight at a restart: the restored process asked them again, in an order of its own. */
  private readonly askedAgain = new Set<Call>()
  private readonly clock: VirtualClock
  readonly actor: Actor<typeof sessionMachine>
  private checked = 0
  /** The first divergence found. */
  private failed: Verification | undefined = undefined
  /** The trail's next outside row not yet delivered. */
  private pending: number
  /** A restart was reached: the loop's run ends, and a new one starts at the restart's instant. */
  private restarted = false
  private machineError: unknown = undefined

  constructor(
    private readonly rows: ReadonlyArray<TransitionRow>,
    /** The day's start (its input), or a checkpoint the rows carry on from. */
    private readonly from: { readonly input: SessionInput } | { readonly checkpoint: Checkpoint }
  ) {
    // A restart is no transition: the rebuild runs straight through.
    this.recorded = rows.filter((r) => r.event !== "RESTORED")
    this.pending = outsideFrom(this.recorded, 0)
    rows.forEach((r, i) => {
      if (r.event === "RESTORED") this.restarts.push({ index: i - this.restarts.length, at: r.at })
    })
    const checkpoint = "checkpoint" in from ? from.checkpoint : undefined
    this.clock = new VirtualClock(checkpoint?.at ?? this.recorded[0]!.at)
    const calls = this.calls
    /** Each service actor's asker: the actor its start event came from. */
    const askers = new WeakMap<object, string>()
    // Every call waits in the queue for the trail's answer.
    const service = <TOutput>({ self, signal }: { self: { id: string }; signal: AbortSignal }) =>
      new Promise<TOutput>((resolve, reject) => {
        // The invoke id is the service actor's id.
        calls.push({ actorId: askers.get(self) ?? "", invokeId: self.id, signal, resolve: resolve as (output: unknown) => void, reject })
      })
    const machine = sessionMachineWith({
      assessExits: service,
      assessDelta: service,
      assessOvernight: service,
      projectEntry: service,
      selectHedges: service,
      quoteOption: service,
      placeOrder: service,
      findOrder: service,
      orderStatus: service,
      cancelOrder: service
    })
    // Rows made by the engine's own rule, stamped with the rebuild's market time.
    const recorder = new AuditRecorder(checkpoint?.seq)
    if (checkpoint !== undefined) rememberStates(checkpoint.snapshot, "session", recorder, checkpoint.latestRows ?? {})
    const { clock, built } = this
    this.actor = createActor(machine, {
      id: "session",
      inspect: (ev: InspectionEvent) => {
        if (ev.type === "@xstate.event" && ev.event.type === "xstate.init" && ev.sourceRef !== undefined) askers.set(ev.actorRef, (ev.sourceRef as AnyActorRef).id)
        recorder.observe(ev)
        const row = recorder.rowOf(ev, () => clock.now())
        if (row !== undefined) built.push(row)
      },
      // A restored actor takes its context from the snapshot, not from input.
      ...("input" in from ? { input: from.input } : { input: undefined as never, snapshot: from.checkpoint.snapshot as never })
    })
    // A machine that fails (say on an answer it cannot read) shows as rows missing; keep why.
    this.actor.subscribe({ error: (e) => (this.machineError = e) })
  }

  /** Rebuilds the rows; the checkpoint they lead to, if every one is reproduced. */
  async run(): Promise<{ readonly verification: Verification; readonly checkpoint?: Checkpoint }> {
    try {
      const failed = await this.drive()
      if (failed !== undefined) return { verification: failed }
      return { verification: { ok: true, transitions: this.recorded.length, digest: auditDigest(this.rows) }, checkpoint: this.checkpoint() }
    } catch (e) {
      return { verification: this.diverge(this.recorded[this.built.length] ?? null, null, `the rebuild failed: ${e instanceof Error ? e.message : String(e)}`) }
    } finally {
      this.actor.stop()
    }
  }

  /** The rebuilt tree as a checkpoint consistent with the last row (taken before the actor stops). */
  private checkpoint(): Checkpoint {
    const latestRows: Record<string, number> = { ...("checkpoint" in this.from ? this.from.checkpoint.latestRows : {}) }
    for (const r of this.recorded) if (kindOf(r.actorId) !== undefined) latestRows[r.actorId] = r.seq
    return {
      seq: this.rows.at(-1)!.seq,
      at: this.clock.now(),
      machineVersion: MACHINE_VERSION,
      snapshot: this.actor.getPersistedSnapshot(),
      latestRows
    }
  }

  /** Runs the day through the instant loop, the trail as its world; the first divergence, if any. */
  private async drive(): Promise<Verification | undefined> {
    const { recorded, built, clock } = this
    this.actor.start()
    // As the engine restores: the calls that were in flight asked again, in an order of their own.
    if ("checkpoint" in this.from) for (const call of this.calls) this.askedAgain.add(call)
    this.fail(this.check())
    // A restart ends the dead process's loop mid-instant; the restored one holds instants from its own.
    for (;;) {
      try {
        await runInstants({
          engine: this,
          clock,
          from: clock.now(),
          pacing: virtualPacing,
          world: this.world,
          // The trail ends where the process that wrote it went no further: so does the rebuild.
          stopped: () => this.built.length >= recorded.length,
          awaitEngine: async (work) => {
            await work
            if (this.built.length >= recorded.length) throw ENDED
            if (this.restarted) {
              this.restarted = false
              throw RESTARTED
            }
          },
          takesOutsideEvents: (at) => Promise.resolve(this.clockRowAt(at) !== undefined)
        })
        break
      } catch (e) {
        if (e === ENDED) break
        if (e !== RESTARTED) throw e
      }
    }
    while (this.failed === undefined && built.length < recorded.length) {
      this.fail(this.calls.length > 0 ? await this.answerNext() : this.nothingLeft())
    }
    return this.failed ?? this.check()
  }

  /** The trail as the loop's world: its outside events, at the instants they were delivered. */
  private readonly world: World<Rebuild> = {
    // What the platform did: the trail's strategy observations at this instant, once every row before
    // them is reproduced; then the calls they asked are answered, as the engine settles.
    observe: async (at) => {
      await this.settle()
      while (this.readyAt(at) && OBSERVATIONS.has(this.recorded[this.pending]!.event)) this.deliver(this.recorded[this.pending]!)
      await this.settle()
    },
    spot: (at) => ((this.recorded[this.clockRowAt(at)!]!.payload as { spot?: number | null }).spot ?? null),
    // The operator's commands recorded before this instant's clock event.
    deliver: (at) => {
      while (this.readyAt(at) && this.recorded[this.pending]!.event !== "CLOCK") this.deliver(this.recorded[this.pending]!)
    },
    nextEventAt: (at) => {
      this.skipReproduced()
      const row = this.recorded[this.pending]
      if (row === undefined || this.failed !== undefined) return undefined
      const next = deliveredAt(row)
      if (next < this.clock.now()) this.fail(this.diverge(row, null, `the trail's clock goes back from ${wallTimeOf(this.clock.now())} to ${wallTimeOf(next)}`))
      else if (next <= at) this.fail(this.nothingLeft())
      return this.failed === undefined ? next : undefined
    }
  }

  /** The loop's host: outside events go to the session; service calls are answered from the trail. */
  send(event: SessionEvent): void {
    if (this.failed !== undefined) return
    const i = this.pending
    this.actor.send(event)
    if (this.recorded[i]?.event === event.type) this.pending = outsideFrom(this.recorded, i + 1)
    // An event's eventless transitions (the overnight guard's, on a clock event) are rows of that event
    // too: already reproduced, they are not outside events still to deliver.
    this.skipReproduced()
    this.fail(this.check() ?? (this.built.length <= i ? this.stuck(this.recorded[i]!, "the session did not take this event") : undefined))
  }

  /**
   * Answer waiting calls, one at a time in the order asked, each with the trail's next row, until the
   * trail's next outside event (which the loop delivers) or a restart (which ends the loop's run).
   */
  async settle(): Promise<void> {
    await flushMicrotasks()
    this.fail(this.check())
    while (this.failed === undefined && !this.restarted && this.calls.length > 0 && this.built.length < this.pending) this.fail(await this.answerNext())
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }

  get done(): boolean {
    return this.actor.getSnapshot().status === "done"
  }

  get failure(): string | null {
    return this.failed === undefined || this.failed.ok ? null : this.failed.message
  }

  private fail(v: Verification | undefined): void {
    if (v !== undefined && this.failed === undefined) this.failed = v
  }

  private deliver(row: TransitionRow): void {
    this.send({ type: row.event, ...(row.payload as object) } as SessionEvent)
  }

  /** Past outside rows the rebuild already made (compared, so not delivered again). */
  private skipReproduced(): void {
    while (this.pending < this.built.length) this.pending = outsideFrom(this.recorded, this.pending + 1)
  }

  /** The trail's next outside row is due at `at` and every row before it is reproduced. */
  private readyAt(at: number): boolean {
    this.skipReproduced()
    const row = this.recorded[this.pending]
    if (this.failed !== undefined || row === undefined || deliveredAt(row) !== at) return false
    if (this.built.length < this.pending) this.fail(this.nothingLeft())
    return this.failed === undefined
  }

  /** This instant's clock row, when the trail's next outside rows are this instant's commands and clock event. */
  private clockRowAt(at: number): number | undefined {
    if (!this.readyAt(at)) return undefined
    for (let j = this.pending; j < this.recorded.length; j = outsideFrom(this.recorded, j + 1)) {
      const row = this.recorded[j]!
      if (deliveredAt(row) !== at || OBSERVATIONS.has(row.event)) return undefined
      if (row.event === "CLOCK") return j
    }
    return undefined
  }

  private diverge(expected: TransitionRow | null, actual: TransitionRow | null, message: string): Verification {
    return { ok: false, seq: expected?.seq ?? (this.rows.at(-1)?.seq ?? 0) + 1, expected, actual, message }
  }

  /** The trail's row could not be reproduced: nothing in the rebuild made it. */
  private stuck(expected: TransitionRow, why: string): Verification {
    const error = this.machineError
    return this.diverge(expected, null, error === undefined ? why : `${why}; the machines failed: ${error instanceof Error ? error.message : String(error)}`)
  }

  /** The trail's next row is not reproduced, and nothing waiting in the rebuild could make it. */
  private nothingLeft(): Verification {
    return this.stuck(this.recorded[this.built.length]!, "the rebuild has nothing left to run that could make this transition")
  }

  /** Compare the rows rebuilt since the last check; the first that is not the recorded one. */
  private check(): Verification | undefined {
    for (; this.checked < this.built.length; this.checked++) {
      const actual = this.built[this.checked]!
      const expected = this.recorded[this.checked]
      if (expected === undefined) return this.diverge(null, actual, "the rebuild made a transition past the end of the trail")
      if (!sameRow(expected, actual)) return this.diverge(expected, actual, difference(expected, actual))
    }
    // At a restart: what is waiting now was in flight when the process died, and is asked again
    // when the restored process starts, on its clock.
    while (this.restarts.length > 0 && this.restarts[0]!.index <= this.built.length) {
      const restart = this.restarts.shift()!
      this.restarted = true
      for (const call of this.calls) this.askedAgain.add(call)
      this.clock.advanceTo(Math.max(restart.at, this.clock.now()))
    }
    return undefined
  }

  /**
   * Answer the oldest waiting call with the trail's next row, which must be its answer. Calls in
   * flight at a restart were asked again by the restored process in its own order: among those, the
   * one the trail answers next.
   */
  private async answerNext(): Promise<Verification | undefined> {
    const { calls, askedAgain } = this
    const expected = this.recorded[this.built.length]
    let index = 0
    for (let j = 0; j < calls.length && askedAgain.has(calls[j]!); j++) {
      if (!calls[j]!.signal.aborted && answers(calls[j]!, expected)) {
        index = j
        break
      }
    }
    const call = calls.splice(index, 1)[0]!
    askedAgain.delete(call)
    // Its actor left the state that asked: the original answer went nowhere and left no row.
    if (!call.signal.aborted) {
      const asked = `${call.actorId} asked ${call.invokeId}`
      if (expected === undefined) return this.diverge(null, null, `${asked}, and the trail has no answer: it ends here`)
      if (!answers(call, expected)) return this.stuck(expected, `${asked}, but the trail's next row is not its answer`)
      if (expected.event.startsWith(DONE)) call.resolve((expected.payload as { output?: unknown } | null)?.output)
      else call.reject(recordedError(expected.payload))
    }
    await flushMicrotasks()
    return this.check()
  }
}

/** Does this row answer this call? */
const answers = (call: Call, row: TransitionRow | undefined): boolean =>
  row !== undefined && row.actorId === call.actorId && (row.event === DONE + call.invokeId || row.event === ERROR + call.invokeId)

/** The session's input, from its start row. */
const sessionInputOf = (rows: ReadonlyArray<TransitionRow>): SessionInput | undefined => {
  const start = rows.find((r) => r.actorId === "session" && r.event === "xstate.init")
  return (start?.payload as { input?: SessionInput } | null | undefined)?.input
}

export const verifyDay = async (rows: ReadonlyArray<TransitionRow>): Promise<Verification> => {
  const input = sessionInputOf(rows)
  if (input === undefined) {
    const first = rows[0] ?? null
    return { ok: false, seq: first?.seq ?? 1, expected: first, actual: null, message: "the trail has no session start (a session `xstate.init` row with its input): nothing to rebuild from" }
  }
  return (await new Rebuild(rows, { input }).run()).verification
}

/**
 * The checkpoint a restart restores: the latest one written, brought up to the last row written by
 * re-driving the rows after it through the machines, checked row by row as `replay` checks a day
 * (with no checkpoint yet, from the day's start). A divergence is returned, never guessed past.
 */
export const recoverCheckpoint = async (
  latest: Checkpoint | null,
  after: ReadonlyArray<TransitionRow>
): Promise<{ readonly ok: true; readonly checkpoint: Checkpoint | null } | { readonly ok: false; readonly verification: Verification }> => {
  if (after.length === 0) return { ok: true, checkpoint: latest }
  const input = sessionInputOf(after)
  if (latest === null && input === undefined) return { ok: false, verification: await verifyDay(after) }
  const { verification, checkpoint } = await new Rebuild(after, latest === null ? { input: input! } : { checkpoint: latest }).run()
  return checkpoint === undefined ? { ok: false, verification } : { ok: true, checkpoint }
}

const describeRow = (r: TransitionRow | null): string => {
  if (r === null) return "(none)"
  const payload = JSON.stringify(r.payload) ?? "undefined"
  const shown = payload.length > 400 ? `${payload.slice(0, 400)}…` : payload
  return `${wallTimeOf(r.at)} ${r.actorId}: ${r.from === "" ? "(start)" : r.from} -> ${r.to} on ${r.event} ${shown}`
}

export const formatVerification = (v: Verification): string =>
  v.ok
    ? `verified: ${v.transitions} transitions rebuilt through the machines, identical to the trail (digest ${v.digest})`
    : [`diverges at seq ${v.seq}: ${v.message}`, `  expected: ${describeRow(v.expected)}`, `  actual:   ${describeRow(v.actual)}`].join("\n")
