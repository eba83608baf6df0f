/**
 * Conversion between stored Neo4j properties and contract messages.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  type NodeRecord,
  NodeRecordSchema,
  NodeSpecSchema,
  type TopicDescriptor,
  TopicDescriptorSchema,
} from "../../contracts/messages.ts";

/**
 * Cypher projection of a `ComputeNode` bound to `n` as a {@link nodeRecordOf}
 * row: columns `n`, `topic`, `refs`.
 *
 * @example
 * ```ts
 * import { NODE_PROJECTION } from "./records.ts";
 * const q = `MATCH (n:ComputeNode {uid: $uid}) RETURN ${NODE_PROJECTION}`;
 * ```
 */
export const NODE_PROJECTION: string = `n {
  .node_id, .node_type, .interval, .period, .code_hash, .schema_compat_id,
  .params_canon, .inputs, .name, .tags, .metadata_json, .created_at,
  updated_at: coalesce(n.updated_at, n.created_at)
} AS n,
head([(n)-[:EMITS]->(t:Topic) | t.name]) AS topic,
COUNT { (n)<-[:CONTAINS]-(v:VersionSentinel) WHERE v.retired = false } AS refs`;

/**
 * Cypher projection of a `Topic` bound to `t`: column `t`.
 *
 * @example
 * ```ts
 * import { TOPIC_PROJECTION } from "./records.ts";
 * const q = `MATCH (t:Topic {uid: $uid}) RETURN ${TOPIC_PROJECTION}`;
 * ```
 */
export const TOPIC_PROJECTION: string = `t {
  .name, .retention_ms, .partitions, .created_at,
  node_id: head([(t)<-[:EMITS]-(e:ComputeNode) | e.node_id])
} AS t`;

function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v && typeof v === "object" && "toNumber" in v) {
    return (v as { toNumber(): number }).toNumber();
  }
  return 0;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

/**
 * Build a `NodeRecord` from a row projected with {@link NODE_PROJECTION}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeRecordOf } from "./records.ts";
 * const r = nodeRecordOf({ n: { node_id: "sha256:…", node_type: "Processing", interval: 60, period: 1 }, topic: "t", refs: 1 });
 * assert.equal(r.refCount, 1);
 * ```
 */
export function nodeRecordOf(row: Record<string, unknown>): NodeRecord {
  const n = (row.n ?? {}) as Record<string, unknown>;
  let metadata: Record<string, string> = {};
  try {
    const parsed = JSON.parse(str(n.metadata_json) || "{}");
    if (parsed && typeof parsed === "object") metadata = parsed;
  } catch {
    metadata = {};
  }
  return create(NodeRecordSchema, {
    node: create(NodeSpecSchema, {
      nodeId: str(n.node_id),
      nodeType: str(n.node_type),
      intervalS: num(n.interval),
      period: num(n.period),
      paramsJson: str(n.params_canon),
      inputs: strs(n.inputs),
      codeHash: str(n.code_hash),
      schemaCompatId: str(n.schema_compat_id),
      name: str(n.name),
      tags: strs(n.tags),
      metadata,
    }),
    topic: str(row.topic),
    refCount: num(row.refs),
    createdAtMs: num(n.created_at),
    updatedAtMs: num(n.updated_at),
  });
}

/**
 * Build a `TopicDescriptor` from a row projected with
 * {@link TOPIC_PROJECTION}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicOf } from "./records.ts";
 * assert.equal(topicOf({ t: { name: "x_v1", retention_ms: 1000, partitions: 1, created_at: 0, node_id: null } }).nodeId, "");
 * ```
 */
export function topicOf(row: Record<string, unknown>): TopicDescriptor {
  const t = (row.t ?? {}) as Record<string, unknown>;
  return create(TopicDescriptorSchema, {
    name: str(t.name),
    nodeId: str(t.node_id),
    retentionMs: num(t.retention_ms),
    partitions: num(t.partitions),
    createdAtMs: num(t.created_at),
  });
}
