import { startRedis } from "../test/helpers/redis.ts";
import { startService } from "../src/service.ts";
import { loadConfig } from "../src/config/config.ts";
import { DEFAULT_MAPPING } from "../src/config/mapping.ts";
import { createLogger } from "../src/log.ts";
const redis = await startRedis();
const svc = await startService(loadConfig({REDIS_URL: redis.url, EVENTS_TOKEN: "x".repeat(20), PORT: "0", HOST: "127.0.0.1"}, "api"), DEFAULT_MAPPING, createLogger({level: "error"}));
console.log(svc.app!.routes.map((r) => `${r.method} ${r.path} ${r.handler.name}`).join("\n"));
for (const body of [
  '{"id":"e1","type":"user.created","data":{"id":"u1","userName":"a@b.co","displayName":"\\ud800x"}}',
  '{"id":"e2","type":"user.created","data":{"id":"u2","userName":"a2@b.co","displayName":"nul\\u0000 rtl\\u202e emoji 😀"}}',
  '{"id":"e3\\udc00","type":"user.deleted","data":{"id":"u3"}}',
]) {
  const res = await fetch(`${svc.url}/events`, {method: "POST", headers: {authorization: `Bearer ${"x".repeat(20)}`, "content-type": "application/json"}, body});
  console.log(res.status, await res.text());
}
await svc.stop(); await redis.stop();
