// A worker thread of the day pool (day-pool.ts). Workers run the TypeScript sources through tsx, as
// bin/autohedge.js does, however the main thread was started (tsx CLI, bin/autohedge.js, vitest).
import { register } from "tsx/esm/api"

register()
await import("./day-worker.ts")
