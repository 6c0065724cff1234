/**
 * The image's HEALTHCHECK: exit 0 when this container's own `/healthz` answers 200.
 *
 * Every role serves `/healthz`: api and all on PORT, worker on METRICS_PORT or else PORT (see
 * src/config/config.ts), so asking both ports when they differ is right whatever `--role` says.
 * No imports and no config, so it starts fast and needs only `--allow-net=127.0.0.1` and
 * `--allow-env=PORT,METRICS_PORT`.
 */

/** @returns 0 when any of the ports answers `/healthz` with 200 within `timeoutMs`, else 1. */
export async function healthcheck(ports: number[], timeoutMs = 3000): Promise<0 | 1> {
  for (const port of new Set(ports)) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      if (res.status === 200) return 0;
    } catch {
      // Not listening on this port (or too slow): try the next one.
    }
  }
  return 1;
}

if (import.meta.main) {
  const ports = [Deno.env.get("PORT") ?? "8080", Deno.env.get("METRICS_PORT")]
    .filter((p): p is string => p !== undefined && /^\d+$/.test(p))
    .map(Number);
  Deno.exit(await healthcheck(ports));
}
