/** `whois <email|id>`: what happened to one user's (or group's) account. */
import { TargetLinks } from "../../targets/links.ts";
import { whois } from "../../ops/whois.ts";
import { type Command } from "../command.ts";
import { EXIT, formatFields, formatTable } from "../output.ts";
import { eventTable } from "./events.ts";

export const whoisCommand: Command = {
  name: "whois",
  summary: "Wanted state, IONOS twin, recent events, jobs and operator actions for one account.",
  args: "<email|idp-id|user:<id>|group:<id>|ionos-id>",
  positionals: [1, 1],
  options: {
    live: {
      type: "boolean",
      help: "also read the user (and its S3 keys) or the group's shares from IONOS now " +
        "(needs IONOS credentials)",
    },
  },
  details: `examples:
  cli whois alice@example.com
  cli whois user:00u1 --live --json`,
  async run(ctx, v, [query], out) {
    const report = await whois({
      store: ctx.store,
      records: ctx.records,
      queue: ctx.queue,
      eventLog: ctx.eventLog,
      audit: ctx.audit,
      ...(v.live === true ? { ionos: await ctx.ionos() } : {}),
      targets: (await ctx.mapping()).targets
        .filter((t) => t !== "ionos")
        .map((t) => new TargetLinks(ctx.redis, t, { prefix: ctx.config.redisPrefix })),
    }, query!);
    out.result(report, () => {
      let text = `${report.entity}\n\n`;
      text += `wanted (IdP):\n${
        report.wanted ? formatFields({ ...report.wanted }, "  ") : "  (nothing)\n"
      }`;
      text += `\nIONOS twin record:\n${
        report.twin ? formatFields({ ...report.twin }, "  ") : "  (none: never synced)\n"
      }`;
      if (report.ionos) text += `\nIONOS now:\n${formatFields({ ...report.ionos }, "  ")}`;
      for (const [target, link] of Object.entries(report.targets ?? {})) {
        text += `\n${target} twin record:\n${formatFields({ ...link }, "  ")}`;
      }
      if (report.groups) {
        const names = report.groups.map((g) => `${g.name ?? g.id}${g.deleted ? " (deleted)" : ""}`);
        text += `\ngroups: ${names.join(", ") || "(none)"}\n`;
      }
      if (report.memberCount !== undefined) text += `\nmembers: ${report.memberCount}\n`;
      if (report.shares) text += shareText(report.shares);
      if (report.s3Keys) text += keyText(report.s3Keys);
      text += `\nrecent events:\n${report.events.length ? eventTable(report.events) : "(none)\n"}`;
      text += `\njobs:\n${
        report.jobs.length
          ? formatTable(report.jobs, [
            { header: "ID", value: (j) => j.id },
            { header: "STATE", value: (j) => j.state },
            { header: "ATTEMPTS", value: (j) => `${j.attempts}/${j.maxAttempts}` },
            { header: "CREATED", value: (j) => j.createdAt },
            { header: "RESULT / ERROR", value: (j) => j.lastError ?? j.result, max: 80 },
          ])
          : "(none queued, failed or recent)\n"
      }`;
      if (report.audit.length) {
        text += `\noperator actions:\n${
          formatTable(report.audit, [
            { header: "AT", value: (a) => a.at },
            { header: "ACTION", value: (a) => a.action },
            { header: "BY", value: (a) => a.actor },
            { header: "REASON", value: (a) => a.reason ?? "", max: 60 },
          ])
        }`;
      }
      return text;
    });
    return EXIT.ok;
  },
};

type WhoisShares = NonNullable<Awaited<ReturnType<typeof whois>>["shares"]>;
type WhoisKeys = NonNullable<Awaited<ReturnType<typeof whois>>["s3Keys"]>;

/** The group's shares: those the sync set, and with --live those IONOS has. */
function shareText(shares: WhoisShares): string {
  let text = `\nresource shares set by the sync:\n${
    shares.set.length
      ? formatTable(shares.set, [
        { header: "RESOURCE", value: (s) => s.resource },
        { header: "ORIGIN", value: (s) => s.origin },
        {
          header: "FLAGS BEFORE",
          value: (s) => s.origin === "created" ? "" : `edit ${s.edit}, share ${s.share}`,
        },
      ])
      : "(none)\n"
  }`;
  if (shares.ionos && Array.isArray(shares.ionos)) {
    text += `\nresource shares in IONOS now:\n${
      shares.ionos.length
        ? formatTable(shares.ionos, [
          { header: "RESOURCE", value: (s) => s.resource },
          { header: "EDIT", value: (s) => String(s.edit) },
          { header: "SHARE", value: (s) => String(s.share) },
          { header: "SET BY", value: (s) => s.setBySync ? "sync" : "hand (left alone)" },
        ])
        : "(none)\n"
    }`;
  } else if (shares.ionos) {
    text += `\nresource shares in IONOS now: ${(shares.ionos as { error: string }).error}\n`;
  }
  return text;
}

/** The user's S3 keys: those the sync turned off, and with --live the keys IONOS has. */
function keyText(keys: WhoisKeys): string {
  let text = `\nS3 keys turned off by the sync: ${keys.turnedOff.join(", ") || "(none)"}\n`;
  if (keys.ionos && Array.isArray(keys.ionos)) {
    text += `\nS3 keys in IONOS now:\n${
      keys.ionos.length
        ? formatTable(keys.ionos, [
          { header: "KEY", value: (k) => k.id },
          { header: "ACTIVE", value: (k) => String(k.active) },
          { header: "TURNED OFF BY SYNC", value: (k) => k.turnedOffBySync ? "yes" : "" },
        ])
        : "(none)\n"
    }`;
  } else if (keys.ionos) {
    text += `\nS3 keys in IONOS now: ${(keys.ionos as { error: string }).error}\n`;
  }
  return text;
}
