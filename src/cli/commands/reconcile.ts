/** `reconcile`: find drift between the wanted state and IONOS, and (optionally) fix it. */
import { PLAN_ACTIONS } from "../../ops/reconcile/plan.ts";
import { reconcile } from "../../ops/reconcile/reconcile.ts";
import { type Command, positiveInt } from "../command.ts";
import { EXIT, formatTable } from "../output.ts";

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "Compare wanted state with IONOS; enqueue sync jobs for everything that drifted.",
  options: {
    "dry-run": { type: "boolean", help: "print the plan only, enqueue nothing" },
    "exit-code": { type: "boolean", help: "exit 1 when drift was found (for scripts and cron)" },
    limit: { type: "string", arg: "N", help: "list at most N planned changes (default: 100)" },
  },
  details: `Reads every IONOS user and group (100 per page, through the shared rate limiter) and
the members of the groups we manage. Needs IONOS_TOKEN (or IONOS_USERNAME + IONOS_PASSWORD).
Without --dry-run, one sync job is enqueued per affected user or group; the workers make the
changes, exactly as for an IdP event.

examples:
  cli reconcile --dry-run
  cli reconcile --dry-run --exit-code --json > drift.json
  cli reconcile`,
  async run(ctx, v, _p, out) {
    const dryRun = v["dry-run"] === true;
    const progress = out.progress();
    const report = await reconcile(
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
    );
    progress.done();
    const limit = positiveInt(v.limit, "limit", 100);
    out.result(report, () => {
      const counts = PLAN_ACTIONS.map((a) => ({ action: a, count: report.counts[a] }));
      let text = formatTable(counts, [
        { header: "ACTION", value: (r) => r.action },
        { header: "COUNT", value: (r) => r.count },
      ]);
      if (report.items.length) {
        text += "\n" + formatTable(report.items.slice(0, limit), [
          { header: "ACTION", value: (i) => i.action },
          { header: "ENTITY", value: (i) => i.entity, max: 40 },
          { header: "USER / GROUP", value: (i) => i.label, max: 40 },
          { header: "DETAIL", value: (i) => i.detail, max: 90 },
        ]);
        if (report.items.length > limit) {
          text += `... and ${report.items.length - limit} more (--limit, or --json for all)\n`;
        }
      }
      const s = report.scanned;
      text += `\nscanned ${s.wantedUsers} wanted users, ${s.wantedGroups} wanted groups, ` +
        `${s.ionosUsers} IONOS users, ${s.ionosGroups} IONOS groups\n`;
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
