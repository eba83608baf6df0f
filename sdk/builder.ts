/**
 * The strategy DAG builder: declare stream inputs, processing nodes and tag
 * queries, then {@link StrategyBuilder.build} validates the whole DAG, puts it
 * in DAG order and computes every node ID and the checksum with the one
 * shared implementation in `lib/contracts`.
 *
 * @module
 */

import {
  canonicalParamsJson,
  checkTags as checkContractTags,
  codeHash,
  computeNodeId,
  ContractError,
  dagChecksum,
  DEFAULT_SCHEMA_COMPAT_ID,
  ErrorCode,
  isNodeId,
  type JsonValue,
  type MatchMode,
  type NodeSpec,
  type StrategyDag,
  TAG_QUERY_NODE_TYPE,
  tagQueryParams,
  verifyDag,
} from "./contracts.ts";
import { capturedNames } from "./compute_check.ts";
import { dagOrder } from "./dag_order.ts";
import { ValidationError } from "./errors.ts";
import type { ComputeFn } from "./runner/view.ts";

export type { ComputeFn } from "./runner/view.ts";

/**
 * Node params: a JSON object. Top-level context keys (`seed`, `as_of`,
 * `world`, `env_*`, …) are dropped before hashing, so they never change a
 * node's identity.
 *
 * @example
 * ```ts
 * import type { Params } from "@qmtl/qmtl/sdk";
 * const p: Params = { window: 20, field: "close" };
 * ```
 */
export type Params = { [key: string]: JsonValue };

/** Node type of stream inputs. */
const STREAM_INPUT = "StreamInput";
/** Default node type of processing nodes. */
const PROCESSING = "Processing";

/**
 * A handle to a node declared on a {@link StrategyBuilder}; pass it in
 * another node's `inputs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * const s = new StrategyBuilder("demo");
 * const price = s.streamInput({ name: "price", tags: ["btc"], intervalS: 60, period: 1 });
 * assert.equal(price.name, "price");
 * assert.equal(price.nodeType, "StreamInput");
 * ```
 */
export class NodeRef {
  /** The node's display name, unique within its strategy. */
  readonly name: string;
  /** The node's type, e.g. `"StreamInput"`. */
  readonly nodeType: string;
  readonly #owner: StrategyBuilder;

  /**
   * Made by the builder's methods; not meant to be called directly.
   *
   * @param owner the builder the node belongs to
   * @param name the node's name
   * @param nodeType the node's type
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NodeRef, StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const ref = new StrategyBuilder("s").streamInput({ name: "p", tags: ["x"], intervalS: 1, period: 1 });
   * assert.ok(ref instanceof NodeRef); // the builder makes them
   * ```
   */
  constructor(owner: StrategyBuilder, name: string, nodeType: string) {
    this.#owner = owner;
    this.name = name;
    this.nodeType = nodeType;
  }

  /**
   * True when this node was declared on `builder`.
   *
   * @param builder a builder
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const a = new StrategyBuilder("a");
   * const p = a.streamInput({ name: "p", tags: ["x"], intervalS: 1, period: 1 });
   * assert.ok(p.belongsTo(a));
   * assert.equal(p.belongsTo(new StrategyBuilder("b")), false);
   * ```
   */
  belongsTo(builder: StrategyBuilder): boolean {
    return this.#owner === builder;
  }

  /**
   * `NodeRef(name)`, for messages.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const p = new StrategyBuilder("a").streamInput({ name: "p", tags: ["x"], intervalS: 1, period: 1 });
   * assert.equal(String(p), "NodeRef(p)");
   * ```
   */
  toString(): string {
    return `NodeRef(${this.name})`;
  }
}

/**
 * A node input: a {@link NodeRef} of the same builder, the name of a node of
 * the same builder (which allows forward references), or the node ID
 * (`"sha256:…"`) of a node that already exists in the global DAG.
 *
 * @example
 * ```ts
 * import type { NodeInput } from "@qmtl/qmtl/sdk";
 * const byName: NodeInput = "price";
 * const existing: NodeInput = "sha256:" + "0".repeat(64);
 * ```
 */
