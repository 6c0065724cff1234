/** `decideOnRequests` and `classifyFailure` for step jobs: wait, go on, or fail (one place). */
import { describe, expect, it } from "vitest";
import { IonosApiError, IonosRequestFailedError } from "../../src/targets/ionos/errors.ts";
import type { PendingRequest } from "../../src/targets/ionos/pending_writes.ts";
import type { RequestCheck } from "../../src/targets/ionos/request_tracker.ts";
import { AwaitingRequestsError } from "../../workers/errors.ts";
import {
  classifyFailure,
  decideOnRequests,
  FAILED_REQUEST_ROUNDS,
} from "../../workers/failure_policy.ts";

const req = (id: string): PendingRequest => ({ id, what: "POST /um/groups/{id}/users" });
const checks = (...states: RequestCheck[]) =>
  states.map((check, i) => ({ request: req(`r${i}`), check }));
const gone = new IonosApiError({ status: 404, ionosMessage: "gone", method: "GET", route: "/r" });

describe("decideOnRequests", () => {
  it("waits while any request still runs", () => {
    expect(decideOnRequests(checks({ state: "DONE" }, { state: "RUNNING" }), 0)).toEqual({
      next: "wait",
    });
    expect(decideOnRequests(checks({ state: "QUEUED" }), 0).next).toBe("wait");
  });

  it("goes on when all are DONE, naming none as failed", () => {
    expect(decideOnRequests(checks({ state: "DONE" }, { state: "DONE" }), 0)).toEqual({
      next: "go on",
      failed: [],
    });
  });

  it("goes on with the FAILED ones (and ones IONOS forgot) to be planned again", () => {
    const d = decideOnRequests(
      checks({ state: "FAILED" }, { state: "DONE" }, { state: "ERROR", error: gone }),
      0,
    );
    expect(d).toEqual({ next: "go on", failed: [req("r0"), req("r2")] });
  });

  it("fails the attempt after the last FAILED round, with the scrubbed message", () => {
    const d = decideOnRequests(
      checks({ state: "FAILED", message: "quota" }),
      FAILED_REQUEST_ROUNDS - 1,
    );
    expect(d.next).toBe("fail");
    const error = (d as { error: unknown }).error;
    expect(error).toBeInstanceOf(IonosRequestFailedError);
    expect((error as Error).message).toContain("quota");
    expect(classifyFailure(error)).toBe("retry");
  });

  it("fails on a watch that failed (a timeout, a refused poll) before waiting on others", () => {
    const boom = new Error("poll refused");
    expect(
      decideOnRequests(checks({ state: "RUNNING" }, { state: "ERROR", error: boom }), 0),
    ).toEqual({ next: "fail", error: boom });
  });
});

describe("classifyFailure", () => {
  it("treats a step waiting for its requests as no failure", () => {
    expect(classifyFailure(new AwaitingRequestsError([req("r")], "reduction first"))).toBe("wait");
  });
});
