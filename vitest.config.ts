import { defineConfig } from "vitest/config";

export default defineConfig({
  // The operator console (src/console) is server-rendered with Hono's JSX, as in deno.json.
  esbuild: { jsx: "automatic", jsxImportSource: "hono/jsx" },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own redis-server; two cores, so keep files to two at a time.
    maxWorkers: 2,
    // Every Lua script runs under the key guard: a key not passed in KEYS fails the call
    // (src/store/lua_key_guard.ts). Service processes get it from `serviceEnv`.
    env: { SYNC_LUA_KEY_GUARD: "1" },
  },
});
