/**
 * The `NodeRegistry` interface: the global DAG of every node ever submitted,
 * its topics, tags, strategy versions, reference counts and GC.
 *
 * Two backends implement it with identical semantics and pass one
 * conformance suite: `MemoryRegistry` (embedded default) and `Neo4jRegistry`.
 *
 * Semantics shared by every backend:
 * - **Identity**: nodes are keyed by their content-derived `nodeId`; a node's
 *   stored spec (and tags) is the one it was first registered with.
 * - **Reference count** of a node = number of live (non-retired) strategy
 *   versions (`VersionSentinel`s) containing it. It is derived from the
 *   containment links, never stored as a counter.
 * - **Sentinel ID** of a strategy version is deterministic:
 *   `{strategyId}@{version}` (see {@link sentinelIdOf}).
 * - **Errors** are the typed errors of `errors.ts`; an unreachable backend
 *   raises `UnavailableError` (retryable), nothing falls back silently.
 *
 * @module
 */

import type {
  DiffResult,
  NodeRecord,
  StrategyDag,
  TopicDescriptor,
} from "../contracts/messages.ts";

/**
 * Who and what a {@link NodeRegistry.diffAndCommit} call commits for.
 *
 * @example
 * ```ts
 * import type { DiffContext } from "@qmtl/qmtl/dag";
 * const ctx: DiffContext = { strategyId: "st_1", version: "1", owner: "alice" };
 * ```
 */
export interface DiffContext {
  /** Strategy ID (stable per owner + DAG, chosen by the Gateway). */
  strategyId: string;
  /** Version label; one `VersionSentinel` per (strategyId, version). */
  version: string;
  /** Subject that owns the strategy. */
  owner: string;
  /**
   * Hash of the DAG, stored on the sentinel. Defaults to
   * `"sha256:" + hex(sha256(node_ids.join("\n")))`. Re-committing the same
   * (strategyId, version) with a different hash is a `ConflictError`.
   */
  dagHash?: string;
  /** Clock override in ms since epoch (tests); default `Date.now()`. */
  now?: number;
}

/**
 * Options of {@link NodeRegistry.listNodes}.
 *
 * @example
 * ```ts
 * import type { ListNodesOptions } from "@qmtl/qmtl/dag";
 * const o: ListNodesOptions = { pageSize: 50, nodeType: "Processing", intervalS: 60 };
 * ```
 */
export interface ListNodesOptions {
  /** Page size, 1‥1000; default 100. */
  pageSize?: number;
  /** `nextPageToken` of the previous page; absent or `""` for the first. */
  pageToken?: string;
  /** Only nodes of this type; absent or `""` for any. */
  nodeType?: string;
  /** Only nodes with this interval; absent or `0` for any. */
  intervalS?: number;
}

/**
 * One page of nodes, ordered by node ID.
 *
 * @example
 * ```ts
 * import type { NodePage } from "@qmtl/qmtl/dag";
 * const p: NodePage = { nodes: [], nextPageToken: "" };
 * ```
 */
export interface NodePage {
  /** Nodes of this page. */
  nodes: NodeRecord[];
  /** Token of the next page; `""` at the end. */
  nextPageToken: string;
}

/**
 * Options of {@link NodeRegistry.queryByTags}.
 *
 * @example
 * ```ts
 * import type { TagQueryOptions } from "@qmtl/qmtl/dag";
 * const o: TagQueryOptions = { matchMode: "all", intervalS: 60 };
 * ```
 */
export interface TagQueryOptions {
  /** `any`: at least one tag matches; `all`: every tag matches. */
  matchMode: "any" | "all";
  /** Only nodes with this interval; absent or `0` for any. */
  intervalS?: number;
  /** At most this many results (1‥10000); default 1000. */
  limit?: number;
}

/**
 * One strategy version that contains a node.
 *
 * @example
 * ```ts
 * import type { StrategyRef } from "@qmtl/qmtl/dag";
 * const r: StrategyRef = { strategyId: "st_1", version: "1", sentinelId: "st_1@1", retired: false };
 * ```
 */
