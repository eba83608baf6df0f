/**
 * Synthetic DAGs for the contracts benchmarks.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  canonicalParamsJson,
  codeHash,
  computeNodeId,
  dagChecksum,
  type NodeIdentity,
  type NodeSpec,
  NodeSpecSchema,
  type StrategyDag,
  StrategyDagSchema,
} from "../lib/contracts/mod.ts";

const SMA_CODE = codeHash(
  "function sma(xs, n) {\n  return xs.slice(-n).reduce((a, b) => a + b, 0) / n;\n}",
);

/**
 * `n` node identities in DAG order: every 10th node is a StreamInput, the
 * others are Processing nodes with 1–2 inputs, a few params and code.
 */
export function identities(n: number): NodeIdentity[] {
  const out: NodeIdentity[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    let node: NodeIdentity;
    if (i % 10 === 0) {
      node = {
        nodeType: "StreamInput",
        intervalS: 60,
        period: 1,
        params: {
          symbol: `SYM${i}/USDT`,
          field: "close",
          exchange: "binance",
          seed: 1,
        },
      };
    } else {
      const inputs = [ids[i - 1]];
      if (i % 3 === 0 && i >= 2) inputs.push(ids[i - 2]);
      node = {
        nodeType: "Processing",
        intervalS: 60,
        period: 1 + (i % 50),
        params: {
          window: i % 50 + 1,
          alpha: 0.1 * (i % 7),
          mode: "ema",
          nested: { k: i },
        },
        inputs,
        codeHash: SMA_CODE,
      };
    }
    out.push(node);
    ids.push(computeNodeId(node));
  }
  return out;
}

/** A StrategyDag of `n` nodes with valid IDs and checksum. */
export function strategyDag(n: number): StrategyDag {
  const nodes: NodeSpec[] = identities(n).map((id, i) =>
    create(NodeSpecSchema, {
      nodeId: computeNodeId(id),
      nodeType: id.nodeType,
      intervalS: id.intervalS,
      period: id.period,
      paramsJson: canonicalParamsJson(id.params ?? {}),
      inputs: [...(id.inputs ?? [])],
      codeHash: id.codeHash ?? "",
      schemaCompatId: "v1",
      name: `node_${i}`,
      tags: i % 10 === 0 ? ["price", "crypto"] : [],
      metadata: i % 10 === 0
        ? { source: "bench" }
        : {} as Record<string, string>,
    })
  );
  return create(StrategyDagSchema, {
    name: "bench",
    nodes,
    checksum: dagChecksum(nodes.map((x) => x.nodeId)),
    metadata: { purpose: "benchmark" },
  });
}