export type NodeInput = NodeRef | string;

/**
 * Fields shared by every kind of node.
 *
 * @example
 * ```ts
 * import type { CommonNodeOptions } from "@qmtl/qmtl/sdk";
 * const o: CommonNodeOptions = { name: "sma20", intervalS: 60, period: 20 };
 * ```
 */
export interface CommonNodeOptions {
  /** Display name, unique within the strategy. Not part of the node ID. */
  name: string;
  /** Bar interval in seconds; an integer > 0. */
  intervalS: number;
  /** Look-back period in bars; an integer ≥ 1. */
  period: number;
  /** Free-form display metadata. Not part of the node ID. */
  metadata?: Record<string, string>;
  /**
   * Asset the node's topic is named after (stored as `metadata.asset`). A
   * processing node without one inherits its inputs' asset when they agree.
   */
  asset?: string;
  /** Output schema family; default `"v1"`. Part of the node ID. */
  schemaCompatId?: string;
}

/**
 * Options of {@link StrategyBuilder.streamInput}.
 *
 * @example
 * ```ts
 * import type { StreamInputOptions } from "@qmtl/qmtl/sdk";
 * const o: StreamInputOptions = {
 *   name: "btc_close", tags: ["btc", "close"], intervalS: 60, period: 1,
 *   params: { exchange: "binance" },
 * };
 * ```
 */
export interface StreamInputOptions extends CommonNodeOptions {
  /**
   * Tags selecting the market stream, e.g. `["btc", "close"]`. They select
   * what the node reads, so (sorted, deduplicated) they are part of its
   * identity as the param `stream_tags`; they are also its display tags.
   */
  tags: readonly string[];
  /** Extra params, e.g. `{ exchange: "binance" }`. */
  params?: Params;
}

/**
 * Options of {@link StrategyBuilder.processing}.
 *
 * @example
 * ```ts
 * import type { ProcessingOptions } from "@qmtl/qmtl/sdk";
 * const o: ProcessingOptions<{ window: number }> = {
 *   name: "sma5", inputs: ["price"], intervalS: 60, period: 5, params: { window: 5 },
 *   compute: (view, p) => view.values.reduce((a: number, b: number) => a + b, 0) / p.window,
 * };
 * ```
 */
export interface ProcessingOptions<P extends Params = Params>
  extends CommonNodeOptions {
  /** The nodes this node reads; at least one. */
  inputs: readonly NodeInput[];
  /**
   * The compute function `(view, params) => value | undefined` (its syntax
   * tree is hashed into the node ID), or source text for a node computed
   * elsewhere (hashed as text; the runner cannot run it).
   *
   * The function must not read settings from a closure: a name it reads from
   * its enclosing scope must be a runtime global or be listed in `uses`.
   * Settings go in `params`, which the function receives.
   */
  compute: ComputeFn<P> | string;
  /** Params of the computation, e.g. `{ window: 20 }`. Part of the node ID. */
  params?: P;
  /**
   * Names the compute function reads from its enclosing scope: helper
   * functions (hashed into the node's identity with the compute function,
   * so editing one changes the ID) or libraries (objects; not hashed — pin
   * their versions). Plain values are refused: put settings in `params`.
   */
  uses?: Readonly<Record<string, unknown>>;
  /** Display tags. Not part of the node ID. */
  tags?: readonly string[];
  /** Node type; default `"Processing"` (e.g. `"Signal"`, `"RiskGate"`). */
  nodeType?: string;
}

/**
 * Options of {@link StrategyBuilder.tagQuery}.
 *
 * @example
 * ```ts
 * import type { TagQueryOptions } from "@qmtl/qmtl/sdk";
 * const o: TagQueryOptions = { name: "all_btc", tags: ["btc"], matchMode: "any", intervalS: 60, period: 1 };
 * ```
 */
