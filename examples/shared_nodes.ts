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
  QmtlClient,
  StrategyBuilder,
  type StrategyDag,
} from "@qmtl/qmtl/sdk";

const url = Deno.env.get("QMTL_URL") ?? "http://127.0.0.1:8080";
const token = Deno.env.get("QMTL_TOKEN");
if (!token) {
  console.error(
    "QMTL_TOKEN is not set: start `deno task serve` and copy the dev token it prints.",
  );
  Deno.exit(2);
}

const sma = (view: NodeView<number>) =>
  view.values.reduce((a, b) => a + b, 0) / view.length;

/** Price → SMA(5), SMA(20) → a strategy-specific signal. */
function strategy(
  name: string,
  signal: { name: string; compute: (view: NodeView<number>) => number },
): StrategyDag {
  const s = new StrategyBuilder(name);
  const price = s.streamInput({
    name: "eth_close",
    tags: ["eth", "close"],
    intervalS: 60,
    period: 1,
    asset: "ETH",
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

const client = new QmtlClient({ url, token });
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
