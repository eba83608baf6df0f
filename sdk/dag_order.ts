/**
 * Graph helpers of the builder: find a cycle and put nodes in DAG order
 * (every input before its consumer), stable with respect to the order in
 * which the nodes were added.
 *
 * @module
 */

import { findCycle } from "../lib/dag/cycle.ts";

/**
 * The result of {@link dagOrder}: either the order, or one cycle.
 *
 * @example
 * ```ts
 * import type { DagOrder } from "./dag_order.ts";
 * const ok: DagOrder = { order: [0, 1] };
 * const bad: DagOrder = { cycle: [0, 1, 0] };
 * ```
 */
export type DagOrder = { order: number[] } | { cycle: number[] };

/**
 * Order nodes `0..n-1` so that each comes after all of its inputs, or report
 * a cycle as a path `[a, b, …, a]` where each node is an input of the next.
 * Among the nodes ready at each step the lowest index goes first, so a DAG
 * whose nodes were added in order keeps that order.
 *
 * @param inputs `inputs[i]` = indices of node `i`'s inputs within the DAG
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dagOrder } from "./dag_order.ts";
 * assert.deepEqual(dagOrder([[1], []]), { order: [1, 0] });
 * assert.deepEqual(dagOrder([[1], [0]]), { cycle: [0, 1, 0] });
 * ```
 */
export function dagOrder(inputs: readonly (readonly number[])[]): DagOrder {
  const n = inputs.length;
  const missing = inputs.map((ins) => new Set(ins).size);
  const consumers: number[][] = Array.from({ length: n }, () => []);
  inputs.forEach((ins, i) => {
    for (const j of new Set(ins)) consumers[j].push(i);
  });
  const done = new Array<boolean>(n).fill(false);
  const order: number[] = [];
  // n ≤ a few thousand nodes: a linear scan for the lowest ready index keeps
  // the code obvious and is bounded by n² steps.
  for (let step = 0; step < n; step++) {
    let next = -1;
    for (let i = 0; i < n; i++) {
      if (!done[i] && missing[i] === 0) {
        next = i;
        break;
      }
    }
    if (next < 0) return { cycle: residualCycle(inputs, done) };
    done[next] = true;
    order.push(next);
    for (const c of consumers[next]) missing[c]--;
  }
  return { order };
}

/**
 * A cycle among the nodes not done (each has an input not done), by the
 * registry's {@link findCycle}; reversed so that each node is an input of
 * the next.
 */
function residualCycle(
  inputs: readonly (readonly number[])[],
  done: readonly boolean[],
): number[] {
  const left = new Map<string, string[]>();
  inputs.forEach((ins, i) => {
    if (!done[i]) left.set(String(i), ins.filter((j) => !done[j]).map(String));
  });
  return (findCycle(left) ?? []).map(Number).reverse();
}
