/**
 * Issue 8, case 8 and the "One account, one owner" rule: two IdP users with the same email,
 * created about a second apart while IONOS takes seconds per request, never share one IONOS
 * account; the loser is a permanent conflict naming the owner, and its deprovisioning never
 * touches the owner's account. Through `/events` and through SCIM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../_support/harness.ts";
import {
  deleted,
  failureReasons,
  IONOS_USER_SCHEMA,
  issue8Mapping,
  scim,
  scimUser,
  send,
  twin,
  user,
} from "./issue8_helpers.ts";

/** Every IONOS write takes this long to reach DONE: the window the old duplicate check missed. */
const REQUEST_DELAY_MS = 3_000;
const DRAIN_MS = 90_000;
const TEST_MS = 180_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    mapping: issue8Mapping(),
    sim: { requestDelayMs: REQUEST_DELAY_MS },
  });
});
afterAll(async () => await h?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sum of every `..._conflicts_total{kind="user"}` series (0 when absent). */
async function conflictCount(): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  return text.split("\n")
    .filter((l) => /^\w*conflicts_total\{/.test(l) && l.includes(`kind="user"`))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).pop()), 0);
}

const accountsWith = (email: string) =>
  h.sim.sim.state.users().filter((u) => u.properties.email.toLowerCase() === email);

/**
 * After two racing creates of `email` for IdP users `a` and `b` (entity keys): exactly one IONOS
 * account, bound to exactly one of them; the other failed with a conflict naming the owner.
 * Returns the owner, the loser and the account id.
 */
async function expectOneOwner(email: string, a: string, b: string) {
  const accounts = accountsWith(email);
  expect(accounts).toHaveLength(1);
  const account = accounts[0]!.id;
  const [ta, tb] = [await twin(h, `user:${a}`), await twin(h, `user:${b}`)];
  const owners = [ta.ionosId === account ? a : undefined, tb.ionosId === account ? b : undefined]
    .filter((x) => x !== undefined);
  expect(owners).toHaveLength(1);
  const owner = owners[0]!;
  const loser = owner === a ? b : a;
  const reason = await failureReasons(h, `user:${loser}`);
  expect(reason).toMatch(/conflict/i);
  expect(reason).toContain(owner);
  expect(await failureReasons(h, `user:${owner}`)).toBe("");
  // Visible in whois (the twin record) and in the metrics.
  expect((await twin(h, `user:${loser}`)).lastError).toMatch(/conflict/i);
  expect(await conflictCount()).toBeGreaterThan(0);
  return { owner, loser, account };
}

describe("issue 8 case 8: one account, two owners", () => {
  it(
    "two /events creates with the same email ~1 s apart end with one account and one owner; deleting the loser keeps it, deleting the owner removes it",
    async () => {
      await send(h, user("user.created", "c8-first", "shared8@example.com"));
      await sleep(1_000);
      await send(h, user("user.created", "c8-second", "Shared8@Example.com"));
      await h.drain(DRAIN_MS);
      const { owner, loser, account } = await expectOneOwner(
        "shared8@example.com",
        "c8-first",
        "c8-second",
      );

      const before = h.sim.sim.state.user(account);
      await send(h, deleted("user", loser));
      await h.drain(DRAIN_MS);
      expect(h.sim.sim.state.user(account)).toEqual(before);

      await send(h, deleted("user", owner));
      await h.drain(DRAIN_MS);
      expect(h.sim.sim.state.user(account)).toBeUndefined();
    },
    TEST_MS,
  );

  it(
    "two SCIM POST /Users with the same email ~1 s apart end with one account and one owner, the loser's SCIM extension shows the conflict, and SCIM DELETE of the loser keeps the account",
    async () => {
      const one = await scim(h, "POST", "/Users", scimUser("race.one", "race8@example.com"));
      expect(one.status).toBe(201);
      await sleep(1_000);
      const two = await scim(h, "POST", "/Users", scimUser("race.two", "RACE8@example.com"));
      expect(two.status).toBe(201);
      await h.drain(DRAIN_MS);
      const { owner, loser, account } = await expectOneOwner(
        "race8@example.com",
        one.body.id,
        two.body.id,
      );
      const shown = await scim(h, "GET", `/Users/${loser}`);
      expect(shown.body[IONOS_USER_SCHEMA].lastError).toMatch(/conflict/i);
      expect(shown.body[IONOS_USER_SCHEMA].ionosUserId).not.toBe(account);

      const before = h.sim.sim.state.user(account);
      expect((await scim(h, "DELETE", `/Users/${loser}`)).status).toBe(204);
      await h.drain(DRAIN_MS);
      expect(h.sim.sim.state.user(account)).toEqual(before);

      expect((await scim(h, "DELETE", `/Users/${owner}`)).status).toBe(204);
      await h.drain(DRAIN_MS);
      expect(h.sim.sim.state.user(account)).toBeUndefined();
    },
    TEST_MS,
  );
});
