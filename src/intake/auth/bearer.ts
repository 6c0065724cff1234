/**
 * The one reader of `Authorization: Bearer <token>` (RFC 6750, section 2.1) for every surface we
 * check ourselves: `/events`, SCIM, the dashboard, and the CSRF exemption of the admin routes.
 * One grammar everywhere, so a header one surface takes is not refused by another.
 */

/**
 * The scheme is case-insensitive (RFC 9110, 11.1) and followed by at least one space or tab;
 * the token is the rest of the value without surrounding blanks. It is not narrowed to the
 * b64token characters: our tokens are any text of 16 characters or more (`src/config/config.ts`),
 * and the comparison with the configured token is what decides.
 */
const BEARER = /^Bearer[ \t]+(.*?)[ \t]*$/i;

/**
 * The token of a bearer `Authorization` header value.
 *
 * @param header the header value, or undefined/null when the request has none
 * @returns the token, or undefined when the header is absent, another scheme, or has no token
 * @example
 * const token = bearerToken(c.req.header("authorization"));
 * if (token === undefined || !timingSafeEqual(token, expected)) return unauthorized();
 */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const token = BEARER.exec(header)?.[1];
  return token ? token : undefined;
}
