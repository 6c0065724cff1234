/**
 * The Dockerfile and compose.yaml read as files: a linter (dockerfile-utils, the validator
 * behind VS Code's Docker support), every COPY source exists, the command matches
 * `deno task start`, and the rules an image build cannot show (what compose does with a
 * variable, what goes into the build context). `image.test.ts` builds and runs the image.
 */
import { describe, expect, it } from "vitest";
import { validate } from "dockerfile-utils";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

const dockerfile = readFileSync("Dockerfile", "utf8");
const lines = dockerfile.split("\n");
/** The Dockerfile without its comments. */
const code = lines.filter((l) => !l.trimStart().startsWith("#")).join("\n");
const instructions = (name: string) => lines.filter((l) => l.startsWith(`${name} `));

describe("Dockerfile", () => {
  it("has no linter errors or warnings", () => {
    const problems = validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it("pins every base image", () => {
    for (const from of instructions("FROM")) {
      const image = from.split(/\s+/)[1]!;
      expect(image, from).toMatch(/:[\w.-]*\d/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it("copies only files that exist", () => {
    for (const copy of instructions("COPY").filter((c) => !c.includes("--from="))) {
      const sources = copy.split(/\s+/).slice(1, -1);
      for (const s of sources) expect(existsSync(s), `${copy}: ${s}`).toBe(true);
    }
  });

  it("runs as a non-root user, exposes 8080 and checks /healthz", () => {
    expect(instructions("USER")).toEqual(["USER deno"]);
    expect(instructions("EXPOSE")).toEqual(["EXPOSE 8080"]);
    // The check's command (comments aside) runs a script that asks /healthz.
    expect(code).toMatch(/HEALTHCHECK[^\n]*\\\n\s*CMD \[.*"src\/healthcheck\.ts"\]/);
    expect(readFileSync("src/healthcheck.ts", "utf8")).toContain("/healthz");
  });

  it("starts exactly as `deno task start` does, with explicit permissions", () => {
    const tasks = JSON.parse(readFileSync("deno.json", "utf8")).tasks as Record<string, string>;
    const task = tasks.start!.split(/\s+/).slice(1); // drop the deno binary path
    const entry = JSON.parse(instructions("ENTRYPOINT")[0]!.slice("ENTRYPOINT ".length));
    // Finding 1: tini is PID 1, deno its child.
    expect(entry.slice(0, 3)).toEqual(["/tini", "--", "deno"]);
    expect(entry.slice(3)).toEqual(task);
    expect(task).not.toContain("-A");
    expect(task).not.toContain("--allow-all");
  });

  // Findings 3 and 4: `chown -R` stored /app twice and left the code writable; `deno cache`
  // as root left a root-owned cache that the runtime user could not write.
  it("copies the code without chown and runs no cache step", () => {
    expect(code).not.toMatch(/chown/);
    expect(code).not.toMatch(/deno cache|deno install/);
  });

  // Finding 8: Node 20 reached end of life on 2026-04-30.
  it("builds with a Node line that still gets updates", () => {
    const node = instructions("FROM").map((f) => /node:(\d+)/.exec(f)?.[1]).find(Boolean);
    // Node 22 is in maintenance until 2027-04-30, Node 24 until 2028-04-30 (nodejs.org/about/releases).
    expect(Number(node)).toBeGreaterThanOrEqual(22);
    expect(Number(node) % 2, "even majors are the LTS lines").toBe(0);
  });

  // Finding 8: without it the context carried node_modules (171 MB), .git and .data.
  it("keeps the build context to what the Dockerfile copies", () => {
    const ignore = readFileSync(".dockerignore", "utf8").split("\n").map((l) => l.trim());
    expect(ignore).toContain("*");
    const copied = instructions("COPY").filter((c) => !c.includes("--from="))
      .flatMap((c) => c.split(/\s+/).slice(1, -1));
    for (const path of copied) {
      expect(ignore.some((l) => l === `!${path}` || l === `!${path}/`), path).toBe(true);
    }
  });

  it("uses the same Deno version as package.json's dev dependency", () => {
    const installed = JSON.parse(readFileSync("node_modules/deno/package.json", "utf8")).version;
    expect(dockerfile).toContain(`denoland/deno:debian-${installed}`);
  });
});

describe("compose.yaml", () => {
  const compose = parseYaml(readFileSync("compose.yaml", "utf8"));

  it("runs Redis append-only with noeviction", () => {
    const cmd = compose.services.redis.command.join(" ");
    expect(cmd).toContain("--appendonly yes");
    expect(cmd).toContain("--maxmemory-policy noeviction");
  });

  // Finding 6: podman-compose passes `${VAR:-}` through literally (and `${ADMIN_TOKEN:-}`
  // passed the 16-character check); plain `${VAR}` works with both implementations.
  it("uses only plain ${VAR} references", () => {
    const text = readFileSync("compose.yaml", "utf8").replace(/^\s*#.*$/gm, "");
    const refs = [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(r).toMatch(/^[A-Z_][A-Z0-9_]*$/);
  });

  // Finding 8: every compose command, even `ps`, demanded IONOS_TOKEN (`${IONOS_TOKEN:?...}`).
  it("needs no variable to be set for commands such as ps", () => {
    expect(readFileSync("compose.yaml", "utf8").replace(/^\s*#.*$/gm, "")).not.toMatch(/:\?/);
  });

  // Finding 7: podman's default image format drops the Dockerfile's HEALTHCHECK.
  it("gives every service a healthcheck, the sync one the image's own", () => {
    for (
      const [name, service] of Object.entries(
        compose.services as Record<string, { healthcheck?: { test?: unknown } }>,
      )
    ) {
      expect(service.healthcheck?.test, name).toBeDefined();
    }
    const hc = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)?.[1];
    expect(compose.services.sync.healthcheck.test).toEqual(["CMD", ...JSON.parse(hc!)]);
  });

  it("mounts a mapping file that exists and is valid", async () => {
    const { loadMapping } = await import("../../src/config/mapping.ts");
    const volume = compose.services.sync.volumes[0] as string;
    const file = volume.split(":")[0]!;
    await expect(loadMapping(file)).resolves.toMatchObject({ onUserDeleted: "delete" });
  });
});
