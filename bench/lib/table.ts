/** Plain-text tables for the terminal (and Markdown ones for BENCHMARKS.md, same rows). */

/**
 * Columns padded to their widest cell; numbers right-aligned. A table whose header is all
 * empty is a key/value list: no header line, everything left-aligned.
 */
export function table(header: string[], rows: string[][]): string {
  const keyValue = header.every((h) => h === "");
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = (s: string) => !keyValue && /^[<~]?[\d.,]+( ?[a-zA-Z%/]+)?$|^x[\d.]+$/.test(s);
  const line = (cells: string[]) =>
    cells.map((c, i) => (i > 0 && numeric(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(
      "  ",
    )
      .trimEnd();
  const head = keyValue ? [] : [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  return [...head, ...rows.map(line)].join("\n");
}

/** The same rows as a Markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** 12345.6 -> "12,346"; small numbers keep `digits` decimals. */
export function num(x: number, digits = 0): string {
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

export const mib = (bytes: number) => `${num(bytes / 1024 / 1024)} MiB`;

/** Latency in ms; autocannon measures whole milliseconds, so 0 means under one. */
export const ms = (x: number) => (x === 0 ? "<1" : num(x, x < 10 ? 1 : 0));
