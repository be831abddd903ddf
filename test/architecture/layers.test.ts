// The layers the code keeps: the product (src/, adapters/, machines/) never imports the simulator
// (simulations/), the tests (test/) or the test runner; only the program's entry (autohedge.ts) puts
// the trading commands and the simulator's together.
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"
import { describe, expect, it } from "vitest"

const sourcesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourcesUnder(join(dir, d.name)) : /\.(ts|js|mjs)$/.test(d.name) ? [join(dir, d.name)] : []
  )

/** What a file imports: package names, and relative paths resolved against the repository's root. */
const importsOf = (file: string): ReadonlyArray<string> =>
  [...readFileSync(file, "utf8").matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)["']([^"']+)["']/g)].map(([, spec]) =>
    spec!.startsWith(".") ? normalize(join(dirname(file), spec!)) : spec!
  )

describe("layers", () => {
  const product = ["src", "adapters", "machines"].flatMap(sourcesUnder)

  it("finds the product's files and what they import", () => {
    expect(product.length).toBeGreaterThan(50)
    expect(importsOf("src/cli/main.ts")).toContain("effect/cli")
    // A crossing would be seen: the entry and the simulator do import simulations/ (lazily too).
    expect(importsOf("autohedge.ts")).toContain("simulations/cli.ts")
    expect(importsOf("simulations/cli.ts")).toContain("simulations/commands.ts")
  })

  it("the product imports neither the simulator, nor the tests, nor vitest", () => {
    const crossings = product.flatMap((file) =>
      importsOf(file)
        .filter((target) => /^(simulations|test)\//.test(target) || target === "vitest" || target.startsWith("vitest/"))
        .map((target) => `${file} -> ${target}`)
    )
    expect(crossings).toEqual([])
  })
})
