/** `events list|show|replay`: read the event log and run events through the intake again. */
import { attachTargetQueuesFor } from "../../queue/target_queue.ts";
import { syncQueueOptions } from "../../service/parts.ts";
import type { EventLogEntry } from "../../ops/oplog/event_log.ts";
import { replayEvents, type ReplaySelection } from "../../ops/queues/replay.ts";
import { parseTime } from "../../ops/oplog/time.ts";
import { type Command, positiveInt, str, UsageError } from "../command.ts";
import { EXIT, formatFields, formatTable } from "../output.ts";

const TIME_HELP = "ISO time or an age (30m, 2h, 7d)";

function timeOption(value: string | boolean | undefined, name: string): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  try {
    return parseTime(text);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

export const eventsList: Command = {
  name: "events list",
  summary: "List logged events, newest first (receive time).",
  options: {
    since: { type: "string", arg: "TIME", help: `received at or after (${TIME_HELP})` },
    until: { type: "string", arg: "TIME", help: "received at or before" },
    entity: { type: "string", arg: "ENTITY", help: "only events for user:<id> or group:<id>" },
    source: { type: "string", arg: "SOURCE", help: "events, scim, workos, keycloak, replay" },
    type: { type: "string", arg: "TYPE", help: "e.g. user.updated" },
    limit: { type: "string", arg: "N", help: "at most N events (default: 50)" },
  },
  async run(ctx, v, _p, out) {
    const since = timeOption(v.since, "since");
    const until = timeOption(v.until, "until");
    const events = await ctx.eventLog.list({
      limit: positiveInt(v.limit, "limit", 50),
      since,
      until,
      entity: str(v.entity),
      source: str(v.source),
      type: str(v.type),
    });
    const rows = events.map(({ payload: _p, ...rest }) => rest);
    out.result(rows, () => rows.length === 0 ? "no events\n" : eventTable(rows));
    return EXIT.ok;
  },
};

/** The event columns shared by `events list` and `whois`. */
export function eventTable(rows: Omit<EventLogEntry, "payload">[]): string {
  return formatTable(rows, [
    { header: "RECEIVED", value: (e) => e.receivedAt },
    { header: "SOURCE", value: (e) => e.source },
    { header: "TYPE", value: (e) => e.type },
    { header: "ENTITY", value: (e) => e.entity, max: 40 },
    { header: "EVENT ID", value: (e) => e.eventId, max: 40 },
    { header: "JOB", value: (e) => Object.values(e.jobs).join(",") || "-" },
    { header: "REQUEST", value: (e) => e.requestId, max: 36 },
  ]);
}

export const eventsShow: Command = {
  name: "events show",
  summary: "Show one logged event with its payload (by event id or log id).",
  args: "<event-id>",
  positionals: [1, 1],
  async run(ctx, _v, [id], out) {
    const entry = await ctx.eventLog.get(id!);
    if (!entry) {
      out.note(`no event ${id} in the event log (it may have been trimmed)`);
      return EXIT.failure;
    }
    out.result(entry, () =>
      formatFields({ ...entry, payload: undefined }) +
      `payload:\n${JSON.stringify(entry.payload, null, 2)}\n`);
    return EXIT.ok;
  },
};

export const eventsReplay: Command = {
  name: "events replay",
  summary: "Replay logged events through the normal intake path.",
  args: "[event-id]",
  positionals: [0, 1],
  options: {
    since: { type: "string", arg: "TIME", help: `events received at or after (${TIME_HELP})` },
    until: { type: "string", arg: "TIME", help: "events received at or before" },
    entity: { type: "string", arg: "ENTITY", help: "only events for user:<id> or group:<id>" },
    source: { type: "string", arg: "SOURCE", help: "only events from this source" },
    "dry-run": { type: "boolean", help: "show what would be replayed, change nothing" },
  },
  details: `A replayed event gets a new id (source "replay") and keeps its original time, so it
never overwrites newer state: the newest event of an entity re-syncs it, older ones do nothing.

examples:
  cli events replay 3f2c9a1e-...               # one event
  cli events replay --since 2h --dry-run       # what came in during the last two hours
  cli events replay --since 2026-11-21T10:00:00Z --until 2026-11-21T11:30:00Z
  cli events replay --entity user:00u1`,
  async run(ctx, v, [id], out) {
    const since = timeOption(v.since, "since");
    const until = timeOption(v.until, "until");
    if (id === undefined && since === undefined && until === undefined && !str(v.entity)) {
      throw new UsageError("give an event id, --since/--until or --entity");
    }
    // `|| undefined`: the selection goes into the audit record, which leaves empty ones out.
    const selection: ReplaySelection = id !== undefined ? { eventId: id } : {
      since,
      until,
      entity: str(v.entity) || undefined,
      source: str(v.source) || undefined,
    };
    // Replayed events go to every target the mapping lists, as through the intake (issue 11).
    // Same options as the IONOS queue: on a Cluster the prefix keeps them in the store's slot.
    const targetQueues = attachTargetQueuesFor(
      ctx.queue,
      ctx.redis,
      await ctx.mapping(),
      syncQueueOptions(ctx.config),
    );
    const progress = out.progress();
    const result = await replayEvents(ctx, selection, {
      dryRun: v["dry-run"] === true,
      onProgress: (d, t) => progress.update("replaying", d, t),
    }).finally(() => Promise.all(targetQueues.map((q) => q.close())));
    progress.done();
    out.result(result, () => {
      const verb = result.dryRun ? "would replay" : "replayed";
      let text = result.replays.length
        ? formatTable(result.replays, [
          { header: "TIME", value: (r) => r.time },
          { header: "ENTITY", value: (r) => r.entity, max: 40 },
          { header: "EVENT ID", value: (r) => r.eventId, max: 40 },
          { header: "REPLAY ID", value: (r) => (result.dryRun ? "-" : r.replayId) },
        ])
        : "";
      text += `${verb} ${result.replays.length} of ${result.selected} selected events`;
      if (!result.dryRun) text += `; ${result.entities.length} entities enqueued for sync`;
      text += "\n";
      for (const s of result.skipped) text += `skipped ${s.eventId}: ${s.reason}\n`;
      return text;
    });
    return result.skipped.length ? EXIT.failure : EXIT.ok;
  },
};