export interface TagQueryOptions extends CommonNodeOptions {
  /** Tags to query; sorted and deduplicated into the node's params. */
  tags: readonly string[];
  /** `"any"` (default): a node with any of the tags; `"all"`: all of them. */
  matchMode?: MatchMode;
}

/**
 * Options of the {@link StrategyBuilder} constructor.
 *
 * @example
 * ```ts
 * import type { StrategyOptions } from "@qmtl/qmtl/sdk";
 * const o: StrategyOptions = { metadata: { team: "quant-a" } };
 * ```
 */
export interface StrategyOptions {
  /** Free-form strategy metadata, sent with the DAG. */
  metadata?: Record<string, string>;
}

/**
 * One node of a compiled {@link Strategy}.
 *
 * @example
 * ```ts
 * import type { CompiledNode } from "@qmtl/qmtl/sdk";
 * const show = (n: CompiledNode) => `${n.spec.name}: ${n.compute ? "runs here" : "data/elsewhere"}`;
 * ```
 */
export interface CompiledNode {
  /** The node as submitted (ID, type, interval, period, inputs, …). */
  spec: NodeSpec;
  /** The canonical params that enter the node's ID (frozen). */
  params: Readonly<Params>;
  /** The compute function, for processing nodes declared with one. */
  compute?: ComputeFn;
}

/**
 * A validated strategy with what it takes to run it: the DAG to submit and,
 * per node, its params and compute function ({@link StrategyBuilder.compile}).
 *
 * @example
 * ```ts
 * import type { Strategy } from "@qmtl/qmtl/sdk";
 * const count = (s: Strategy) => s.nodes.filter((n) => n.compute).length;
 * ```
 */
export interface Strategy {
  /** Display name of the strategy. */
  name: string;
  /** The DAG, as {@link StrategyBuilder.build} returns it. */
  dag: StrategyDag;
  /** The nodes in DAG order (the order of `dag.nodes`). */
  nodes: readonly CompiledNode[];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

interface Declared {
  kind: "stream" | "processing" | "tagQuery";
  nodeType: string;
  options: StreamInputOptions | ProcessingOptions | TagQueryOptions;
}

/**
 * Builds a strategy DAG.
 *
 * Declare nodes with {@link StrategyBuilder.streamInput},
 * {@link StrategyBuilder.processing} and {@link StrategyBuilder.tagQuery};
 * nothing is validated until {@link StrategyBuilder.build}, which returns a
 * `StrategyDag` ready to submit or throws a {@link ValidationError} naming the
 * node and field at fault.
 *
 * @example
 * ```ts
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import type { NodeView } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 *
 * const s = new StrategyBuilder("sma_crossover");
 * const price = s.streamInput({ name: "btc_close", tags: ["btc", "close"], intervalS: 60, period: 1, asset: "BTC" });
 * // One compute function, two nodes (their periods differ, so do their IDs).
 * const mean = (v: NodeView<number>) => v.values.reduce((a, b) => a + b, 0) / v.length;
 * const fast = s.processing({ name: "sma_fast", inputs: [price], intervalS: 60, period: 5, params: { window: 5 }, compute: mean });
 * const slow = s.processing({ name: "sma_slow", inputs: [price], intervalS: 60, period: 20, params: { window: 20 }, compute: mean });
 * s.processing({
 *   name: "crossover", nodeType: "Signal", inputs: [fast, slow], intervalS: 60, period: 2,
 *   compute: (v) => (v.inputs[0].last > v.inputs[1].last ? 1 : -1),
 * });
 * const dag = s.build();
 * assert.equal(dag.nodes.length, 4);
 * assert.ok(dag.nodes.every((n) => n.nodeId.startsWith("sha256:")));
 * ```
 */
export class StrategyBuilder {
  /** Display name of the strategy. */
  readonly name: string;
  readonly #metadata: Record<string, string>;
  readonly #nodes: Declared[] = [];

