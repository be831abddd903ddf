// The body of a day-pool worker: runs the pool's job on each day file it is sent, one at a time, and
// reports the heap it needed (the pool's memory figure).
import { getHeapStatistics } from "node:v8"
import { parentPort, workerData } from "node:worker_threads"
import { runDayJob, type DayJob } from "./day-jobs.ts"

const job = (workerData as { job: DayJob }).job
let peakHeap = 0
parentPort!.on("message", async (message: { index: number; file: string }) => {
  const outcome = await runDayJob(message.file, job)
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
  parentPort!.postMessage({ index: message.index, outcome, peakHeap })
})
