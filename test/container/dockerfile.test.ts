/**
 * No Docker engine runs here, so the Dockerfile is checked offline: a linter (dockerfile-utils,
 * the validator behind VS Code's Docker support), every COPY source exists, and the command
 * matches `deno task start`.
 */
import { describe, expect, it } from "vitest";
import { validate } from "dockerfile-utils";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

const dockerfile = readFileSync("Dockerfile", "utf8");
const lines = dockerfile.split("\n");
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
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
  });

  it("starts exactly as `deno task start` does, with explicit permissions", () => {
    const tasks = JSON.parse(readFileSync("deno.json", "utf8")).tasks as Record<string, string>;
    const task = tasks.start!.split(/\s+/).slice(1); // drop the deno binary path
    const entry = JSON.parse(instructions("ENTRYPOINT")[0]!.slice("ENTRYPOINT ".length));
    expect(entry.slice(1)).toEqual(task);
    expect(task).not.toContain("-A");
    expect(task).not.toContain("--allow-all");
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

  it("mounts a mapping file that exists and is valid", async () => {
    const { loadMapping } = await import("../../src/config/mapping.ts");
    const volume = compose.services.sync.volumes[0] as string;
    const file = volume.split(":")[0]!;
    await expect(loadMapping(file)).resolves.toMatchObject({ onUserDeleted: "delete" });
  });
});
