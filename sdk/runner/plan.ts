/**
 * The run plan: the distinct nodes of one or many strategies (a node shared
 * by several strategies appears once), in an order where every node comes
 * after its inputs, with the stream inputs indexed by their tags and the
 * tag queries resolved.
 *
 * @module
 */

import type { CompiledNode, Strategy, StrategyBuilder } from "../builder.ts";
import { TAG_QUERY_NODE_TYPE } from "../contracts.ts";
import type { EngineNodeSpec, NodeKind } from "./engine.ts";

/** Node type of stream inputs. */
export const STREAM_INPUT_NODE_TYPE = "StreamInput";

/**
 * A strategy to run: a builder (compiled on the spot) or a compiled
 * {@link Strategy}.
 *
 * @example
 * ```ts
 * import type { Runnable } from "@qmtl/qmtl/sdk";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * const r: Runnable = new StrategyBuilder("empty");
 * ```
 */
export type Runnable = StrategyBuilder | Strategy;

/**
 * One distinct node of a plan.
 *
 * @example
 * ```ts
 * import type { PlannedNode } from "./plan.ts";
 * const label = (n: PlannedNode) => `${n.engine.name} (${n.strategies.join(", ")})`;
 * ```
 */
export interface PlannedNode {
  /** What the engine runs. */
  engine: EngineNodeSpec;
  /** The node as the first strategy that declared it compiled it. */
  compiled: CompiledNode;
  /** Indices of the strategies containing it. */
  strategies: number[];
}

/**
 * A run plan ({@link planRun}).
 *
 * @example
 * ```ts
 * import { planRun } from "./plan.ts";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const make = () => {
 *   const s = new StrategyBuilder("s");
 *   s.streamInput({ name: "p", tags: ["btc"], intervalS: 60, period: 1 });
 *   return s;
 * };
 * const plan = planRun([make(), make()]);
 * assert.equal(plan.nodes.length, 1); // shared
 * ```
 */
export interface RunPlan {
  /** The strategies, compiled, in the order given. */
  strategies: Strategy[];
  /** Distinct nodes, inputs first. */
  nodes: PlannedNode[];
  /** Stream input node IDs by tag key ({@link tagKey}). */
  streams: Map<string, string[]>;
  /** Node IDs read by some node but declared by none of the strategies. */
  external: string[];
}

/**
 * The key of a tag set: sorted, deduplicated tags joined by NUL.
 *
 * @param tags the tags
 * @returns the key
 * @example
 * ```ts
 * import { tagKey } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * assert.equal(tagKey(["close", "btc", "btc"]), tagKey(["btc", "close"]));
 * ```
 */
export function tagKey(tags: readonly string[]): string {
  return [...new Set(tags)].sort().join("\u0000");
}

function kindOf(nodeType: string): NodeKind {
  if (nodeType === STREAM_INPUT_NODE_TYPE) return "stream";
  if (nodeType === TAG_QUERY_NODE_TYPE) return "tagQuery";
  return "processing";
}

function compileAll(strategies: Runnable | readonly Runnable[]): Strategy[] {
  const list = Array.isArray(strategies) ? strategies : [strategies];
  return list.map((s) =>
    "compile" in s && typeof s.compile === "function"
      ? s.compile()
      : s as Strategy
  );
}

/**
 * Plan a run of `strategies`: merge their nodes by ID (the first strategy's
 * compute function is used for a shared node — same ID means same code and
 * params), order them inputs first and index stream inputs by tags.
 *
 * @param strategies builders or compiled strategies
 * @returns the plan
 */
