/**
 * The operator CLI against a running service: `--json` output parses, exit codes are right
 * (0 ok, 1 failure or drift when asked, 2 usage), and it needs no EVENTS_TOKEN. Mostly run
 * in-process through `main()`; one run is a real subprocess.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness({
    env: { JOB_ATTEMPTS: "1", IONOS_MAX_ATTEMPTS: "1", RECONCILE_INTERVAL_MINUTES: "60" },
  });
  // Only what an operator's shell would have: no intake or admin credentials.
  env = { REDIS_URL: h.env.REDIS_URL!, IONOS_API_URL: h.sim.url, IONOS_TOKEN: "sim-token" };
});
afterAll(async () => await h.stop());

async function cli(args: string[], withEnv: Record<string, string> = env) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, withEnv, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const json = async <T = Record<string, unknown>>(args: string[], expectCode = 0) => {
  const r = await cli([...args, "--json"]);
  expect(r.code, r.stderr).toBe(expectCode);
  return JSON.parse(r.stdout) as T;
};

describe("cli usage", () => {
  it.each([
    [[], 2],
    [["--help"], 0],
    [["jobs", "--help"], 0],
    [["jobs", "retry", "--help"], 0],
    [["reconcile", "--help"], 0],
    [["nope"], 2],
    [["jobs", "nope"], 2],
    [["jobs", "list", "--state", "bogus"], 2],
    [["jobs", "list", "--bogus"], 2],
    [["jobs", "discard", "1"], 2],
    [["jobs", "retry"], 2],
    [["jobs", "retry", "1", "--all"], 2],
    [["jobs", "show"], 2],
    [["events", "replay"], 2],
    [["events", "list", "--since", "yesterday"], 2],
  ])("cli %j exits %i", async (args, code) => {
    expect((await cli(args as string[])).code).toBe(code);
  });

  it("prints help on stdout and usage errors on stderr", async () => {
    const help = await cli(["jobs", "list", "--help"]);
    expect(help.stdout).toContain("usage: cli jobs list");
    expect(help.stdout).toContain("--json");
    const bad = await cli(["jobs", "list", "--state", "bogus"]);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("--state must be one of");
  });

  it("reports a bad environment as a configuration problem (exit 2)", async () => {
    const r = await cli(["status"], { REDIS_URL: "http://nope" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("REDIS_URL");
  });
});

describe("cli commands", () => {
  it("status: JSON with counts, pause state and the reconcile schedule", async () => {
    const s = await json<{ jobs: { failed: number }; queuePaused: boolean; reconcile: unknown }>(
      ["status"],
    );
    expect(s.jobs.failed).toBe(0);
    expect(s.queuePaused).toBe(false);
    expect(s.reconcile).toMatchObject({ scheduled: true, everyMinutes: 60, mode: "report" });
    const human = await cli(["status"]);
    expect(human.stdout).toMatch(/queuePaused:\s+false/);
  });

  it("jobs, events and whois for a synced user", async () => {
    await h.postEvents(userEvent("user.created", "cli-1", "cleo.cli@example.com"));
    await h.drain();
    const jobs = await json<{ id: string; entity: string }[]>([
      "jobs",
      "list",
      "--state",
      "completed",
      "--entity",
      "user:cli-1",
    ]);
    expect(jobs).toHaveLength(1);
    const job = await json<{ data: unknown; state: string }>(["jobs", "show", jobs[0]!.id]);
    expect(job).toMatchObject({ data: { kind: "user", id: "cli-1" }, state: "completed" });
    const missing = await cli(["jobs", "show", "999999", "--json"]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: "not_found" });

    const events = await json<{ type: string }[]>(["events", "list", "--entity", "user:cli-1"]);
    expect(events.map((e) => e.type)).toEqual(["user.created"]);
    const who = await json<{ entity: string; twin: { ionosId: string } }>([
      "whois",
      "cleo.cli@example.com",
      "--live",
    ]);
    expect(who.entity).toBe("user:cli-1");
    expect(who).toMatchObject({ ionos: { properties: { email: "cleo.cli@example.com" } } });
    const human = await cli(["whois", "cleo.cli@example.com"]);
    expect(human.stdout).toContain("recent events:");
    expect(human.stdout).toContain("user.created");
  });

  it("retries failed jobs after an outage", async () => {
    h.sim.sim.setFaults({ error5xxRate: 1, status5xx: 503 });
    await h.postEvents(userEvent("user.created", "cli-2", "cato.cli@example.com"));
    const deadline = Date.now() + 10_000;
    while ((await h.stats()).jobs.failed < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    h.sim.sim.setFaults({});
    const failed = await json<{ lastError: string }[]>(["jobs", "list"]);
    expect(failed[0]!.lastError).toMatch(/503/);
    expect((await cli(["status", "--exit-code"])).code).toBe(1);
    const human = await cli(["jobs", "list"]);
    expect(human.stdout).toMatch(/^ID\s+ENTITY\s+ATTEMPTS/);
    const retried = await json<{ retried: { entity: string }[] }>(["jobs", "retry", "--all"]);
    expect(retried.retried.map((r) => r.entity)).toEqual(["user:cli-2"]);
    await h.drain();
    expect(h.sim.sim.state.userByEmail("cato.cli@example.com")).toBeDefined();
    expect((await cli(["status", "--exit-code"])).code).toBe(0);
  });

  it("pause and resume", async () => {
    expect(await json(["pause", "--reason", "maintenance"])).toEqual({ paused: true });
    expect((await json<{ queuePaused: boolean }>(["status"])).queuePaused).toBe(true);
    expect((await cli(["status", "--exit-code"])).code).toBe(1);
    expect(await json(["resume"])).toEqual({ paused: false });
  });

  it("reconcile: --dry-run --exit-code finds drift (1), a fix clears it (0)", async () => {
    const id = h.sim.sim.state.userByEmail("cleo.cli@example.com")!.id;
    h.sim.sim.state.updateUser(id, { lastname: "Edited" });
    const dry = await json<{ counts: { update: number }; enqueued: string[] }>(
      ["reconcile", "--dry-run", "--exit-code"],
      1,
    );
    expect(dry.counts.update).toBe(1);
    expect(dry.enqueued).toEqual([]);
    const table = await cli(["reconcile", "--dry-run"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ACTION\s+COUNT/);
    expect(table.stdout).toMatch(/update\s+1/);

    const fix = await json<{ enqueued: string[] }>(["reconcile"]);
    expect(fix.enqueued).toEqual(["user:cli-1"]);
    await h.drain();
    const clean = await cli(["reconcile", "--dry-run", "--exit-code", "--json"]);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout).items).toEqual([]);
  });

  it("draws progress on stderr only when it is a terminal", async () => {
    const err: string[] = [];
    const out: string[] = [];
    const code = await main(["reconcile", "--dry-run", "--json"], env, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      isTTY: true,
    });
    expect(code).toBe(0);
    expect(err.join("")).toContain("IONOS users: ");
    expect(JSON.parse(out.join(""))).toHaveProperty("counts");
  });

  it("reconcile without IONOS credentials is a usage problem (2)", async () => {
    const r = await cli(["reconcile", "--dry-run"], { REDIS_URL: env.REDIS_URL! });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("IONOS_TOKEN");
  });

  it("events replay --dry-run lists what would be replayed", async () => {
    const r = await json<{ dryRun: boolean; selected: number }>(
      ["events", "replay", "--entity", "user:cli-1", "--dry-run"],
    );
    expect(r).toMatchObject({ dryRun: true, selected: 1 });
  });

  it("runs as a real subprocess with trustworthy exit codes", async () => {
    const run = (args: string[]) =>
      new Deno.Command("./node_modules/deno/deno", {
        args: ["run", "--quiet", "-A", "src/cli/main.ts", ...args],
        env: { ...env, NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await run(["status", "--json"]);
    expect(ok.code, new TextDecoder().decode(ok.stderr)).toBe(0);
    expect(JSON.parse(new TextDecoder().decode(ok.stdout))).toHaveProperty("jobs");
    expect((await run(["jobs", "list", "--state", "nope"])).code).toBe(2);
  });
});
