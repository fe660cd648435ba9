import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Projects that run side by side must agree on maxWorkers: the web project inherits this one.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "server",
          include: [
            "apps/server/src/**/*.test.ts",
            "apps/server/test/**/*.test.ts",
            "packages/shared/src/**/*.test.ts",
            "bench/**/*.test.ts",
          ],
          globalSetup: ["apps/server/test/global-setup.ts"],
          pool: "forks",
          maxWorkers: 2,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "web",
          environment: "jsdom",
          include: ["apps/web/src/**/*.test.{ts,tsx}"],
          setupFiles: ["apps/web/src/test/setup.ts"],
          unstubGlobals: true,
        },
      },
    ],
  },
});
