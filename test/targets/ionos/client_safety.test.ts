/**
 * What the IONOS client must never do with a new user's password, against real HTTP servers on
 * loopback ports (findings 11 and 12 of issue 10).
 */
import { afterEach, describe, expect, it } from "vitest";
import { IonosClient } from "../../../src/targets/ionos/client.ts";
import { IonosApiError, IonosRequestFailedError } from "../../../src/targets/ionos/errors.ts";

const TOKEN = "tok-client-safety-0123456789";
// Has the characters JSON escapes, so an echo inside a JSON body reads differently from it.
const PASSWORD = 'Gen"erated\\Pass-7Qx9zLm2';
const servers: Deno.HttpServer<Deno.NetAddr>[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.shutdown();
});

function serve(handler: (req: Request, body: string) => Response): {
  url: string;
  seen: string[];
} {
  const seen: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const body = await req.text();
    seen.push(`${req.method} ${new URL(req.url).pathname} ${body}`);
    return handler(req, body);
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.addr.port}/cloudapi/v6`, seen };
}

const client = (baseUrl: string) =>
  new IonosClient({
    baseUrl,
    auth: { token: TOKEN },
    maxAttempts: 2,
    baseDelayMs: 1,
    requestPollIntervalMs: 5,
  });

const user = {
  firstname: "Ada",
  lastname: "Lovelace",
  email: "ada@example.com",
  password: PASSWORD,
  administrator: false,
  forceSecAuth: false,
  active: true,
};

function expectNoPassword(err: unknown) {
  const texts = [String(err), (err as Error).message, JSON.stringify(err), (err as Error).stack];
  for (const t of texts) {
    expect(t).not.toContain(PASSWORD);
    expect(t).not.toContain(JSON.stringify(PASSWORD).slice(1, -1));
  }
}

describe("IonosClient and a new user's password", () => {
  // Finding 11: a 307 re-sent POST /um/users, with the password, to another port.
  it("does not follow a redirect, and a 3xx is an error", async () => {
    const elsewhere = serve(() => Response.json({ id: "stolen" }, { status: 202 }));
    const ionos = serve(() =>
      new Response(null, {
        status: 307,
        headers: { location: `${elsewhere.url}/um/users` },
      })
    );
    const err = await client(ionos.url).createUser(user).catch((e) => e);
    expect(err).toBeInstanceOf(IonosApiError);
    expect(err.status).toBe(307);
    expect(err.retryable).toBe(false);
    expect(ionos.seen).toHaveLength(1);
    expect(elsewhere.seen).toEqual([]);
    expectNoPassword(err);
  });

  // Finding 12: a FAILED status that echoes the request body put the password in the log, the
  // failed job, its events stream and SCIM's lastError, all of which take the error message.
  it("removes the password from a FAILED status that echoes the request", async () => {
    let echoed = "";
    const ionos = serve((req, body) => {
      const path = new URL(req.url).pathname;
      if (req.method === "POST") {
        echoed = body;
        return Response.json({ id: "u-1", properties: {} }, {
          status: 202,
          headers: { location: `${new URL(req.url).origin}/cloudapi/v6/requests/r-1/status` },
        });
      }
      if (path.endsWith("/requests/r-1/status")) {
        return Response.json({
          id: "r-1",
          metadata: { status: "FAILED", message: `[VDC-1-1] invalid request: ${echoed}` },
        });
      }
      return new Response("not found", { status: 404 });
    });
    const err = await client(ionos.url).createUser(user).catch((e) => e);
    expect(err).toBeInstanceOf(IonosRequestFailedError);
    expect(echoed).toContain(JSON.stringify(PASSWORD).slice(1, -1));
    expect(err.message).toContain("[redacted]");
    expect(err.message).toContain("ada@example.com"); // the rest of the message is kept
    expectNoPassword(err);
  });
});
