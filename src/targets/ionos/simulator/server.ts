/** Serves a simulator over real HTTP with `Deno.serve`. */
import { createIonosSimulator, type IonosSimulator } from "./app.ts";
import type { SimulatorOptions } from "./options.ts";
import { API_BASE } from "./um_routes.ts";

/** Options for {@linkcode startIonosSimulator}. */
export interface ServeOptions extends SimulatorOptions {
  /** Port; 0 picks a free one. @default {0} */
  port?: number | undefined;
  /** Interface to listen on. @default {"127.0.0.1"} */
  hostname?: string | undefined;
}

/** A simulator listening on a port. */
export interface RunningSimulator {
  /** API base URL, ending in `/cloudapi/v6`. */
  url: string;
  port: number;
  sim: IonosSimulator;
  /** Stops listening and waits for open connections to finish. */
  close(): Promise<void>;
}

/**
 * Starts a simulator on `hostname:port`.
 *
 * @example
 * ```ts
 * const { url, close } = await startIonosSimulator({ requestDelayMs: 0 });
 * await fetch(`${url}/um/users`, { headers: { Authorization: "Bearer sim-token" } });
 * await close();
 * ```
 */
export function startIonosSimulator(options: ServeOptions = {}): Promise<RunningSimulator> {
  const { port = 0, hostname = "127.0.0.1", ...simOptions } = options;
  const sim = createIonosSimulator(simOptions);
  const server = Deno.serve(
    { port, hostname, onListen: () => {} }, // quiet: callers print what they need
    (req) => sim.app.fetch(req),
  );
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return Promise.resolve({
    url: `http://${host}:${addr.port}${API_BASE}`,
    port: addr.port,
    sim,
    close: () => server.shutdown(),
  });
}
