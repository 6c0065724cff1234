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

describe("createLogger() default sink", () => {
  // A child process, so the real stdout and the process's own exit are what is tested.
  const run = async (ending: "return" | "exit" | "throw") => {
    const src = new URL("../src/log.ts", import.meta.url).href;
    const code = `import { createLogger } from ${JSON.stringify(src)};
const log = createLogger();
log.info("first");
log.info("second");
log.warn("third");
log.info("fourth");
if (${JSON.stringify(ending)} === "exit") Deno.exit(3);
if (${JSON.stringify(ending)} === "throw") throw new Error("boom");`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = (bytes: Uint8Array) =>
      new TextDecoder().decode(bytes).split("\n").filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l).msg);
    return { code: out.code, stdout: lines(out.stdout), stderr: lines(out.stderr) };
  };

  it.each(["return", "exit", "throw"] as const)(
    "writes every gathered info line to stdout when the process ends by %s",
    async (ending) => {
      const { code, stdout, stderr } = await run(ending);
      expect(stdout).toEqual(["first", "second", "fourth"]);
      expect(stderr).toEqual(["third"]);
      expect(code).toBe({ return: 0, exit: 3, throw: 1 }[ending]);
    },
  );
});
