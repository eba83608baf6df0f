/**
 * Two strategies that share their price stream and SMA nodes: the first one
 * creates them; the second reuses the same nodes and topics and only adds
 * its own signal.
 *
 *     QMTL_TOKEN=<token> deno run -A examples/shared_nodes.ts
 *
 * @module
 */

import {
  type NodeView,
  StrategyBuilder,
  type StrategyDag,
} from "@qmtl/qmtl/sdk";
import { clientFromEnv } from "./common/env_client.ts";
import { smaLegs } from "./common/sma.ts";

const client = clientFromEnv();

/** Price → SMA(5), SMA(20) → a strategy-specific signal. */
function strategy(
  name: string,
  signal: { name: string; compute: (view: NodeView<number>) => number },
): StrategyDag {
  const s = new StrategyBuilder(name);
  const [fast, slow] = smaLegs(s, {
    input: { name: "eth_close", tags: ["eth", "close"], asset: "ETH" },
    fast: 5,
    slow: 20,
    windowParams: true,
  });
  s.processing({
    name: signal.name,
    nodeType: "Signal",
    inputs: [fast, slow],
    intervalS: 60,
    period: 2,
    compute: signal.compute,
  });
  return s.build();
}

const trend = strategy("eth_trend", {
  name: "trend",
  compute: (v) => Math.sign(v.inputs[0].last - v.inputs[1].last),
});
const meanReversion = strategy("eth_mean_reversion", {
  name: "revert",
  compute: (v) => {
    const [fast, slow] = [v.inputs[0].last, v.inputs[1].last];
    return Math.abs(fast - slow) / slow > 0.02 ? -Math.sign(fast - slow) : 0;
  },
});

const results = [];
for (const dag of [trend, meanReversion]) {
  const ack = await client.submit(dag, { version: "1.0.0" });
  const st = await client.waitFor(ack.strategyId, "COMPLETED", {
    timeoutMs: 30_000,
  });
  console.log(
    `${dag.name} → ${ack.strategyId}: COMPLETED, ${st.created.length} created, ${st.reused.length} reused`,
  );
  results.push({ dag, st });
}

const [first, second] = results;
const shared = second.dag.nodes.filter((n) =>
  first.st.queueMap[n.nodeId] !== undefined
);
console.log(
  `${second.dag.name} shares ${shared.length} of ${second.dag.nodes.length} nodes with ${first.dag.name}:`,
);
for (const n of shared) {
  const same = first.st.queueMap[n.nodeId] === second.st.queueMap[n.nodeId];
  const reused = second.st.reused.includes(n.nodeId);
  console.log(
    `  ${n.name.padEnd(8)} → ${second.st.queueMap[n.nodeId]} (${
      same ? "same topic" : "DIFFERENT topic"
    }${reused ? ", reused" : ""})`,
  );
  if (!same || !reused) Deno.exit(1);
}
