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

import { StrategyBuilder } from "@qmtl/qmtl/sdk";
import { smaLegs } from "./common/sma.ts";

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
  const [f, sl] = smaLegs(s, {
    input: { name: "btc_close", tags: ["btc", "close"], asset: "BTC" },
    fast,
    slow,
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
