/**
 * The compute contract: what a node's compute function sees.
 *
 * A compute function is `compute(view, params) => value | undefined`. The
 * view holds, for each of the node's inputs, its last `period` values aligned
 * to the node's interval (oldest first), and the bar time being computed.
 * `view.values`, `view.last`, `view.at()` are the first input's window (most
 * nodes have one input); `view.inputs[i]` is input `i`'s window, in the order
 * the node declared its inputs. Returning `undefined` emits nothing for the
 * bar.
 *
 * A view is only valid during the call: the runner reuses it for the next
 * bar, so copy `values` if you keep them.
 *
 * @module
 */

/**
 * One input's window: its last `period` values at bar times ≤ the bar being
 * computed, oldest first.
 *
 * @example
 * ```ts
 * import type { InputWindow } from "@qmtl/qmtl/sdk";
 * const spread = (a: InputWindow, b: InputWindow): number => a.last - b.last;
 * ```
 */
// deno-lint-ignore no-explicit-any
export interface InputWindow<V = any> {
  /** Number of values in the window (the node's `period`). */
  readonly length: number;
  /** The values, oldest first (a fresh array; cached per evaluation). */
  readonly values: readonly V[];
  /** Bar times of the values (seconds since the epoch), oldest first. */
  readonly times: readonly number[];
  /** The newest value (`at(-1)`). */
  readonly last: V;
  /**
   * The value at `index`, counting from the oldest (0) or, when negative,
   * from the newest (-1); `undefined` outside the window.
   */
  at(index: number): V | undefined;
}

/**
 * What a compute function receives: the bar time and the windows of every
 * input. The view itself is the first input's window.
 *
 * @example
 * ```ts
 * import type { NodeView } from "@qmtl/qmtl/sdk";
 * const sma = (view: NodeView<number>): number =>
 *   view.values.reduce((a, b) => a + b, 0) / view.length;
 * const cross = (view: NodeView<number>): number =>
 *   Math.sign(view.inputs[0].last - view.inputs[1].last);
 * ```
 */
// deno-lint-ignore no-explicit-any
export interface NodeView<V = any> extends InputWindow<V> {
  /** The bar being computed: seconds since the epoch, a multiple of the node's interval. */
  readonly barTs: number;
  /** Every input's window, in the node's declared input order. */
  readonly inputs: readonly InputWindow<V>[];
}

/**
 * A node's compute function. `params` are the node's declared params (the
 * same object that enters its ID), so nodes built from one function with
 * different settings read them here, never from a closure.
 *
 * @example
 * ```ts
 * import type { ComputeFn } from "@qmtl/qmtl/sdk";
 * const sma: ComputeFn<{ window: number }> = (view, params) =>
 *   view.values.slice(-params.window).reduce((a: number, b: number) => a + b, 0) / params.window;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ComputeFn<P = any> = (
  // deno-lint-ignore no-explicit-any
  view: NodeView<any>,
  params: P,
) => unknown;

/**
 * Bar time of a timestamp: `floor(ts / intervalS) * intervalS` (seconds).
 *
 * @param ts seconds since the epoch (may be fractional)
 * @param intervalS the interval in seconds (integer > 0)
 * @returns the start of the bar that contains `ts`
 * @example
 * ```ts
 * import { barTime } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * assert.equal(barTime(1_700_000_059.9, 60), 1_700_000_040);
 * assert.equal(barTime(-1, 60), -60);
 * ```
 */
export function barTime(ts: number, intervalS: number): number {
  return Math.floor(ts / intervalS) * intervalS;
}
