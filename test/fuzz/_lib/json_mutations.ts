/**
 * Hostile variants of a valid JSON body that are invalid *by construction*, so a correct
 * service must refuse every one of them: a field of the wrong type, a required field missing,
 * a string or array past its limit, a field replaced by deep nesting. Other string fields are
 * sprinkled with nasty Unicode on the way, so the refusal happens with it in the body.
 */
import { NASTY_STRINGS, randomUnits, type Rng } from "./random.ts";

export type Path = (string | number)[];

/** What the schema says about one field of the template. */
export interface FieldSpec {
  path: Path;
  kind: "string" | "number" | "boolean" | "array" | "object" | "enum" | "datetime";
  /** Present in every valid body: removing it makes the body invalid. */
  required?: boolean;
  /** Longest string (UTF-16 units) or array the schema accepts. */
  max?: number;
  /** Put nasty Unicode here (within `max`) while another field is broken. */
  sprinkle?: boolean;
  /**
   * Values the schema refuses here, for lenient schemas (SCIM takes 42 for a string).
   * @default every JSON type but `kind`'s, never null
   */
  wrong?: unknown[];
}

/** A valid body and the fields whose breaking makes it invalid. */
export interface Template {
  value: unknown;
  fields: FieldSpec[];
}

/** A string field up to `max` long that gets nasty Unicode while another field is broken. */
export const str = (path: Path, max: number, required = false): FieldSpec => ({
  path,
  kind: "string",
  max,
  required,
  sprinkle: true,
});

export interface Variant {
  /** Category, for the counts the test prints. */
  kind: string;
  value: unknown;
}

export function setAt(root: unknown, path: Path, value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
}

export function deleteAt(root: unknown, path: Path): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  delete node[path.at(-1)!];
}

/** True when one path lies inside the other (or they are equal). */
function related(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n).every((k, i) => k === b[i]);
}

/** Values of every JSON type but `kind` (never null: nullable fields would accept it). */
function wrongTypes(kind: FieldSpec["kind"]): unknown[] {
  const all: Record<string, unknown[]> = {
    string: ["text", "", "0"],
    number: [0, -1, 1e308, 3.14],
    boolean: [true, false],
    array: [[], [1, 2], [["nested"]]],
    object: [{}, { k: "v" }],
  };
  const jsonType = kind === "enum" || kind === "datetime" ? "string" : kind;
  return Object.entries(all).filter(([t]) => t !== jsonType).flatMap(([, v]) => v);
}

/**
 * A stand-in for `[[[...]]]` nested `depth` deep (wrong for every field kind), expanded by
 * `renderJson`: JSON.stringify of the real thing would overflow this process's stack.
 */
export function deepArray(depth: number): string {
  return `\u0000deep:${depth}\u0000`;
}

/** JSON text of a variant, with `deepArray` stand-ins expanded. */
export function renderJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /"\\u0000deep:(\d+)\\u0000"/g,
    (_, d: string) => "[".repeat(Number(d)) + "]".repeat(Number(d)),
  );
}

/** A string longer than `max`, made of nasty pieces and random UTF-16 units. */
function overlong(rng: Rng, max: number, cap: number): string {
  // Mostly just past the limit; now and then close to the body limit, to weigh on memory.
  const target = rng.chance(0.3) ? rng.int(cap / 3, cap) : max + 1 + rng.int(0, max * 4);
  let s = "";
  while (s.length < target) s += rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : randomUnits(rng, 64);
  return s.length > max ? s : s + "x".repeat(max + 1 - s.length);
}

/**
 * One invalid variant of `template`.
 *
 * @param maxString longest string to generate, to stay under the body limit
 */
