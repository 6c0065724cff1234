/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format 0.0.4. Hand-written because the few types we need fit in one file and
 * an npm client would pull Node-only process collectors into Deno.
 */

type Labels = Record<string, string>;

/** One metric family; `collect` returns its exposition lines (without HELP/TYPE). */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  lines(): string[];
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new TypeError(`Cannot register metric: bad name '${name}'`);
}

/** Per the exposition format, label values escape backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Keeps one value per label set, keyed by the label values in declared order. */
class Series<T> {
  readonly #map = new Map<string, { labels: Labels; value: T }>();
  constructor(readonly labelNames: readonly string[], readonly init: () => T) {}

  get(labels: Labels): T {
    const key = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let entry = this.#map.get(key);
    if (!entry) {
      const ordered: Labels = {};
      for (const n of this.labelNames) ordered[n] = labels[n] ?? "";
      entry = { labels: ordered, value: this.init() };
      this.#map.set(key, entry);
    }
    return entry.value;
  }
  entries(): { labels: Labels; value: T }[] {
    return [...this.#map.values()];
  }
  clear(): void {
    this.#map.clear();
  }
}

/** A value that only goes up (events received, IONOS calls). */
export class Counter<L extends string = string> implements Family {
  readonly type = "counter";
  readonly #series: Series<{ v: number }>;
  constructor(readonly name: string, readonly help: string, labelNames: readonly L[] = []) {
    checkName(name);
    this.#series = new Series(labelNames, () => ({ v: 0 }));
  }
  /** @param by @default 1; must not be negative */
  inc(labels: Partial<Record<L, string>> = {}, by = 1): void {
    if (by < 0) throw new RangeError(`Cannot decrease counter '${this.name}'`);
    this.#series.get(labels as Labels).v += by;
  }
  lines(): string[] {
    return this.#series.entries().map((e) =>
      `${this.name}${labelText(e.labels)} ${formatValue(e.value.v)}`
    );
  }
}

/** A value that goes up and down; `reset()` drops every label set before a fresh collect. */
export class Gauge<L extends string = string> implements Family {
  readonly type = "gauge";
  readonly #series: Series<{ v: number }>;
  constructor(readonly name: string, readonly help: string, labelNames: readonly L[] = []) {
    checkName(name);
    this.#series = new Series(labelNames, () => ({ v: 0 }));
  }
  set(labels: Partial<Record<L, string>>, value: number): void {
    this.#series.get(labels as Labels).v = value;
  }
  reset(): void {
    this.#series.clear();
  }
  lines(): string[] {
    return this.#series.entries().map((e) =>
      `${this.name}${labelText(e.labels)} ${formatValue(e.value.v)}`
    );
  }
}

interface HistogramValue {
  buckets: number[];
  sum: number;
  count: number;
}

/** Default buckets in seconds, from 5 ms to 2 minutes: IONOS writes wait for DONE. */
export const DEFAULT_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Observations in cumulative buckets (durations, waits). */
export class Histogram<L extends string = string> implements Family {
  readonly type = "histogram";
  readonly #series: Series<HistogramValue>;
  readonly #bounds: number[];
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[] = [],
    buckets: number[] = DEFAULT_BUCKETS,
  ) {
    checkName(name);
    this.#bounds = [...buckets].sort((a, b) => a - b);
    this.#series = new Series(labelNames, () => ({
      buckets: this.#bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
  }
  observe(labels: Partial<Record<L, string>>, value: number): void {
    const h = this.#series.get(labels as Labels);
    h.sum += value;
    h.count++;
    this.#bounds.forEach((b, i) => {
      if (value <= b) h.buckets[i]!++;
    });
  }
  lines(): string[] {
    const out: string[] = [];
    for (const { labels, value } of this.#series.entries()) {
      this.#bounds.forEach((b, i) => {
        out.push(
          `${this.name}_bucket${labelText({ ...labels, le: formatValue(b) })} ${value.buckets[i]}`,
        );
      });
      out.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${value.count}`);
      out.push(`${this.name}_sum${labelText(labels)} ${formatValue(value.sum)}`);
      out.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
    return out;
  }
}

/**
 * Holds metric families and renders them; `collectors` run before each render to refresh gauges
 * read from elsewhere (BullMQ job counts in Redis).
 *
 * @example
 * const registry = new Registry();
 * const hits = registry.add(new Counter("hits_total", "Hits.", ["route"]));
 * hits.inc({ route: "/events" });
 * const text = await registry.render();
 */
export class Registry {
  readonly #families: Family[] = [];
  readonly #collectors: (() => Promise<void> | void)[] = [];

  /** Registers a family; a second one with the same name is a programming mistake. */
  add<F extends Family>(family: F): F {
    if (this.#families.some((f) => f.name === family.name)) {
      throw new Error(`Cannot register metric: '${family.name}' is already registered`);
    }
    this.#families.push(family);
    return family;
  }

  /** Runs before every render; a failing collector is reported by `onError`, not thrown. */
  addCollector(collect: () => Promise<void> | void): void {
    this.#collectors.push(collect);
  }

  /** The exposition text. Collector failures leave their gauges empty rather than fail. */
  async render(onError: (error: unknown) => void = () => {}): Promise<string> {
    await Promise.all(this.#collectors.map(async (c) => {
      try {
        await c();
      } catch (error) {
        onError(error);
      }
    }));
    const out: string[] = [];
    for (const f of this.#families) {
      const lines = f.lines();
      if (lines.length === 0) continue;
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      out.push(...lines);
    }
    return out.join("\n") + "\n";
  }
}

/** The content type Prometheus expects for the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
