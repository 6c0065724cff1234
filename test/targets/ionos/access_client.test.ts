/** IonosClient's share, resource and S3 key calls against the simulator over HTTP. */
import { afterEach, describe, expect, it } from "vitest";
import { IonosClient } from "../../../src/targets/ionos/client.ts";
import { IonosApiError } from "../../../src/targets/ionos/errors.ts";
import { createLogger } from "../../../src/log.ts";
import {
  type IonosSimulator,
  startIonosSimulator,
} from "../../../src/targets/ionos/simulator/mod.ts";

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function setup(): Promise<{ sim: IonosSimulator; ionos: IonosClient; logs: string[] }> {
  const { url, sim, close } = await startIonosSimulator({
    rateLimitPerSecond: 0,
    requestTiming: { duration: { kind: "fixed", ms: 30 }, failRate: 0 },
  });
  closers.push(close);
  const logs: string[] = [];
  const ionos = new IonosClient({
    baseUrl: url,
    auth: { token: "sim-token" },
    requestPollIntervalMs: 10,
    baseDelayMs: 5,
    logger: createLogger({ level: "debug", write: (l) => logs.push(l) }),
  });
  return { sim, ionos, logs };
}

describe("IonosClient shares and resources", () => {
  it("creates, changes, lists and removes a share, each write waiting for DONE", async () => {
    const { sim, ionos } = await setup();
    const g = sim.state.addGroup({ name: "team" });
    const dc = sim.access.addResource("datacenter", "dc");
    expect((await ionos.listResources()).map((r) => r.id)).toEqual([dc.id]);

    await ionos.addGroupShare(g.id, dc.id, { edit: true, share: false });
    // Waited: the request is DONE by the time the call returns.
    const done = sim.callLog.filter((c) => c.path.includes("/requests"));
    expect(done.length).toBeGreaterThan(0);
    expect(await ionos.listGroupShares(g.id)).toMatchObject([
      { id: dc.id, properties: { editPrivilege: true, sharePrivilege: false } },
    ]);
    await ionos.updateGroupShare(g.id, dc.id, { edit: false, share: true });
    expect(sim.access.share(g.id, dc.id)).toMatchObject({
      editPrivilege: false,
      sharePrivilege: true,
    });
    await ionos.removeGroupShare(g.id, dc.id);
    await ionos.removeGroupShare(g.id, dc.id); // already gone: done
    expect(await ionos.listGroupShares(g.id)).toEqual([]);
  });

  it("throws a 404 IonosApiError for a resource that does not exist", async () => {
    const { sim, ionos } = await setup();
    const g = sim.state.addGroup({ name: "team" });
    const err = await ionos.addGroupShare(g.id, crypto.randomUUID(), { edit: false, share: false })
      .catch((e) => e);
    expect(err).toBeInstanceOf(IonosApiError);
    expect((err as IonosApiError).status).toBe(404);
  });
});

describe("IonosClient S3 keys", () => {
  it("hands out ids and states only: the secrets IONOS sends go nowhere", async () => {
    const { sim, ionos, logs } = await setup();
    const u = sim.state.addUser({ firstname: "A", lastname: "B", email: "a@x.org" });
    const k1 = sim.access.addS3Key(u.id);
    const k2 = sim.access.addS3Key(u.id, false);
    const keys = await ionos.listS3Keys(u.id);
    expect(keys).toEqual([{ id: k1.id, active: true }, { id: k2.id, active: false }]);
    await ionos.setS3KeyActive(u.id, k1.id, false);
    await ionos.deleteS3Key(u.id, k2.id);
    await ionos.deleteS3Key(u.id, k2.id); // already gone: done
    expect(sim.access.s3Keys(u.id)).toMatchObject([{ id: k1.id, active: false }]);
    const all = JSON.stringify(keys) + logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    expect(all).not.toContain(k1.secretKey);
    expect(all).not.toContain(k2.secretKey);
  });
});
