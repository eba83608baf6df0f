/**
 * TypeScript shapes of the `qmtl.v1` protobuf messages.
 *
 * Field names are the protobufjs camelCase forms of the snake_case proto
 * fields (`interval_s` → `intervalS`). 64-bit integers are plain `number`
 * (milliseconds since the Unix epoch fit in 2^53). Every message is defined in
 * `proto/qmtl/v1/*.proto`; this file must stay in step with it (a test checks
 * the field sets).
 *
 * @module
 */

/**
 * Lifecycle state of a submitted strategy (proto enum `StrategyState`).
 *
 * @example
 * ```ts
 * import { StrategyState } from "./types.ts";
 * const done = StrategyState.COMPLETED;
 * ```
 */
export enum StrategyState {
  /** Never sent on purpose; the proto3 zero value. */
  UNSPECIFIED = 0,
  /** Accepted and waiting for a worker. */
  QUEUED = 1,
  /** A worker is diffing the DAG against the global registry. */
  PROCESSING = 2,
  /** Diff committed; `queueMap` is final. */
  COMPLETED = 3,
  /** Diff failed for good (or until retried). */
  FAILED = 4,
  /** The strategy version was retired; its references were dropped. */
  RETIRED = 5,
}

/**
 * One compute node of a strategy DAG (proto `NodeSpec`).
 *
 * The identity fields (`nodeType`, `intervalS`, `period`, `paramsJson`,
 * `inputs`, `schemaCompatId`, `codeHash`) determine `nodeId`; display fields
 * (`name`, `tags`, `metadata`) never do.
 *
 * @example
 * ```ts
 * import type { NodeSpec } from "./types.ts";
 * const spec: NodeSpec = {
 *   nodeId: "sha256:…", nodeType: "Processing", intervalS: 60, period: 20,
 *   paramsJson: '{"window":20}', inputs: [], codeHash: "", schemaCompatId: "v1",
 *   name: "sma20", tags: [], metadata: {},
 * };
 * ```
 */
export interface NodeSpec {
  /** `"sha256:" + 64 lowercase hex digits`, derived from the identity fields. */
  nodeId: string;
  /** Node kind, e.g. `StreamInput`, `Processing`, `TagQuery`. */
  nodeType: string;
  /** Bar interval in seconds, > 0. */
  intervalS: number;
  /** Look-back period in bars, ≥ 1. */
  period: number;
  /** Canonical (RFC 8785) JSON of the params, context keys removed. */
  paramsJson: string;
  /** Node IDs of this node's inputs, in the author's order. */
  inputs: string[];
  /** `""` or `"sha256:" + hex` of the normalised compute source. */
  codeHash: string;
  /** Output schema family; default `"v1"`. */
  schemaCompatId: string;
  /** Display name, unique within one DAG. Not part of the identity. */
  name: string;
  /** Display / selection tags. Not part of the identity. */
  tags: string[];
  /** Free-form display metadata. Not part of the identity. */
  metadata: Record<string, string>;
}

/**
 * A dependency edge: `to` consumes the output of `from` (proto `Edge`).
 *
 * @example
 * ```ts
 * import type { Edge } from "./types.ts";
 * const e: Edge = { from: "sha256:aa…", to: "sha256:bb…" };
 * ```
 */
export interface Edge {
  /** Producer node ID. */
  from: string;
  /** Consumer node ID. */
  to: string;
}

/**
 * A whole strategy DAG as submitted (proto `StrategyDag`). Nodes are in DAG
 * order: every input appears before the node that consumes it, unless the
 * input already exists in the global registry.
 *
 * @example
 * ```ts
 * import type { StrategyDag } from "./types.ts";
 * const dag: StrategyDag = { name: "empty", nodes: [], checksum: 0, metadata: {} };
 * ```
 */
export interface StrategyDag {
  /** Display name of the strategy. */
  name: string;
  /** The nodes, in DAG order. */
  nodes: NodeSpec[];
  /** CRC-32 (IEEE) of `node_ids.join("\n")` in DAG order, unsigned. */
  checksum: number;
  /** Free-form metadata. */
  metadata: Record<string, string>;
}

/**
 * Structured error detail carried in Connect errors and problem+json bodies
 * (proto `ErrorDetail`).
 *
 * @example
 * ```ts
 * import type { ErrorDetail } from "./types.ts";
 * const d: ErrorDetail = { code: "E_CYCLE", message: "cycle a → b → a", field: "nodes", nodeId: "", details: {} };
 * ```
 */
export interface ErrorDetail {
  /** A QMTL error code such as `E_CYCLE`. */
  code: string;
  /** Human-readable explanation. */
  message: string;
  /** Path of the offending field, e.g. `nodes[3].interval_s`; may be empty. */
  field: string;
  /** Offending node, if any. */
  nodeId: string;
  /** Extra key/value context. */
  details: Record<string, string>;
}

/**
 * A schema version as exchanged by the version sentinel (proto
 * `SchemaVersion`).
 *
 * @example
 * ```ts
 * import type { SchemaVersion } from "./types.ts";
 * const v: SchemaVersion = { version: "1.0.0", hash: "sha256:…", accepted: ["1.x"] };
 * ```
 */
