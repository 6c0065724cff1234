/** scrubSecrets(): no credential leaves through an error text. */
import { describe, expect, it } from "vitest";
import { REDACTED, scrubSecrets } from "../../../src/targets/http/scrub.ts";

describe("scrubSecrets()", () => {
  it.each([
    ["a secret as is", "bad password hunter2-long", ["hunter2-long"], `bad password ${REDACTED}`],
    ["a secret URL-encoded", "client_secret=a%2Bb%2Fc%3D", ["a+b/c="], `client_secret=${REDACTED}`],
    ["every occurrence", "x-SECRET-x x-SECRET-x", ["x-SECRET-x"], `${REDACTED} ${REDACTED}`],
    [
      "a bearer token nobody told us of",
      "got Bearer eyJhbGciOi.abc.def",
      [],
      `got Bearer ${REDACTED}`,
    ],
    ["nothing secret", "user not found", ["hunter2-long"], "user not found"],
    ["a secret too short to scrub safely", "the id is abc", ["abc"], "the id is abc"],
  ])("%s", (_name, text, secrets, expected) => {
    expect(scrubSecrets(text, secrets)).toBe(expected);
  });
});
