/**
 * The evaluation engine shared by backtest and live runs: each distinct node
 * once, values pushed from inputs to consumers, the firing rule of the
 * compute contract.
 *
 * **Firing rule.** A value reaching a node is placed at its bar time aligned
 * to the node's interval (`floor(ts / interval) * interval`). Per input, bar
 * times only move forward: a value for an older bar than the input's newest
 * is *late* and dropped; a value for the newest bar replaces it until the
 * node has emitted that bar and is a *duplicate* (dropped) after. A node
 * fires, in order, for every bar time `t` that some input holds, that is
 * later than the last bar it emitted and no later than the oldest "newest
 * bar" among its inputs (every input has advanced to `t`) — provided every
 * input has at least `period` values at times ≤ `t` (warm-up). Each input's
 * window is then its last `period` values at times ≤ `t`. The output is
 * stamped `t`. A stream input emits the first value of each of its bars.
 *
 * Counted per node (see {@link NodeStats}): evaluations, emitted records,
 * bars skipped in warm-up, late and duplicate values dropped, compute errors.
 *
 * @module
 */

import { InputBuffer, Window } from "./input_buffer.ts";
import type { ComputeFn, InputWindow, NodeView } from "./view.ts";

/**
 * Counters of one node in a run.
 *
 * @example
 * ```ts
 * import type { NodeStats } from "@qmtl/qmtl/sdk";
 * const dropped = (s: NodeStats) => s.late + s.duplicate;
 * ```
 */
export interface NodeStats {
  /** Compute calls (processing and tag-query nodes). */
  evaluations: number;
  /** Output records emitted. */
  emitted: number;
  /** Bars not computed because an input had fewer than `period` values. */
  warmup: number;
  /** Values dropped: older than their input's newest bar. */
  late: number;
  /** Values dropped: for a bar the node had already emitted. */
  duplicate: number;
  /** Compute calls that threw (the bar is skipped, see `onError`). */
  errors: number;
}

/** How a node gets its values. */
export type NodeKind = "stream" | "processing" | "tagQuery";

/**
 * What the engine needs to know about one node.
 *
 * @example
 * ```ts
 * import type { EngineNodeSpec } from "./engine.ts";
 * const n: EngineNodeSpec = {
 *   id: "sha256:" + "a".repeat(64), name: "price", kind: "stream",
 *   intervalS: 60, period: 1, inputs: [], params: {},
 * };
 * ```
 */
export interface EngineNodeSpec {
  /** Node ID. */
  id: string;
  /** Display name (first strategy that declared it). */
  name: string;
  /** How it gets values. */
  kind: NodeKind;
  /** Interval, seconds. */
  intervalS: number;
  /** Period, bars. */
  period: number;
  /** Input node IDs in declared order (tag queries: set later). */
  inputs: readonly string[];
  /** Params passed to `compute`. */
  params: unknown;
  /** The compute function of a processing node. */
  compute?: ComputeFn;
}

/** A compute error, as reported to `onError`. */
export class ComputeError extends Error {
  /** Node ID. */
  readonly nodeId: string;
  /** Node name. */
  readonly node: string;
  /** The bar being computed. */
  readonly barTs: number;

  /**
   * Wraps what a compute function threw.
   *
   * @param node the node's name
   * @param nodeId the node's ID
   * @param barTs the bar
   * @param cause what was thrown
   */
  constructor(node: string, nodeId: string, barTs: number, cause: unknown) {
    super(
      `compute of node ${JSON.stringify(node)} failed at bar ${barTs}: ${
        (cause as Error)?.message ?? String(cause)
      }`,
      { cause },
    );
    this.name = "ComputeError";
    this.node = node;
    this.nodeId = nodeId;
    this.barTs = barTs;
  }
}

/**
 * Options of {@link Engine}.
 *
 * @example
 * ```ts
 * import type { EngineOptions } from "./engine.ts";
 * const o: EngineOptions = { onOutput: (id, t, v) => console.log(id, t, v) };
 * ```
 */
