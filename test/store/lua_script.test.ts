import { afterAll, beforeAll, expect, it } from "vitest";
import { LuaScript } from "../../src/store/lua_script.ts";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => await redis.stop());

it("LuaScript.run() loads the script again after SCRIPT FLUSH", async () => {
  const client = redis.client();
  const script = new LuaScript("return ARGV[1] .. KEYS[1]");
  expect(await script.run(client, ["k"], ["v"])).toBe("vk");
  expect(await client.script("EXISTS", script.sha)).toEqual([1]);
  await client.script("FLUSH");
  expect(await script.run(client, ["k2"], ["w"])).toBe("wk2");
  await expect(new LuaScript("return redis.call('NOPE')").run(client, [])).rejects.toThrow(
    /NOPE|Unknown Redis command/i,
  );
});
