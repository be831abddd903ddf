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
  /** After the last day: the largest footprint (heap and buffers) a worker reported, bytes, and the workers replaced. */
  readonly onMemory?: (memory: { readonly peakFootprint: number; readonly recycled: number }) => void
  /** After each day: the days finished so far and the days in all (a terminal's progress line). */
  readonly onDayDone?: (done: number, total: number) => void
  /** Replace a worker whose footprint passes this after a day (default RECYCLE_BYTES). */
  readonly recycleBytes?: number
}

/** A worker whose heap and buffers pass this after a day is replaced before the next. */
export const RECYCLE_BYTES = 240 * 1024 * 1024

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
      options.onDayDone?.(i + 1, files.length)
      if (!outcomes[i]!.ok) break
    }
    return outcomes
  }
  let next = 0
  let peak = 0
  let failed = false
  let recycled = 0
  let done = 0
  const start = () => new Worker(new URL("./day-worker.mjs", import.meta.url), { workerData: { job }, execArgv: [] })
  const ask = (worker: Worker, index: number) =>
    new Promise<{ outcome: DayOutcome; footprint: number }>((resolve, reject) => {
      const off = () => {
        worker.off("message", onMessage)
        worker.off("error", reject)
        worker.off("exit", onExit)
      }
      const onMessage = (m: { outcome: DayOutcome; footprint: number }) => (off(), resolve(m))
      const onExit = (code: number) => (off(), reject(new Error(`a day worker stopped (exit code ${code})`)))
      worker.on("message", onMessage)
      worker.on("error", reject)
      worker.on("exit", onExit)
      worker.postMessage({ index, file: files[index] })
    })
  // A slot hands out days in file order to its worker while there are any and nothing has failed; a
  // worker grown past RECYCLE_BYTES (the solver's memory never shrinks) is replaced by a fresh one.
  const slot = async () => {
    let worker: Worker | undefined
    try {
      while (next < files.length && !failed) {
        worker ??= start()
        const index = next++
        const { outcome, footprint } = await ask(worker, index)
        outcomes[index] = outcome
        options.onDayDone?.(++done, files.length)
        failed ||= !outcome.ok
        peak = Math.max(peak, footprint)
        if (footprint > (options.recycleBytes ?? RECYCLE_BYTES)) {
          await worker.terminate()
          worker = undefined
          recycled++
        }
      }
    } finally {
      await worker?.terminate()
    }
  }
  await Promise.all(Array.from({ length: threads }, slot))
  options.onMemory?.({ peakFootprint: peak, recycled })
  return outcomes
}
