/** The image's HEALTHCHECK script against real listeners (finding 2 of issue 10). */
import { describe, expect, it } from "vitest";
import { healthcheck } from "../src/healthcheck.ts";
import { freePort } from "./_support/redis.ts";

function serve(status: number) {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response(null, { status }),
  );
}

describe("healthcheck()", () => {
  it("is healthy when any of the ports answers /healthz with 200", async () => {
    const ok = serve(200);
    try {
      expect(await healthcheck([await freePort(), ok.addr.port])).toBe(0);
    } finally {
      await ok.shutdown();
    }
  });

  it("is unhealthy when nothing listens or /healthz is not 200", async () => {
    const bad = serve(503);
    try {
      expect(await healthcheck([await freePort()])).toBe(1);
      expect(await healthcheck([bad.addr.port])).toBe(1);
    } finally {
      await bad.shutdown();
    }
  });
});
