// Loaded with `--import` into a process the bench times: at exit, its CPU time and peak RSS go to the
// file named by AUTOHEDGE_BENCH_USAGE (a child's usage is not otherwise visible to its parent in Node).
import { writeFileSync } from "node:fs"

const out = process.env.AUTOHEDGE_BENCH_USAGE
if (out !== undefined && out !== "") {
  process.on("exit", () => {
    const u = process.cpuUsage()
    writeFileSync(out, JSON.stringify({ cpuMs: (u.user + u.system) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024 }))
  })
}
