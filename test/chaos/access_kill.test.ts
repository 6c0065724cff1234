/**
 * A worker process is SIGKILLed while it shares resources with groups, and again while it closes
 * the S3 keys of users being offboarded. A new worker finishes the jobs: every group ends with
 * exactly its mapped shares (a share created just before the kill is known as the sync's own,
 * because it was recorded before its write), every deactivated account has all its keys off, and
 * at reactivation exactly the keys the sync turned off come back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "./_lib/cluster.ts";
import { directoryLoad } from "../_support/directory.ts";

const R1 = "c4a05000-0000-4000-8000-000000000001";
const R2 = "c4a05000-0000-4000-8000-000000000002";
const GROUPS = 6;

let c: Cluster;
let mappingFile: string;
beforeAll(async () => {
  mappingFile = await Deno.makeTempFile({ suffix: ".yaml" });
  const shares = Array.from(
    { length: GROUPS },
    (_, g) =>
      `    ak-group-${g}: [{ resource: "${R1}", edit: true }, { resource: "${R2}", share: true }]`,
  ).join("\n");
  await Deno.writeTextFile(mappingFile, `groups:\n  shares:\n${shares}\n`);
  c = await startCluster({
    // Slow enough that each kill lands mid-load.
    workerEnv: { IONOS_RATE_LIMIT_RPS: "40", WORKER_CONCURRENCY: "6", SYNC_CONFIG: mappingFile },
  });
  c.sim.sim.access.addResource("datacenter", "dc", R1);
  c.sim.sim.access.addResource("snapshot", "snap", R2);
});
afterAll(async () => {
  await c.stop();
  await Deno.remove(mappingFile);
});

const writesOn = (pattern: RegExp) =>
  c.sim.sim.callLog.filter((x) => x.method !== "GET" && pattern.test(x.path) && x.status === 202)
    .length;

async function waitUntil(what: string, check: () => boolean, lines: string[]) {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what}:\n${lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a worker killed with SIGKILL while it writes shares and S3 keys", () => {
  it(
    "converges to exactly the mapped shares, then closes and reopens exactly the right keys",
    async () => {
      const state = c.sim.sim.state;
      const { dir, bodies } = directoryLoad("ak", 36, GROUPS, 12);
      const first = await c.spawnWorker();
      for (const body of bodies) expect((await c.post(body)).status).toBe(202);
      await waitUntil("share writes", () => writesOn(/\/shares\//) > 0, first.lines);
      expect((await first.kill("SIGKILL")).signal).toBe("SIGKILL");
      const second = await c.spawnWorker();
      await c.drain(90_000);
      expect(await c.failures()).toEqual([]);
      for (const g of dir.groups) {
        const ionos = state.groups().filter((x) => x.properties.name === g.name);
        expect(ionos, g.name).toHaveLength(1);
        expect(c.sim.sim.access.shares(ionos[0]!.id), g.name).toEqual([
          { resourceId: R1, editPrivilege: true, sharePrivilege: false },
          { resourceId: R2, editPrivilege: false, sharePrivilege: true },
        ]);
      }

      // Every account gets two active keys and one turned off by hand; then all are offboarded.
      const keys = new Map<string, { on: string[]; off: string }>();
      for (const u of dir.users) {
        const id = state.userByEmail(u.email)!.id;
        keys.set(u.email, {
          on: [c.sim.sim.access.addS3Key(id).id, c.sim.sim.access.addS3Key(id).id],
          off: c.sim.sim.access.addS3Key(id, false).id,
        });
      }
      const userEvent = (type: string, u: { id: string; email: string }) => ({
        id: `${type}-${u.id}`,
        type,
        data: { id: u.id, userName: u.email, emails: [{ value: u.email, primary: true }] },
      });
      const before = writesOn(/\/s3keys\//);
      expect(
        (await c.post({ events: dir.users.map((u) => userEvent("user.deactivated", u)) })).status,
      )
        .toBe(202);
      await waitUntil("key writes", () => writesOn(/\/s3keys\//) > before, second.lines);
      expect((await second.kill("SIGKILL")).signal).toBe("SIGKILL");
      const third = await c.spawnWorker();
      await c.drain(90_000);
      expect(await c.failures()).toEqual([]);
      for (const u of dir.users) {
        const id = state.userByEmail(u.email)!.id;
        expect(state.user(id)!.properties.active, u.email).toBe(false);
        expect(c.sim.sim.access.s3Keys(id).map((k) => k.active), u.email).toEqual([
          false,
          false,
          false,
        ]);
      }

      expect(
        (await c.post({ events: dir.users.map((u) => userEvent("user.reactivated", u)) })).status,
      ).toBe(202);
      await c.drain(90_000);
      expect(await c.failures()).toEqual([]);
      for (const u of dir.users) {
        const id = state.userByEmail(u.email)!.id;
        const byId = new Map(c.sim.sim.access.s3Keys(id).map((k) => [k.id, k.active]));
        const mine = keys.get(u.email)!;
        expect([...mine.on.map((k) => byId.get(k)), byId.get(mine.off)], u.email).toEqual([
          true,
          true,
          false,
        ]);
      }
      expect(third.counts.get("sync done") ?? 0).toBeGreaterThan(0);
    },
    180_000,
  );
});
