/**
 * No hand-written `...(x ? { x } : {})` in src/ or workers/: with `exactOptionalPropertyTypes`,
 * an optional property the value goes to is declared `x?: T | undefined` and gets the value as
 * it is (`{ x }`). Where an undefined-valued key would differ from no key (library options, SCIM
 * answers, `in` checks), `definedProps()` (src/defined_props.ts) leaves it out; write
 * `x || undefined` where a falsy value should be dropped too.
 */
import { describe, expect, it } from "vitest";

/** The one-key conditional spread, as the issue that removed them listed them. */
const SPREAD =
  /\.\.\.\(([A-Za-z_.?]+) (!== undefined )?\? \{ [A-Za-z_]+(: [A-Za-z_.!]+)? \} : \{\}\)/;

/**
 * Spreads that stay, as `<path>: <trimmed line>` with the reason. Empty: add one only where
 * neither a plain value nor `definedProps()` will do, and say why.
 */
const ALLOWED = new Map<string, string>();

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...await sourceFiles(path));
    else if (/\.tsx?$/.test(e.name)) files.push(path);
  }
  return files.sort();
}

describe("optional properties in src/ and workers/", () => {
  it("the pattern finds the spreads it is meant to", () => {
    for (
      const line of [
        "  ...(x ? { x } : {}),",
        "  ...(twin?.ionosId ? { ionosUserId: twin.ionosId } : {}),",
        "  ...(w.oldUnique !== undefined ? { oldUnique: w.oldUnique } : {}),",
      ]
    ) expect(line).toMatch(SPREAD);
    expect("  ...definedProps({ x }),").not.toMatch(SPREAD);
  });

  it("are passed as they are, not through a conditional spread", async () => {
    const root = new URL("../../", import.meta.url).pathname;
    const files = [...await sourceFiles(`${root}src`), ...await sourceFiles(`${root}workers`)];
    const found: string[] = [];
    for (const file of files) {
      const rel = file.slice(root.length);
      const lines = (await Deno.readTextFile(file)).split("\n");
      for (const [i, line] of lines.entries()) {
        if (SPREAD.test(line) && !ALLOWED.has(`${rel}: ${line.trim()}`)) {
          found.push(`${rel}:${i + 1}: ${line.trim()}`);
        }
      }
    }
    // The scan must see the tree (a wrong root would pass with nothing read).
    expect(files.length).toBeGreaterThan(150);
    expect(found, "write `x?: T | undefined` and `{ x }`, or definedProps()").toEqual([]);
  });
});