export interface EngineOptions {
  /** Called for every record a node emits (computed or injected). */
  onOutput?: (nodeId: string, barTs: number, value: unknown) => void;
  /**
   * Called when a compute function throws or returns a promise; return
   * normally to skip the bar, throw to abort. Default: throw.
   */
  onError?: (error: ComputeError) => void;
}

const MAX_PENDING = 100_000;

class ViewImpl implements NodeView {
  barTs = 0;
  readonly inputs: Window[];
  readonly length: number;

  constructor(inputs: Window[], period: number) {
    this.inputs = inputs;
    this.length = period;
  }
  get values(): readonly unknown[] {
    return this.inputs[0].values;
  }
  get times(): readonly number[] {
    return this.inputs[0].times;
  }
  get last(): unknown {
    return this.inputs[0].last;
  }
  at(index: number): unknown {
    return this.inputs[0].at(index);
  }
}

/** A node at run time. */
export class RuntimeNode {
  readonly spec: EngineNodeSpec;
  /** Input node IDs per slot (tag queries: the matched nodes, sorted). */
  upstream: string[];
  buffers: InputBuffer[];
  windows: Window[];
  view: ViewImpl;
  /** Consumers: node and input slot. */
  consumers: { node: RuntimeNode; slot: number }[] = [];
  /** Whether this process computes the node (else values are injected). */
  computing = true;
  lastEmitted = -Infinity;
  lastWarmup = -Infinity;
  readonly stats: NodeStats = {
    evaluations: 0,
    emitted: 0,
    warmup: 0,
    late: 0,
    duplicate: 0,
    errors: 0,
  };

  constructor(spec: EngineNodeSpec) {
    this.spec = spec;
    this.upstream = [...spec.inputs];
    this.buffers = this.upstream.map(() => new InputBuffer());
    this.windows = this.upstream.map(() => new Window(spec.period));
    this.view = new ViewImpl(this.windows, spec.period);
  }
}

/**
 * Runs a set of nodes: wire them with {@link Engine.add} (inputs before
 * consumers), then push stream values with {@link Engine.feed} or inject a
 * node's outputs computed elsewhere with {@link Engine.inject}.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * import assert from "node:assert/strict";
 * const out: [number, unknown][] = [];
 * const e = new Engine({ onOutput: (id, t, v) => id === "sum" && out.push([t, v]) });
 * e.add({ id: "p", name: "p", kind: "stream", intervalS: 60, period: 1, inputs: [], params: {} });
 * e.add({
 *   id: "sum", name: "sum", kind: "processing", intervalS: 60, period: 2, inputs: ["p"], params: {},
 *   compute: (v) => v.values[0] + v.values[1],
 * });
 * for (const [ts, x] of [[0, 1], [60, 2], [125, 3]]) e.feed("p", ts, x);
 * assert.deepEqual(out, [[60, 3], [120, 5]]);
 * ```
 */
export class Engine {
  readonly #nodes = new Map<string, RuntimeNode>();
  readonly #onOutput?: EngineOptions["onOutput"];
  readonly #onError?: EngineOptions["onError"];

  /**
   * An empty engine.
   *
   * @param options output and error callbacks
   */
  constructor(options: EngineOptions = {}) {
    this.#onOutput = options.onOutput;
    this.#onError = options.onError;
  }

  /** The node with this ID, if added. */
  node(id: string): RuntimeNode | undefined {
    return this.#nodes.get(id);
  }

  /** Every node, in the order added. */
  nodes(): IterableIterator<RuntimeNode> {
    return this.#nodes.values();
  }

  /**
   * Add a node; its inputs must have been added before (a missing input is
   * an error). Adding a node ID twice returns the existing node.
   */
  add(spec: EngineNodeSpec): RuntimeNode {
    const existing = this.#nodes.get(spec.id);
    if (existing) return existing;
    const node = new RuntimeNode(spec);
    node.upstream.forEach((up, slot) => this.#link(up, node, slot));
    this.#nodes.set(spec.id, node);
    return node;
  }

  #link(up: string, node: RuntimeNode, slot: number): void {
    const src = this.#nodes.get(up);
    if (!src) {
      throw new Error(
        `node ${
          JSON.stringify(node.spec.name)
        } reads ${up}, which is not part of this run`,
      );
    }
    src.consumers.push({ node, slot });
  }

