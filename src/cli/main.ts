/**
 * The operator CLI: `deno task cli <command> [options]`. It talks to Redis (and, for reconcile,
 * IONOS) directly with the service's own configuration, so it works while the service is down.
 *
 * Exit codes: 0 ok, 1 failure (or drift / failed jobs where a command says so), 2 usage or
 * configuration error.
 */
import { ConfigError } from "../config/config.ts";
import { MappingError } from "../config/mapping.ts";
import { OpsError } from "../ops/errors.ts";
import { type Command, commandHelp, parseCommandArgs, UsageError } from "./command.ts";
import { eventsList, eventsReplay, eventsShow } from "./commands/events.ts";
import { jobsDiscard, jobsList, jobsRetry, jobsShow } from "./commands/jobs.ts";
import { pauseCommand, resumeCommand, statusCommand } from "./commands/queue.ts";
import { reconcileCommand } from "./commands/reconcile.ts";
import { whoisCommand } from "./commands/whois.ts";
import { type CliContext, openContext } from "./context.ts";
import { type CliIo, EXIT, Output } from "./output.ts";

export type { CliIo } from "./output.ts";

/** Every command, in the order the help lists them. */
export const COMMANDS: Command[] = [
  statusCommand,
  jobsList,
  jobsShow,
  jobsRetry,
  jobsDiscard,
  eventsList,
  eventsShow,
  eventsReplay,
  reconcileCommand,
  pauseCommand,
  resumeCommand,
  whoisCommand,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: cli <command> [options]   (deno task cli ...)",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command takes --help and --json. Exit codes: 0 ok, 1 failure, 2 usage error.",
    "Environment: REDIS_URL (or REDIS_SENTINELS), REDIS_PREFIX (as the service); IONOS_* for reconcile and whois --live.",
    "",
  ].join("\n");
}

/** Finds the command for `args`: two words ("jobs list") before one ("status"). */
function findCommand(
  args: string[],
): { command?: Command; rest: string[]; group?: string | undefined } {
  const [a, b] = args;
  const two = COMMANDS.find((c) => c.name === `${a} ${b}`);
  if (two) return { command: two, rest: args.slice(2) };
  const one = COMMANDS.find((c) => c.name === a);
  if (one) return { command: one, rest: args.slice(1) };
  const isGroup = COMMANDS.some((c) => c.name.startsWith(`${a} `));
  return { rest: args.slice(1), group: isGroup ? a : undefined };
}

function groupHelp(group: string): string {
  const cmds = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `usage: cli ${group} <${cmds.map((c) => c.name.split(" ")[1]).join("|")}> [options]`,
    "",
    ...cmds.map((c) => `  ${c.name}  ${c.summary}`),
    "",
  ].join("\n");
}

/** The real terminal. */
export function denoIo(): CliIo {
  const enc = new TextEncoder();
  return {
    stdout: (t) => void Deno.stdout.writeSync(enc.encode(t)),
    stderr: (t) => void Deno.stderr.writeSync(enc.encode(t)),
    isTTY: Deno.stderr.isTerminal(),
  };
}

/**
 * Runs one CLI invocation and returns its exit code; never calls `Deno.exit`, so tests can
 * run it in-process.
 *
 * @example
 * const code = await main(["jobs", "list", "--json"], { REDIS_URL: "redis://localhost:6379" });
 */
export async function main(
  args: string[],
  env: Record<string, string | undefined>,
  io: CliIo = denoIo(),
): Promise<number> {
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    io.stdout(mainHelp());
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const { command, rest, group } = findCommand(args);
  if (!command) {
    if (group && (rest.length === 0 || rest[0] === "--help" || rest[0] === "-h")) {
      io.stdout(groupHelp(group));
      return rest.length === 0 ? EXIT.usage : EXIT.ok;
    }
    io.stderr(`unknown command "${args.slice(0, group ? 2 : 1).join(" ")}"\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(command, rest);
  } catch (error) {
    return usage(io, command, error as Error);
  }
  if (parsed.values.help) {
    io.stdout(commandHelp(command));
    return EXIT.ok;
  }
  const out = new Output(io, parsed.values.json === true);
  let ctx: CliContext | undefined;
  try {
    ctx = await openContext(env);
    return await command.run(ctx, parsed.values, parsed.positionals, out);
  } catch (error) {
    if (error instanceof UsageError) return usage(io, command, error);
    if (error instanceof ConfigError || error instanceof MappingError) {
      io.stderr(`configuration problem:\n  ${error.problems.join("\n  ")}\n`);
      return EXIT.usage;
    }
    const message = error instanceof OpsError
      ? error.message
      : `${(error as Error)?.message ?? error}`;
    if (out.json) {
      io.stdout(
        JSON.stringify({ error: error instanceof OpsError ? error.code : "failed", message }) +
          "\n",
      );
    }
    io.stderr(`error: ${message}\n`);
    // "invalid" is how it was asked (no reason, no credentials for this command): like usage.
    return error instanceof OpsError && error.code === "invalid" ? EXIT.usage : EXIT.failure;
  } finally {
    await ctx?.close();
  }
}

function usage(io: CliIo, command: Command, error: Error): number {
  io.stderr(`cli ${command.name}: ${error.message}\nrun "cli ${command.name} --help" for usage\n`);
  return EXIT.usage;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, Deno.env.toObject()));
}
