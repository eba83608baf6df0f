/**
 * How a diff is cut into Neo4j transactions: one transaction when the DAG
 * fits the {@link TransactionBudget}, otherwise chunks of whole nodes in
 * dependency order, so that every chunk only depends on nodes of earlier
 * chunks, of itself, or already in the registry (each chunk commits its
 * nodes together with their input edges, never a node without them).
 *
 * @module
 */

import type { NodeSpec } from "../../contracts/messages.ts";
import type { ValidatedDag } from "../validate.ts";

/**
 * The most one registry transaction may carry. A diff above either bound is
 * committed in chunks (see `Neo4jRegistry.diffAndCommit`).
 *
 * @example
 * ```ts
 * import type { TransactionBudget } from "@qmtl/qmtl/dag";
 * const b: TransactionBudget = { maxNodes: 5_000, maxBytes: 8 * 2 ** 20 };
 * ```
 */
export interface TransactionBudget {
  /** Nodes per transaction. */
  maxNodes: number;
  /** Estimated bytes of node data per transaction ({@link nodeBytes}). */
  maxBytes: number;
}

/**
 * Default budget: 10,000 nodes or 16 MiB of node data per transaction.
 * Measured on Neo4j 5.26 Community (`SHOW TRANSACTIONS`,
 * `estimatedUsedHeapMemory`): a 10,000-node transaction of new nodes (with
 * topics, links, tags and edges) peaks at ≈ 100–115 MiB, linking 10,000
 * reused nodes at ≈ 15–35 MiB — well below the 256 MiB per-transaction
 * limit of the local stack (`db.memory.transaction.max`), and leaving most
 * of the shared pool (`dbms.memory.transaction.total.max`, 70 % of a 1 GiB
 * heap) to concurrent diffs. A larger chunk saves little: per-node costs
 * dominate (about 4 seconds of server CPU per 10,000 new nodes on the CI
 * machine).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TRANSACTION_BUDGET } from "@qmtl/qmtl/dag";
 * assert.equal(DEFAULT_TRANSACTION_BUDGET.maxNodes, 10000);
 * ```
 */
export const DEFAULT_TRANSACTION_BUDGET: Readonly<TransactionBudget> = Object
  .freeze({ maxNodes: 10_000, maxBytes: 16 * 2 ** 20 });

/** Fixed cost of a node besides its strings: records, links, topic. */
const NODE_OVERHEAD_BYTES = 256;

/**
 * Estimated size of a node's data in a transaction: its strings (UTF-16
 * code units, a close enough bound for ASCII-heavy specs) plus a fixed
 * overhead for its records, topic and links.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { NodeSpecSchema } from "@qmtl/qmtl/contracts";
 * import { nodeBytes } from "./diff_plan.ts";
 * const n = create(NodeSpecSchema, { nodeId: "sha256:00", nodeType: "P", intervalS: 60, period: 1, paramsJson: "{}", schemaCompatId: "v1" });
 * assert.ok(nodeBytes(n) > 256);
 * ```
 */
export function nodeBytes(n: NodeSpec): number {
  let b = NODE_OVERHEAD_BYTES + n.nodeId.length + n.nodeType.length +
    (n.paramsJson ?? "").length + (n.codeHash ?? "").length +
    (n.schemaCompatId ?? "").length + (n.name ?? "").length;
  for (const x of n.inputs ?? []) b += x.length;
  for (const x of n.tags ?? []) b += 2 * x.length;
  for (const [k, x] of Object.entries(n.metadata ?? {})) {
    b += k.length + String(x).length;
  }
  return b;
}

/**
 * The DAG's nodes in dependency order (every input before the nodes that
 * use it), keeping the submitted order where the dependencies allow.
 * Inputs outside the DAG are ignored. The DAG must be acyclic
 * (`validateDag` checked it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dependencyOrder } from "./diff_plan.ts";
 * const a = { nodeId: "a", inputs: [] }, b = { nodeId: "b", inputs: ["a"] };
 * assert.deepEqual(dependencyOrder([b, a]).map((n) => n.nodeId), ["a", "b"]);
 * ```
 */
export function dependencyOrder<T extends Pick<NodeSpec, "nodeId" | "inputs">>(
  nodes: readonly T[],
): T[] {
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const placed = new Set<string>();
  const out: T[] = [];
  for (const root of nodes) {
    if (placed.has(root.nodeId)) continue;
    // iterative post-order: inputs first
    const stack: { n: T; next: number }[] = [{ n: root, next: 0 }];
    const onStack = new Set([root.nodeId]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = top.n.inputs ?? [];
      if (top.next < inputs.length) {
        const input = byId.get(inputs[top.next++]);
        if (input && !placed.has(input.nodeId) && !onStack.has(input.nodeId)) {
          stack.push({ n: input, next: 0 });
          onStack.add(input.nodeId);
        }
        continue;
      }
      stack.pop();
      onStack.delete(top.n.nodeId);
      placed.add(top.n.nodeId);
      out.push(top.n);
    }
  }
  return out;
}

/**
 * How a validated DAG is committed.
 *
 * @example
 * ```ts
 * import type { DiffPlan } from "./diff_plan.ts";
 * function describe(p: DiffPlan): string {
 *   return p.chunks.length === 1 ? "one transaction" : `${p.chunks.length} chunks`;
 * }
 * ```
 */
export interface DiffPlan {
  /**
   * Node chunks in commit order; exactly one (possibly empty) when the DAG
   * fits the budget.
   */
  chunks: NodeSpec[][];
}

/**
 * Cut a validated DAG into chunks that fit `budget` (at least one node per
 * chunk, whatever its size), in dependency order. A DAG that fits is one
 * chunk in its submitted order.
 *
 * @example
 * ```ts
 * import { planDiff } from "./diff_plan.ts";
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { validateDag } from "@qmtl/qmtl/dag";
 * const v = validateDag(create(StrategyDagSchema, { name: "empty" }));
 * assert.equal(planDiff(v, { maxNodes: 10, maxBytes: 1 << 20 }).chunks.length, 1);
 * ```
 */
export function planDiff(
  v: Pick<ValidatedDag, "nodes">,
  budget: TransactionBudget = DEFAULT_TRANSACTION_BUDGET,
): DiffPlan {
  const maxNodes = Math.max(1, Math.floor(budget.maxNodes));
  const sizes = v.nodes.map(nodeBytes);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (v.nodes.length <= maxNodes && total <= budget.maxBytes) {
    return { chunks: [[...v.nodes]] };
  }
  const size = new Map(v.nodes.map((n, i) => [n.nodeId, sizes[i]]));
  const chunks: NodeSpec[][] = [];
  let chunk: NodeSpec[] = [];
  let bytes = 0;
  for (const n of dependencyOrder(v.nodes)) {
    const b = size.get(n.nodeId)!;
    if (
      chunk.length > 0 &&
      (chunk.length >= maxNodes || bytes + b > budget.maxBytes)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(n);
    bytes += b;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return { chunks };
}
