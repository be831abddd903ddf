import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    // Hooks replay whole days too (the bundled week's beforeAll): the default 10 s fails on a busy machine.
    hookTimeout: 60_000,
    pool: "forks"
  }
})
