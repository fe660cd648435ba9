import { defineConfig } from "vitest/config";

/** Browser tests: Debian's Chromium driven by playwright-core against a real Switchboard. */
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
