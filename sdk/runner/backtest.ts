/**
 * Backtests: run one or many strategies in one process over recorded data.
 * A node shared by several strategies is computed once per bar; the run is
 * deterministic (the same records give the same outputs, in the same order).
 *
 * @module
 */

import { Engine, type NodeStats } from "./engine.ts";
import {
  matchTagQuery,
  planRun,
  type Runnable,
  type RunPlan,
  tagKey,
} from "./plan.ts";
import {
  readSource,
  readSourceSync,
  type Source,
  type SourceRecord,
  type TimeBound,
  toSeconds,
} from "./sources.ts";
import type { CompiledNode } from "../builder.ts";
import { createHash } from "node:crypto";
import { encodeBar } from "./records.ts";

/**
 * Options of {@link backtest}.
 *
 * @example
 * ```ts
 * import type { BacktestOptions } from "@qmtl/qmtl/sdk";
 * const o: BacktestOptions = {
 *   source: [{ tags: ["btc", "close"], ts: 0, value: 1 }],
 *   from: "1970-01-01T00:00:00Z",
 * };
 * ```
 */
export interface BacktestOptions {
  /** The data: records (or several record sources, merged by time). */
  source: Source;
  /** Skip records before this time. */
  from?: TimeBound;
  /** Stop at records at or after this time. */
  to?: TimeBound;
  /**
   * Outputs kept per node in the result (the newest); default all. `0`
   * keeps none (use `onOutput` to stream them).
   */
  keep?: number;
  /** Called for every output of every node, in run order. */
  onOutput?: (output: NodeOutput) => void;
  /**
   * A compute function that throws: `"throw"` (default) aborts the backtest
   * with a `ComputeError` naming node and bar; `"skip"` skips the bar and
   * counts it in the node's `errors`.
   */
  onError?: "throw" | "skip";
}

/**
 * One output record.
 *
 * @example
 * ```ts
 * import type { NodeOutput } from "@qmtl/qmtl/sdk";
 * const line = (o: NodeOutput) => `${o.name}@${o.barTs}=${o.value}`;
 * ```
 */
export interface NodeOutput {
  /** Node ID. */
  nodeId: string;
  /** Node display name. */
  name: string;
  /** Bar time, seconds since the epoch. */
  barTs: number;
  /** The value. */
  value: unknown;
}

/**
 * The outputs of one node, as columns (easy to tabulate or plot).
 *
 * @example
 * ```ts
 * import type { NodeSeries } from "@qmtl/qmtl/sdk";
 * const rows = (s: NodeSeries) => s.times.map((t, i) => [t, s.values[i]]);
 * ```
 */
export interface NodeSeries {
  /** Node ID. */
  nodeId: string;
  /** Display name (of the first strategy declaring it). */
  name: string;
  /** Node type. */
  nodeType: string;
  /** Interval, seconds. */
  intervalS: number;
  /** Period, bars. */
  period: number;
  /** Names of the strategies containing the node. */
  strategies: string[];
  /** Bar times of the kept outputs, oldest first. */
  times: number[];
  /** The kept outputs, parallel to `times`. */
  values: unknown[];
  /** Counters of the node. */
  stats: NodeStats;
}

/**
 * One strategy's view of a backtest.
 *
 * @example
 * ```ts
 * import type { StrategyResult } from "@qmtl/qmtl/sdk";
 * const signals = (r: StrategyResult) => r.outputs.map((n) => r.nodes[n].values);
 * ```
 */
export interface StrategyResult {
  /** Strategy name. */
  name: string;
  /** The strategy's nodes by its own display names (shared series objects). */
  nodes: Record<string, NodeSeries>;
  /** Names of the nodes no other node of the strategy reads (its signals). */
  outputs: string[];
}

/**
 * Run totals.
 *
 * @example
 * ```ts
 * import type { BacktestStats } from "@qmtl/qmtl/sdk";
 * const ratio = (s: BacktestStats) => s.evaluationsSaved / (s.evaluations + s.evaluationsSaved);
 * ```
 */
export interface BacktestStats {
  /** Source records read (within `from`/`to`). */
  records: number;
  /** Records whose tags match no stream input. */
  unmatched: number;
  /** Distinct nodes run. */
  nodes: number;
  /** Compute calls, all nodes. */
  evaluations: number;
  /** Compute calls avoided by sharing nodes between strategies. */
  evaluationsSaved: number;
  /** Outputs emitted, all nodes. */
  emitted: number;
  /** Wall time of the run, ms. */
  wallMs: number;
}

