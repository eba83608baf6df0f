/**
 * DAG Manager: the global DAG of compute nodes, their topics, tags, strategy
 * versions, reference counts and garbage collection.
 *
 * `NodeRegistry` is the interface; `MemoryRegistry` (embedded default) and
 * `Neo4jRegistry` implement it with identical semantics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryRegistry, type NodeRegistry } from "@qmtl/qmtl/dag";
 * const registry: NodeRegistry = new MemoryRegistry();
 * const node = await registry.getNode("sha256:…");
 * assert.equal(node?.topic, undefined); // nothing committed yet
 * await registry.close();
 * ```
 *
 * @module
 */

export type {
  DiffResult,
  NodeRecord,
  NodeSpec,
  StrategyDag,
  TopicDescriptor,
} from "../contracts/messages.ts";
export type { ErrorDetail } from "../contracts/messages.ts";
export {
  type ConnectCode,
  ErrorCode,
  QmtlError,
  type QmtlErrorOptions,
} from "../contracts/errors.ts";
export * from "./registry.ts";
export * from "./errors.ts";
export * from "./topic_name.ts";
export * from "./cycle.ts";
export * from "./validate.ts";
export * from "./gc_plan.ts";
export * from "./page_token.ts";
export * from "./memory/memory_registry.ts";
export * from "./neo4j/config.ts";
export {
  DEFAULT_TRANSACTION_BUDGET,
  type TransactionBudget,
} from "./neo4j/diff_plan.ts";
export * from "./neo4j/schema.ts";
export * from "./neo4j/migrations.ts";
export * from "./neo4j/neo4j_registry.ts";
