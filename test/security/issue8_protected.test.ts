/**
 * Issue 8, case 7 and the "Protected means untouchable" rule: a managed user cannot hide behind a
 * protected address, and `protectedEmails` match whatever the case, spacing or Unicode form.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { parseMapping } from "../../src/config/mapping.ts";
import { createLogger } from "../../src/log.ts";
import { startService } from "../../src/service.ts";
import type { SimUser } from "../../src/targets/ionos/simulator/mod.ts";
import { type Harness, startHarness } from "../_support/harness.ts";
import {
  deleted,
  failureReasons,
  group,
  ionosUser,
  issue8Mapping,
  members,
  send,
  snapshotUser,
  twin,
  user,
} from "./issue8_helpers.ts";

describe("issue 8 case 7: hiding behind a protected address", () => {
  let h: Harness;
  // No IONOS account holds the protected address here, so IONOS itself would accept the change.
  beforeAll(async () => {
    h = await startHarness({ mapping: issue8Mapping() });
  });
  afterAll(async () => await h?.stop());

  it("a managed admin whose IdP email changes to a protected one keeps its old IONOS email, and still loses admin rights, is deactivated and is deleted", async () => {
    await send(
      h,
      user("user.created", "c7-hider", "hider@example.com"),
      group("group.created", "c7-admins", "ionos-admins", ["c7-hider"]),
    );
    await h.drain();
    const id = ionosUser(h, "hider@example.com")!.id;
    const account = () => h.sim.sim.state.user(id);
    expect(account()?.properties).toMatchObject({ administrator: true, active: true });

    await send(h, user("user.updated", "c7-hider", "Owner@Example.com"));
    await h.drain();
    expect(account()?.properties.email).toBe("hider@example.com");
    expect(ionosUser(h, "owner@example.com")).toBeUndefined();
    const reported = `${await failureReasons(h, "user:c7-hider")}\n${
      (await twin(h, "user:c7-hider")).lastError ?? ""
    }`;
    expect(reported).toMatch(/conflict/i);

    await send(h, members("group.members.removed", "c7-admins", ["c7-hider"]));
    await h.drain();
    expect(account()?.properties).toMatchObject({
      email: "hider@example.com",
      administrator: false,
    });

    await send(h, user("user.deactivated", "c7-hider", "owner@example.com"));
    await h.drain();
    expect(account()?.properties).toMatchObject({ email: "hider@example.com", active: false });

    await send(h, deleted("user", "c7-hider"));
    await h.drain();
    expect(account()).toBeUndefined();
  });
});

describe("protectedEmails are compared trimmed, NFC-normalized and case-insensitively", () => {
  let h: Harness;
  let zoe: SimUser;
  const NFC = "zo\u00eb@example.com";
  const NFD = "zoe\u0308@example.com";
  beforeAll(async () => {
    // The mapping spells it with spaces, capitals and a combining diaeresis (NFD).
    const mapping = issue8Mapping().replace(
      `protectedEmails: ["owner@example.com"]`,
      `protectedEmails: ["owner@example.com", "  ZOE\u0308@Example.COM  "]`,
    );
    h = await startHarness({ mapping });
    zoe = h.sim.sim.state.addUser({
      firstname: "Zoë",
      lastname: "Boss",
      email: NFC,
      administrator: true,
    });
  });
  afterAll(async () => await h?.stop());

  const sameAddress = () =>
    h.sim.sim.state.users().filter((u) =>
      u.properties.email.normalize("NFC").toLowerCase() === NFC
    );

  it("an IdP user with the protected address in NFC form is a conflict and the account is untouched", async () => {
    const before = snapshotUser(h, zoe.id);
    await send(h, user("user.created", "zoe-nfc", NFC.toUpperCase()));
    await h.drain();
    expect(snapshotUser(h, zoe.id)).toEqual(before);
    expect((await twin(h, "user:zoe-nfc")).ionosId).not.toBe(zoe.id);
    expect(await failureReasons(h, "user:zoe-nfc")).toMatch(/conflict/i);
    expect(sameAddress()).toHaveLength(1);
  });

  it("an IdP user with the protected address in NFD form neither touches the account nor gets a look-alike account", async () => {
    const before = snapshotUser(h, zoe.id);
    await send(h, user("user.created", "zoe-nfd", NFD));
    await h.drain();
    expect(snapshotUser(h, zoe.id)).toEqual(before);
    expect(await failureReasons(h, "user:zoe-nfd")).toMatch(/conflict/i);
    expect(sameAddress()).toHaveLength(1);
  });

  it("a managed user whose email changes to the protected address in another form keeps its old email", async () => {
    await send(h, user("user.created", "zoe-mover", "mover@example.com"));
    await h.drain();
    const id = ionosUser(h, "mover@example.com")!.id;
    const before = snapshotUser(h, zoe.id);
    await send(h, user("user.updated", "zoe-mover", NFD.toUpperCase()));
    await h.drain();
    expect(h.sim.sim.state.user(id)?.properties.email).toBe("mover@example.com");
    expect(snapshotUser(h, zoe.id)).toEqual(before);
    expect(sameAddress()).toHaveLength(1);
  });
});

describe("an account the service manages becomes protected", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mapping: issue8Mapping() });
  });
  afterAll(async () => await h?.stop());

  it("once its email is added to protectedEmails, no IdP change, group removal, deactivation or delete touches it", async () => {
    await send(
      h,
      user("user.created", "pr-vip", "vip@example.com"),
      group("group.created", "pr-admins", "ionos-admins", ["pr-vip"]),
      group("group.created", "pr-team", "ionos-team-vip", ["pr-vip"]),
    );
    await h.drain();
    const vip = ionosUser(h, "vip@example.com")!;
    expect(vip.properties).toMatchObject({ administrator: true, active: true });
    expect(h.sim.sim.state.userGroups(vip.id)).toHaveLength(2);

    // The operator protects the address and restarts the service.
    await h.service!.stop();
    const mapping = parseMapping(
      issue8Mapping().replace(
        `protectedEmails: ["owner@example.com"]`,
        `protectedEmails: ["owner@example.com", "VIP@example.com"]`,
      ),
    );
    const logger = createLogger({ level: "debug", write: (line) => h.logs.push(line) });
    h.service = await startService(loadConfig(h.env, "all"), mapping, logger);
    h.url = h.service.url!;
    const before = snapshotUser(h, vip.id);

    await send(
      h,
      user("user.updated", "pr-vip", "vip@example.com", {
        name: { givenName: "Very", familyName: "Important" },
      }),
      members("group.members.removed", "pr-admins", ["pr-vip"]),
      members("group.members.removed", "pr-team", ["pr-vip"]),
    );
    await h.drain();
    expect(snapshotUser(h, vip.id)).toEqual(before);

    await send(h, user("user.deactivated", "pr-vip", "vip@example.com"));
    await h.drain();
    expect(snapshotUser(h, vip.id)).toEqual(before);

    await send(h, deleted("user", "pr-vip"));
    await h.drain();
    expect(snapshotUser(h, vip.id)).toEqual(before);
  });
});
