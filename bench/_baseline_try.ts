import { Hono } from "hono";
const app = new Hono();
app.post("/events", async (c) => { await c.req.text(); return c.json({ accepted: 1, duplicates: 0 }, 202); });
Deno.serve({ port: 18555, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
