/**
 * JSON views of the REST API (plain JSON: states by name, times as numbers).
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  type NodeRecord,
  NodeSpecSchema,
  type StrategyStatus,
  type TopicDescriptor,
} from "../../contracts/messages.ts";
import { stateName } from "../lifecycle/mod.ts";

const EMPTY_NODE = create(NodeSpecSchema);

/**
 * REST JSON of a strategy.
 *
 * @example
 * ```ts
 * import { type StrategyStatus } from "@qmtl/qmtl/gateway";
 * import { strategyView } from "./views.ts";
 * function toJson(status: StrategyStatus): string {
 *   return JSON.stringify(strategyView(status));
 * }
 * ```
 */
export function strategyView(s: StrategyStatus): Record<string, unknown> {
  return {
    strategyId: s.strategyId,
    name: s.name,
    owner: s.owner,
    version: s.version,
    state: stateName(s.state),
    dagHash: s.dagHash,
    nodeCount: s.nodeCount,
    attempts: s.attempts,
    queueMap: s.queueMap,
    reused: s.reused,
    created: s.created,
    sentinelId: s.sentinelId,
    error: s.error
      ? { code: s.error.code, message: s.error.message, nodeId: s.error.nodeId }
      : null,
    callbackUrl: s.callbackUrl,
    createdAtMs: s.createdAtMs,
    updatedAtMs: s.updatedAtMs,
  };
}

/**
 * REST JSON of a strategy's lifecycle state only.
 *
 * @example
 * ```ts
 * import { type StrategyStatus } from "@qmtl/qmtl/gateway";
 * import { stateView } from "./views.ts";
 * function toJson(status: StrategyStatus): string {
 *   return JSON.stringify(stateView(status));
 * }
 * ```
 */
export function stateView(s: StrategyStatus): Record<string, unknown> {
  return {
    strategyId: s.strategyId,
    state: stateName(s.state),
    attempts: s.attempts,
    retrying: stateName(s.state) === "QUEUED" && s.error !== undefined,
    error: s.error
      ? { code: s.error.code, message: s.error.message, nodeId: s.error.nodeId }
      : null,
    updatedAtMs: s.updatedAtMs,
  };
}

/**
 * REST JSON of a node.
 *
 * @example
 * ```ts
 * import { type NodeRecord } from "@qmtl/qmtl/gateway";
 * import { nodeView } from "./views.ts";
 * function toJson(record: NodeRecord): string {
 *   return JSON.stringify(nodeView(record));
 * }
 * ```
 */
export function nodeView(r: NodeRecord): Record<string, unknown> {
  const n = r.node ?? EMPTY_NODE;
  return {
    nodeId: n.nodeId,
    nodeType: n.nodeType,
    intervalS: n.intervalS,
    period: n.period,
    paramsJson: n.paramsJson,
    inputs: n.inputs,
    codeHash: n.codeHash,
    schemaCompatId: n.schemaCompatId,
    name: n.name,
    tags: n.tags,
    topic: r.topic,
    refCount: r.refCount,
    createdAtMs: r.createdAtMs,
    updatedAtMs: r.updatedAtMs,
  };
}

/**
 * REST JSON of a topic.
 *
 * @example
 * ```ts
 * import { type TopicDescriptor } from "@qmtl/qmtl/gateway";
 * import { topicView } from "./views.ts";
 * function toJson(topic: TopicDescriptor): string {
 *   return JSON.stringify(topicView(topic));
 * }
 * ```
 */
export function topicView(t: TopicDescriptor): Record<string, unknown> {
  // Field by field: a protobuf-es message also carries `$typeName`.
  return {
    name: t.name,
    nodeId: t.nodeId,
    retentionMs: t.retentionMs,
    partitions: t.partitions,
    createdAtMs: t.createdAtMs,
  };
}
