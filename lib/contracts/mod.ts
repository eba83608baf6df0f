/**
 * QMTL contracts: the `qmtl.v1` protobuf messages (TypeScript shapes and a
 * binary codec with unknown-field preservation), node identity (RFC 8785
 * canonical JSON, node IDs, DAG checksum/hash, DAG verification), the
 * schema-version sentinel, and the error codes shared by the SDK, the Gateway
 * and the DAG Manager.
 *
 * @example
 * ```ts
 * import { computeNodeId, dagChecksum, decode, encode } from "@qmtl/qmtl/contracts";
 *
 * const id = computeNodeId({
 *   nodeType: "Processing", intervalS: 60, period: 20, params: { window: 20 },
 * });
 * const bytes = encode("StrategyDag", {
 *   name: "demo",
 *   nodes: [{
 *     nodeId: id, nodeType: "Processing", intervalS: 60, period: 20,
 *     paramsJson: '{"window":20}', inputs: [], codeHash: "", schemaCompatId: "v1",
 *     name: "sma", tags: [], metadata: {},
 *   }],
 *   checksum: dagChecksum([id]),
 *   metadata: {},
 * });
 * decode("StrategyDag", bytes).nodes[0].nodeId === id; // true
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export * from "./node_id.ts";
export * from "./code_hash.ts";
export * from "./codec.ts";
export * from "./schema_version.ts";
export {
  DESCRIPTOR,
  GENERATED_SCHEMA,
  PACKAGE_PREFIX,
  protoRoot,
} from "./descriptor.ts";