export function invalidVariant(
  rng: Rng,
  template: unknown,
  fields: FieldSpec[],
  maxString = 200_000,
): Variant {
  const value = structuredClone(template);
  const field = rng.pick(fields);
  const options: (() => string)[] = [() => {
    setAt(value, field.path, rng.pick(field.wrong ?? wrongTypes(field.kind)));
    return "wrong type";
  }];
  if (field.required) {
    options.push(() => {
      deleteAt(value, field.path);
      return "missing field";
    });
  }
  if (field.max !== undefined && (field.kind === "string" || field.kind === "enum")) {
    options.push(() => {
      setAt(value, field.path, overlong(rng, field.max!, maxString));
      return "huge string";
    });
  }
  if (field.max !== undefined && field.kind === "array") {
    options.push(() => {
      const n = field.max! + 1 + rng.int(0, 50);
      setAt(value, field.path, Array.from({ length: n }, (_, i) => ({ value: `x${i}` })));
      return "huge array";
    });
  }
  if (field.kind === "enum" || field.kind === "datetime") {
    options.push(() => {
      setAt(value, field.path, rng.pick(NASTY_STRINGS));
      return "unicode in enum";
    });
  }
  if (field.kind !== "array") {
    options.push(() => {
      setAt(value, field.path, deepArray(rng.int(100, 50_000)));
      return "deep nesting";
    });
  }
  const kind = rng.pick(options)();
  // Nasty Unicode in the fields left valid, so the refusal is reached with it in the body.
  for (const f of fields) {
    if (related(f.path, field.path) || f.kind !== "string" || !f.sprinkle) continue;
    if (!rng.chance(0.5)) continue;
    const s = rng.pick(NASTY_STRINGS);
    if (s.length <= (f.max ?? Infinity)) setAt(value, f.path, s);
  }
  return { kind, value };
}

/**
 * Bodies that are not the JSON they pretend to be: cut short, trailing junk, raw control
 * characters, invalid UTF-8, scalars, deep nesting, a huge object.
 *
 * @param validText a valid body, to be broken
 * @param invalidText an invalid one: invalid UTF-8 goes in there, since bytes landing inside a
 *   string of a valid body would only be decoded as U+FFFD and leave it valid
 */
export function malformedBody(
  rng: Rng,
  validText: string,
  invalidText: string,
): { kind: string; body: string | Uint8Array<ArrayBuffer> } {
  const cut = rng.int(1, validText.length - 1);
  const depth = rng.int(1_000, 400_000);
  const options: (() => { kind: string; body: string | Uint8Array<ArrayBuffer> })[] = [
    () => ({ kind: "truncated JSON", body: validText.slice(0, cut) }),
    () => ({ kind: "trailing junk", body: validText + rng.pick(["}", "x", ",", "\u0000", "]"]) }),
    () => ({
      kind: "raw control character",
      body: validText.replace(/"(\w)/, `"${String.fromCharCode(rng.int(0, 0x1f))}$1`),
    }),
    () => {
      // Right after a ':': between a key and its value (a syntax error) or inside a string
      // value, never inside a key, where it would only rename an attribute to an unknown one.
      const bytes = new TextEncoder().encode(invalidText);
      const colons = [...bytes.keys()].filter((i) => bytes[i] === 0x3a);
      const at = colons.length ? rng.pick(colons) + 1 : 1;
      const out = new Uint8Array(bytes.length + 2);
      out.set(bytes.subarray(0, at));
      out.set([rng.pick([0xc0, 0xff, 0xfe, 0xed]), 0xa0], at);
      out.set(bytes.subarray(at), at + 2);
      return { kind: "invalid UTF-8", body: out };
    },
    () => ({
      kind: "random bytes",
      body: crypto.getRandomValues(new Uint8Array(rng.int(1, 4096))).map((b) => b | 0x80),
    }),
    () => ({
      kind: "JSON scalar",
      body: rng.pick(["0", "-1e999", '"text"', "null", "true", "[]"]),
    }),
    () => ({ kind: "deep nesting", body: "[".repeat(depth) + "]".repeat(depth) }),
    () => ({ kind: "unbalanced nesting", body: '{"events":'.repeat(rng.int(1_000, 50_000)) }),
    () => ({
      kind: "deep objects",
      body: '{"a":'.repeat(depth / 8 | 0) + "1" + "}".repeat(depth / 8 | 0),
    }),
    () => ({
      kind: "many keys",
      body: `{${
        Array.from({ length: rng.int(1_000, 60_000) }, (_, i) => `"k${i}":${i}`).join(",")
      }}`,
    }),
    () => ({ kind: "empty body", body: "" }),
    () => ({ kind: "whitespace only", body: " \n\t ".repeat(rng.int(1, 1000)) }),
  ];
  return rng.pick(options)();
}