export interface StrategyRef {
  /** Strategy ID. */
  strategyId: string;
  /** Version label. */
  version: string;
  /** Sentinel ID (`{strategyId}@{version}`). */
  sentinelId: string;
  /** True once the version was retired (it no longer counts as a reference). */
  retired: boolean;
}

/**
 * Result of {@link NodeRegistry.retireVersion}.
 *
 * @example
 * ```ts
 * import type { RetireResult } from "@qmtl/qmtl/dag";
 * const r: RetireResult = { sentinelId: "st_1@1", alreadyRetired: false, released: [] };
 * ```
 */
export interface RetireResult {
  /** Sentinel that was retired. */
  sentinelId: string;
  /** True when the version had been retired before (nothing changed). */
  alreadyRetired: boolean;
  /** Node IDs whose reference count dropped to 0 by this call. */
  released: string[];
}

/**
 * Input of {@link NodeRegistry.createTopic}.
 *
 * @example
 * ```ts
 * import type { TopicInput } from "@qmtl/qmtl/dag";
 * const t: TopicInput = { name: "orphan_topic_v1", retentionMs: 3_600_000 };
 * ```
 */
export interface TopicInput {
  /** Topic name. */
  name: string;
  /** Emitting node; absent or `""` for an orphan topic. */
  nodeId?: string;
  /** Retention in ms; default 7 days. */
  retentionMs?: number;
  /** Partitions; default 1. */
  partitions?: number;
}

/**
 * One page of topics, ordered by name.
 *
 * @example
 * ```ts
 * import type { TopicPage } from "@qmtl/qmtl/dag";
 * const p: TopicPage = { topics: [], nextPageToken: "" };
 * ```
 */
export interface TopicPage {
  /** Topics of this page. */
  topics: TopicDescriptor[];
  /** Token of the next page; `""` at the end. */
  nextPageToken: string;
}

/**
 * Options of {@link NodeRegistry.listTopics}.
 *
 * @example
 * ```ts
 * import type { ListTopicsOptions } from "@qmtl/qmtl/dag";
 * const o: ListTopicsOptions = { pageSize: 100 };
 * ```
 */
export interface ListTopicsOptions {
  /** Page size, 1‥1000; default 100. */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
}

/**
 * Options of {@link NodeRegistry.gc}.
 *
 * @example
 * ```ts
 * import type { GcOptions } from "@qmtl/qmtl/dag";
 * const o: GcOptions = { graceMs: 3_600_000 };
 * ```
 */
export interface GcOptions {
  /**
   * A zero-reference node is collected only once its last reference change
   * (last reuse or last release) is at least this old.
   */
  graceMs: number;
  /** Clock override in ms since epoch; default `Date.now()`. */
  now?: number;
  /** At most this many nodes removed per call; default 10000. */
  limit?: number;
}

/**
 * What a {@link NodeRegistry.gc} run saw and did.
 *
 * @example
 * ```ts
 * import type { GcReport } from "@qmtl/qmtl/dag";
 * const r: GcReport = { observed: 0, removed: [], removedTopics: [], keptInGrace: [], keptWithDependents: [] };
 * ```
 */
export interface GcReport {
  /** Zero-reference nodes examined. */
  observed: number;
  /** Node IDs removed. */
  removed: string[];
  /** Topic names removed with them. */
  removedTopics: string[];
  /** Zero-reference node IDs kept because they are still inside the grace period. */
  keptInGrace: string[];
  /** Zero-reference node IDs kept because another node still depends on them. */
  keptWithDependents: string[];
}

/**
 * Health of the backend.
 *
 * @example
 * ```ts
 * import type { HealthStatus } from "@qmtl/qmtl/dag";
 * const h: HealthStatus = { ok: true, detail: "memory" };
 * ```
 */
export interface HealthStatus {
  /** True when the backend answers. */
  ok: boolean;
  /** Human-readable detail (backend, server version or the error). */
  detail: string;
}