export function planRun(
  strategies: Runnable | readonly Runnable[],
): RunPlan {
  const compiled = compileAll(strategies);
  const byId = new Map<string, PlannedNode>();
  const order: PlannedNode[] = [];
  const declared = new Set<string>();
  compiled.forEach((s, si) => {
    for (const n of s.nodes) declared.add(n.spec.nodeId);
    // Each strategy's nodes are in DAG order: inputs first.
    for (const n of s.nodes) {
      const id = n.spec.nodeId;
      const seen = byId.get(id);
      if (seen) {
        if (!seen.strategies.includes(si)) seen.strategies.push(si);
        if (!seen.compiled.compute && n.compute) seen.compiled = n;
        continue;
      }
      const kind = kindOf(n.spec.nodeType);
      const p: PlannedNode = {
        compiled: n,
        strategies: [si],
        engine: {
          id,
          name: n.spec.name,
          kind,
          intervalS: n.spec.intervalS,
          period: n.spec.period,
          inputs: kind === "tagQuery" ? [] : [...n.spec.inputs],
          params: n.params,
        },
      };
      byId.set(id, p);
      order.push(p);
    }
  });
  for (const p of order) {
    if (p.engine.kind === "processing" && p.compiled.compute) {
      p.engine.compute = p.compiled.compute;
    }
  }
  const external = new Set<string>();
  for (const p of order) {
    for (const i of p.engine.inputs) if (!declared.has(i)) external.add(i);
  }
  const streams = new Map<string, string[]>();
  for (const p of order) {
    if (p.engine.kind !== "stream") continue;
    const tags =
      (p.compiled.params as { stream_tags?: string[] }).stream_tags ??
        p.compiled.spec.tags;
    const key = tagKey(tags);
    const ids = streams.get(key) ?? [];
    ids.push(p.engine.id);
    streams.set(key, ids);
  }
  return {
    strategies: compiled,
    nodes: topoOrder(order),
    streams,
    external: [...external].sort(),
  };
}

/** Stable order where every node follows its inputs within the plan. */
function topoOrder(nodes: PlannedNode[]): PlannedNode[] {
  const ids = new Set(nodes.map((n) => n.engine.id));
  const placed = new Set<string>();
  const out: PlannedNode[] = [];
  let pending = nodes;
  while (pending.length > 0) {
    const rest: PlannedNode[] = [];
    for (const n of pending) {
      const ready = n.engine.inputs.every((i) => !ids.has(i) || placed.has(i));
      if (ready) {
        placed.add(n.engine.id);
        out.push(n);
      } else rest.push(n);
    }
    if (rest.length === pending.length) {
      throw new Error("the strategies' nodes form a cycle"); // verifyDag forbids it
    }
    pending = rest;
  }
  return out;
}

/**
 * The nodes a tag query matches among `candidates`: nodes (other than tag
 * queries) of the query's interval whose tags include any (`any`) or all
 * (`all`) of the query tags. A tag query never matches itself or another tag
 * query.
 *
 * @param query the tag query's compiled node
 * @param candidates nodes to match
 * @returns matching node IDs, sorted
 * @example
 * ```ts
 * import { matchTagQuery } from "@qmtl/qmtl/sdk";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const s = new StrategyBuilder("s");
 * s.streamInput({ name: "btc", tags: ["btc", "close"], intervalS: 60, period: 1 });
 * s.streamInput({ name: "eth", tags: ["eth", "close"], intervalS: 60, period: 1 });
 * s.tagQuery({ name: "closes", tags: ["close"], intervalS: 60, period: 1 });
 * const st = s.compile();
 * const q = st.nodes.find((n) => n.spec.nodeType === "TagQuery")!;
 * assert.equal(matchTagQuery(q, st.nodes).length, 2);
 * ```
 */
export function matchTagQuery(
  query: CompiledNode,
  candidates: readonly CompiledNode[],
): string[] {
  const params = query.params as { match_mode?: string; query_tags?: string[] };
  const want = params.query_tags ?? [];
  const all = params.match_mode === "all";
  const out = new Set<string>();
  for (const c of candidates) {
    if (c.spec.nodeType === TAG_QUERY_NODE_TYPE) continue;
    if (c.spec.intervalS !== query.spec.intervalS) continue;
    const have = new Set(c.spec.tags);
    const ok = all
      ? want.every((t) => have.has(t))
      : want.some((t) => have.has(t));
    if (ok) out.add(c.spec.nodeId);
  }
  return [...out].sort();
}
