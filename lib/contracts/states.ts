/**
 * Names of the strategy lifecycle states (`QUEUED`, `PROCESSING`, …) as REST
 * JSON, events, metrics and the SDK spell them: the one mapping between the
 * `StrategyState` enum and its names.
 *
 * @module
 */

import { StrategyState } from "./messages.ts";

/**
 * Name of a state (`QUEUED`, …); 0 is `UNSPECIFIED` and a value this build
 * does not know is given as its number (`"6"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StrategyState, stateName } from "@qmtl/qmtl/contracts";
 * assert.equal(stateName(StrategyState.COMPLETED), "COMPLETED");
 * assert.equal(stateName(6), "6");
 * ```
 */
export function stateName(state: StrategyState | number): string {
  return StrategyState[state] ?? String(state);
}

/**
 * The state named `name` (any case, e.g. `failed`), or `undefined` for
 * anything else, `UNSPECIFIED` included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateFromName } from "@qmtl/qmtl/contracts";
 * assert.equal(stateFromName("FAILED"), 4);
 * assert.equal(stateFromName("unspecified"), undefined);
 * ```
 */
export function stateFromName(name: string): StrategyState | undefined {
  const v =
    (StrategyState as unknown as Record<string, unknown>)[name.toUpperCase()];
  return typeof v === "number" && v !== 0 ? v as StrategyState : undefined;
}
