#!/usr/bin/env node
// The installed `autohedge` command: runs the TypeScript sources through tsx (Node 20 cannot strip types).
import { register } from "tsx/esm/api"

register()
await import("../autohedge.ts")
