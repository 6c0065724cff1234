import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { adminAuth } from "../../src/intake/auth/admin_auth.ts";
import { bearerToken } from "../../src/intake/auth/bearer.ts";

describe("bearerToken", () => {
  const cases: [string, string | null | undefined, string | undefined][] = [
    ["a bearer token", "Bearer abc.DEF-123_~+/=", "abc.DEF-123_~+/="],
    ["the scheme in lower case", "bearer tok-0123456789abcdef", "tok-0123456789abcdef"],
    ["the scheme in upper case", "BEARER tok-0123456789abcdef", "tok-0123456789abcdef"],
    ["several blanks after the scheme", "Bearer  \t tok", "tok"],
    ["trailing blanks", "Bearer tok \t", "tok"],
    ["a token with an inner space, taken whole", "Bearer a b", "a b"],
    ["no header", undefined, undefined],
    ["a null header", null, undefined],
    ["an empty header", "", undefined],
    ["the scheme alone", "Bearer", undefined],
    ["the scheme and a space", "Bearer ", undefined],
    ["the scheme and blanks only", "Bearer \t ", undefined],
    ["no blank after the scheme", "Bearertok", undefined],
    ["another scheme", "Basic dXNlcjpwYXNz", undefined],
    ["a token without scheme", "tok-0123456789abcdef", undefined],
    ["the scheme later in the value", "Token Bearer tok", undefined],
  ];
  it.each(cases)("%s", (_name, header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

describe("adminAuth", () => {
  const TOKEN = "admin-token-0123456789";
  const app = new Hono();
  app.use("*", adminAuth(TOKEN));
  app.get("/x", (c) => c.text("in"));

  const cases: [string, Record<string, string>, number, string | null][] = [
    ["the admin token", { authorization: `Bearer ${TOKEN}` }, 200, null],
    ["the scheme in lower case", { authorization: `bearer ${TOKEN}` }, 200, null],
    ["no header", {}, 401, 'Bearer realm=""'],
    [
      "another scheme",
      { authorization: `Basic ${btoa(`a:${TOKEN}`)}` },
      400,
      'Bearer error="invalid_request"',
    ],
    ["an empty bearer token", { authorization: "Bearer " }, 400, 'Bearer error="invalid_request"'],
    [
      "a wrong token",
      { authorization: "Bearer wrong-0123456789abcd" },
      401,
      'Bearer error="invalid_token"',
    ],
    [
      "the token with a suffix",
      { authorization: `Bearer ${TOKEN}x` },
      401,
      'Bearer error="invalid_token"',
    ],
  ];
  it.each(cases)("answers %s", async (_name, headers, status, challenge) => {
    const res = await app.request("/x", { headers });
    expect(res.status).toBe(status);
    expect(res.headers.get("www-authenticate")).toBe(challenge);
  });

  it("refuses everything when no admin token is configured", async () => {
    const off = new Hono();
    off.use("*", adminAuth(undefined));
    off.get("/x", (c) => c.text("in"));
    const res = await off.request("/x", { headers: { authorization: "Bearer anything-at-all" } });
    expect(res.status).toBe(401);
  });
});