/**
 * Result of {@link backtest}: per-node series (by node ID), per-strategy
 * views, and totals. Plain data: `JSON.stringify` it, plot the columns.
 *
 * @example
 * ```ts
 * import type { BacktestResult } from "@qmtl/qmtl/sdk";
 * const summary = (r: BacktestResult) => `${r.stats.evaluations} evaluations in ${r.stats.wallMs} ms`;
 * ```
 */
export interface BacktestResult {
  /** Every distinct node's outputs, by node ID, in run order. */
  nodes: Record<string, NodeSeries>;
  /** One entry per strategy, in the order given. */
  strategies: StrategyResult[];
  /** Totals. */
  stats: BacktestStats;
}

function descendants(plan: RunPlan, id: string): Set<string> {
  const out = new Set<string>([id]);
  for (const n of plan.nodes) {
    if (n.engine.inputs.some((i) => out.has(i))) out.add(n.engine.id);
  }
  return out;
}

/**
 * Backtest `strategies` over `options.source`.
 *
 * Stream inputs are fed by the records whose tags equal theirs; tag queries
 * are resolved against the nodes of the strategies in the run (not the
 * nodes that read the query). Every node of every strategy must be declared
 * by one of them: an input given as a node ID of the global DAG cannot be
 * backtested unless its strategy is run too.
 *
 * @param strategies one or many builders or compiled strategies
 * @param options source, bounds, output handling
 * @returns outputs and totals
 * @example
 * ```ts
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import { backtest } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 *
 * const s = new StrategyBuilder("demo");
 * const price = s.streamInput({ name: "price", tags: ["btc", "close"], intervalS: 60, period: 1 });
 * s.processing({
 *   name: "sma2", inputs: [price], intervalS: 60, period: 2,
 *   compute: (v) => (v.values[0] + v.values[1]) / 2,
 * });
 * const source = [1, 2, 3].map((x, i) => ({ tags: ["btc", "close"], ts: i * 60, value: x }));
 * const r = await backtest(s, { source });
 * assert.deepEqual(r.strategies[0].nodes.sma2.values, [1.5, 2.5]);
 * assert.deepEqual(r.strategies[0].nodes.sma2.times, [60, 120]);
 * ```
 */
