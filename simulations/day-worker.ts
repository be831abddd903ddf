// The body of a day-pool worker: runs the pool's job on each day file it is sent, one at a time, and
// reports its memory footprint (its own heap and the buffers outside it: the solver's WebAssembly
// memory), by which the pool replaces a worker that has grown too large.
import { parentPort, workerData } from "node:worker_threads"
import { runDayJob, type DayJob } from "./day-jobs.ts"

const job = (workerData as { job: DayJob }).job
parentPort!.on("message", async (message: { index: number; file: string }) => {
  const outcome = await runDayJob(message.file, job)
  const memory = process.memoryUsage()
  parentPort!.postMessage({ index: message.index, outcome, footprint: memory.heapTotal + memory.external })
})