  /**
   * Start an empty strategy.
   *
   * @param name display name of the strategy
   * @param options strategy metadata
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const s = new StrategyBuilder("sma_crossover", { metadata: { team: "quant" } });
   * assert.equal(s.name, "sma_crossover");
   * ```
   */
  constructor(name: string, options: StrategyOptions = {}) {
    this.name = name;
    this.#metadata = { ...(options.metadata ?? {}) };
  }

  /**
   * Declare a market-data input selected by tags.
   *
   * @param options name, tags, interval, period and extra params
   * @returns a handle to use as another node's input
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const s = new StrategyBuilder("demo");
   * const price = s.streamInput({ name: "btc_close", tags: ["btc", "close"], intervalS: 60, period: 1 });
   * assert.equal(s.build().nodes[0].paramsJson, '{"stream_tags":["btc","close"]}');
   * ```
   */
  streamInput(options: StreamInputOptions): NodeRef {
    return this.#add("stream", STREAM_INPUT, options);
  }

  /**
   * Declare a computation over other nodes (an indicator, a signal, a risk
   * gate, …). Set `nodeType` to label it (default `"Processing"`).
   *
   * @param options name, inputs, interval, period, params and compute
   * @returns a handle to use as another node's input
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const s = new StrategyBuilder("demo");
   * const price = s.streamInput({ name: "price", tags: ["btc"], intervalS: 60, period: 1 });
   * const sma = s.processing({
   *   name: "sma20", inputs: [price], intervalS: 60, period: 20, params: { window: 20 },
   *   compute: (v) => v.values.reduce((a: number, b: number) => a + b, 0) / v.length,
   * });
   * assert.equal(sma.nodeType, "Processing");
   * ```
   */
  processing<P extends Params = Params>(
    options: ProcessingOptions<P>,
  ): NodeRef {
    return this.#add(
      "processing",
      options.nodeType ?? PROCESSING,
      options as unknown as ProcessingOptions,
    );
  }

  /**
   * Declare a tag-query input: every node in the global DAG whose tags match.
   * Its params are exactly `{match_mode, query_tags}`; the topics it resolves
   * to never enter its ID.
   *
   * @param options name, tags, match mode, interval and period
   * @returns a handle to use as another node's input
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * const s = new StrategyBuilder("demo");
   * s.tagQuery({ name: "closes", tags: ["close", "btc"], matchMode: "all", intervalS: 60, period: 1 });
   * assert.equal(s.build().nodes[0].paramsJson, '{"match_mode":"all","query_tags":["btc","close"]}');
   * ```
   */
  tagQuery(options: TagQueryOptions): NodeRef {
    return this.#add("tagQuery", TAG_QUERY_NODE_TYPE, options);
  }

  /**
   * Validate the DAG and compute its node IDs and checksum.
   *
   * Nodes come out in DAG order (inputs first, otherwise in the order they
   * were declared). Throws a {@link ValidationError} whose `node` and `field`
   * name the problem: `E_INVALID` (missing or invalid interval, period, name,
   * tags, params or compute), `E_DUPLICATE` (two nodes with one name or one
   * identity), `E_UNKNOWN_INPUT` (an input that is neither a node of this
   * builder nor a node ID), `E_CYCLE`.
   *
   * @returns the `StrategyDag` to submit
   * @example
   * ```ts
   * import { StrategyBuilder, ValidationError } from "@qmtl/qmtl/sdk";
   * import assert from "node:assert/strict";
   * const s = new StrategyBuilder("bad");
   * s.processing({ name: "a", inputs: ["b"], intervalS: 60, period: 1, compute: "a" });
   * s.processing({ name: "b", inputs: ["a"], intervalS: 60, period: 1, compute: "b" });
   * assert.throws(() => s.build(), (e) => e instanceof ValidationError && e.code === "E_CYCLE" && e.node === "a");
   * ```
   */
  build(): StrategyDag {
    return this.#build().dag;
  }

