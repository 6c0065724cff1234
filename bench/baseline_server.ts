/**
 * The intake's baseline: a bare Hono handler on the same runtime that reads the body and
 * answers 202, in its own process like the intake. What it cannot do faster, the intake cannot.
 */
import { Hono } from "hono";
import { scriptConfig } from "./lib/child.ts";

const { port } = scriptConfig<{ port: number }>();
const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok" }));
app.post("/*", async (c) => {
  await c.req.text();
  return c.json({ accepted: 1, duplicates: 0 }, 202);
});
Deno.serve({ port, hostname: "127.0.0.1", onListen: () => console.log("ready") }, app.fetch);