/**
 * The global DAG registry. Every method may reject with an
 * `UnavailableError` (retryable) when the backend is unreachable, and with a
 * `RegistryError` for anything else.
 *
 * @example
 * ```ts
 * import type { NodeRegistry } from "@qmtl/qmtl/dag";
 * import type { StrategyDag } from "../contracts/messages.ts";
 * async function submit(reg: NodeRegistry, dag: StrategyDag) {
 *   const diff = await reg.diffAndCommit(dag, { strategyId: "st_1", version: "1", owner: "alice" });
 *   return diff.queueMap;
 * }
 * ```
 */
export interface NodeRegistry {
  /**
   * Diff a DAG against the registry and commit it atomically: create missing
   * nodes, their topics, tags and input edges; link the strategy version to
   * every node of the DAG. Validation first (nothing written on failure):
   * a cycle → `CycleError`; an input neither in the DAG nor registered →
   * `UnknownInputError`; same (strategyId, version) with a different DAG or
   * already retired → `ConflictError`.
   *
   * Idempotent: re-running the same call changes nothing and returns the same
   * result (`created` lists the nodes the first successful run created).
   */
  diffAndCommit(dag: StrategyDag, ctx: DiffContext): Promise<DiffResult>;

  /** A node by ID, or `null`. */
  getNode(nodeId: string): Promise<NodeRecord | null>;

  /** Nodes ordered by ID, filtered, one page at a time. */
  listNodes(options?: ListNodesOptions): Promise<NodePage>;

  /** Nodes `nodeId` depends on (its inputs). `NotFoundError` if absent. */
  dependencies(nodeId: string): Promise<NodeRecord[]>;

  /** Nodes that depend on `nodeId`. `NotFoundError` if absent. */
  dependents(nodeId: string): Promise<NodeRecord[]>;

  /** Nodes carrying any / all of `tags`, optionally of one interval; ordered by ID. */
  queryByTags(tags: string[], options: TagQueryOptions): Promise<NodeRecord[]>;

  /** Live reference count of a node. `NotFoundError` if absent. */
  refCount(nodeId: string): Promise<number>;

  /** Strategy versions (live and retired) containing a node. */
  strategiesUsing(nodeId: string): Promise<StrategyRef[]>;

  /**
   * Add the edge "`from` depends on `to`" (`to` is an input of `from`).
   * Idempotent. `CycleError` (nothing written) if `from` is reachable from
   * `to`; `NotFoundError` if either node is absent.
   */
  addDependency(from: string, to: string): Promise<void>;

  /** Remove the edge "`from` depends on `to`". Returns whether it existed. */
  removeDependency(from: string, to: string): Promise<boolean>;

  /**
   * Retire a strategy version: it no longer counts as a reference. Idempotent.
   * `NotFoundError` if the version does not exist.
   */
  retireVersion(strategyId: string, version: string): Promise<RetireResult>;

  /**
   * Create a topic. Idempotent for the same name and node; `ConflictError`
   * if the name belongs to another node or the node already emits another
   * topic; `NotFoundError` if `nodeId` is given but absent.
   */
  createTopic(input: TopicInput): Promise<TopicDescriptor>;

  /**
   * Delete a topic. Returns `false` if it did not exist. `ConflictError` if a
   * node with live references emits it.
   */
  deleteTopic(name: string): Promise<boolean>;

  /** A topic by name, or `null`. */
  getTopic(name: string): Promise<TopicDescriptor | null>;

  /** Topics ordered by name, one page at a time. */
  listTopics(options?: ListTopicsOptions): Promise<TopicPage>;

  /**
   * Collect nodes with zero live references whose last reference change is
   * older than `graceMs`, with their topics. A node some other node depends
   * on is kept (reported in `keptWithDependents`); a node a concurrent
   * `diffAndCommit` reuses is never collected.
   */
  gc(options: GcOptions): Promise<GcReport>;

  /** Whether the backend answers. Never throws. */
  health(): Promise<HealthStatus>;

  /** Release connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Deterministic ID of a strategy version's sentinel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sentinelIdOf } from "@qmtl/qmtl/dag";
 * assert.equal(sentinelIdOf("st_1", "2"), "st_1@2");
 * ```
 */
export function sentinelIdOf(strategyId: string, version: string): string {
  return `${strategyId}@${version}`;
}
