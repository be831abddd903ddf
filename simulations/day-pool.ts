// Days run in parallel on worker threads, one per core by default: each worker reads its own day files
// (the main thread holds no parsed day) and the answers come back in the order of the files, so the
// output is the same as a single-threaded run's.
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { runDayJob, type DayJob, type DayOutcome } from "./day-jobs.ts"

export interface PoolOptions {
  /**
   * Worker threads (default: one per core, fewer when there are too few days to be worth a worker); 1
   * runs every day on this thread, one after another.
   */
  readonly threads?: number
  /** Called with the highest heap any worker used, bytes (after the last day). */
  readonly onPeakHeap?: (bytes: number) => void
}

export const defaultThreads = (): number => Math.max(1, availableParallelism())

/**
 * Days a worker should have before one is worth starting (a worker loads the sources and the solver
 * again: about a second and a half of CPU): a plain replay of a day under a few policies is shorter
 * than that, a league day or a sweep day is not.
 */
const DAYS_PER_WORKER: Readonly<Record<DayJob["kind"], number>> = { simulate: 4, league: 1, sweep: 1 }

/**
 * Each file's outcome, in the order of `files`. A failure stops the run as a single-threaded one stops:
 * no file after it is started, those started finish, so the first failure in file order is there and
 * every outcome before it; the files never started have none.
 */
export const mapDays = async (files: ReadonlyArray<string>, job: DayJob, options: PoolOptions = {}): Promise<ReadonlyArray<DayOutcome | undefined>> => {
  const threads = Math.min(options.threads ?? Math.min(defaultThreads(), Math.ceil(files.length / DAYS_PER_WORKER[job.kind])), files.length)
  const outcomes = new Array<DayOutcome | undefined>(files.length)
  if (threads <= 1) {
    for (const [i, file] of files.entries()) {
      outcomes[i] = await runDayJob(file, job)
      if (!outcomes[i]!.ok) break
    }
    return outcomes
  }
  let next = 0
  let peak = 0
  let failed = false
  const one = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      const send = () => {
        if (next >= files.length || failed) return resolve()
        const index = next++
        worker.postMessage({ index, file: files[index] })
      }
      worker.on("message", (m: { index: number; outcome: DayOutcome; peakHeap: number }) => {
        outcomes[m.index] = m.outcome
        failed ||= !m.outcome.ok
        peak = Math.max(peak, m.peakHeap)
        send()
      })
      worker.on("error", reject)
      worker.on("exit", (code) => reject(new Error(`a day worker stopped (exit code ${code})`)))
      send()
    })
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./day-worker.mjs", import.meta.url), { workerData: { job }, execArgv: [] }))
  try {
    await Promise.all(workers.map(one))
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  options.onPeakHeap?.(peak)
  return outcomes
}
