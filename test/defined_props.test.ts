import { describe, expect, it } from "vitest";
import { definedProps } from "../src/defined_props.ts";

describe("definedProps()", () => {
  it("leaves out undefined-valued keys only, in their order", () => {
    const out = definedProps({ a: undefined, b: 0, c: "", d: null, e: false, f: "x" });
    expect(Object.keys(out)).toEqual(["b", "c", "d", "e", "f"]);
    expect("a" in out).toBe(false);
  });

  it("is typed for exactOptionalPropertyTypes: maybe-undefined keys become optional", () => {
    // A `{ type: string; short?: string }` does not take `{ type, short: undefined }`.
    const spec = (short: string | undefined): { type: string; short?: string } =>
      definedProps({ type: "string", short });
    expect(Object.hasOwn(spec(undefined), "short")).toBe(false);
    expect(spec("h")).toEqual({ type: "string", short: "h" });
  });
});
