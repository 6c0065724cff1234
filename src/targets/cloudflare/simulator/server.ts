/** Serves the Cloudflare simulator over real HTTP with `Deno.serve`. */
import {
  type CloudflareSimulator,
  type CloudflareSimulatorOptions,
  createCloudflareSimulator,
} from "./app.ts";

/** A simulator listening on a port. */
export interface RunningCloudflareSimulator {
  /** API base URL ending in `/client/v4` (what CLOUDFLARE_API_URL would be). */
  url: string;
  sim: CloudflareSimulator;
  close(): Promise<void>;
}

/**
 * Starts a Cloudflare simulator on 127.0.0.1 and a free port.
 *
 * @example
 * const { url, close } = await startCloudflareSimulator({ rateLimit: 0 });
 */
export function startCloudflareSimulator(
  options: CloudflareSimulatorOptions & { port?: number } = {},
): Promise<RunningCloudflareSimulator> {
  const { port = 0, ...simOptions } = options;
  const sim = createCloudflareSimulator(simOptions);
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", onListen: () => {} },
    (req) => sim.app.fetch(req),
  );
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}/client/v4`,
    sim,
    close: () => server.shutdown(),
  });
}
