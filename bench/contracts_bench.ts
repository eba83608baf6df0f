/**
 * Contracts benchmarks: node-ID computation on a 1,000-node DAG and binary
 * encode/decode of a 10,000-node StrategyDag.
 *
 *     deno bench --allow-all bench/contracts_bench.ts
 *     deno run -A bench/contracts_report.ts   # derived IDs/s and MB/s
 *
 * @module
 */

import { toBinary } from "@bufbuild/protobuf";
import {
  computeNodeId,
  decode,
  nodeIdOfSpec,
  StrategyDagSchema,
  verifyDag,
} from "../lib/contracts/mod.ts";
import { identities, strategyDag } from "./contracts_fixture.ts";

const ids1k = identities(1000);
const dag1k = strategyDag(1000);
const dag10k = strategyDag(10_000);
const bytes10k = toBinary(StrategyDagSchema, dag10k);

Deno.bench("computeNodeId × 1,000 (params objects)", {
  group: "node-id",
  baseline: true,
}, () => {
  for (const n of ids1k) computeNodeId(n);
});

Deno.bench("nodeIdOfSpec × 1,000 (canonical paramsJson, checked)", {
  group: "node-id",
}, () => {
  for (const n of dag1k.nodes) nodeIdOfSpec(n);
});

Deno.bench("verifyDag 1,000 nodes", { group: "node-id" }, () => {
  verifyDag(dag1k);
});

Deno.bench(
  `encode StrategyDag 10,000 nodes (${(bytes10k.length / 1e6).toFixed(2)} MB)`,
  { group: "codec" },
  () => {
    toBinary(StrategyDagSchema, dag10k);
  },
);

Deno.bench(
  `decode StrategyDag 10,000 nodes (${(bytes10k.length / 1e6).toFixed(2)} MB)`,
  { group: "codec" },
  () => {
    decode(StrategyDagSchema, bytes10k);
  },
);
