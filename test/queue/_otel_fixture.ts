/**
 * Run by telemetry.test.ts in a child process with OTEL_DENO=true: enqueues one sync job through
 * the real queue factory and processes it with a traced worker, then exits.
 */
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { createSyncQueue, enqueueUserSync, SYNC_QUEUE_NAME } from "../../src/queue/sync_queue.ts";
import { telemetryOption } from "../../src/queue/telemetry.ts";

const connection = new Redis(Deno.env.get("REDIS_URL")!, { maxRetriesPerRequest: null });
const queue = createSyncQueue(connection, { tracing: true });
const done = new Promise<void>((resolve) => {
  const worker = new Worker(SYNC_QUEUE_NAME, () => Promise.resolve("ok"), {
    connection,
    ...telemetryOption(true),
  });
  worker.on("completed", async () => {
    await worker.close();
    resolve();
  });
});
await enqueueUserSync(queue, "u-traced");
await done;
await queue.close();
connection.disconnect();