export interface SchemaVersion {
  /** Semver of the proto package. */
  version: string;
  /** `sha256:` hash of the canonical descriptor. */
  hash: string;
  /** Versions the sender accepts (in replies); empty in requests. */
  accepted: string[];
}

/**
 * Request of `GatewayService.SubmitStrategy`.
 *
 * @example
 * ```ts
 * import type { SubmitStrategyRequest } from "./types.ts";
 * const r: SubmitStrategyRequest = {
 *   dag: { name: "s", nodes: [], checksum: 0, metadata: {} },
 *   version: "1", callbackUrl: "", metadata: {},
 * };
 * ```
 */
export interface SubmitStrategyRequest {
  /** The DAG to submit. */
  dag: StrategyDag;
  /** Author-chosen version label of this strategy. */
  version: string;
  /** Optional webhook URL for lifecycle events; empty for none. */
  callbackUrl: string;
  /** Free-form metadata. */
  metadata: Record<string, string>;
}

/**
 * Response of `GatewayService.SubmitStrategy`.
 *
 * @example
 * ```ts
 * import { StrategyState, type SubmitStrategyResponse } from "./types.ts";
 * const r: SubmitStrategyResponse = { strategyId: "st_1", state: StrategyState.QUEUED, dagHash: "sha256:…", duplicate: false };
 * ```
 */
export interface SubmitStrategyResponse {
  /** Stable strategy ID (same DAG + same owner → same ID). */
  strategyId: string;
  /** State at the time of the answer. */
  state: StrategyState;
  /** `sha256:` hash over the DAG's node IDs in order. */
  dagHash: string;
  /** True when this DAG was already submitted by the same owner. */
  duplicate: boolean;
}

/**
 * Full status of a strategy (proto `StrategyStatus`).
 *
 * @example
 * ```ts
 * import { StrategyState, type StrategyStatus } from "./types.ts";
 * const s: StrategyStatus = {
 *   strategyId: "st_1", owner: "alice", version: "1", state: StrategyState.QUEUED,
 *   dagHash: "sha256:…", queueMap: {}, reused: [], created: [], sentinelId: "",
 *   error: undefined, attempts: 0, nodeCount: 3, createdAtMs: 0, updatedAtMs: 0,
 *   callbackUrl: "", name: "s",
 * };
 * ```
 */
export interface StrategyStatus {
  /** Strategy ID. */
  strategyId: string;
  /** Subject (JWT `sub`) that submitted it. */
  owner: string;
  /** Version label. */
  version: string;
  /** Current lifecycle state. */
  state: StrategyState;
  /** Hash of the DAG. */
  dagHash: string;
  /** node ID → topic name, filled when COMPLETED. */
  queueMap: Record<string, string>;
  /** Node IDs that already existed in the global DAG. */
  reused: string[];
  /** Node IDs this submission created. */
  created: string[];
  /** ID of the VersionSentinel linking this version to its nodes. */
  sentinelId: string;
  /** Last error, when FAILED or retrying. */
  error?: ErrorDetail;
  /** Diff attempts so far. */
  attempts: number;
  /** Number of nodes in the DAG. */
  nodeCount: number;
  /** Creation time, ms since epoch. */
  createdAtMs: number;
  /** Last transition time, ms since epoch. */
  updatedAtMs: number;
  /** Webhook URL, empty for none. */
  callbackUrl: string;
  /** Display name of the strategy. */
  name: string;
}

/**
 * A node as stored in the global DAG (proto `NodeRecord`).
 *
 * @example
 * ```ts
 * import type { NodeRecord } from "./types.ts";
 * function show(r: NodeRecord): void {
 *   console.log(r.node.nodeId, r.topic, r.refCount);
 * }
 * ```
 */
export interface NodeRecord {
  /** The node's spec as first registered. */
  node: NodeSpec;
  /** Topic the node emits to. */
  topic: string;
  /** Number of live strategy versions containing the node. */
  refCount: number;
  /** Creation time, ms since epoch. */
  createdAtMs: number;
  /** Last update time, ms since epoch. */
  updatedAtMs: number;
}

/**
 * A topic (a node's output stream) and its metadata (proto
 * `TopicDescriptor`).
 *
 * @example
 * ```ts
 * import type { TopicDescriptor } from "./types.ts";
 * const t: TopicDescriptor = { name: "btc_Processing_ab12cd34_v1", nodeId: "sha256:…", retentionMs: 86400000, partitions: 1, createdAtMs: 0 };
 * ```
 */
export interface TopicDescriptor {
  /** Topic name `{asset}_{node_type}_{short_hash}_v{n}`. */
  name: string;
  /** The node that emits to it; empty for an orphan topic. */
  nodeId: string;
  /** Retention in milliseconds. */
  retentionMs: number;
  /** Partition count. */
  partitions: number;
  /** Creation time, ms since epoch. */
  createdAtMs: number;
}

