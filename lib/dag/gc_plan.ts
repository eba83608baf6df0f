/**
 * Pure GC planning shared by every backend: which zero-reference nodes are
 * still in their grace period, which are kept because another node depends
 * on them, and in which order the rest can be removed (dependents first).
 *
 * @module
 */

/**
 * A node with zero live references, as seen by the GC.
 *
 * @example
 * ```ts
 * import type { GcCandidate } from "@qmtl/qmtl/dag";
 * const c: GcCandidate = { nodeId: "sha256:…", lastRefAt: 0, dependents: [] };
 * ```
 */
export interface GcCandidate {
  /** Node ID. */
  nodeId: string;
  /** Last time a reference was added or dropped, ms since epoch. */
  lastRefAt: number;
  /** IDs of the nodes depending on it. */
  dependents: string[];
}

/**
 * The plan computed by {@link gcPlan}.
 *
 * @example
 * ```ts
 * import type { GcPlan } from "@qmtl/qmtl/dag";
 * const p: GcPlan = { observed: 0, levels: [], keptInGrace: [], keptWithDependents: [] };
 * ```
 */
export interface GcPlan {
  /** Number of candidates examined. */
  observed: number;
  /**
   * Node IDs to remove, in levels: every dependent of a node of level k is in
   * a level < k, so removing level by level never leaves a dangling edge.
   */
  levels: string[][];
  /** Candidates still in their grace period (sorted). */
  keptInGrace: string[];
  /** Candidates out of grace kept because a kept node depends on them (sorted). */
  keptWithDependents: string[];
}

/**
 * Plan a GC run. A candidate is removable when `lastRefAt <= cutoff` and
 * every node depending on it is itself removable. At most `limit` nodes
 * (default 10000) are planned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gcPlan } from "@qmtl/qmtl/dag";
 * const p = gcPlan(
 *   [{ nodeId: "a", lastRefAt: 0, dependents: ["b"] }, { nodeId: "b", lastRefAt: 0, dependents: [] }],
 *   { cutoff: 10 },
 * );
 * assert.deepEqual(p.levels, [["b"], ["a"]]);
 * ```
 */
export function gcPlan(
  candidates: readonly GcCandidate[],
  options: { cutoff: number; limit?: number },
): GcPlan {
  const limit = options.limit ?? 10000;
  const keptInGrace: string[] = [];
  const removable = new Map<string, GcCandidate>();
  for (const c of candidates) {
    if (c.lastRefAt > options.cutoff) keptInGrace.push(c.nodeId);
    else removable.set(c.nodeId, c);
  }
  const kept: string[] = [];
  // drop candidates with a non-removable dependent until stable (≤ n rounds)
  for (let changed = true; changed;) {
    changed = false;
    for (const [id, c] of removable) {
      if (c.dependents.some((d) => !removable.has(d))) {
        removable.delete(id);
        kept.push(id);
        changed = true;
      }
    }
  }
  // level = 0 without dependents, else 1 + max level of dependents
  const level = new Map<string, number>();
  const levelOf = (root: string): number => {
    const stack = [root];
    while (stack.length > 0) {
      const id = stack[stack.length - 1];
      if (level.has(id)) {
        stack.pop();
        continue;
      }
      const deps = removable.get(id)!.dependents;
      const pending = deps.filter((d) => !level.has(d));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      level.set(id, deps.reduce((m, d) => Math.max(m, level.get(d)! + 1), 0));
      stack.pop();
    }
    return level.get(root)!;
  };
  const levels: string[][] = [];
  for (const id of [...removable.keys()].sort()) {
    const l = levelOf(id);
    (levels[l] ??= []).push(id);
  }
  const planned: string[][] = [];
  let count = 0;
  for (const l of levels) {
    if (!l || count >= limit) break;
    const take = l.slice(0, limit - count);
    planned.push(take);
    count += take.length;
    if (take.length < l.length) break;
  }
  return {
    observed: candidates.length,
    levels: planned,
    keptInGrace: keptInGrace.sort(),
    keptWithDependents: kept.sort(),
  };
}
