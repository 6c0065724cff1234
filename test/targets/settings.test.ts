/** Target settings: the mapping's `targets:` list, the CONTABO_* / CLOUDFLARE_* settings, start-up. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { MappingError, parseMapping } from "../../src/config/mapping.ts";
import { targetSettingsProblems } from "../../src/targets/settings.ts";

const BASE = { REDIS_URL: "redis://localhost:1", IONOS_TOKEN: "t", EVENTS_TOKEN: "e".repeat(16) };
const CF_ROLE = "05784afa30c1afe1440e79d9351c7430";

describe("mapping targets:", () => {
  it("defaults to [ionos] with empty target sections", () => {
    const m = parseMapping("{}");
    expect(m.targets).toEqual(["ionos"]);
    expect(m.contabo).toMatchObject({ roles: {}, totp: false, locale: "en" });
    expect(m.cloudflare).toMatchObject({ memberRoles: [], groups: { include: [], policies: {} } });
  });

  it.each([
    ["an unknown target", "targets: [ionos, aws]", /targets\.1/],
    ["a target twice", "targets: [contabo, contabo]", /listed twice/],
    ["an empty list", "targets: []", /at least one/],
    [
      "cloudflare without memberRoles",
      "targets: [cloudflare]",
      /cloudflare\.memberRoles: required/,
    ],
    [
      "a Contabo role id that is not a number",
      "contabo: { roles: { ops: [abc] } }",
      /contabo\.roles\.ops/,
    ],
    ["a typo in the Contabo section", "contabo: { rolez: {} }", /rolez/],
    [
      "a policy id that is not 32 hex",
      "cloudflare: { groups: { policies: { x: [{ permissionGroups: [p], resourceGroups: [r] }] } } }",
      /32-hex/,
    ],
  ])("refuses %s with a line naming it", (_name, yaml, line) => {
    const error = (() => {
      try {
        parseMapping(yaml);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).problems.join("\n")).toMatch(line);
  });

  it("reads both sections", () => {
    const m = parseMapping(`
targets: [ionos, contabo, cloudflare]
contabo: { roles: { "ops-*": [101] }, totp: true }
cloudflare: { memberRoles: ["${CF_ROLE}"], groups: { include: ["cf-*"] } }
`);
    expect(m.targets).toEqual(["ionos", "contabo", "cloudflare"]);
    expect(m.contabo.roles).toEqual({ "ops-*": [101] });
    expect(m.cloudflare.memberRoles).toEqual([CF_ROLE]);
  });
});

describe("targetSettingsProblems()", () => {
  const mapping = parseMapping(`
targets: [ionos, contabo, cloudflare]
cloudflare: { memberRoles: ["${CF_ROLE}"] }
`);

  it("names, on one line per target, exactly the settings that are missing", () => {
    const config = loadConfig({
      ...BASE,
      CONTABO_CLIENT_ID: "id",
      CONTABO_CLIENT_SECRET: "client-SECRET-1",
      CLOUDFLARE_API_TOKEN: "cf-TOKEN-SECRET-1",
    }, "all");
    expect(targetSettingsProblems(config, mapping, "all")).toEqual([
      "targets: contabo is listed in the mapping but CONTABO_API_USER, CONTABO_API_PASSWORD are not set",
      "targets: cloudflare is listed in the mapping but CLOUDFLARE_ACCOUNT_ID is not set",
    ]);
  });

  it("is satisfied when every listed target has its settings, with the documented defaults", () => {
    const config = loadConfig({
      ...BASE,
      CONTABO_CLIENT_ID: "id",
      CONTABO_CLIENT_SECRET: "s",
      CONTABO_API_USER: "u@example.com",
      CONTABO_API_PASSWORD: "p",
      CLOUDFLARE_API_TOKEN: "t",
      CLOUDFLARE_ACCOUNT_ID: "023e105f4ecef8ad9ca31a8372d0c353",
    }, "all");
    expect(targetSettingsProblems(config, mapping, "all")).toEqual([]);
    expect(config.contabo).toMatchObject({
      apiUrl: "https://api.contabo.com",
      authUrl: "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token",
    });
    expect(config.cloudflare.apiUrl).toBe("https://api.cloudflare.com/client/v4");
    expect(config.cloudflare.rateLimitPerSecond).toBeLessThanOrEqual(4);
  });

  it("asks nothing of roles that run no workers, nor of targets not listed", () => {
    const config = loadConfig(BASE, "api");
    expect(targetSettingsProblems(config, mapping, "api")).toEqual([]);
    expect(targetSettingsProblems(loadConfig(BASE, "all"), parseMapping("{}"), "all")).toEqual([]);
  });
});

describe("start-up", () => {
  it(
    "a listed target without its settings stops src/main.ts with one line, no secret printed",
    async () => {
      const dir = await Deno.makeTempDir();
      const path = `${dir}/sync.yaml`;
      await Deno.writeTextFile(path, "targets: [ionos, contabo]\n");
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../src/main.ts", import.meta.url).pathname,
          "--role",
          "worker",
        ],
        env: {
          PATH: Deno.env.get("PATH") ?? "",
          HOME: Deno.env.get("HOME") ?? "/tmp",
          ...BASE,
          SYNC_CONFIG: path,
          CONTABO_CLIENT_SECRET: "client-SECRET-never-printed",
          CONTABO_API_PASSWORD: "api-PASSWORD-never-printed",
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      await Deno.remove(dir, { recursive: true });
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      expect(out.code).toBe(2);
      const lines = text.split("\n").filter((l) => l.includes("targets:"));
      expect(lines).toEqual([
        "  targets: contabo is listed in the mapping but CONTABO_CLIENT_ID, CONTABO_API_USER are not set",
      ]);
      expect(text).not.toContain("never-printed");
    },
    60_000,
  );
});

describe("the README's Targets examples", () => {
  it("every mapping example in the Targets section parses", async () => {
    const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
    const section = readme.slice(readme.indexOf("## Targets"), readme.indexOf("## Sending events"));
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBe(2);
    for (const yaml of blocks) {
      const m = parseMapping(yaml);
      expect(m.targets.length).toBe(2);
    }
  });
});
