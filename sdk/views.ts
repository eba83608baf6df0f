/**
 * What `QmtlClient` returns: the contract messages with the lifecycle state
 * as a name (`"QUEUED"`, `"COMPLETED"`, …) instead of the wire enum, and
 * node records whose `node` is always present.
 *
 * @module
 */

import type {
  ErrorDetail,
  NodeRecord as NodeRecordMessage,
  NodeSpec,
  StrategyStatus as StrategyStatusMessage,
  SubmitStrategyResponse as SubmitStrategyResponseMessage,
} from "./contracts.ts";
import { type StateName, stateName } from "./states.ts";

/**
 * The answer of `QmtlClient.submit`.
 *
 * @example
 * ```ts
 * import type { SubmitStrategyResponse } from "@qmtl/qmtl/sdk";
 * const ack: SubmitStrategyResponse = { strategyId: "st_1", state: "QUEUED", dagHash: "sha256:…", duplicate: false };
 * ```
 */
export interface SubmitStrategyResponse {
  /** Stable strategy ID (same DAG + same owner → same ID). */
  strategyId: string;
  /** State at the time of the answer. */
  state: StateName;
  /** `sha256:` hash over the DAG's node IDs in order. */
  dagHash: string;
  /** True when this DAG was already submitted by the same owner. */
  duplicate: boolean;
}

/**
 * The full status of a strategy (`get`, `retire`, `waitFor`).
 *
 * @example
 * ```ts
 * import type { StrategyStatus } from "@qmtl/qmtl/sdk";
 * function done(s: StrategyStatus): boolean {
 *   return s.state === "COMPLETED";
 * }
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
  state: StateName;
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
 * A node of the global DAG (`nodesByTags`, `listNodes`): the contract
 * message, with `node` always present.
 *
 * @example
 * ```ts
 * import type { NodeRecord } from "@qmtl/qmtl/sdk";
 * const show = (r: NodeRecord) => `${r.node.name} → ${r.topic} (${r.refCount})`;
 * ```
 */
export type NodeRecord = NodeRecordMessage & { node: NodeSpec };

/**
 * One page of `listNodes`.
 *
 * @example
 * ```ts
 * import type { ListNodesResponse } from "@qmtl/qmtl/sdk";
 * const empty: ListNodesResponse = { nodes: [], nextPageToken: "" };
 * ```
 */
export interface ListNodesResponse {
  /** The nodes of this page. */
  nodes: NodeRecord[];
  /** Token for the next page; empty at the end. */
  nextPageToken: string;
}

/**
 * The {@link SubmitStrategyResponse} of the wire message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyState, SubmitStrategyResponseSchema } from "@qmtl/qmtl/contracts";
 * import { submitView } from "./views.ts";
 * const view = submitView(create(SubmitStrategyResponseSchema, { state: StrategyState.QUEUED }));
 * assert.equal(view.state, "QUEUED");
 * ```
 */
export function submitView(
  m: SubmitStrategyResponseMessage,
): SubmitStrategyResponse {
  return {
    strategyId: m.strategyId,
    state: stateName(m.state),
    dagHash: m.dagHash,
    duplicate: m.duplicate,
  };
}

/**
 * The {@link StrategyStatus} of the wire message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyState, StrategyStatusSchema } from "@qmtl/qmtl/contracts";
 * import { statusView } from "./views.ts";
 * const view = statusView(create(StrategyStatusSchema, { state: StrategyState.COMPLETED }));
 * assert.equal(view.state, "COMPLETED");
 * ```
 */
export function statusView(m: StrategyStatusMessage): StrategyStatus {
  const v: StrategyStatus = {
    strategyId: m.strategyId,
    owner: m.owner,
    version: m.version,
    state: stateName(m.state),
    dagHash: m.dagHash,
    queueMap: m.queueMap,
    reused: m.reused,
    created: m.created,
    sentinelId: m.sentinelId,
    attempts: m.attempts,
    nodeCount: m.nodeCount,
    createdAtMs: m.createdAtMs,
    updatedAtMs: m.updatedAtMs,
    callbackUrl: m.callbackUrl,
    name: m.name,
  };
  if (m.error !== undefined) v.error = m.error;
  return v;
}

/**
 * Records whose `node` is present (a record without one is dropped: it
 * cannot name a node).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeRecords } from "./views.ts";
 * assert.deepEqual(nodeRecords([]), []);
 * ```
 */
export function nodeRecords(records: NodeRecordMessage[]): NodeRecord[] {
  return records.filter((r): r is NodeRecord => r.node !== undefined);
}