export async function backtest(
  strategies: Runnable | readonly Runnable[],
  options: BacktestOptions,
): Promise<BacktestResult> {
  const started = performance.now();
  const plan = planRun(strategies);
  if (plan.external.length > 0) {
    throw new Error(
      `cannot backtest: node ${
        plan.external[0]
      } is read but declared by none of the strategies (an input from the global DAG); run its strategy in the same backtest`,
    );
  }
  const keep = options.keep ?? Infinity;
  const series: Record<string, NodeSeries> = {};
  const names = plan.strategies.map((s) => s.name);
  const onOutput = options.onOutput;
  const engine = new Engine({
    onOutput: (id, t, v) => {
      const s = series[id];
      if (keep > 0) {
        s.times.push(t);
        s.values.push(v);
        if (s.times.length > keep * 2 + 1024) {
          s.times.splice(0, s.times.length - keep);
          s.values.splice(0, s.values.length - keep);
        }
      }
      onOutput?.({ nodeId: id, name: s.name, barTs: t, value: v });
    },
    ...(options.onError === "skip" ? { onError: () => {} } : {}),
  });
  for (const n of plan.nodes) {
    const node = engine.add(n.engine);
    series[n.engine.id] = {
      nodeId: n.engine.id,
      name: n.engine.name,
      nodeType: n.compiled.spec.nodeType,
      intervalS: n.engine.intervalS,
      period: n.engine.period,
      strategies: n.strategies.map((i) => names[i]),
      times: [],
      values: [],
      stats: node.stats,
    };
  }
  const all: CompiledNode[] = plan.nodes.map((n) => n.compiled);
  for (const n of plan.nodes) {
    if (n.engine.kind !== "tagQuery") continue;
    const below = descendants(plan, n.engine.id);
    const candidates = all.filter((c) => !below.has(c.spec.nodeId));
    engine.setTagInputs(n.engine.id, matchTagQuery(n.compiled, candidates));
  }
  for (const n of plan.nodes) {
    if (n.engine.kind === "processing" && !n.engine.compute) {
      throw new Error(
        `cannot backtest: node ${
          JSON.stringify(n.engine.name)
        } has source text, not a compute function`,
      );
    }
  }

  let records = 0;
  let unmatched = 0;
  const routes = new Map<string, string[] | null>();
  // Records' tags as written → stream inputs (memoised: sources repeat them).
  // Sources usually repeat one tags array object per stream: look it up by
  // identity first, by content otherwise.
  const byArray = new WeakMap<readonly string[], string[] | null>();
  const route = (r: SourceRecord): string[] | null => {
    let ids = byArray.get(r.tags);
    if (ids !== undefined) return ids;
    const raw = (r.tags as string[]).join("\u0000");
    ids = routes.get(raw);
    if (ids === undefined) {
      ids = plan.streams.get(tagKey(r.tags)) ?? null;
      routes.set(raw, ids);
    }
    if (Array.isArray(r.tags)) byArray.set(r.tags, ids);
    return ids;
  };
  const bounds = {
    ...(options.from !== undefined
      ? { from: toSeconds(options.from, "from") }
      : {}),
    ...(options.to !== undefined ? { to: toSeconds(options.to, "to") } : {}),
  };
  const handle = (r: SourceRecord) => {
    records++;
    const ids = route(r);
    if (ids === null) {
      unmatched++;
      return;
    }
    for (let i = 0; i < ids.length; i++) engine.feed(ids[i], r.ts, r.value);
  };
  const sync = readSourceSync(options.source, bounds);
  if (sync) { for (const r of sync) handle(r); }
  else for await (const r of readSource(options.source, bounds)) handle(r);

  let evaluations = 0;
  let emitted = 0;
  let saved = 0;
  for (const n of plan.nodes) {
    const st = series[n.engine.id].stats;
    evaluations += st.evaluations;
    emitted += st.emitted;
    saved += st.evaluations * (n.strategies.length - 1);
  }
  const results: StrategyResult[] = plan.strategies.map((s) => {
    const nodes: Record<string, NodeSeries> = {};
    const read = new Set<string>();
    for (const n of s.nodes) {
      nodes[n.spec.name] = series[n.spec.nodeId];
      for (const i of n.spec.inputs) read.add(i);
    }
    const outputs = s.nodes.filter((n) => !read.has(n.spec.nodeId)).map((n) =>
      n.spec.name
    );
    return { name: s.name, nodes, outputs };
  });
  return {
    nodes: series,
    strategies: results,
    stats: {
      records,
      unmatched,
      nodes: plan.nodes.length,
      evaluations,
      evaluationsSaved: saved,
      emitted,
      wallMs: Math.round((performance.now() - started) * 1000) / 1000,
    },
  };
}

/**
 * A digest of every kept output of a backtest: SHA-256 over, node by node in
 * node-ID order, the node ID and each output encoded as a `qmtl.v1.BarRecord`
 * (length-prefixed). Two runs with byte-identical outputs have equal
 * digests.
 *
 * @param result a backtest result
 * @returns `"sha256:"` + 64 hex digits
 * @example
 * ```ts
 * import { backtest, outputsDigest } from "@qmtl/qmtl/sdk";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const s = new StrategyBuilder("d");
 * const p = s.streamInput({ name: "p", tags: ["p"], intervalS: 60, period: 1 });
 * s.processing({ name: "x2", inputs: [p], intervalS: 60, period: 1, compute: (v) => v.last * 2 });
 * const source = [1, 2].map((value, i) => ({ tags: ["p"], ts: i * 60, value }));
 * const a = outputsDigest(await backtest(s, { source }));
 * assert.equal(a, outputsDigest(await backtest(s, { source })));
 * ```
 */
export function outputsDigest(result: BacktestResult): string {
  const h = createHash("sha256");
  const len = new Uint8Array(4);
  const view = new DataView(len.buffer);
  for (const id of Object.keys(result.nodes).sort()) {
    const s = result.nodes[id];
    h.update(id);
    for (let i = 0; i < s.times.length; i++) {
      const bytes = encodeBar({ barTs: s.times[i], value: s.values[i] });
      view.setUint32(0, bytes.length);
      h.update(len);
      h.update(bytes);
    }
  }
  return "sha256:" + h.digest("hex");
}
