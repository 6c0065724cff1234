/**
 * Enqueues sync jobs in one Redis transaction (MULTI/EXEC) together with scripts the caller
 * runs before and after them, so the intake's enqueue, outbox clean-up and event-log append
 * cost one round trip instead of three.
 *
 * BullMQ supports this: `Job#addJob(client)` takes a transaction as well as a client (its own
 * `Job.createBulk` passes a pipeline), and `RedisClient#defineCommand` / `runCommand` register
 * and run our scripts on the queue's connection (bullmq 5.x: `dist/esm/classes/job.js`,
 * `dist/esm/interfaces/redis-client.d.ts`; in bullmq 6 the client is the Redis backend's,
 * `queue.backend.client`).
 */
import { Job, type Queue, type RedisClient, SpanKind } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import { luaSource } from "../store/lua_key_guard.ts";
import { type EntityKey, parseEntityKey } from "../store/wanted_state.ts";
import { type SyncJobData, syncJobOptions } from "./sync_queue.ts";
import { attachedTargetQueues, targetJob } from "./target_queue.ts";

/**
 * A Lua script run by name inside the transaction; defined once per connection. Like every
 * script, it gets each key it touches in KEYS (see src/store/keys.ts).
 */
export interface TransactionScript {
  /** Command name, unique per script text. */
  readonly name: string;
  readonly lua: string;
  /** Keys per call; undefined when calls pass varying numbers of keys. */
  readonly numberOfKeys?: number;
}

/** One script call queued on the transaction: exactly one reply. */
export interface ScriptCall {
  script: TransactionScript;
  keys: readonly string[];
  args: readonly (string | number)[];
}

export interface AtomicEnqueueSteps {
  /** Run right before the job adds, in the same EXEC. */
  before?: readonly ScriptCall[];
  /** Run right after the job adds, in the same EXEC. */
  after?: readonly ScriptCall[];
  /**
   * Give up waiting for Redis' answer after this long (one timer for the whole transaction;
   * for a connection without ioredis' per-command `commandTimeout`, which sets a timer for
   * every command of it). The transaction may still run later. @default no limit
   */
  timeoutMs?: number | undefined;
  /**
   * The connection the transaction is sent on. Give one on which nothing else defines scripts:
   * ioredis copies every script defined on a connection into each MULTI made on it (the
   * `Pipeline` constructor), and BullMQ defines about 50 on a queue's connection; that copy was
   * 6% of the intake's CPU per single-event request in a profile (issue 9). BullMQ's add
   * scripts are then run from the queue's connection's definitions, sent on this one.
   * @default the queue's connection
   */
  connection?: Redis | Cluster | undefined;
}

/** Redis did not answer the enqueue transaction within `timeoutMs`. */
export class EnqueueTimeoutError extends Error {
  override name = "EnqueueTimeoutError";
  constructor(timeoutMs: number) {
    super(`Redis did not answer the enqueue within ${timeoutMs} ms`);
  }
}