  /**
   * Set the nodes a tag-query node reads (sorted by ID). Buffers of nodes
   * still matched are kept; new ones start empty.
   */
  setTagInputs(id: string, upstream: readonly string[]): void {
    const node = this.#require(id);
    const next = [...new Set(upstream)].sort();
    const old = new Map(node.upstream.map((u, i) => [u, node.buffers[i]]));
    for (const u of node.upstream) {
      const src = this.#nodes.get(u);
      if (src) src.consumers = src.consumers.filter((c) => c.node !== node);
    }
    node.upstream = next;
    node.buffers = next.map((u) => old.get(u) ?? new InputBuffer());
    node.windows = next.map(() => new Window(node.spec.period));
    node.view = new ViewImpl(node.windows, node.spec.period);
    next.forEach((u, slot) => this.#link(u, node, slot));
  }

  /**
   * Whether this process computes `id` (true) or receives its outputs
   * through {@link Engine.inject} (false). When computing starts after
   * `lastBarTs` (the last bar already published by someone else), bars up to
   * it are not computed again.
   */
  setComputing(id: string, computing: boolean, lastBarTs?: number): void {
    const node = this.#require(id);
    node.computing = computing;
    if (lastBarTs !== undefined && lastBarTs > node.lastEmitted) {
      node.lastEmitted = lastBarTs;
    }
    if (computing) this.#fire(node);
  }

  /** A value of stream input `id` at time `ts` (seconds). */
  feed(id: string, ts: number, value: unknown): void {
    const node = this.#require(id);
    const t = Math.floor(ts / node.spec.intervalS) * node.spec.intervalS;
    if (t <= node.lastEmitted) {
      if (t === node.lastEmitted) node.stats.duplicate++;
      else node.stats.late++;
      return;
    }
    this.#emit(node, t, value);
  }

  /**
   * An output of node `id` computed elsewhere (read from its topic): recorded
   * as the node's output and passed to its consumers. Bars at or before the
   * node's last output are dropped as duplicates.
   */
  inject(id: string, barTs: number, value: unknown): void {
    const node = this.#require(id);
    if (barTs <= node.lastEmitted) {
      node.stats.duplicate++;
      return;
    }
    this.#emit(node, barTs, value);
    this.#trimAll(node);
  }

  #require(id: string): RuntimeNode {
    const n = this.#nodes.get(id);
    if (!n) throw new Error(`unknown node ${id}`);
    return n;
  }

