/**
 * Pure validation of a submitted DAG before anything is written: field
 * sanity, duplicate removal, cycle detection and the list of inputs that must
 * already exist in the registry.
 *
 * @module
 */

import type { NodeSpec, StrategyDag } from "../contracts/messages.ts";
import { dagHash, isNodeId } from "../contracts/node_id.ts";
import { CycleError, RegistryError } from "./errors.ts";
import { findCycle } from "./cycle.ts";

/**
 * A DAG that passed {@link validateDag}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { type ValidatedDag, validateDag } from "@qmtl/qmtl/dag";
 * const v: ValidatedDag = validateDag(create(StrategyDagSchema, { name: "empty" }));
 * assert.equal(v.nodes.length, 0);
 * assert.deepEqual([...v.externalInputs.keys()], []);
 * ```
 */
export interface ValidatedDag {
  /** The DAG's nodes in DAG order, duplicates (same node ID) removed. */
  nodes: NodeSpec[];
  /**
   * Inputs not defined in the DAG → the first node that names them. Each
   * must already exist in the registry.
   */
  externalInputs: Map<string, string>;
  /** Every dependency edge of the DAG: `from` depends on `to`. */
  edges: { from: string; to: string }[];
}

function invalid(message: string, nodeId = ""): RegistryError {
  return new RegistryError("E_INVALID", message, { nodeId });
}

/**
 * Validate a DAG: well-formed node IDs, `intervalS` > 0 and `period` ≥ 1
 * (integers), a node type; duplicates of one node ID collapse to the first;
 * no cycle among the DAG's own nodes. Throws `RegistryError` (`E_INVALID`)
 * or `CycleError` (`E_CYCLE`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { validateDag } from "@qmtl/qmtl/dag";
 * const v = validateDag(create(StrategyDagSchema, { name: "empty" }));
 * assert.equal(v.nodes.length, 0);
 * ```
 */
export function validateDag(dag: StrategyDag): ValidatedDag {
  if (!dag || !Array.isArray(dag.nodes)) {
    throw invalid("dag.nodes must be an array");
  }
  const nodes: NodeSpec[] = [];
  const inputsOf = new Map<string, string[]>();
  for (const [i, n] of dag.nodes.entries()) {
    if (!n || typeof n.nodeId !== "string" || !isNodeId(n.nodeId)) {
      throw invalid(`nodes[${i}].nodeId is not sha256:<64 hex>`, n?.nodeId);
    }
    if (inputsOf.has(n.nodeId)) continue;
    if (typeof n.nodeType !== "string" || n.nodeType === "") {
      throw invalid(`nodes[${i}].nodeType is empty`, n.nodeId);
    }
    if (!Number.isSafeInteger(n.intervalS) || n.intervalS <= 0) {
      throw invalid(`nodes[${i}].intervalS must be an integer > 0`, n.nodeId);
    }
    if (!Number.isSafeInteger(n.period) || n.period < 1) {
      throw invalid(`nodes[${i}].period must be an integer ≥ 1`, n.nodeId);
    }
    const inputs = n.inputs ?? [];
    for (const input of inputs) {
      if (typeof input !== "string" || !isNodeId(input)) {
        throw invalid(
          `nodes[${i}].inputs has a malformed node ID ${input}`,
          n.nodeId,
        );
      }
    }
    if (!Array.isArray(n.tags) || n.tags.some((t) => typeof t !== "string")) {
      throw invalid(`nodes[${i}].tags must be strings`, n.nodeId);
    }
    nodes.push(n);
    inputsOf.set(n.nodeId, [...new Set(inputs)]);
  }
  const cycle = findCycle(inputsOf);
  if (cycle) throw new CycleError(cycle);
  const externalInputs = new Map<string, string>();
  const edges: { from: string; to: string }[] = [];
  for (const [id, inputs] of inputsOf) {
    for (const input of inputs) {
      edges.push({ from: id, to: input });
      if (!inputsOf.has(input) && !externalInputs.has(input)) {
        externalInputs.set(input, id);
      }
    }
  }
  return { nodes, externalInputs, edges };
}

/**
 * Default DAG hash stored on a strategy version: the contracts' `dagHash`
 * of the DAG's node IDs in DAG order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { defaultDagHash } from "@qmtl/qmtl/dag";
 * assert.match(defaultDagHash(create(StrategyDagSchema, { name: "e" })), /^sha256:[0-9a-f]{64}$/);
 * ```
 */
export function defaultDagHash(dag: StrategyDag): string {
  return dagHash(dag.nodes.map((n) => n.nodeId));
}
