/**
 * With OTEL_DENO=true, Deno's built-in OpenTelemetry exports BullMQ's spans (bullmq-otel) next to
 * the HTTP ones. A tiny OTLP/JSON collector in this process receives what the child exports.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../_support/redis.ts";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => await redis.stop());

it("exports BullMQ producer and consumer spans when OTEL_DENO is on", async () => {
  const spanNames: string[] = [];
  const traces = new Map<string, string>();
  const collector = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      const body = await req.json().catch(() => ({}));
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            spanNames.push(span.name);
            traces.set(span.name, span.traceId);
          }
        }
      }
      return Response.json({});
    },
  );
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "test/queue/_otel_fixture.ts"],
      env: {
        REDIS_URL: redis.url,
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "ionos-idp-sync-test",
      },
      stdout: "null",
      stderr: "piped",
    });
    const { code, stderr } = await child.output();
    expect(code, new TextDecoder().decode(stderr)).toBe(0);
    // Spans are flushed when the child exits.
    for (let i = 0; i < 50 && !spanNames.some((n) => n.startsWith("process ")); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(spanNames).toContain("addBulk ionos-sync");
    expect(spanNames).toContain("process ionos-sync");
    // BullMQ carries the trace context in the job: processing joins the enqueue's trace.
    expect(traces.get("process ionos-sync")).toBe(traces.get("addBulk ionos-sync"));
  } finally {
    await collector.shutdown();
  }
});
