import { describe, expect, it } from "vitest";
import { forEachConcurrently } from "../../workers/concurrently.ts";

describe("forEachConcurrently()", () => {
  it("keeps at most `limit` calls in flight and runs every item", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachConcurrently(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      seen.push(i);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("throws the first error after the calls in flight settle, and starts no new ones", async () => {
    const started: number[] = [];
    let settled = 0;
    const run = forEachConcurrently([1, 2, 3, 4, 5, 6], 2, async (i) => {
      started.push(i);
      await new Promise((r) => setTimeout(r, i === 1 ? 1 : 5));
      settled++;
      if (i === 1) throw new Error("boom 1");
    });
    await expect(run).rejects.toThrow("boom 1");
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });

  it("refuses a limit below 1", async () => {
    await expect(forEachConcurrently([1], 0, async () => {})).rejects.toThrow(RangeError);
  });
});
