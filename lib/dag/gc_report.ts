/**
 * Internal: the {@link GcReport} both registry backends return once they
 * have carried out a {@link GcPlan}.
 *
 * @module
 */
import type { GcPlan } from "./gc_plan.ts";
import type { GcReport } from "./registry.ts";

/**
 * The report of a GC run that carried out `plan`.
 *
 * @param plan What `gcPlan` planned.
 * @param removed Node IDs removed (any order; sorted here).
 * @param removedTopics Topic names removed (any order; sorted here).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gcReport } from "./gc_report.ts";
 * const plan = { observed: 1, levels: [["a"]], keptInGrace: [], keptWithDependents: [] };
 * assert.deepEqual(gcReport(plan, ["a"], ["t_a"]).removed, ["a"]);
 * ```
 */
export function gcReport(
  plan: GcPlan,
  removed: string[],
  removedTopics: string[],
): GcReport {
  return {
    observed: plan.observed,
    removed: removed.sort(),
    removedTopics: removedTopics.sort(),
    keptInGrace: plan.keptInGrace,
    keptWithDependents: plan.keptWithDependents,
  };
}
