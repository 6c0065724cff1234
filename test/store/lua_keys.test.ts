/**
 * Every key a Lua script touches is passed in KEYS (src/store/keys.ts builds them), so a script
 * touches one slot on a Redis Cluster. Redis does not check this, and a Cluster only refuses an
 * undeclared key of another slot, while ours share one hash tag. Two checks that can fail:
 * - the key guard (src/store/lua_key_guard.ts), on for every test (vitest.config.ts, and
 *   `serviceEnv` for service processes): every script the suite runs fails on a key outside
 *   KEYS. Tested here against a real Redis, so the guard itself is known to bite;
 * - a scan of the source: no `redis.call` names a key built in Lua (`..`) or taken from ARGV.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardLuaKeys, luaKeyGuardOn } from "../../src/store/lua_key_guard.ts";
import { LuaScript } from "../../src/store/lua_script.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => await redis?.stop());

describe("the Lua key guard", () => {
  it("is on in the tests, so every script the suite runs is checked", () => {
    expect(luaKeyGuardOn()).toBe(true);
    expect(new LuaScript("return 1").source).toContain("keyGuardCall(");
  });

  it.each([
    ["a key built in Lua", "return redis.call('GET', KEYS[1] .. ':x')", /not in KEYS: k:x/],
    ["a key from ARGV", "return redis.call('SET', ARGV[1], 1)", /not in KEYS: other/],
    ["one undeclared key of several", "return redis.call('DEL', KEYS[1], 'other')", /other/],
    ["through pcall", "return redis.pcall('HGET', 'other', 'f')", /not in KEYS: other/],
    [
      "a command without known key positions",
      "return redis.call('RENAME', KEYS[1], 'x')",
      /RENAME/,
    ],
  ])("fails a script that touches %s", async (_, lua, message) => {
    const client = redis.client();
    await expect(new LuaScript(lua).run(client, ["k"], ["other"])).rejects.toThrow(message);
  });

  it("lets a script use its KEYS, keyless commands and values that are not keys", async () => {
    const client = redis.client();
    const lua = `redis.call('TIME')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[1] .. '!')
redis.call('DEL', KEYS[2], KEYS[1])
return redis.call('EXISTS', KEYS[1])`;
    expect(await new LuaScript(lua).run(client, ["a", "b"], ["field"])).toBe(0);
  });

  it("wraps only calls, leaving the script's own text as it was", () => {
    const guarded = guardLuaKeys("local x = 'redis.call' return redis.call('GET', KEYS[1])");
    expect(guarded).toMatch(/local x = 'redis\.call' return keyGuardCall\(redis\.call, 'GET'/);
  });
});

/** Every `redis.call(` / `redis.pcall(` in the source with its command and first argument. */
function calls(text: string): { command: string; key: string }[] {
  const out: { command: string; key: string }[] = [];
  for (const m of text.matchAll(/redis\.p?call\(\s*'([A-Za-z]+)'\s*(?:,|\))/g)) {
    let depth = 0;
    let i = m.index + m[0].length;
    const start = i;
    if (m[0].endsWith(")")) {
      out.push({ command: m[1]!.toUpperCase(), key: "" });
      continue;
    }
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if (c === "," && depth === 0) break;
    }
    out.push({ command: m[1]!.toUpperCase(), key: text.slice(start, i).trim() });
  }
  return out;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...await sourceFiles(path));
    else if (/\.(ts|lua)$/.test(e.name)) files.push(path);
  }
  return files;
}

describe("the scripts' source", () => {
  it("names no key built in Lua or taken from ARGV", async () => {
    const root = new URL("../../", import.meta.url).pathname;
    const files = [...await sourceFiles(`${root}src`), ...await sourceFiles(`${root}workers`)];
    const found: string[] = [];
    const bad: string[] = [];
    for (const file of files) {
      for (const { command, key } of calls(await Deno.readTextFile(file))) {
        found.push(command);
        if (command === "TIME") continue;
        if (/\.\.|ARGV|['"`]/.test(key) || key === "") bad.push(`${file}: ${command} ${key}`);
      }
    }
    // The scan must see the scripts (apply, SCIM write, event log, bindings, limiter, ...).
    expect(found.length).toBeGreaterThan(60);
    expect(bad).toEqual([]);
  });
});
