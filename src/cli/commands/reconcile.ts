/**
 * `reconcile`: find drift between the wanted state and a target (IONOS unless `--target` names
 * another the mapping lists), and (optionally) fix it through that target's queue.
 */
import { PLAN_ACTIONS } from "../../ops/reconcile/plan.ts";
import { reconcile } from "../../ops/reconcile/reconcile.ts";
import { TARGET_PLAN_ACTIONS } from "../../ops/reconcile/target_plan.ts";
import { targetReconciler } from "../../ops/reconcile/target_runner.ts";
import type { AnyReconcileReport } from "../../ops/queues/scheduler.ts";
import type { QueuedTarget } from "../../queue/target_queue.ts";
import { TARGET_NAMES } from "../../targets/target.ts";
import type { CliContext } from "../context.ts";
import { type Command, positiveInt, UsageError } from "../command.ts";
import { EXIT, formatTable } from "../output.ts";

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "Compare wanted state with a target; enqueue sync jobs for everything that drifted.",
  options: {
    target: {
      type: "string",
      arg: "NAME",
      help: `the cloud to compare with: ${TARGET_NAMES.join(", ")} (default: ionos)`,
    },
    "dry-run": { type: "boolean", help: "print the plan only, enqueue nothing" },
    "exit-code": { type: "boolean", help: "exit 1 when drift was found (for scripts and cron)" },
    limit: { type: "string", arg: "N", help: "list at most N planned changes (default: 100)" },
  },
  details: `Reads every IONOS user and group (100 per page, through the shared rate limiter) and
the members of the groups we manage. Needs IONOS_TOKEN (or IONOS_USERNAME + IONOS_PASSWORD).
Without --dry-run, one sync job is enqueued per affected user or group; the workers make the
changes, exactly as for an IdP event.

--target contabo|cloudflare reads that cloud instead (its CONTABO_* / CLOUDFLARE_* settings,
through its own shared rate limiter) and enqueues on its own queue. Accounts there that the
sync does not manage are listed as "unmanaged" and never touched.

examples:
  cli reconcile --dry-run
  cli reconcile --target contabo --dry-run
  cli reconcile --dry-run --exit-code --json > drift.json
  cli reconcile`,
  async run(ctx, v, _p, out) {
    const dryRun = v["dry-run"] === true;
    const target = v.target === undefined ? "ionos" : String(v.target);
    if (!(TARGET_NAMES as readonly string[]).includes(target)) {
      throw new UsageError(`--target must be one of ${TARGET_NAMES.join(", ")}`, "reconcile");
    }
    const progress = out.progress();
    const report = target === "ionos"
      ? await reconcile(
        {
          store: ctx.store,
          records: ctx.records,
          ionos: await ctx.ionos(),
          mapping: await ctx.mapping(),
          queue: ctx.queue,
          audit: ctx.audit,
          actor: ctx.actor,
        },
        { dryRun, onProgress: progress.update },
      )
      : await runTarget(ctx, target as QueuedTarget, dryRun, progress.update);
    progress.done();
    const limit = positiveInt(v.limit, "limit", 100);
    out.result(report, () => {
      const actions: readonly string[] = "target" in report ? TARGET_PLAN_ACTIONS : PLAN_ACTIONS;
      const counts = actions.map((a) => ({
        action: a,
        count: (report.counts as Record<string, number>)[a] ?? 0,
      }));
      let text = formatTable(counts, [
        { header: "ACTION", value: (r) => r.action },
        { header: "COUNT", value: (r) => r.count },
      ]);
      if (report.items.length) {
        text += "\n" + formatTable((report.items as Item[]).slice(0, limit), [
          { header: "ACTION", value: (i) => i.action },
          { header: "ENTITY", value: (i) => i.entity ?? "-", max: 40 },
          { header: "USER / GROUP", value: (i) => i.label, max: 40 },
          { header: "DETAIL", value: (i) => i.detail, max: 90 },
        ]);
        if (report.items.length > limit) {
          text += `... and ${report.items.length - limit} more (--limit, or --json for all)\n`;
        }
      }
      text += `\n${scannedLine(report)}\n`;
      text += report.items.length === 0
        ? "no drift\n"
        : dryRun
        ? `dry run: ${report.entities.length} entities would be synced\n`
        : `enqueued ${report.enqueued.length} sync jobs\n`;
      return text;
    });
    return v["exit-code"] === true && report.items.length > 0 ? EXIT.failure : EXIT.ok;
  },
};

/** An item of either kind of report, as the table shows it. */
type Item = { action: string; entity?: string; label: string; detail: string };

/** One target's reconcile, with its client, twins and queue (src/ops/reconcile/target_runner.ts). */
async function runTarget(
  ctx: CliContext,
  target: QueuedTarget,
  dryRun: boolean,
  onProgress: (phase: string, done: number, total?: number) => void,
): Promise<AnyReconcileReport> {
  const run = targetReconciler({
    config: ctx.config,
    mapping: await ctx.mapping(),
    redis: ctx.redis,
    store: ctx.store,
    records: ctx.records,
    audit: ctx.audit,
  });
  return await run(target, { dryRun, onProgress, actor: ctx.actor });
}

function scannedLine(report: AnyReconcileReport): string {
  const s = report.scanned;
  if ("ionosUsers" in s) {
    return `scanned ${s.wantedUsers} wanted users, ${s.wantedGroups} wanted groups, ` +
      `${s.ionosUsers} IONOS users, ${s.ionosGroups} IONOS groups`;
  }
  const target = "target" in report ? report.target : "target";
  return `scanned ${s.wantedUsers} wanted users, ${s.wantedGroups} wanted groups, ` +
    `${s.targetUsers} ${target} users, ${s.targetGroups} ${target} groups`;
}
