#!/usr/bin/env node
// The installed `autohedge` command: runs the TypeScript sources through tsx (Node 20 cannot strip types).
// The library modules every command needs (src/cli/main.ts) are loaded first, by Node itself: through
// tsx's loader each costs several times more, which made `autohedge --help` take seconds.
import "effect/Effect"
import "effect/cli"
import "@effect/platform-node/NodeRuntime"
import "@effect/platform-node/NodeServices"
import { register } from "tsx/esm/api"

register()
await import("../autohedge.ts")
