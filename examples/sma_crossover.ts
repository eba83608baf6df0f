/**
 * A moving-average crossover strategy: a BTC price stream, a fast and a slow
 * SMA, and a crossover signal. Submits it, waits until the Gateway has
 * placed every node on a topic, and prints the queue map.
 *
 *     deno task serve                      # in another terminal; copy the token
 *     QMTL_TOKEN=<token> deno run -A examples/sma_crossover.ts
 *
 * @module
 */

import { type NodeView, StrategyBuilder } from "@qmtl/qmtl/sdk";
import { clientFromEnv } from "./common/env_client.ts";

// The compute functions: `compute(view, params)`. Their syntax trees are
// hashed into the node IDs.
const sma = (view: NodeView<number>) =>
  view.values.reduce((a, b) => a + b, 0) / view.length;
const cross = (view: NodeView<number>) => {
  const [fast, slow] = [view.inputs[0].last, view.inputs[1].last];
  return fast > slow ? 1 : fast < slow ? -1 : 0;
};

const s = new StrategyBuilder("sma_crossover");
const price = s.streamInput({
  name: "btc_close",
  tags: ["btc", "close"],
  intervalS: 60,
  period: 1,
  asset: "BTC",
});
const fast = s.processing({
  name: "sma_fast",
  inputs: [price],
  intervalS: 60,
  period: 5,
  params: { window: 5 },
  compute: sma,
});
const slow = s.processing({
  name: "sma_slow",
  inputs: [price],
  intervalS: 60,
  period: 20,
  params: { window: 20 },
  compute: sma,
});
s.processing({
  name: "crossover",
  nodeType: "Signal",
  inputs: [fast, slow],
  intervalS: 60,
  period: 2,
  compute: cross,
});
const dag = s.build();

const client = clientFromEnv();
const t0 = performance.now();
const ack = await client.submit(dag, { version: "1.0.0" });
console.log(
  `submitted ${dag.name} (${dag.nodes.length} nodes) as ${ack.strategyId}: ${ack.state}${
    ack.duplicate ? " (already submitted before)" : ""
  }`,
);

const status = await client.waitFor(ack.strategyId, "COMPLETED", {
  timeoutMs: 30_000,
});
console.log(
  `${status.state} after ${Math.round(performance.now() - t0)} ms: ` +
    `${status.created.length} nodes created, ${status.reused.length} reused`,
);
console.log("queue map:");
for (const node of dag.nodes) {
  console.log(
    `  ${node.name.padEnd(10)} ${node.nodeType.padEnd(11)} → ${
      status.queueMap[node.nodeId]
    }`,
  );
}
