/**
 * Prints the derived contracts throughput figures (IDs/s, MB/s).
 *
 *     deno run -A bench/contracts_report.ts
 *
 * Each figure is measured over ~2 s in rounds; "best" is the fastest round
 * (least disturbed by other processes on a shared machine), "mean" the
 * average over all rounds.
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

/** Returns [best, mean] milliseconds per call of `fn`. */
function measure(fn: () => void, totalMs = 2000): [number, number] {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  let best = Infinity;
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < totalMs) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    if (dt < best) best = dt;
    calls++;
  }
  return [best, (performance.now() - start) / calls];
}

const ids1k = identities(1000);
const dag1k = strategyDag(1000);
const dag10k = strategyDag(10_000);
const bytes = toBinary(StrategyDagSchema, dag10k);
const mb = bytes.length / 1e6;

const fmt = (n: number) => Math.round(n).toLocaleString("en");
const rows: [string, string, string][] = [];

function perSecond(label: string, unit: string, count: number, fn: () => void) {
  const [best, mean] = measure(fn);
  rows.push([
    label,
    `${fmt(count / best * 1000)} ${unit}`,
    `${fmt(count / mean * 1000)} ${unit}`,
  ]);
}

perSecond(
  "computeNodeId, 1,000-node DAG (params objects)",
  "IDs/s",
  1000,
  () => {
    for (const n of ids1k) computeNodeId(n);
  },
);
perSecond(
  "nodeIdOfSpec, 1,000 nodes (paramsJson checked)",
  "IDs/s",
  1000,
  () => {
    for (const n of dag1k.nodes) nodeIdOfSpec(n);
  },
);
perSecond("verifyDag, 1,000-node DAG", "nodes/s", 1000, () => verifyDag(dag1k));
perSecond(
  `encode StrategyDag, 10,000 nodes (${mb.toFixed(2)} MB)`,
  "MB/s",
  mb,
  () => {
    toBinary(StrategyDagSchema, dag10k);
  },
);
perSecond(
  `decode StrategyDag, 10,000 nodes (${mb.toFixed(2)} MB)`,
  "MB/s",
  mb,
  () => {
    decode(StrategyDagSchema, bytes);
  },
);

console.log(
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${Deno.build.target}, ` +
    `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
console.log("| benchmark | best | mean |");
console.log("| --- | --- | --- |");
for (const [k, best, mean] of rows) console.log(`| ${k} | ${best} | ${mean} |`);
