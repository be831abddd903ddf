import { defineConfig } from "vitest/config"

// End to end: tests that start the CLI, a daemon over HTTP or a browser. `vitest run --project unit`
// runs everything else (in-process, no servers of their own beyond loopback fakes): the quick check.
const e2e = [
  "test/cli/**/*.test.ts",
  "test/http/{cli,daemon}.test.ts",
  "test/http/*.browser.test.ts",
  "test/daemon/{daemon-e2e,daemon-openalgo,daemon-calendar,daemon-pace,broker-outage}.test.ts"
]

export default defineConfig({
  test: {
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    // Hooks replay whole days too (the bundled week's beforeAll): the default 10 s fails on a busy machine.
    hookTimeout: 60_000,
    pool: "forks",
    // One worker per core (vitest's default leaves one to itself, which idles while the forks work).
    // Files may run side by side: PostgreSQL blocks each get a throwaway database, PGlite is in
    // memory or in a temporary directory, and every server listens on a port of its own.
    maxWorkers: "100%",
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: e2e } },
      // A process started, a day run over HTTP: minutes on a busy machine (a hang guard, not a speed).
      { extends: true, test: { name: "e2e", include: e2e, testTimeout: 300_000 } }
    ]
  }
})