  /**
   * Validate the DAG like {@link StrategyBuilder.build} and keep what the
   * runner needs: each node's spec, its params (the canonical params that
   * enter its ID, frozen) and its compute function.
   *
   * @returns the strategy, nodes in DAG order
   * @example
   * ```ts
   * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
   * import assert from "node:assert/strict";
   * const s = new StrategyBuilder("demo");
   * const price = s.streamInput({ name: "price", tags: ["btc"], intervalS: 60, period: 1 });
   * s.processing({
   *   name: "scaled", inputs: [price], intervalS: 60, period: 1, params: { k: 2 },
   *   compute: (v, p) => v.last * p.k,
   * });
   * const st = s.compile();
   * assert.equal(st.nodes[1].spec.name, "scaled");
   * assert.deepEqual(st.nodes[1].params, { k: 2 });
   * assert.equal(typeof st.nodes[1].compute, "function");
   * ```
   */
  compile(): Strategy {
    const { dag, computes } = this.#build();
    const nodes = dag.nodes.map((spec, i): CompiledNode => ({
      spec,
      params: deepFreeze(JSON.parse(spec.paramsJson)) as Params,
      ...(computes[i] ? { compute: computes[i] } : {}),
    }));
    return { name: this.name, dag, nodes };
  }

  #build(): { dag: StrategyDag; computes: (ComputeFn | undefined)[] } {
    const nodes = this.#nodes;
    const byName = new Map<string, number>();
    nodes.forEach((d, i) => {
      const name = d.options?.name;
      if (typeof name !== "string" || name.trim() === "") {
        throw new ValidationError(
          `node #${i + 1} (${d.nodeType}) needs a non-empty name`,
          {
            node: typeof name === "string" ? name : `#${i + 1}`,
            field: "name",
          },
        );
      }
      const first = byName.get(name);
      if (first !== undefined) {
        throw new ValidationError(
          `duplicate node name ${JSON.stringify(name)} (nodes #${
            first + 1
          } and #${i + 1})`,
          { code: ErrorCode.E_DUPLICATE, node: name, field: "name" },
        );
      }
      byName.set(name, i);
    });

    // Resolve inputs: indices within the DAG, or external node IDs.
    const internal: number[][] = [];
    const resolved: (number | string)[][] = [];
    nodes.forEach((d) => {
      const ins = d.kind === "processing"
        ? (d.options as ProcessingOptions).inputs
        : [];
      const name = d.options.name;
      if (d.kind === "processing") {
        if (!Array.isArray(ins) || ins.length === 0) {
          throw new ValidationError(
            `node ${JSON.stringify(name)}: inputs must list at least one node`,
            { node: name, field: "inputs" },
          );
        }
      }
      const mine: number[] = [];
      const all: (number | string)[] = [];
      ins.forEach((input, j) => {
        const field = `inputs[${j}]`;
        if (input instanceof NodeRef) {
          const k = byName.get(input.name);
          if (!input.belongsTo(this) || k === undefined) {
            throw new ValidationError(
              `node ${JSON.stringify(name)}: input ${
                JSON.stringify(input.name)
              } belongs to another strategy`,
              { code: ErrorCode.E_UNKNOWN_INPUT, node: name, field },
            );
          }
          mine.push(k);
          all.push(k);
        } else if (typeof input === "string" && byName.has(input)) {
          const k = byName.get(input)!;
          mine.push(k);
          all.push(k);
        } else if (isNodeId(input)) {
          all.push(input);
        } else {
          throw new ValidationError(
            `node ${JSON.stringify(name)}: unknown input ${
              JSON.stringify(input)
            } (not a node of this strategy, nor a node ID)`,
            { code: ErrorCode.E_UNKNOWN_INPUT, node: name, field },
          );
        }
      });
      internal.push(mine);
      resolved.push(all);
    });
    nodes.forEach((d, i) => {
      if (internal[i].includes(i)) {
        throw new ValidationError(
          `node ${JSON.stringify(d.options.name)} lists itself as an input`,
          { code: ErrorCode.E_CYCLE, node: d.options.name, field: "inputs" },
        );
      }
    });

