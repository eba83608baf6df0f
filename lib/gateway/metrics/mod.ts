/**
 * A small Prometheus text-format registry: counters, gauges collected at
 * scrape time, and histograms, all with labels.
 *
 * @module
 */

/**
 * Metric labels.
 *
 * @example
 * ```ts
 * import type { Labels } from "@qmtl/qmtl/gateway";
 * const l: Labels = { route: "/v1/nodes" };
 * ```
 */
export type Labels = Record<string, string>;

function escape(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return "{" + keys.map((k) => `${k}="${escape(labels[k])}"`).join(",") + "}";
}

/** Default latency buckets, seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

interface Hist {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A gauge collector: called at scrape time, returns samples.
 *
 * @example
 * ```ts
 * import type { GaugeCollector } from "@qmtl/qmtl/gateway";
 * const c: GaugeCollector = () => [{ labels: { state: "ready" }, value: 3 }];
 * ```
 */
export type GaugeCollector = () =>
  | Promise<{ labels: Record<string, string>; value: number }[]>
  | { labels: Record<string, string>; value: number }[];

/**
 * Metrics registry.
 *
 * @example
 * ```ts
 * import { Metrics } from "@qmtl/qmtl/gateway";
 * const m = new Metrics();
 * m.inc("qmtl_demo_total", "Demo counter.", { kind: "a" });
 * console.log(await m.render());
 * ```
 */
export class Metrics {
  #help = new Map<string, { type: string; help: string }>();
  #counters = new Map<string, Map<string, number>>();
  #hists = new Map<
    string,
    { buckets: readonly number[]; series: Map<string, Hist> }
  >();
  #gauges = new Map<string, GaugeCollector>();

  #declare(name: string, type: string, help: string): void {
    if (!this.#help.has(name)) this.#help.set(name, { type, help });
  }

  /** Add `by` (default 1) to a counter. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.#declare(name, "counter", help);
    let series = this.#counters.get(name);
    if (!series) this.#counters.set(name, series = new Map());
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + by);
  }

  /**
   * A counter series bound to fixed labels: the returned function adds `by`
   * (default 1) without re-rendering the labels (hot paths).
   *
   * @example
   * ```ts
   * import { Metrics } from "@qmtl/qmtl/gateway";
   * const m = new Metrics();
   * const hit = m.counterSeries("qmtl_demo_total", "Demo.", { kind: "a" });
   * hit();
   * ```
   */
  counterSeries(
    name: string,
    help: string,
    labels: Labels = {},
  ): (by?: number) => void {
    this.#declare(name, "counter", help);
    let series = this.#counters.get(name);
    if (!series) this.#counters.set(name, series = new Map());
    const key = labelText(labels);
    if (!series.has(key)) series.set(key, 0);
    const s = series;
    return (by = 1) => {
      s.set(key, s.get(key)! + by);
    };
  }

  /**
   * A histogram series bound to fixed labels: the returned function
   * observes one value (hot paths).
   *
   * @example
   * ```ts
   * import { Metrics } from "@qmtl/qmtl/gateway";
   * const m = new Metrics();
   * const lat = m.histogramSeries("qmtl_demo_seconds", "Demo.", { route: "/x" });
   * lat(0.003);
   * ```
   */
  histogramSeries(
    name: string,
    help: string,
    labels: Labels,
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): (value: number) => void {
    this.#declare(name, "histogram", help);
    let h = this.#hists.get(name);
    if (!h) this.#hists.set(name, h = { buckets, series: new Map() });
    const key = labelText(labels);
    let s = h.series.get(key);
    if (!s) {
      h.series.set(
        key,
        s = { counts: new Array(h.buckets.length).fill(0), sum: 0, count: 0 },
      );
    }
    const b = h.buckets;
    const hist = s;
    return (value: number) => {
      for (let i = 0; i < b.length; i++) {
        if (value <= b[i]) hist.counts[i]++;
      }
      hist.sum += value;
      hist.count++;
    };
  }

  /** Current value of a counter series (tests). */
  counter(name: string, labels: Labels = {}): number {
    return this.#counters.get(name)?.get(labelText(labels)) ?? 0;
  }

  /** Observe a histogram value. */
  observe(
    name: string,
    help: string,
    labels: Labels,
    value: number,
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): void {
    this.histogramSeries(name, help, labels, buckets)(value);
  }

  /**
   * Register a metric computed at scrape time: a gauge, or a counter whose
   * value another object keeps (`type` `"counter"`).
   */
  gauge(
    name: string,
    help: string,
    collect: GaugeCollector,
    type: "gauge" | "counter" = "gauge",
  ): void {
    this.#declare(name, type, help);
    this.#gauges.set(name, collect);
  }

  /**
   * Declare a counter or histogram family so that `/metrics` lists it (its
   * `# HELP` and `# TYPE` lines) from start-up, before its first series.
   *
   * @example
   * ```ts
   * import { Metrics } from "@qmtl/qmtl/gateway";
   * import assert from "node:assert/strict";
   * const m = new Metrics();
   * m.family("qmtl_demo_total", "counter", "Demo.");
   * assert.match(await m.render(), /# TYPE qmtl_demo_total counter/);
   * ```
   */
  family(name: string, type: "counter" | "histogram", help: string): void {
    this.#declare(name, type, help);
    if (type === "counter") {
      if (!this.#counters.has(name)) this.#counters.set(name, new Map());
    } else if (!this.#hists.has(name)) {
      this.#hists.set(name, { buckets: LATENCY_BUCKETS, series: new Map() });
    }
  }

  /** True when a family of this name has been declared or used. */
  has(name: string): boolean {
    return this.#help.has(name);
  }

  /** Prometheus text exposition (version 0.0.4). */
  async render(): Promise<string> {
    const lines: string[] = [];
    const head = (name: string) => {
      const h = this.#help.get(name)!;
      lines.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} ${h.type}`);
    };
    for (const [name, series] of this.#counters) {
      head(name);
      for (const [k, v] of series) lines.push(`${name}${k} ${v}`);
    }
    for (const [name, h] of this.#hists) {
      head(name);
      for (const [k, s] of h.series) {
        const inner = k === "" ? "" : k.slice(1, -1) + ",";
        h.buckets.forEach((b, i) =>
          lines.push(`${name}_bucket{${inner}le="${b}"} ${s.counts[i]}`)
        );
        lines.push(`${name}_bucket{${inner}le="+Inf"} ${s.count}`);
        lines.push(`${name}_sum${k} ${s.sum}`, `${name}_count${k} ${s.count}`);
      }
    }
    for (const [name, collect] of this.#gauges) {
      let samples: { labels: Labels; value: number }[];
      try {
        samples = await collect();
      } catch {
        continue; // backend down: omit the gauge rather than fail the scrape
      }
      head(name);
      for (const s of samples) {
        lines.push(`${name}${labelText(s.labels)} ${s.value}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}

export { declareGatewayFamilies } from "./families.ts";
