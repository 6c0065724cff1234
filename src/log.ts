/**
 * JSON logs, one line per entry, with secrets removed before anything is written.
 *
 * Fields whose name looks secret (password, token, secret, authorization, ...) are replaced by
 * "[redacted]" at any depth, so a careless `log.info("x", { headers })` cannot leak a credential.
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|signature|cookie/i;

/** Returns a deep copy of `value` with secret-looking fields replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    // Only name, message and code: other fields can hold what the failing call carried (an
    // ioredis error keeps the command's arguments, i.e. the events with names and emails).
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: value.message,
      ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
      ...(value.cause !== undefined ? { cause: redact(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  return redactObject(value as Record<string, unknown>, depth);
}

function redactObject(value: object, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (request id, job id, ...). */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** @default "info" */
  level?: LogLevel;
  /** Where lines go. @default stdout (gathered per event-loop turn) / stderr */
  write?: (line: string, level: LogLevel) => void;
  /** Fields added to every line. */
  fields?: Record<string, unknown>;
}

/**
 * With `OTEL_DENO=true`, Deno exports `console` calls as OTel logs (unless
 * `OTEL_DENO_CONSOLE=ignore`, docs/operators-guide.md): lines then go through `console` one by
 * one, as before, so that export keeps every line.
 */
const otelCapturesConsole = (() => {
  try {
    const otel = Deno.env.get("OTEL_DENO")?.toLowerCase();
    return (otel === "true" || otel === "1") && Deno.env.get("OTEL_DENO_CONSOLE") !== "ignore";
  } catch {
    return false; // no env permission: no OTel either
  }
})();

/** Debug and info lines not yet written to stdout (see `defaultWrite`). */
let pending = "";
let flushScheduled = false;
const encoder = new TextEncoder();

/** Writes the gathered stdout lines now, in one write. */
export function flushLogs(): void {
  flushScheduled = false;
  if (!pending) return;
  const bytes = encoder.encode(pending);
  pending = "";
  try {
    for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
  } catch {
    // stdout closed (the reader went away): nothing else to do with a log line.
  }
}

// Lines gathered in the last turn of the event loop are written before the process exits, also
// when it dies of an uncaught error (these listeners do not handle the error, only flush).
for (const event of ["unload", "error", "unhandledrejection"]) {
  globalThis.addEventListener(event, flushLogs);
}

/**
 * Debug and info lines go to stdout, gathered for one turn of the event loop and written
 * together: under load the intake logs a line per request, and one write per line (what
 * `console.log` does) cost about 10 µs a line against 5 µs gathered (issue 9, measured with
 * stdout on /dev/null; a pipe to a log collector costs more per write). Warn and
 * error lines go to stderr at once, after the gathered lines, so a crash's last words are not
 * held back and the order is kept.
 */
const defaultWrite = (line: string, level: LogLevel) => {
  if (level === "error" || level === "warn") {
    flushLogs();
    console.error(line);
    return;
  }
  if (otelCapturesConsole) {
    console.log(line); // the OTel export reads `console` calls, not stdout
    return;
  }
  pending += line + "\n";
  if (!flushScheduled) {
    flushScheduled = true;
    setTimeout(flushLogs, 0);
  }
};

/**
 * Creates a JSON logger.
 *
 * @example
 * const log = createLogger({ level: "debug" }).child({ jobId: "42" });
 * log.info("user created", { ionosUserId: "u-1" });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = "info", write = defaultWrite, fields = {} } = options;
  const min = LEVELS[level];
  const emit = (lvl: LogLevel, msg: string, extra?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const entry = { time: new Date().toISOString(), level: lvl, msg, ...fields, ...extra };
    write(JSON.stringify(redact(entry)), lvl);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (more) => createLogger({ level, write, fields: { ...fields, ...more } }),
  };
}

/** A logger that drops everything: the default for library code and tests. */
export const silentLogger: Logger = createLogger({ level: "silent" });