/** `promise`, or a rejection with EnqueueTimeoutError once `timeoutMs` passed. */
async function within<T>(promise: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return await promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EnqueueTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One reply of EXEC: an error, or the command's answer. */
export type Reply = [Error | null, unknown];

export interface AtomicEnqueueResult {
  /** The id of the job that syncs each entity, as BullMQ's add answered (new or de-duplicated). */
  jobs: Record<EntityKey, string>;
  /** One reply per `after` call, in order. */
  after: Reply[];
}

/**
 * The Redis key holding the id of the job that syncs `key` while one is queued or running
 * (BullMQ's de-duplication key; `syncJobOptions` de-duplicates by entity). A script run after
 * the add in the same transaction reads from it the id the add answered.
 */
export function syncJobIdKey(queue: Queue<SyncJobData>, key: EntityKey): string {
  return `${queue.keys.de}:${key}`;
}

/**
 * BullMQ's job counters of every queue `enqueueSyncAtomically` adds to: IONOS's and each attached
 * target's. Every add script increments its queue's counter once before it writes anything else,
 * also when the add is de-duplicated, so their sum moves by exactly the number of adds that ran.
 */
export function jobCounterKeys(queue: Queue<SyncJobData>): string[] {
  return [queue, ...attachedTargetQueues(queue)].map((q) => q.keys.id!);
}

const defined = new WeakMap<object, Set<string>>();

function defineScripts(client: RedisClient | Redis | Cluster, calls: readonly ScriptCall[]): void {
  let names = defined.get(client);
  if (!names) defined.set(client, names = new Set());
  for (const { script } of calls) {
    if (names.has(script.name)) continue;
    // ioredis sends the full text the first time on each connection, its SHA after that.
    // BullMQ's type asks for a key count, but ioredis (our queues' client, see
    // src/store/redis_connection.ts) takes it first in each call when the definition has none
    // (ioredis `Script#execute`), as scripts with varying keys need.
    const define = client.defineCommand.bind(client) as (
      name: string,
      definition: { lua: string; numberOfKeys?: number },
    ) => void;
    const lua = luaSource(script.lua);
    define(
      script.name,
      script.numberOfKeys === undefined ? { lua } : { lua, numberOfKeys: script.numberOfKeys },
    );
    names.add(script.name);
  }
}

/** What `Job#addJob` needs of a transaction: BullMQ runs its add script through `runCommand`. */
type AddTransaction = ReturnType<RedisClient["multi"]>;

/** A script command as ioredis defines it: called with the transaction as `this`. */
type ScriptCommand = (this: unknown, args: unknown[]) => unknown;

/**
 * A MULTI on `connection` that runs a script defined there (ours) or, failing that, on the
 * queue's own connection (BullMQ's): an ioredis script command sends itself on whatever
 * transaction it is called on, so the transaction need not carry copies of all of them.
 */
function leanTransaction(
  connection: Redis | Cluster,
  queue: Queue<SyncJobData>,
  calls: readonly ScriptCall[],
): AddTransaction {
  defineScripts(connection, calls);
  const scriptsOf = queue.opts.connection as unknown as Record<string, ScriptCommand | undefined>;
  const own = connection as unknown as Record<string, ScriptCommand | undefined>;
  const tx = connection.multi();
  const runCommand = (name: string, args: unknown[]) => {
    const command = own[name] ?? scriptsOf[name];
    if (typeof command !== "function") {
      throw new Error(`enqueue transaction: no script command '${name}' on either connection`);
    }
    command.call(tx, args);
    return lean;
  };
  const lean = Object.assign(tx, { runCommand }) as unknown as AddTransaction;
  return lean;
}

/** A call's arguments; the key count leads them when the script's is not fixed. */
function scriptArgs(c: ScriptCall): (string | number)[] {
  const head = c.script.numberOfKeys === undefined ? [c.keys.length] : [];
  return [...head, ...c.keys, ...c.args];
}

/**
 * Adds one sync job per entity (the options and queue defaults of `enqueueSync`) in one
 * MULTI/EXEC with the `before` and `after` script calls: one round trip.
 *
 * Redis does not roll a transaction back: a command that fails leaves the others applied. A
 * script that must only take effect if the adds ran checks that itself (see `jobCounterKeys`).
 *
 * @throws the first add's error, once the transaction ran (the `after` calls ran too)
 * @example
 * const { jobs } = await enqueueSyncAtomically(queue, ["user:00u1"], { after: [logCall] });
 */
export async function enqueueSyncAtomically(
  queue: Queue<SyncJobData>,
  keys: readonly EntityKey[],
  steps: AtomicEnqueueSteps = {},
): Promise<AtomicEnqueueResult> {
  const { before = [], after = [], timeoutMs, connection } = steps;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new RangeError(
      `Cannot enqueue as 'timeoutMs' must be positive: current value is ${timeoutMs}`,
    );
  }
  if (keys.length === 0 && before.length === 0 && after.length === 0) {
    return { jobs: {}, after: [] };
  }
  // With tracing on, the same producer span as `Queue#addBulk`, carried into the jobs; without
  // it `trace` only calls back.
  return await queue.trace<AtomicEnqueueResult>(
    SpanKind.PRODUCER,
    "addBulk",
    queue.name,
    async (_span, telemetryMetadata) => {
      let tx: AddTransaction;
      if (connection) {
        await queue.backend.client; // BullMQ's scripts are defined once this resolves
        tx = leanTransaction(connection, queue, [...before, ...after]);
      } else {
        const client = await queue.backend.client;
        defineScripts(client, [...before, ...after]);
        tx = client.multi();
      }
      for (const c of before) tx.runCommand(c.script.name, scriptArgs(c));
      const adds: Promise<unknown>[] = keys.map((key) => {
        const { kind, id } = parseEntityKey(key);
        const opts = {
          ...queue.jobsOpts,
          ...syncJobOptions(key),
          ...(telemetryMetadata ? { telemetry: { metadata: telemetryMetadata } } : {}),
        };
        // Queues the add script on `tx` at once; the promise only reports bad options.
        return new Job<SyncJobData>(queue, kind, { kind, id }, opts).addJob(tx);
      });
      // The other targets' jobs (issue 11), in the same EXEC: every enqueue path fans out.
      const targets = attachedTargetQueues(queue);
      for (const targetQueue of targets) {
        for (const key of keys) {
          const { name, data, opts } = targetJob(targetQueue, key);
          adds.push(
            new Job(targetQueue, name, data, { ...targetQueue.jobsOpts, ...opts }).addJob(tx),
          );
        }
      }
      await Promise.all(adds);
      for (const c of after) tx.runCommand(c.script.name, scriptArgs(c));
      const replies = (await within(tx.exec(), timeoutMs)) as Reply[] | null;
      if (!replies) throw new Error("the enqueue transaction was discarded");
      const addCount = keys.length * (1 + targets.length);
      const addReplies = replies.slice(before.length, before.length + addCount);
      const failed = addReplies.find(([error]) => error);
      if (failed) throw failed[0];
      const jobs: Record<EntityKey, string> = {};
      keys.forEach((key, i) => (jobs[key] = String(addReplies[i]![1])));
      return { jobs, after: replies.slice(before.length + addCount) };
    },
  );
}
