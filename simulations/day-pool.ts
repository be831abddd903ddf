// Days run in parallel on worker threads, one per core by default: each worker reads its own day files
// (the main thread holds no parsed day) and the answers come back in the order of the files, so the
// output is the same as a single-threaded run's.
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { runDayJob, type DayJob, type DayOutcome } from "./day-jobs.ts"

export interface PoolOptions {
  /** Worker threads (default: one per core); 1 runs every day on this thread, one after another. */
  readonly threads?: number
  /** Called with the highest heap any worker used, bytes (after the last day). */
  readonly onPeakHeap?: (bytes: number) => void
}

export const defaultThreads = (): number => Math.max(1, availableParallelism())

/** Each file's outcome, in the order of `files`. */
export const mapDays = async (files: ReadonlyArray<string>, job: DayJob, options: PoolOptions = {}): Promise<ReadonlyArray<DayOutcome>> => {
  const threads = Math.min(options.threads ?? defaultThreads(), files.length)
  const outcomes = new Array<DayOutcome>(files.length)
  if (threads <= 1) {
    for (const [i, file] of files.entries()) outcomes[i] = await runDayJob(file, job)
    return outcomes
  }
  let next = 0
  let peak = 0
  const one = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      const send = () => {
        if (next >= files.length) return resolve()
        const index = next++
        worker.postMessage({ index, file: files[index] })
      }
      worker.on("message", (m: { index: number; outcome: DayOutcome; peakHeap: number }) => {
        outcomes[m.index] = m.outcome
        peak = Math.max(peak, m.peakHeap)
        send()
      })
      worker.on("error", reject)
      worker.on("exit", (code) => (next < files.length || code !== 0 ? reject(new Error(`a day worker stopped (exit code ${code})`)) : undefined))
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