  #emit(node: RuntimeNode, t: number, value: unknown): void {
    node.lastEmitted = t;
    node.stats.emitted++;
    this.#onOutput?.(node.spec.id, t, value);
    const cs = node.consumers;
    for (let i = 0; i < cs.length; i++) {
      this.#deliver(cs[i].node, cs[i].slot, t, value);
    }
  }

  #deliver(node: RuntimeNode, slot: number, ts: number, value: unknown): void {
    const iv = node.spec.intervalS;
    const t = Math.floor(ts / iv) * iv;
    const buf = node.buffers[slot];
    const r = buf.offer(t, value, node.lastEmitted);
    if (r === "late") {
      node.stats.late++;
      return;
    }
    if (r === "duplicate") {
      node.stats.duplicate++;
      return;
    }
    if (node.computing) this.#fire(node);
    else if (buf.size > MAX_PENDING) buf.trim(buf.lastTime, node.spec.period);
  }

  /** The oldest newest-bar among the inputs (every input has advanced to it). */
  #ready(node: RuntimeNode): number {
    const bs = node.buffers;
    if (bs.length === 0) return -Infinity;
    let t = Infinity;
    for (let i = 0; i < bs.length; i++) {
      const lt = bs[i].lastTime;
      if (lt < t) t = lt;
    }
    return t;
  }

  /** The earliest bar time after `after` held by any input, or Infinity. */
  #nextBar(node: RuntimeNode, after: number): number {
    let next = Infinity;
    const bs = node.buffers;
    for (let i = 0; i < bs.length; i++) {
      const times = bs[i].times;
      // Scan from the newest: few entries lie after the last emitted bar.
      for (let k = times.length - 1; k >= bs[i].start; k--) {
        const tk = times[k];
        if (tk <= after) break;
        if (tk < next) next = tk;
      }
    }
    return next;
  }

  #fire(node: RuntimeNode): void {
    if (node.spec.kind === "stream") return;
    if (this.#fireInStep(node)) return;
    const ready = this.#ready(node);
    if (!(ready > node.lastEmitted)) return;
    const period = node.spec.period;
    const bs = node.buffers;
    let t = this.#nextBar(node, node.lastEmitted);
    while (t <= ready) {
      let warm = true;
      for (let i = 0; i < bs.length; i++) {
        const n = bs[i].countUpTo(t);
        if (n < period) {
          warm = false;
          break;
        }
        node.windows[i].point(bs[i], bs[i].start + n);
      }
      if (!warm) {
        if (t > node.lastWarmup) {
          node.lastWarmup = t;
          node.stats.warmup++;
        }
        // Not computable yet, and never will be: inputs only move forward.
        node.lastEmitted = t;
      } else {
        this.#evaluate(node, t);
      }
      t = this.#nextBar(node, t);
    }
    this.#trimAll(node);
  }

  /**
   * The common case, without scans: every input's newest bar is the same
   * time `t`, and it is the only bar after the last emitted one. Returns
   * false when the general path must decide.
   */
  #fireInStep(node: RuntimeNode): boolean {
    const bs = node.buffers;
    const n = bs.length;
    if (n === 0) return false;
    const last = node.lastEmitted;
    const t = bs[0].lastTime;
    for (let i = 0; i < n; i++) {
      const b = bs[i];
      const len = b.times.length;
      if (len === b.start || b.times[len - 1] !== t) return false;
      if (len - b.start >= 2 && b.times[len - 2] > last) return false;
    }
    if (!(t > last)) return true; // nothing new
    const period = node.spec.period;
    for (let i = 0; i < n; i++) {
      if (bs[i].times.length - bs[i].start < period) {
        if (t > node.lastWarmup) {
          node.lastWarmup = t;
          node.stats.warmup++;
        }
        node.lastEmitted = t;
        return true;
      }
    }
    for (let i = 0; i < n; i++) {
      const b = bs[i];
      // Keep the buffer short without trimming on every bar (before
      // pointing the window: trimming may compact the arrays).
      if (b.times.length - b.start > period + 64) b.trim(t, period);
      node.windows[i].point(b, b.times.length);
    }
    this.#evaluate(node, t);
    return true;
  }

  #trimAll(node: RuntimeNode): void {
    const keep = node.spec.period;
    const t = node.lastEmitted;
    for (let i = 0; i < node.buffers.length; i++) node.buffers[i].trim(t, keep);
  }

  #evaluate(node: RuntimeNode, t: number): void {
    node.stats.evaluations++;
    let value: unknown;
    try {
      if (node.spec.kind === "tagQuery") {
        const out: Record<string, unknown> = {};
        node.upstream.forEach((u, i) => out[u] = node.windows[i].last);
        value = out;
      } else {
        node.view.barTs = t;
        value = node.spec.compute!(node.view, node.spec.params);
        if (
          value !== null && typeof value === "object" &&
          typeof (value as PromiseLike<unknown>).then === "function"
        ) {
          throw new Error(
            "compute must be synchronous (it returned a promise)",
          );
        }
      }
    } catch (e) {
      node.stats.errors++;
      node.lastEmitted = t;
      const err = new ComputeError(node.spec.name, node.spec.id, t, e);
      if (this.#onError) this.#onError(err);
      else throw err;
      return;
    }
    if (value === undefined) {
      node.lastEmitted = t; // computed, nothing to emit
      return;
    }
    this.#emit(node, t, value);
  }
}

export type { InputWindow };
