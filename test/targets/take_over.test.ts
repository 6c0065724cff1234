/** `claimFoundAccount()` from a table: pure, no Redis, no HTTP. */
import { describe, expect, it } from "vitest";
import type { WantedUser } from "../../src/store/wanted_state.ts";
import {
  claimFoundAccount,
  claimFoundGroup,
  deletedHolderRemoves,
  type FoundAccountFacts,
} from "../../src/targets/take_over.ts";

const user = (over: Partial<WantedUser> = {}): WantedUser => ({
  id: "old",
  email: "ada@example.com",
  active: true,
  deleted: false,
  t: 1,
  eventId: "e",
  ...over,
});
const facts = (over: Partial<FoundAccountFacts>): FoundAccountFacts => ({
  target: "cloudflare",
  idpId: "new",
  targetId: "m1",
  email: "ada@example.com",
  holder: "old",
  holderUser: user(),
  holderLink: { targetId: "m1", origin: "created" },
  ...over,
});

describe("claimFoundAccount()", () => {
  it.each<[string, Partial<FoundAccountFacts>, unknown]>([
    ["nobody holds it: free (the adoption rules decide)", { holder: undefined }, {
      kind: "free",
    }],
    ["this user holds it: free", { holder: "new" }, { kind: "free" }],
    [
      "a live holder with this email (case aside): a conflict",
      { holderUser: user({ email: "Ada@Example.com" }) },
      { kind: "conflict", reason: "conflict: IdP user old already holds ada@example.com" },
    ],
    [
      "a deactivated holder with this email is still live: a conflict",
      { holderUser: user({ active: false }) },
      { kind: "conflict", reason: expect.stringMatching(/already holds/) },
    ],
    [
      "a live holder that wants another email now: wait for its job",
      { holderUser: user({ email: "ada.king@example.com" }) },
      { kind: "wait", reason: expect.stringMatching(/still IdP user old's/) },
    ],
    [
      "a live holder whose own sync is in conflict: a conflict, not an endless wait",
      {
        holderUser: user({ email: "ada.king@example.com" }),
        holderLink: { targetId: "m1", origin: "adopted", state: "conflict" },
      },
      { kind: "conflict", reason: expect.stringMatching(/own sync is in conflict/) },
    ],
    [
      "a live holder whose new address is protected keeps the account: a conflict",
      { holderUser: user({ email: "security@example.com" }), holderKeepsAddress: true },
      { kind: "conflict", reason: expect.stringMatching(/new address is protected/) },
    ],
    [
      "a holder deleted at the IdP: taken over with its origin",
      { holderUser: user({ deleted: true }), holderLink: { targetId: "m1", origin: "adopted" } },
      { kind: "take-over", from: "old", origin: "adopted" },
    ],
    [
      "a holder the IdP no longer knows: taken over",
      { holderUser: undefined },
      { kind: "take-over", from: "old", origin: "created" },
    ],
    [
      "a deleted holder whose link points elsewhere: taken over, origin left to adoption",
      { holderUser: user({ deleted: true }), holderLink: { targetId: "m9", origin: "created" } },
      { kind: "take-over", from: "old", origin: undefined },
    ],
    [
      "a deleted holder whose own job removes it (Cloudflare): wait for that removal",
      { holderUser: user({ deleted: true }), holderRemoves: true },
      { kind: "wait", reason: expect.stringMatching(/whose own sync removes it/) },
    ],
    [
      "a holder the IdP no longer knows, whose job removes it: wait",
      { holderUser: undefined, holderRemoves: true },
      { kind: "wait", reason: expect.stringMatching(/deleted IdP user old/) },
    ],
    [
      "a deleted holder whose job removes its own other object: taken over",
      {
        holderUser: user({ deleted: true }),
        holderLink: { targetId: "m9", origin: "created" },
        holderRemoves: true,
      },
      { kind: "take-over", from: "old", origin: undefined },
    ],
  ])("%s", (_name, over, expected) => {
    expect(claimFoundAccount(facts(over))).toEqual(expected);
  });
});

describe("deletedHolderRemoves()", () => {
  it("Cloudflare removes a deleted user's member and every deleted group's object; Contabo keeps a user", () => {
    expect(deletedHolderRemoves("cloudflare", "user")).toBe(true);
    expect(deletedHolderRemoves("cloudflare", "group")).toBe(true);
    expect(deletedHolderRemoves("contabo", "user")).toBe(false);
  });

  it("a group of a deleted IdP group is waited for, not taken over (model test, seed 339)", () => {
    const claim = claimFoundGroup({
      target: "cloudflare",
      idpId: "g-new",
      targetId: "x1",
      name: "ops",
      holder: "g-old",
      holderAlive: false,
      holderWantsName: false,
      holderLink: { targetId: "x1", origin: "created" },
      holderRemoves: true,
    });
    expect(claim.kind).toBe("wait");
  });
});