    const ordered = dagOrder(internal);
    if ("cycle" in ordered) {
      const names = ordered.cycle.map((i) => nodes[i].options.name);
      throw new ValidationError(`cycle: ${names.join(" → ")}`, {
        code: ErrorCode.E_CYCLE,
        node: names[0],
        field: "inputs",
        details: { cycle: names.join(",") },
      });
    }

    const specAt = new Array<NodeSpec>(nodes.length);
    const specs: NodeSpec[] = [];
    const seenIds = new Map<string, string>();
    for (const i of ordered.order) {
      const inputSpecs = resolved[i].map((r) =>
        typeof r === "number" ? specAt[r] : undefined
      );
      const inputIds = resolved[i].map((r) =>
        typeof r === "number" ? specAt[r].nodeId : r
      );
      const spec = this.#spec(nodes[i], inputIds, inputSpecs);
      const same = seenIds.get(spec.nodeId);
      if (same !== undefined) {
        throw new ValidationError(
          `nodes ${JSON.stringify(same)} and ${
            JSON.stringify(spec.name)
          } are the same computation (same type, interval, period, params, inputs and code) — declare it once`,
          {
            code: ErrorCode.E_DUPLICATE,
            node: spec.name,
            field: "nodeId",
            nodeId: spec.nodeId,
            details: { first: same },
          },
        );
      }
      seenIds.set(spec.nodeId, spec.name);
      specAt[i] = spec;
      specs.push(spec);
    }

    const dag: StrategyDag = {
      $typeName: "qmtl.v1.StrategyDag",
      name: this.name,
      nodes: specs,
      checksum: dagChecksum(specs.map((s) => s.nodeId)),
      metadata: { ...this.#metadata },
    };
    // Self-check with the Gateway's own verifier: what passes here passes there.
    try {
      verifyDag(dag);
    } catch (e) {
      throw toValidationError(e, specs);
    }
    const computes = ordered.order.map((i) => {
      const c = (nodes[i].options as ProcessingOptions).compute;
      return typeof c === "function" ? c : undefined;
    });
    return { dag, computes };
  }

