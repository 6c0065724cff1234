/**
 * SCIM lookups at directory scale: `GET /Users?filter=<attr> eq "…"` against the intake (its
 * own process, `--role api`) with 1k, 10k and 100k stored users, as Okta and Entra send before
 * every write. Reported per size: p50/p99 of `userName`, `externalId`, `emails.value` and
 * `emails[value eq …]` lookups, next to two baselines measured in the same run: `id eq` (one
 * key read: the floor of any lookup) and an unindexed `externalId co` (a full walk, few samples).
 * At the largest size, 100 concurrent unindexed filters are sent and the intake's peak RSS read.
 *
 * Users are written straight into the SCIM store (500 per script call, the lookup index kept by
 * the same commit), so seeding 100k takes seconds instead of 100k POSTs.
 */
import type { Redis } from "ioredis";
import type { StoredDoc } from "../src/scim/store.ts";
import { ScimStore } from "../src/scim/store.ts";
import { spawnService } from "../test/_support/service_process.ts";
import { percentile } from "./lib/percentile.ts";
import { mib, ms } from "./lib/table.ts";

const SCIM_TOKEN = "bench-scim-token-0123456789";
const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";

export interface ScimLookupOptions {
  redisUrl: string;
  redis: Redis;
  /** Stored users at each measuring point, ascending. */
  sizes: number[];
  /** Lookups per kind and size. */
  samples: number;
  /** Samples of the unindexed baseline (each reads every user). */
  scanSamples: number;
  /** Unindexed filters sent at once at the largest size. */
  concurrentScans: number;
  /** Extra environment for the intake (e.g. `DENO_V8_FLAGS`). @default {} */
  intakeEnv?: Record<string, string>;
  log: (line: string) => void;
}

export interface LookupStat {
  p50Ms: number;
  p99Ms: number;
}

export interface ScimLookupPoint {
  users: number;
  /** Kind -> latency; kinds: id, userName, externalId, emails.value, emails[value], scan. */
  lookups: Record<string, LookupStat>;
}

export interface ScimLookupResults {
  points: ScimLookupPoint[];
  concurrent: {
    users: number;
    filters: number;
    seconds: number;
    intakeRssBefore: number;
    /** VmHWM before the concurrent filters (the sequential runs' peak). */
    intakePeakRssBefore: number;
    intakePeakRss: number;
  };
}

const email = (i: number) => `user.${i}@Directory.Example`;

function userDoc(i: number, time: string): StoredDoc {
  return {
    schemas: [USER_SCHEMA],
    id: crypto.randomUUID(),
    userName: email(i),
    name: { givenName: "User", familyName: `Number${i}` },
    displayName: `User Number${i}`,
    emails: [{ value: email(i), type: "work", primary: true }],
    externalId: `00u${i.toString(36).padStart(8, "0")}`,
    active: true,
    meta: { resourceType: "User", created: time, lastModified: time, version: 'W/"1"' },
  } as StoredDoc;
}

/** Adds users `from..to-1` to the store, 500 per atomic commit; returns their ids. */
async function seed(store: ScimStore, from: number, to: number): Promise<string[]> {
  const ids: string[] = [];
  const time = new Date().toISOString();
  for (let i = from; i < to; i += 500) {
    const docs = Array.from({ length: Math.min(500, to - i) }, (_, k) => userDoc(i + k, time));
    const writes = docs.map((doc) => ({
      type: "User" as const,
      id: doc.id,
      expect: 0,
      doc,
      newUnique: (doc.userName as string).toLowerCase(),
    }));
    const r = await store.commit(writes, []);
    if (!r.ok) throw new Error(`seeding refused: ${r.reason}`);
    ids.push(...docs.map((d) => d.id));
  }
  return ids;
}

export async function benchScimLookup(o: ScimLookupOptions): Promise<ScimLookupResults> {
  await o.redis.flushall();
  const store = new ScimStore(o.redis);
  const api = await spawnService("api", {
    env: {
      REDIS_URL: o.redisUrl,
      EVENTS_TOKEN: "bench-events-token-0123456789",
      SCIM_TOKEN,
      ...o.intakeEnv,
    },
    discardStdout: true,
  });
  const get = async (filter: string): Promise<{ ms: number; total: number }> => {
    const t0 = performance.now();
    const res = await fetch(`${api.url}/scim/v2/Users?filter=${encodeURIComponent(filter)}`, {
      headers: { authorization: `Bearer ${SCIM_TOKEN}` },
    });
    const body = await res.json();
    const elapsed = performance.now() - t0;
    if (res.status !== 200) throw new Error(`lookup ${filter}: ${res.status}`);
    return { ms: elapsed, total: body.totalResults };
  };
  const points: ScimLookupPoint[] = [];
  const ids: string[] = [];
  try {
    for (const size of o.sizes) {
      ids.push(...await seed(store, ids.length, size));
      const kinds: Record<string, (i: number) => string> = {
        id: (i) => `id eq "${ids[i]}"`,
        userName: (i) => `userName eq "${email(i).toLowerCase()}"`,
        externalId: (i) => `externalId eq "00u${i.toString(36).padStart(8, "0")}"`,
        "emails.value": (i) => `emails.value eq "${email(i).toUpperCase()}"`,
        "emails[value]": (i) => `emails[value eq "${email(i)}"]`,
      };
      // Warm up: connections, JIT, and the one-time index check.
      for (const k of Object.values(kinds)) await get(k(0));
      const lookups: Record<string, LookupStat> = {};
      for (const [name, filter] of Object.entries(kinds)) {
        const times: number[] = [];
        for (let s = 0; s < o.samples; s++) {
          const i = Math.floor(Math.random() * size);
          const r = await get(filter(i));
          if (r.total !== 1) throw new Error(`${name} lookup found ${r.total} users, not 1`);
          times.push(r.ms);
        }
        lookups[name] = { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
      }
      const scans: number[] = [];
      for (let s = 0; s < o.scanSamples; s++) {
        scans.push((await get(`externalId co "${Math.floor(Math.random() * 1e6)}x"`)).ms);
      }
      lookups.scan = { p50Ms: percentile(scans, 50), p99Ms: percentile(scans, 99) };
      points.push({ users: size, lookups });
      o.log(
        `  ${size} users: ` +
          Object.entries(lookups).map(([k, v]) => `${k} p50 ${ms(v.p50Ms)} ms`).join(", "),
      );
    }

    const { rss: before, peakRss: peakBefore } = api.memory()!;
    const t0 = performance.now();
    // Arbitrary filters no index answers, all at once, as a misbehaving client might.
    await Promise.all(Array.from({ length: o.concurrentScans }, (_, k) =>
      get(
        `name.familyName co "${k}7" or (displayName sw "User" and emails.value ew ".example")`,
      )));
    const concurrent = {
      users: ids.length,
      filters: o.concurrentScans,
      seconds: (performance.now() - t0) / 1000,
      intakeRssBefore: before,
      intakePeakRssBefore: peakBefore,
      intakePeakRss: api.memory()!.peakRss,
    };
    o.log(
      `  ${o.concurrentScans} concurrent unindexed filters at ${ids.length} users: ` +
        `${concurrent.seconds.toFixed(1)} s, intake RSS ${mib(before)} (peak so far ${
          mib(peakBefore)
        }) -> peak ${mib(concurrent.intakePeakRss)}`,
    );
    return { points, concurrent };
  } finally {
    await api.kill("SIGTERM");
    await o.redis.flushall();
  }
}
