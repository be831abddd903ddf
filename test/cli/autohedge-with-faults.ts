// `autohedge` for the restart tests, with fault injection the installed program does not have:
// AUTOHEDGE_FAULT_KILL_AFTER_CALLS=k makes `simulate` kill its own process (SIGKILL, no clean-up) at
// its k-th service call. Run as `node --import tsx test/cli/autohedge-with-faults.ts simulate ...`.
import { runAutohedge, tradingCommands } from "../../src/cli/main.ts"
import { simulatorCommands } from "../../simulations/cli.ts"

const killAfterCalls = (raw: string | undefined): number | undefined => {
  if (raw === undefined || raw === "") return undefined
  if (!/^\d+$/.test(raw)) throw new Error(`AUTOHEDGE_FAULT_KILL_AFTER_CALLS = ${JSON.stringify(raw)}: expected a whole number`)
  return Number(raw)
}

const kill = killAfterCalls(process.env.AUTOHEDGE_FAULT_KILL_AFTER_CALLS)
runAutohedge([...simulatorCommands(kill === undefined ? {} : { killAfterCalls: kill }), ...tradingCommands])
