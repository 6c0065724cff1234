/**
 * What commands write: tables for people, JSON for scripts (`--json`), progress on stderr only
 * when it is a terminal, so piping stdout never picks up anything but the result.
 */

/** Where the CLI writes; tests pass capturing functions. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress lines are drawn only then). */
  isTTY: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Longer cells are cut with "…". @default 60 */
  max?: number;
}

/** Exit codes scripts can trust. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

function cell(v: unknown, max: number): string {
  const text = v === undefined || v === null
    ? ""
    : typeof v === "string"
    ? v
    : typeof v === "object"
    ? JSON.stringify(v)
    : String(v);
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Renders rows as a plain-text table with a header line.
 *
 * @example
 * formatTable([{ id: "1" }], [{ header: "ID", value: (r) => r.id }]); // "ID\n1\n"
 */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.max ?? 60)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((row) => row[i]!.length))
  );
  const line = (parts: string[]) =>
    parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!))).join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n") + "\n";
}

/** "key: value" lines, nested objects indented. */
export function formatFields(obj: Record<string, unknown>, indent = ""): string {
  const width = Math.max(0, ...Object.keys(obj).map((k) => k.length));
  let out = "";
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
      out += `${indent}${k}:\n${formatFields(v as Record<string, unknown>, indent + "  ")}`;
    } else {
      out += `${indent}${(k + ":").padEnd(width + 1)} ${cell(v, 200)}\n`;
    }
  }
  return out;
}

/** The output helpers one command run uses. */
export class Output {
  constructor(readonly io: CliIo, readonly json: boolean) {}

  /** Prints `value` as JSON with --json, else what `human()` returns. */
  result(value: unknown, human: () => string): void {
    this.io.stdout(this.json ? JSON.stringify(value, null, 2) + "\n" : human());
  }

  /** A message for people on stderr (never mixed into --json stdout). */
  note(text: string): void {
    this.io.stderr(text.endsWith("\n") ? text : text + "\n");
  }

  /** A progress reporter: one rewritten line on a terminal, nothing otherwise. */
  progress(): { update: (phase: string, done: number, total?: number) => void; done: () => void } {
    if (!this.io.isTTY) return { update: () => {}, done: () => {} };
    let last = 0;
    let drawn = false;
    return {
      update: (phase, done, total) => {
        const now = Date.now();
        if (now - last < 100 && done !== total) return; // a terminal needs no more than 10/s
        last = now;
        drawn = true;
        this.io.stderr(`\r\x1b[2K${phase}: ${done}${total !== undefined ? `/${total}` : ""}`);
      },
      done: () => {
        if (drawn) this.io.stderr("\r\x1b[2K");
      },
    };
  }
}
