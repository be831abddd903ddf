// The weekly schedule as the daemon plans its days from it: the file, and what was last read from or
// written to it. A new schedule is validated by the schedule's own schema (the one the file is read
// with), written to a temporary file beside the old and renamed over it, so a crash leaves either the
// old file or the new one, never half of one. It applies from the next day set up.
import { randomBytes } from "node:crypto"
import { rename, unlink, writeFile } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { Effect } from "effect"
import { loadScheduleFile, parseSchedule, ScheduleError, type Schedule } from "../domain/schedule.ts"
import { CommandRefused } from "./operator.ts"

export class ScheduleStore {
  private schedule: Schedule
  private readonly listeners = new Set<() => void>()

  constructor(
    readonly file: string,
    schedule: Schedule
  ) {
    this.schedule = schedule
  }

  static load = (file: string): Effect.Effect<ScheduleStore, ScheduleError> => Effect.map(loadScheduleFile(file), (s) => new ScheduleStore(file, s))

  current(): Schedule {
    return this.schedule
  }

  /** Hear that the schedule was replaced; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  put(schedule: Schedule): Effect.Effect<void, CommandRefused> {
    return Effect.gen({ self: this }, function*() {
      const text = `${JSON.stringify(schedule, null, 2)}\n`
      // The file's own rule decides, whoever the caller: what is written reads back as written.
      const checked = yield* Effect.try({
        try: () => parseSchedule(text, "schedule"),
        catch: (e) =>
          e instanceof ScheduleError
            ? new CommandRefused({ reason: "invalid", message: `${e.path}: ${e.problem}${e.value === "" ? "" : ` (got ${e.value})`}`, field: e.path })
            : new CommandRefused({ reason: "invalid", message: String(e) })
      })
      const temp = join(dirname(this.file), `.${basename(this.file)}.${randomBytes(6).toString("hex")}.tmp`)
      yield* Effect.tryPromise({
        try: async () => {
          try {
            await writeFile(temp, text, { flag: "wx" })
            await rename(temp, this.file)
          } catch (e) {
            await unlink(temp).catch(() => undefined)
            throw e
          }
        },
        catch: (e) => new CommandRefused({ reason: "unavailable", message: `cannot write ${this.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
      })
      this.schedule = checked
      for (const listener of [...this.listeners]) listener()
    })
  }
}
