import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/config.ts";
import { groupPrivileges, MappingError, parseMapping } from "../src/config/mapping.ts";
import { parseRole } from "../src/main.ts";

const base = {
  REDIS_URL: "redis://localhost:6379",
  IONOS_TOKEN: "t",
  EVENTS_TOKEN: "0123456789abcdef",
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof MappingError) return e.problems;
    throw e;
  }
  throw new Error("expected an error");
}

describe("loadConfig()", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig(base);
    expect(c.port).toBe(8080);
    expect(c.ionos.apiUrl).toBe("https://api.ionos.com/cloudapi/v6");
    expect(c.ionos.auth).toEqual({ token: "t" });
    expect(c.bodyLimitBytes).toBe(1024 * 1024);
  });

  it("reports every problem on its own line", () => {
    const p = problems(() => loadConfig({ PORT: "x", IONOS_USERNAME: "u", EVENTS_TOKEN: "short" }));
    expect(p).toEqual([
      "PORT: must be a whole number from 0 to 65535",
      "EVENTS_TOKEN: must be at least 16 characters",
      "REDIS_URL: required (e.g. redis://localhost:6379), or REDIS_SENTINELS + REDIS_SENTINEL_NAME",
      "IONOS_PASSWORD: required when IONOS_USERNAME is set",
      "IONOS_TOKEN (or IONOS_USERNAME + IONOS_PASSWORD): required to run workers",
    ]);
  });

  it("refuses to start the intake with no way in at all", () => {
    const { EVENTS_TOKEN: _, ...rest } = base;
    expect(problems(() => loadConfig(rest, "api"))).toEqual([
      "EVENTS_TOKEN, WEBHOOK_SECRET, SCIM_TOKEN, WORKOS_WEBHOOK_SECRET, KEYCLOAK_WEBHOOK_SECRET: " +
      "set at least one, or the intake accepts nothing",
    ]);
    expect(loadConfig(rest, "worker").role).toBe("worker");
  });

  // Finding 15: a SCIM-only deployment refused to start without EVENTS_TOKEN.
  it.each([
    ["SCIM_TOKEN", "0123456789abcdef"],
    ["WORKOS_WEBHOOK_SECRET", "0123456789abcdef"],
    ["KEYCLOAK_WEBHOOK_SECRET", "0123456789abcdef"],
    ["WEBHOOK_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="],
  ])("starts the intake with only %s as its way in", (name, value) => {
    const { EVENTS_TOKEN: _, ...rest } = base;
    expect(loadConfig({ ...rest, [name]: value }, "all").role).toBe("all");
  });

  // Finding 2: a worker served nothing on PORT, so the image's HEALTHCHECK always failed.
  it("gives a worker its health port from METRICS_PORT, else from a PORT that is set", () => {
    expect(loadConfig({ ...base, PORT: "8080" }, "worker").ops.metricsPort).toBe(8080);
    expect(loadConfig({ ...base, PORT: "8080", METRICS_PORT: "9100" }, "worker").ops.metricsPort)
      .toBe(9100);
    expect(loadConfig(base, "worker").ops.metricsPort).toBeUndefined();
    expect(loadConfig({ ...base, PORT: "8080" }, "all").ops.metricsPort).toBeUndefined();
  });

  it("needs IONOS credentials only where workers run", () => {
    const { IONOS_TOKEN: _, ...rest } = base;
    expect(loadConfig(rest, "api").ionos.auth).toBeUndefined();
    expect(problems(() => loadConfig(rest, "all"))[0]).toMatch(/IONOS_TOKEN/);
    expect(loadConfig({ ...rest, IONOS_USERNAME: "u", IONOS_PASSWORD: "p" }).ionos.auth)
      .toEqual({ username: "u", password: "p" });
  });

  it("rejects a WEBHOOK_SECRET that is not whsec_ form, without echoing it", () => {
    const p = problems(() => loadConfig({ ...base, WEBHOOK_SECRET: "plain-secret-value" }));
    expect(p).toEqual(["WEBHOOK_SECRET: must be whsec_<base64>"]);
  });
});

describe("parseRole()", () => {
  it.each([
    [[], "all"],
    [["--role", "api"], "api"],
    [["--role=worker"], "worker"],
  ])("parses %j as %s", (args, role) => expect(parseRole(args as string[])).toBe(role));

  it("refuses unknown roles and arguments", () => {
    expect(() => parseRole(["--role", "boss"])).toThrow(ConfigError);
    expect(() => parseRole(["--verbose"])).toThrow(ConfigError);
  });
});

describe("parseMapping()", () => {
  it("gives sensible defaults for an empty file", () => {
    expect(parseMapping("")).toEqual({
      targets: ["ionos"],
      contabo: { roles: {}, accessAllResources: [], totp: false, locale: "en" },
      cloudflare: { memberRoles: [], groups: { include: [], policies: {} } },
      onUserDeleted: "delete",
      forceSecAuth: false,
      administrators: [],
      groups: { include: ["*"], privileges: {}, shares: {} },
      offboarding: { s3Keys: "deactivate" },
      protectedEmails: [],
      adopt: { users: "non-admin", groups: true, deleteAdopted: false },
    });
  });

  it("reads YAML and JSON alike and accepts the createDatacenter spelling", () => {
    const yaml = parseMapping("groups:\n  privileges:\n    devs: [createDatacenter, reserveIp]\n");
    const json = parseMapping(
      '{"groups":{"privileges":{"devs":["createDataCenter","reserveIp"]}}}',
    );
    expect(yaml).toEqual(json);
    const flags = groupPrivileges(yaml, "devs");
    expect(flags.createDataCenter).toBe(true);
    expect(flags.reserveIp).toBe(true);
    expect(flags.createSnapshot).toBe(false);
  });

  it("names unknown keys and privileges", () => {
    const p = problems(() =>
      parseMapping("onUserDelete: delete\ngroups:\n  privileges:\n    devs: [makeCoffee]\n")
    );
    expect(p.join("\n")).toMatch(/onUserDelete/);
    expect(p.join("\n")).toMatch(
      /groups\.privileges\.devs\.0: unknown IONOS privilege "makeCoffee"/,
    );
  });

  it("refuses a wrong value for onUserDeleted", () => {
    expect(problems(() => parseMapping("onUserDeleted: archive"))[0]).toMatch(/onUserDeleted/);
  });
});
