/** Authorization as IONOS takes it: `Bearer <token>` or `Basic base64(user:password)`. */
import type { CallRecord } from "./calls.ts";

/** The credentials the simulator accepts. */
export interface Credentials {
  token: string;
  username: string;
  password: string;
}

/** The scheme of an Authorization header, for the call log (never the value). */
export function authScheme(header: string | undefined): CallRecord["auth"] {
  if (!header) return "none";
  const scheme = header.split(" ", 1)[0]!.toLowerCase();
  return scheme === "bearer" || scheme === "basic" ? scheme : "other";
}

/** True if `header` carries the accepted token or user/password. */
export function isAuthorized(header: string | undefined, creds: Credentials): boolean {
  if (!header) return false;
  const [scheme = "", value = ""] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer") return creds.token !== "" && value === creds.token;
  if (scheme.toLowerCase() !== "basic" || creds.username === "") return false;
  try {
    return atob(value) === `${creds.username}:${creds.password}`;
  } catch {
    return false; // not base64
  }
}
