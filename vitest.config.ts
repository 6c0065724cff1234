import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own redis-server; two cores, so keep files to two at a time.
    maxWorkers: 2,
  },
});
