/**
 * Prints the derived contracts throughput figures (IDs/s, MB/s).
 *
 *     deno run -A bench/contracts_report.ts
 *
 * @module
 */

import {
  computeNodeId,
  decode,
  encode,
  nodeIdOfSpec,
  verifyDag,
} from "../lib/contracts/mod.ts";
import { identities, strategyDag } from "./contracts_fixture.ts";

function measure(fn: () => void, minMs = 1500): number {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  let iters = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    iters++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / iters; // ms per iteration
}

const ids1k = identities(1000);
const dag1k = strategyDag(1000);
const dag10k = strategyDag(10_000);
const bytes = encode("StrategyDag", dag10k);
const mb = bytes.length / 1e6;

const rows: [string, string][] = [];
const perId = measure(() => {
  for (const n of ids1k) computeNodeId(n);
});
rows.push([
  "computeNodeId, 1,000-node DAG (params objects)",
  `${Math.round(1000 / perId * 1000).toLocaleString("en")} IDs/s`,
]);
const perSpec = measure(() => {
  for (const n of dag1k.nodes) nodeIdOfSpec(n);
});
rows.push([
  "nodeIdOfSpec, 1,000 nodes (paramsJson checked)",
  `${Math.round(1000 / perSpec * 1000).toLocaleString("en")} IDs/s`,
]);
const perVerify = measure(() => verifyDag(dag1k));
rows.push([
  "verifyDag, 1,000 nodes",
  `${Math.round(1000 / perVerify * 1000).toLocaleString("en")} nodes/s (${
    perVerify.toFixed(2)
  } ms/DAG)`,
]);
const perEnc = measure(() => encode("StrategyDag", dag10k));
rows.push([
  `encode StrategyDag, 10,000 nodes (${mb.toFixed(2)} MB)`,
  `${(mb / perEnc * 1000).toFixed(0)} MB/s (${perEnc.toFixed(1)} ms)`,
]);
const perDec = measure(() => decode("StrategyDag", bytes));
rows.push([
  `decode StrategyDag, 10,000 nodes (${mb.toFixed(2)} MB)`,
  `${(mb / perDec * 1000).toFixed(0)} MB/s (${perDec.toFixed(1)} ms)`,
]);

console.log(
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${Deno.build.target}`,
);
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