  #add(
    kind: Declared["kind"],
    nodeType: string,
    options: StreamInputOptions | ProcessingOptions | TagQueryOptions,
  ): NodeRef {
    this.#nodes.push({ kind, nodeType, options });
    return new NodeRef(this, options?.name, nodeType);
  }

  #spec(
    d: Declared,
    inputIds: string[],
    inputSpecs: (NodeSpec | undefined)[],
  ): NodeSpec {
    const o = d.options;
    const node = o.name;
    checkPositiveInt(node, "intervalS", o.intervalS, 1);
    checkPositiveInt(node, "period", o.period, 1);
    const metadata = checkStringRecord(node, "metadata", o.metadata ?? {});
    if (o.asset !== undefined) {
      if (typeof o.asset !== "string" || o.asset === "") {
        throw new ValidationError(
          `node ${JSON.stringify(node)}: asset must be a non-empty string`,
          { node, field: "asset" },
        );
      }
      metadata.asset = o.asset;
    }
    const schemaCompatId = o.schemaCompatId ?? DEFAULT_SCHEMA_COMPAT_ID;
    let params: Record<string, unknown>;
    let tags: string[];
    let code = "";
    try {
      if (d.kind === "tagQuery") {
        const t = o as TagQueryOptions;
        checkTags(node, t.tags);
        const p = tagQueryParams(t.tags, t.matchMode ?? "any");
        params = { ...p };
        tags = [...p.query_tags];
      } else if (d.kind === "stream") {
        const s = o as StreamInputOptions;
        checkTags(node, s.tags);
        checkParams(node, s.params);
        tags = [...s.tags];
        params = {
          ...(s.params ?? {}),
          stream_tags: [...new Set(s.tags)].sort(),
        };
      } else {
        const p = o as ProcessingOptions;
        if (p.tags !== undefined) checkTags(node, p.tags, true);
        checkParams(node, p.params);
        tags = [...(p.tags ?? [])];
        params = { ...(p.params ?? {}) };
        if (
          typeof p.nodeType === "string" && p.nodeType === TAG_QUERY_NODE_TYPE
        ) {
          throw new ValidationError(
            `node ${JSON.stringify(node)}: use tagQuery() for TagQuery nodes`,
            { node, field: "nodeType" },
          );
        }
        if (
          typeof p.compute !== "function" &&
          (typeof p.compute !== "string" || p.compute.trim() === "")
        ) {
          throw new ValidationError(
            `node ${
              JSON.stringify(node)
            }: compute must be a function or its source`,
            { node, field: "compute" },
          );
        }
        code = computeCodeHash(node, p);
        if (metadata.asset === undefined) {
          const assets = new Set(
            inputSpecs.map((s) => s?.metadata.asset).filter((a) => a),
          );
          if (assets.size === 1) metadata.asset = [...assets][0]!;
        }
      }
      const paramsJson = canonicalParamsJson(params);
      const nodeId = computeNodeId({
        nodeType: d.nodeType,
        intervalS: o.intervalS,
        period: o.period,
        paramsJson,
        inputs: inputIds,
        schemaCompatId,
        codeHash: code,
      });
      return {
        $typeName: "qmtl.v1.NodeSpec",
        nodeId,
        nodeType: d.nodeType,
        intervalS: o.intervalS,
        period: o.period,
        paramsJson,
        inputs: inputIds,
        codeHash: code,
        schemaCompatId,
        name: node,
        tags,
        metadata,
      };
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      throw toValidationError(e, [], node);
    }
  }
}

const FIELD_NAMES: Record<string, string> = {
  node_type: "nodeType",
  interval_s: "intervalS",
  period: "period",
  params_json: "params",
  schema_compat_id: "schemaCompatId",
  code_hash: "compute",
  inputs: "inputs",
  node_id: "nodeId",
  name: "name",
  "params.query_tags": "tags",
  "params.match_mode": "matchMode",
};

/** Turn a contracts field path (`nodes[3].interval_s`) into a builder one. */
function builderField(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const bare = field.replace(/^nodes\[\d+\]\./, "");
  if (FIELD_NAMES[bare] !== undefined) return FIELD_NAMES[bare];
  if (bare.startsWith("params.query_tags")) return "tags";
  return bare;
}

function toValidationError(
  e: unknown,
  specs: readonly NodeSpec[],
  node?: string,
): unknown {
  if (!(e instanceof ContractError)) return e;
  let name = node;
  if (name === undefined) {
    const m = /^nodes\[(\d+)\]/.exec(e.field ?? "");
    name = m ? specs[Number(m[1])]?.name : undefined;
    name ??= specs.find((s) => s.nodeId === e.nodeId)?.name;
  }
  const field = builderField(e.field);
  const prefix = name !== undefined ? `node ${JSON.stringify(name)}: ` : "";
  return new ValidationError(prefix + e.message, {
    code: e.code,
    ...(name !== undefined ? { node: name } : {}),
    ...(field !== undefined ? { field } : {}),
    ...(e.nodeId !== undefined ? { nodeId: e.nodeId } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
    cause: e,
  });
}

function checkPositiveInt(
  node: string,
  field: "intervalS" | "period",
  value: unknown,
  min: number,
): void {
  const what = field === "intervalS"
    ? "intervalS (bar interval in seconds) must be an integer > 0"
    : "period (look-back in bars) must be an integer ≥ 1";
  if (value === undefined || value === null) {
    throw new ValidationError(
      `node ${JSON.stringify(node)}: missing ${field}; ${what}`,
      { node, field },
    );
  }
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < min ||
    value > 0xffffffff
  ) {
    throw new ValidationError(
      `node ${JSON.stringify(node)}: ${what}, got ${JSON.stringify(value)}`,
      { node, field },
    );
  }
}

