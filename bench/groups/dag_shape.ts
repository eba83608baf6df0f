/**
 * The registry benchmarks' DAG shape, shared by the registry group, the
 * Neo4j warm-up and `bench/registry_profile.ts`.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  canonicalParamsJson,
  computeNodeId,
  type NodeSpec,
  NodeSpecSchema,
  type StrategyDag,
  StrategyDagSchema,
} from "../../lib/contracts/mod.ts";

/**
 * A layered DAG: 10 % tagged stream inputs, the rest 1–2 inputs from
 * earlier nodes, salted so that each salt gives new node IDs.
 */
export function makeDag(salt: string, n: number): StrategyDag {
  const nodes: NodeSpec[] = [];
  let seed = 42;
  const rand = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const isInput = i < Math.max(1, Math.floor(n / 10));
    const inputs = isInput ? [] : [
      ...new Set([
        nodes[Math.floor(rand() * i)].nodeId,
        nodes[Math.floor(rand() * i)].nodeId,
      ]),
    ];
    const nodeType = isInput ? "StreamInput" : "Processing";
    const paramsJson = canonicalParamsJson({ salt, i });
    nodes.push(create(NodeSpecSchema, {
      nodeId: computeNodeId({
        nodeType,
        intervalS: 60,
        period: 1 + (i % 20),
        paramsJson,
        inputs,
      }),
      nodeType,
      intervalS: 60,
      period: 1 + (i % 20),
      paramsJson,
      inputs,
      codeHash: "",
      schemaCompatId: "v1",
      name: `n${i}`,
      tags: isInput ? ["bench", `sym${i % 7}`] : [],
      metadata: isInput ? { asset: `sym${i % 7}` } : {},
    }));
  }
  return create(StrategyDagSchema, { name: salt, nodes, checksum: 0 });
}
