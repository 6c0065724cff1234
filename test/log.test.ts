import { describe, expect, it } from "vitest";
import { ReplyError } from "ioredis";
import { createLogger, redact } from "../src/log.ts";
import { isTransientStoreError } from "../src/intake/errors.ts";

describe("redact()", () => {
  it("replaces secret-looking fields at any depth", () => {
    expect(redact({ a: { password: "p", Authorization: "Bearer x", ok: 1 }, token: "t" }))
      .toEqual({
        a: { password: "[redacted]", Authorization: "[redacted]", ok: 1 },
        token: "[redacted]",
      });
  });

  it("keeps only name, message, code and cause of an error, not what the call carried", () => {
    const error = Object.assign(new Error("ERR script failed"), {
      code: "ERR",
      command: { name: "evalsha", args: ["sha", "0", '{"email":"ada@example.com"}'] },
    });
    const line: string[] = [];
    createLogger({ write: (l) => line.push(l) }).error("store failed", { error });
    expect(line[0]).toContain("ERR script failed");
    expect(line[0]).not.toContain("ada@example.com");
    expect(JSON.parse(line[0]!).error).toEqual({
      name: "Error",
      message: "ERR script failed",
      code: "ERR",
    });
  });
});

describe("isTransientStoreError()", () => {
  it.each([
    [new Error("Connection is closed."), true],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), true],
    [new ReplyError("LOADING Redis is loading the dataset in memory"), true],
    [new ReplyError("OOM command not allowed when used memory > 'maxmemory'."), true],
    [new ReplyError("ERR user_script:12: Script attempted to access nonexistent global"), false],
    ["not an error", false],
  ])("%s -> %s", (error, transient) => {
    expect(isTransientStoreError(error)).toBe(transient);
  });
});
