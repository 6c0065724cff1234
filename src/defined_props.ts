/**
 * Leaving out unset properties, for the few places where an `undefined`-valued key is not the
 * same as no key. Most objects we build go to `JSON.stringify` or to our own code reading them
 * with `??`, where the two are alike, so they take `x?: T | undefined` and the value as it is.
 * The exceptions: library options copied key by key (ioredis' `defaults`, node's `parseArgs`,
 * which refuses `short: undefined`), `"value" in op` checks (scim-patch), SCIM answers whose
 * keys are the answer, and `Object.keys` / `Object.assign` over the result.
 */

/**
 * `T` with the properties that may be `undefined` made optional and without `undefined`, as
 * `exactOptionalPropertyTypes` wants an optional property that is absent rather than undefined.
 */
export type DefinedProps<T> = Simplify<
  & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] }
  & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> }
>;

type Simplify<T> = { [K in keyof T]: T[K] };

/**
 * A copy of `o` without its `undefined`-valued properties (`null`, `""`, `0` and `false` stay:
 * write `x || undefined` where a falsy value should go too). Key order is kept.
 *
 * @example
 * definedProps({ username: undefined, db: 0 }); // { db: 0 }
 * new Redis({ ...role, ...definedProps({ password: s.password || undefined }) });
 */
export function definedProps<T extends object>(o: T): DefinedProps<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as DefinedProps<T>;
}
