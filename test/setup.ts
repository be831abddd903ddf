// Property tests explore new random cases on every local run (a failure prints its seed to replay);
// in CI they use one fixed seed so a landing never depends on the draw.
import fc from "fast-check"

if (process.env.CI !== undefined && process.env.CI !== "") fc.configureGlobal({ seed: 20_261_121 })
