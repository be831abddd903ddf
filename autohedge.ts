// The `autohedge` program (bin/autohedge.js runs it): the trading commands (src/cli) and the
// simulator's (simulations/cli.ts). Only this entry knows both: src/ never imports simulations/.
import { runAutohedge, tradingCommands } from "./src/cli/main.ts"
import { simulatorCommands } from "./simulations/cli.ts"

runAutohedge([...simulatorCommands(), ...tradingCommands])
