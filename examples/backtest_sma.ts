/**
 * Backtest two SMA-crossover strategies on the bundled sample prices
 * (examples/data/prices.csv — SYNTHETIC data, see generate_prices.ts) and
 * print bars, signals and the PnL of a naive rule. The two strategies share
 * the price input and the fast SMA: those nodes are computed once per bar.
 * The strategies are those of examples/strategies.ts (`crossover`).
 *
 *   deno run --allow-read examples/backtest_sma.ts
 *
 * @module
 */

import { backtest, csvSource, type NodeSeries } from "@qmtl/qmtl/sdk";
import { crossover } from "./strategies.ts";

const csv = new URL("./data/prices.csv", import.meta.url);
const result = await backtest(
  [crossover("sma_10_30", 10, 30), crossover("sma_10_60", 10, 60)],
  {
    source: csvSource(csv, {
      time: "ts",
      columns: { btc_close: ["btc", "close"] },
    }),
  },
);

const { stats } = result;
console.log(
  `${stats.records} records, ${stats.nodes} distinct nodes, ${stats.evaluations} evaluations ` +
    `(${stats.evaluationsSaved} saved by sharing)`,
);

const at = (s: NodeSeries, t: number) => {
  const i = s.times.indexOf(t);
  return i < 0 ? undefined : s.values[i] as number;
};
const fmt = (x: number | undefined) => x === undefined ? "-" : x.toFixed(2);
const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 16);

for (const r of result.strategies) {
  const { btc_close: close, sma_fast, sma_slow, signal } = r.nodes;
  console.log(
    `\n${r.name}: computed once and shared: ${
      Object.values(r.nodes).filter((n) => n.strategies.length > 1).map((n) =>
        n.name
      ).join(", ")
    }`,
  );
  console.log("  bar               close     fast      slow      signal");
  for (const t of signal.times.slice(0, 3)) {
    console.log(
      `  ${iso(t)}  ${fmt(at(close, t))}  ${fmt(at(sma_fast, t))}  ${
        fmt(at(sma_slow, t))
      }  ${at(signal, t)}`,
    );
  }
  // Naive rule: hold the previous bar's signal (+1 long, -1 short).
  let pnl = 0;
  let changes = 0;
  let prevSignal: number | undefined;
  for (let i = 1; i < signal.times.length; i++) {
    const t = signal.times[i];
    const t0 = signal.times[i - 1];
    const c = at(close, t);
    const c0 = at(close, t0);
    const pos = signal.values[i - 1] as number;
    if (c !== undefined && c0 !== undefined) pnl += pos * (c - c0) / c0;
    if (prevSignal !== undefined && pos !== prevSignal) changes++;
    prevSignal = pos;
  }
  const closes = close.values as number[];
  const hold = (closes.at(-1)! - closes[0]) / closes[0];
  console.log(
    `  ${signal.times.length} signals, ${changes} changes; naive rule PnL ${
      (pnl * 100).toFixed(2)
    } % (buy and hold ${(hold * 100).toFixed(2)} %)`,
  );
}
