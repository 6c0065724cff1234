/**
 * The README's first command, as a new user meets it: `deno task dev` prints a banner; the curl
 * in it creates a user, and the user shows up in the simulator.
 */
import { expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

it("starts on embedded defaults and the banner's curl creates a user in the simulator", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sync-dev-"));
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    PORT: "0",
    DEV_DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
  };
  for (
    const k of ["REDIS_URL", "IONOS_TOKEN", "IONOS_USERNAME", "IONOS_PASSWORD", "EVENTS_TOKEN"]
  ) {
    delete env[k];
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/dev.ts"],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    const deadline = Date.now() + 30_000;
    while (!/Then see it in the simulator[\s\S]*={10}/.test(out) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    expect(out).toContain("SANDBOX");
    const token = /EVENTS_TOKEN=(\S+)/.exec(out)![1]!;
    const url = /-X POST (\S+\/events)/.exec(out)![1]!;
    const body = /-d '(\{.*\})'/.exec(out)![1]!;
    const sim = /curl -sS (\S+\/um\/users\?depth=1)/.exec(out)![1]!;

    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });

    let emails: string[] = [];
    for (let i = 0; i < 100 && !emails.includes("ada@example.com"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const list = await (await fetch(sim, { headers: { authorization: "Bearer sim-token" } }))
        .json();
      emails = list.items.map((u: { properties: { email: string } }) => u.properties.email);
    }
    expect(emails).toEqual(["ada@example.com"]);
  } finally {
    child.kill("SIGTERM");
    // A clean shutdown exits 0 and stops the embedded Redis with it.
    expect((await child.status).code).toBe(0);
    await reader.cancel().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
});
