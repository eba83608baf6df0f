/**
 * The price → SMA(fast), SMA(slow) legs that several examples put under
 * their own signal. Strategies built from the same legs share those nodes
 * (same definition, same node IDs), which is what the examples show.
 *
 * @module
 */

import type { NodeRef, NodeView, StrategyBuilder } from "@qmtl/qmtl/sdk";

/**
 * Mean of the window: one compute function, the node's period sets the
 * window.
 *
 * @example
 * ```ts ignore
 * import { sma } from "./common/sma.ts";
 * s.processing({ name: "sma_5", inputs: [price], intervalS: 60, period: 5, compute: sma });
 * ```
 */
export const sma = (view: NodeView<number>): number =>
  view.values.reduce((a, b) => a + b, 0) / view.length;

/**
 * What {@link smaLegs} builds: the stream input and its two SMAs.
 *
 * @example
 * ```ts ignore
 * import type { SmaLegsOptions } from "./common/sma.ts";
 * const o: SmaLegsOptions = {
 *   input: { name: "btc_close", tags: ["btc", "close"], asset: "BTC" },
 *   fast: 5,
 *   slow: 20,
 * };
 * ```
 */
export interface SmaLegsOptions {
  /** The one-minute price stream the SMAs read. */
  input: { name: string; tags: string[]; asset: string };
  /** Window of `sma_fast`, bars. */
  fast: number;
  /** Window of `sma_slow`, bars. */
  slow: number;
  /** Also put `{ window: n }` in each SMA's params (default false). */
  windowParams?: boolean;
}

/**
 * Adds a one-minute price stream and `sma_fast` / `sma_slow` over it to
 * `s`; returns the two SMAs, for the strategy's own signal.
 *
 * @example
 * ```ts ignore
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import { smaLegs } from "./common/sma.ts";
 * const s = new StrategyBuilder("trend");
 * const [fast, slow] = smaLegs(s, {
 *   input: { name: "eth_close", tags: ["eth", "close"], asset: "ETH" },
 *   fast: 5,
 *   slow: 20,
 * });
 * s.processing({
 *   name: "trend",
 *   nodeType: "Signal",
 *   inputs: [fast, slow],
 *   intervalS: 60,
 *   period: 1,
 *   compute: (v) => Math.sign(v.inputs[0].last - v.inputs[1].last),
 * });
 * ```
 */
export function smaLegs(
  s: StrategyBuilder,
  o: SmaLegsOptions,
): [fast: NodeRef, slow: NodeRef] {
  const price = s.streamInput({ ...o.input, intervalS: 60, period: 1 });
  const leg = (name: string, window: number) =>
    s.processing({
      name,
      inputs: [price],
      intervalS: 60,
      period: window,
      ...(o.windowParams ? { params: { window } } : {}),
      compute: sma,
    });
  return [leg("sma_fast", o.fast), leg("sma_slow", o.slow)];
}
