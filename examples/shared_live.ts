/**
 * Two strategies that share their price input and SMA nodes, run live by two
 * runners (as two processes would) against a Gateway: each shared node is
 * computed by exactly one of them — the one holding its producer lease — and
 * read by the other from its topic. A data adapter publishes ETH closes (the
 * bundled synthetic sample, re-stamped to the current minute) to the stream
 * input's topic; the example prints how many times each node was computed.
 *
 *     QMTL_TOKEN=<token> deno run -A examples/shared_live.ts
 *
 * @module
 */

import {
  csvSource,
  live,
  type LiveNodeStats,
  type NodeView,
  StrategyBuilder,
} from "@qmtl/qmtl/sdk";
import { clientFromEnv } from "./common/env_client.ts";
import { smaLegs } from "./common/sma.ts";

const client = clientFromEnv();
const BARS = 40;

/** Price → SMA(5), SMA(20) (shared) → a strategy-specific signal. */
function strategy(
  name: string,
  signal: string,
  compute: (view: NodeView<number>) => number,
): StrategyBuilder {
  const s = new StrategyBuilder(name);
  const [fast, slow] = smaLegs(s, {
    input: {
      name: "eth_close",
      tags: ["eth", "close", "live-demo"],
      asset: "ETH",
    },
    fast: 5,
    slow: 20,
  });
  s.processing({
    name: signal,
    nodeType: "Signal",
    inputs: [fast, slow],
    intervalS: 60,
    period: 1,
    compute,
  });
  return s;
}

const trend = strategy(
  "eth_live_trend",
  "trend",
  (v) => Math.sign(v.inputs[0].last - v.inputs[1].last),
);
const revert = strategy("eth_live_revert", "revert", (v) => {
  const [fast, slow] = [v.inputs[0].last, v.inputs[1].last];
  return Math.abs(fast - slow) / slow > 0.001 ? -Math.sign(fast - slow) : 0;
});

const options = { client, leaseMs: 5_000, renewMs: 500, waitMs: 2_000 };
const runnerA = await live(trend, { ...options, holder: "runner-A" });
const runnerB = await live(revert, { ...options, holder: "runner-B" });
console.log(
  `runner A runs ${trend.name} (${
    runnerA.strategyIds[0]
  }), runner B runs ${revert.name} (${runnerB.strategyIds[0]})`,
);

// The data adapter: ETH closes into the stream input's topic, one bar a minute
// from the current minute on — after the topic's last bar, so that running the
// example again adds new bars.
const [topic] = await client.streamTopics(["eth", "close", "live-demo"]);
const [prev] = await client.readBars([{ topic }], { tail: 1 });
const start = Math.max(
  Math.floor(Date.now() / 60_000) * 60,
  (prev?.bars[0]?.barTs ?? 0) + 60,
);
const closes: number[] = [];
for await (
  const r of csvSource(new URL("./data/prices.csv", import.meta.url), {
    time: "ts",
    columns: { eth_close: ["eth", "close"] },
  })
) {
  closes.push(r.value);
  if (closes.length === BARS) break;
}
const bars = closes.map((value, i) => ({ barTs: start + i * 60, value }));
const published = await client.publishBars(topic, bars);
console.log(`published ${published.accepted} bars of ETH closes to ${topic}`);

// Wait until both signals have the last bar (bounded).
const last = bars[bars.length - 1].barTs;
const signalTopics = [
  runnerA.queueMap[trend.compile().nodes[3].spec.nodeId],
  runnerB.queueMap[revert.compile().nodes[3].spec.nodeId],
];
const deadline = Date.now() + 30_000;
for (;;) {
  const got = await client.readBars(
    signalTopics.map((t) => ({ topic: t, afterBarTs: last - 1 })),
  );
  if (got.length === signalTopics.length) break;
  if (Date.now() > deadline) {
    console.error("timed out waiting for the signals");
    Deno.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const a = await runnerA.stop();
const b = await runnerB.stop();

const byName = (s: Record<string, LiveNodeStats>) =>
  Object.fromEntries(Object.values(s).map((n) => [n.name, n]));
const A = byName(a);
const B = byName(b);
console.log("node       runner A  runner B  computed");
for (const name of ["sma_fast", "sma_slow", "trend", "revert"]) {
  const ea = A[name]?.evaluations;
  const eb = B[name]?.evaluations;
  const cell = (n?: number) => String(n ?? "-").padStart(8);
  console.log(
    `${name.padEnd(10)} ${cell(ea)}  ${cell(eb)}  ${
      String((ea ?? 0) + (eb ?? 0)).padStart(8)
    }`,
  );
}
const shared = ["sma_fast", "sma_slow"].every((n) =>
  (A[n].evaluations === 0) !== (B[n].evaluations === 0)
);
console.log(
  shared
    ? "each shared node was computed by one runner only; the other read its topic"
    : "a shared node was computed by both runners",
);
if (!shared) Deno.exit(1);
