/**
 * Cycle detection over a dependency graph (node → inputs). The one
 * definition used by DAG validation, the Gateway's submit path and the SDK
 * builder. No imports, so the SDK can use it without the registry.
 *
 * @module
 */

/**
 * Find a cycle in a dependency graph given as node → inputs. Returns the
 * cycle as node IDs with the first repeated at the end (`[a, b, a]`: `a`
 * depends on `b`, `b` on `a`), or `null`. Iterative, so deep graphs do not
 * overflow the stack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findCycle } from "@qmtl/qmtl/dag";
 * assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["a"]]])), ["a", "b", "a"]);
 * ```
 */
export function findCycle(
  inputsOf: ReadonlyMap<string, readonly string[]>,
): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1 = on stack, 2 = done
  for (const root of inputsOf.keys()) {
    if (state.has(root)) continue;
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = inputsOf.get(top.id) ?? [];
      if (top.next >= inputs.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const child = inputs[top.next++];
      if (!inputsOf.has(child)) continue;
      const s = state.get(child);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === child);
        return [...stack.slice(from).map((f) => f.id), child];
      }
      if (s === undefined) {
        state.set(child, 1);
        stack.push({ id: child, next: 0 });
      }
    }
  }
  return null;
}