function checkTags(node: string, tags: unknown, allowEmpty = false): void {
  if (!Array.isArray(tags) || (!allowEmpty && tags.length === 0)) {
    throw new ValidationError(
      `node ${JSON.stringify(node)}: tags must be a ${
        allowEmpty ? "" : "non-empty "
      }array of strings`,
      { node, field: "tags" },
    );
  }
  tags.forEach((t, i) => {
    if (typeof t !== "string" || t === "") {
      throw new ValidationError(
        `node ${JSON.stringify(node)}: tags[${i}] must be a non-empty string`,
        { node, field: `tags[${i}]` },
      );
    }
  });
  // The Gateway's rule (count, length, characters): a ContractError naming
  // `tags[i]`, turned into a ValidationError by the caller.
  checkContractTags(tags, "tags");
}

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/**
 * The code hash of a processing node: text sources by the text rule;
 * functions by their syntax tree with the helper functions of `uses`, after
 * the closure check (see `compute_check.ts`).
 */
function computeCodeHash(node: string, p: ProcessingOptions): string {
  if (typeof p.compute === "string") return codeHash(p.compute);
  const uses = p.uses ?? {};
  if (typeof uses !== "object" || uses === null || Array.isArray(uses)) {
    throw new ValidationError(
      `node ${JSON.stringify(node)}: uses must be an object of names`,
      { node, field: "uses" },
    );
  }
  const helpers: Record<string, ComputeFn> = {};
  for (const [name, value] of Object.entries(uses)) {
    const field = `uses.${name}`;
    if (!IDENTIFIER.test(name)) {
      throw new ValidationError(
        `node ${JSON.stringify(node)}: ${field} is not a JavaScript name`,
        { node, field },
      );
    }
    if (typeof value === "function") {
      helpers[name] = value as ComputeFn;
    } else if (typeof value !== "object" || value === null) {
      throw new ValidationError(
        `node ${JSON.stringify(node)}: ${field} is a plain value (${
          JSON.stringify(value) ?? typeof value
        }); settings belong in params, where they are part of the node's identity`,
        { node, field },
      );
    }
  }
  const captured = capturedNames(p.compute, Object.keys(uses));
  if (captured.length > 0) {
    const list = captured.map((n) => JSON.stringify(n)).join(", ");
    throw new ValidationError(
      `node ${
        JSON.stringify(node)
      }: compute reads ${list} from its enclosing scope, which is not part of the node's identity — pass settings in params (the compute function receives them as its second argument) and list helper functions in uses`,
      { node, field: "compute", details: { captured: captured.join(",") } },
    );
  }
  return codeHash(p.compute, helpers);
}

function checkParams(node: string, params: unknown): void {
  if (params === undefined) return;
  if (
    typeof params !== "object" || params === null || Array.isArray(params)
  ) {
    throw new ValidationError(
      `node ${JSON.stringify(node)}: params must be a JSON object`,
      { node, field: "params" },
    );
  }
}

function checkStringRecord(
  node: string,
  field: string,
  value: unknown,
): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError(
      `node ${JSON.stringify(node)}: ${field} must be an object of strings`,
      { node, field },
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      throw new ValidationError(
        `node ${JSON.stringify(node)}: ${field}.${k} must be a string`,
        { node, field: `${field}.${k}` },
      );
    }
    out[k] = v;
  }
  return out;
}
