/**
 * Request-body checks with IONOS's answers: 422 for invalid content (ionos-facts.md).
 * Passwords are checked here and never passed on.
 */
import { IONOS_PRIVILEGES, type IonosGroupProperties, type IonosUserProperties } from "../types.ts";
import { IonosApiError } from "./errors.ts";
import type { Patch, UserInput } from "./state.ts";

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The standard IONOS password policy (contracts may set a stricter one). */
const MIN_PASSWORD = 5;

type Props = Record<string, unknown>;

function invalid(message: string): never {
  throw new IonosApiError(422, message);
}

function propertiesOf(body: unknown): Props {
  const p = (body as { properties?: unknown } | null)?.properties;
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    invalid("Attribute 'properties' is required and must be an object");
  }
  return p as Props;
}

function text(p: Props, key: string, required: boolean): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) {
    return required ? invalid(`Attribute '${key}' is mandatory`) : undefined;
  }
  if (typeof v !== "string" || v.trim() === "") {
    invalid(`Attribute '${key}' must be a non-empty string`);
  }
  return v;
}

function flag(p: Props, key: string, required: boolean): boolean | undefined {
  const v = p[key];
  if (v === undefined || v === null) {
    return required ? invalid(`Attribute '${key}' is mandatory`) : undefined;
  }
  if (typeof v !== "boolean") invalid(`Attribute '${key}' must be a boolean`);
  return v;
}

function email(p: Props): string {
  const e = text(p, "email", true)!;
  if (!EMAIL_RE.test(e)) invalid(`Attribute 'email' is not a valid email address: '${e}'`);
  return e;
}

function password(p: Props, required: boolean): void {
  const v = text(p, "password", required);
  if (v !== undefined && v.length < MIN_PASSWORD) {
    invalid(`Attribute 'password' must be at least ${MIN_PASSWORD} characters long`);
  }
}

/** POST /um/users: firstname, lastname, email and password needed; secAuthActive refused. */
export function parseUserCreate(body: unknown): UserInput {
  const p = propertiesOf(body);
  if (p.secAuthActive !== undefined) {
    invalid("Attribute 'secAuthActive' cannot be set when creating a user");
  }
  const input: UserInput = {
    firstname: text(p, "firstname", true)!,
    lastname: text(p, "lastname", true)!,
    email: email(p),
  };
  password(p, true);
  for (const key of ["administrator", "forceSecAuth", "active"] as const) {
    const v = flag(p, key, false);
    if (v !== undefined) input[key] = v;
  }
  return input;
}

/**
 * PUT /um/users/{id}. PUT semantics are undocumented, so the simulator insists on the full
 * property set (what Terraform and ionosctl send) rather than guessing what a gap would mean.
 * `secAuthActive` and `password` stay optional: they are changed only on purpose.
 */
export function parseUserUpdate(body: unknown, id: string): Patch<IonosUserProperties> {
  const bodyId = (body as { id?: unknown } | null)?.id;
  if (bodyId !== undefined && bodyId !== id) invalid(`Body id '${bodyId}' does not match ${id}`);
  const p = propertiesOf(body);
  password(p, false);
  return {
    firstname: text(p, "firstname", true)!,
    lastname: text(p, "lastname", true)!,
    email: email(p),
    administrator: flag(p, "administrator", true)!,
    forceSecAuth: flag(p, "forceSecAuth", true)!,
    active: flag(p, "active", true)!,
    secAuthActive: flag(p, "secAuthActive", false),
  };
}

/**
 * POST and PUT /um/groups[/{id}]: name needed; a privilege not sent is false (PUT replaces the
 * whole set, which is why Terraform sends every flag). `createDatacenter` (the REST page's
 * spelling) is read as `createDataCenter`.
 */
export function parseGroup(body: unknown): IonosGroupProperties {
  const p = propertiesOf(body);
  const out = { name: text(p, "name", true)! } as IonosGroupProperties;
  const alias = flag(p, "createDatacenter", false);
  for (const key of IONOS_PRIVILEGES) out[key] = flag(p, key, false) ?? false;
  if (p.createDataCenter === undefined && alias !== undefined) out.createDataCenter = alias;
  return out;
}

/** POST /um/groups/{id}/users: `{"id": "<userId>"}`. */
export function parseMember(body: unknown): string {
  const id = (body as { id?: unknown } | null)?.id;
  if (typeof id !== "string" || id === "") invalid("Attribute 'id' (the user id) is mandatory");
  return id;
}
