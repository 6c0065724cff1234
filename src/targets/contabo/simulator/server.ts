/** Serves the Contabo simulator over real HTTP with `Deno.serve`. */
import {
  CONTABO_SIM_TOKEN_PATH,
  type ContaboSimulator,
  type ContaboSimulatorOptions,
  createContaboSimulator,
} from "./app.ts";

/** A simulator listening on a port. */
export interface RunningContaboSimulator {
  /** API base URL (what CONTABO_API_URL would be). */
  url: string;
  /** Token endpoint URL (what CONTABO_AUTH_URL would be). */
  authUrl: string;
  sim: ContaboSimulator;
  close(): Promise<void>;
}

/**
 * Starts a Contabo simulator on 127.0.0.1 and a free port.
 *
 * @example
 * const { url, authUrl, close } = await startContaboSimulator();
 */
export function startContaboSimulator(
  options: ContaboSimulatorOptions & { port?: number } = {},
): Promise<RunningContaboSimulator> {
  const { port = 0, ...simOptions } = options;
  const sim = createContaboSimulator(simOptions);
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", onListen: () => {} },
    (req) => sim.app.fetch(req),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return Promise.resolve({
    url,
    authUrl: `${url}${CONTABO_SIM_TOKEN_PATH}`,
    sim,
    close: () => server.shutdown(),
  });
}
