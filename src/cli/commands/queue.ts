/** `pause`, `resume`, `status`: the queue as a whole. */
import { pauseProcessing, resumeProcessing } from "../../ops/queues/jobs.ts";
import { readStatus } from "../../ops/queues/status.ts";
import { type Command, str } from "../command.ts";
import { EXIT, formatFields } from "../output.ts";

export const pauseCommand: Command = {
  name: "pause",
  summary: "Stop workers taking sync jobs. Intake keeps accepting events; they wait in the queue.",
  options: { reason: { type: "string", arg: "TEXT", help: "why, for the audit log" } },
  async run(ctx, v, _p, out) {
    await pauseProcessing(ctx, str(v.reason));
    out.result({ paused: true }, () => "paused: workers finish running jobs and take no more\n");
    return EXIT.ok;
  },
};

export const resumeCommand: Command = {
  name: "resume",
  summary: "Let workers take sync jobs again.",
  async run(ctx, _v, _p, out) {
    await resumeProcessing(ctx);
    out.result({ paused: false }, () => "resumed\n");
    return EXIT.ok;
  },
};

export const statusCommand: Command = {
  name: "status",
  summary: "Job counts, managed entities, pause state, event log size, reconcile schedule.",
  options: {
    "exit-code": { type: "boolean", help: "exit 1 when there are failed jobs or it is paused" },
  },
  details: 'example:\n  cli status --exit-code >/dev/null || alert "sync needs attention"',
  async run(ctx, v, _p, out) {
    const status = await readStatus(ctx.queue, ctx.records, ctx.eventLog, ctx.reconcileQueue);
    out.result(status, () => formatFields({ ...status }));
    const attention = status.jobs.failed > 0 || status.queuePaused;
    return v["exit-code"] === true && attention ? EXIT.failure : EXIT.ok;
  },
};
