/** A change that lands while its entity's job runs is applied afterwards, never dropped. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, startHarness, userEvent } from "../_support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { latencyMs: 150 } });
});
afterAll(async () => await h.stop());

it("applies an update that arrives while the user's create job is running", async () => {
  await h.postEvents(
    userEvent("user.created", "mid", "mid@example.com", { name: { givenName: "First" } }),
  );
  // Wait until the create job is active (IONOS answers slowly), then change the user.
  for (let i = 0; i < 100 && (await h.stats()).jobs.active === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  expect((await h.stats()).jobs.active).toBe(1);
  const res = await h.postEvents(
    userEvent("user.updated", "mid", "mid@example.com", {
      name: { givenName: "Second", familyName: "X" },
    }),
  );
  expect(res.status).toBe(202);
  await h.drain();
  expect(h.sim.sim.state.userByEmail("mid@example.com")?.properties.firstname).toBe("Second");
  expect(h.sim.sim.state.users()).toHaveLength(1);
});