/**
 * Result of diffing a DAG against the global registry (proto `DiffResult`).
 *
 * @example
 * ```ts
 * import type { DiffResult } from "./types.ts";
 * function show(d: DiffResult): void {
 *   for (const [node, topic] of Object.entries(d.queueMap)) console.log(node, topic);
 * }
 * ```
 */
export interface DiffResult {
  /** Strategy the diff was for. */
  strategyId: string;
  /** Version label. */
  version: string;
  /** node ID → topic for every node of the DAG. */
  queueMap: Record<string, string>;
  /** Node IDs that already existed. */
  reused: string[];
  /** Node IDs created by this diff. */
  created: string[];
  /** ID of the VersionSentinel. */
  sentinelId: string;
}

/**
 * A unit of asynchronous work (proto `QueueJob`).
 *
 * @example
 * ```ts
 * import type { QueueJob } from "./types.ts";
 * const j: QueueJob = { id: "j1", kind: "diff", payload: new Uint8Array(), idempotencyKey: "k", attempts: 0, maxAttempts: 5, createdAtMs: 0, notBeforeMs: 0, lastError: "" };
 * ```
 */
export interface QueueJob {
  /** Job ID. */
  id: string;
  /** Job kind, e.g. `diff`, `webhook`. */
  kind: string;
  /** Opaque payload (usually another encoded message). */
  payload: Uint8Array;
  /** Enqueue idempotency key. */
  idempotencyKey: string;
  /** Attempts so far. */
  attempts: number;
  /** Dead-letter after this many attempts. */
  maxAttempts: number;
  /** Creation time, ms since epoch. */
  createdAtMs: number;
  /** Not leasable before this time, ms since epoch. */
  notBeforeMs: number;
  /** Last failure message. */
  lastError: string;
}

/**
 * A CloudEvents 1.0 event (proto `Event`).
 *
 * @example
 * ```ts
 * import type { Event } from "./types.ts";
 * const e: Event = {
 *   id: "1", source: "/qmtl/gateway", specVersion: "1.0", type: "qmtl.strategy.completed",
 *   subject: "st_1", time: "2026-01-01T00:00:00Z", dataContentType: "application/json",
 *   data: new TextEncoder().encode("{}"),
 * };
 * ```
 */
export interface Event {
  /** Unique event ID (consumers dedup by it). */
  id: string;
  /** URI-reference naming the producer. */
  source: string;
  /** Always `"1.0"`. */
  specVersion: string;
  /** Reverse-DNS event type, e.g. `qmtl.strategy.completed`. */
  type: string;
  /** The strategy ID the event is about. */
  subject: string;
  /** RFC 3339 timestamp. */
  time: string;
  /** Media type of `data`. */
  dataContentType: string;
  /** Event payload. */
  data: Uint8Array;
}

/**
 * Request of `GatewayService.GetStrategy`.
 *
 * @example
 * ```ts
 * import type { GetStrategyRequest } from "./types.ts";
 * const r: GetStrategyRequest = { strategyId: "st_1" };
 * ```
 */
export interface GetStrategyRequest {
  /** Strategy ID. */
  strategyId: string;
}

/**
 * Request of `GatewayService.RetireStrategy`.
 *
 * @example
 * ```ts
 * import type { RetireStrategyRequest } from "./types.ts";
 * const r: RetireStrategyRequest = { strategyId: "st_1" };
 * ```
 */
export interface RetireStrategyRequest {
  /** Strategy ID. */
  strategyId: string;
}

/**
 * Request of `GatewayService.ListNodes`.
 *
 * @example
 * ```ts
 * import type { ListNodesRequest } from "./types.ts";
 * const r: ListNodesRequest = { pageSize: 100, pageToken: "", nodeType: "", intervalS: 0 };
 * ```
 */
export interface ListNodesRequest {
  /** Page size; 0 means the server default. */
  pageSize: number;
  /** Opaque token from the previous page; empty for the first. */
  pageToken: string;
  /** Filter by node type; empty for any. */
  nodeType: string;
  /** Filter by interval; 0 for any. */
  intervalS: number;
}

/**
 * Response of `GatewayService.ListNodes` and `QueryNodesByTags`.
 *
 * @example
 * ```ts
 * import type { ListNodesResponse } from "./types.ts";
 * const r: ListNodesResponse = { nodes: [], nextPageToken: "" };
 * ```
 */
export interface ListNodesResponse {
  /** The nodes of this page. */
  nodes: NodeRecord[];
  /** Token for the next page; empty at the end. */
  nextPageToken: string;
}

/**
 * Request of `GatewayService.QueryNodesByTags`.
 *
 * @example
 * ```ts
 * import type { QueryNodesByTagsRequest } from "./types.ts";
 * const r: QueryNodesByTagsRequest = { tags: ["btc"], matchMode: "any", intervalS: 0 };
 * ```
 */
export interface QueryNodesByTagsRequest {
  /** Tags to match. */
  tags: string[];
  /** `"any"` or `"all"`. */
  matchMode: "any" | "all";
  /** Filter by interval; 0 for any. */
  intervalS: number;
}
