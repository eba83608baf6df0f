/**
 * Two SMA-crossover strategies, exported for the command line: they share
 * the BTC close stream and the fast SMA, so the second reuses two of the
 * first's nodes.
 *
 *     deno task qmtl submit examples/strategies.ts
 *     deno task qmtl backtest examples/strategies.ts --csv examples/data/prices.csv \
 *       --time ts --column btc_close=btc,close
 *
 * @module
 */

import { type NodeView, StrategyBuilder } from "@qmtl/qmtl/sdk";

/** Mean of the window: one compute function, the period sets the window. */
const sma = (view: NodeView<number>) =>
  view.values.reduce((a, b) => a + b, 0) / view.length;

/**
 * An SMA crossover on the BTC close: SMA(`fast`) and SMA(`slow`) of it and
 * their sign as the signal. Also used by examples/backtest_sma.ts.
 */
export function crossover(
  name: string,
  fast: number,
  slow: number,
): StrategyBuilder {
  const s = new StrategyBuilder(name);
  const close = s.streamInput({
    name: "btc_close",
    tags: ["btc", "close"],
    intervalS: 60,
    period: 1,
    asset: "BTC",
  });
  const f = s.processing({
    name: "sma_fast",
    inputs: [close],
    intervalS: 60,
    period: fast,
    compute: sma,
  });
  const sl = s.processing({
    name: "sma_slow",
    inputs: [close],
    intervalS: 60,
    period: slow,
    compute: sma,
  });
  s.processing({
    name: "signal",
    nodeType: "Signal",
    inputs: [f, sl],
    intervalS: 60,
    period: 1,
    compute: (v) => Math.sign(v.inputs[0].last - v.inputs[1].last),
  });
  return s;
}

/** The strategies `qmtl submit` / `qmtl backtest` pick up. */
export const strategies: StrategyBuilder[] = [
  crossover("cli_sma_10_30", 10, 30),
  crossover("cli_sma_10_60", 10, 60),
];
