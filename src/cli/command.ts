/**
 * The shape of one CLI command and the argument parsing every command shares: `--help` on
 * each, `--json` everywhere, and usage errors that exit 2 with a pointer to the help.
 */
import { parseArgs } from "node:util";
import { definedProps } from "../defined_props.ts";
import type { CliContext } from "./context.ts";
import type { Output } from "./output.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  help: string;
  /** Shown in the help, e.g. "STATE". */
  arg?: string;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  /** "jobs list", "pause", ... */
  name: string;
  summary: string;
  /** Positional arguments as shown in the help, e.g. "<job-id>". */
  args?: string;
  /** Further help text (examples). */
  details?: string;
  options?: Record<string, OptionSpec>;
  /** Allowed positional count. @default [0, 0] */
  positionals?: [number, number];
  run(ctx: CliContext, values: Values, positionals: string[], out: Output): Promise<number>;
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "UsageError";
  }
}

const GLOBAL: Record<string, OptionSpec> = {
  json: { type: "boolean", help: "print JSON for scripts instead of tables" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/**
 * Parses a command's arguments (after its name).
 * @throws {UsageError} for unknown options, missing values or a wrong number of arguments
 */
export function parseCommandArgs(
  command: Command,
  args: string[],
): { values: Values; positionals: string[] } {
  const options = { ...GLOBAL, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      // node's parseArgs refuses `short: undefined`: the key must be left out.
      options: Object.fromEntries(
        Object.entries(options).map((
          [k, o],
        ) => [k, definedProps({ type: o.type, short: o.short || undefined })]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]!, command.name);
  }
  const values = parsed.values as Values;
  if (values.help) return { values, positionals: parsed.positionals };
  const [min, max] = command.positionals ?? [0, 0];
  const n = parsed.positionals.length;
  if (n < min) throw new UsageError(`missing ${command.args ?? "argument"}`, command.name);
  if (n > max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`, command.name);
  }
  return { values, positionals: parsed.positionals };
}

/** The `--help` text of one command. */
export function commandHelp(command: Command): string {
  const options = { ...command.options, ...GLOBAL };
  const lines = [
    `usage: cli ${command.name}${command.args ? ` ${command.args}` : ""} [options]`,
    "",
    command.summary,
    "",
    "options:",
  ];
  const flags = Object.entries(options).map(([k, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${k}${
      o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""
    }`,
    o.help,
  ]);
  const width = Math.max(...flags.map(([f]) => f!.length));
  for (const [f, h] of flags) lines.push(`  ${f!.padEnd(width)}  ${h}`);
  if (command.details) lines.push("", command.details.trim());
  return lines.join("\n") + "\n";
}

/** Reads a string option that must be one of `allowed`. @throws {UsageError} */
export function oneOf<T extends string>(
  value: string | boolean | undefined,
  allowed: readonly T[],
  name: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  throw new UsageError(`--${name} must be one of ${allowed.join(", ")}`);
}

/** Reads a positive integer option. @throws {UsageError} */
export function positiveInt(
  value: string | boolean | undefined,
  name: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

/** A string option or undefined. */
export const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === "string" ? value : undefined;
