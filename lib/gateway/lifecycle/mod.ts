/**
 * The strategy lifecycle state machine:
 *
 * ```
 * QUEUED → PROCESSING → COMPLETED → RETIRED
 *              │  └────→ FAILED → QUEUED (retry)
 *              └→ QUEUED (registry unavailable: retrying)
 * ```
 *
 * Every transition is a compare-and-set in the strategy store and appends a
 * CloudEvent whose type is {@link eventTypeOf}.
 *
 * @module
 */

export {
  applyTransition,
  claimPendingEvents,
  initialRecord,
  withoutPendingEvents,
} from "./records.ts";
import { StrategyState } from "../../contracts/messages.ts";
import { stateName } from "../../contracts/states.ts";

/**
 * Allowed transitions: from → the states it may move to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TRANSITIONS } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(TRANSITIONS[StrategyState.QUEUED], [StrategyState.PROCESSING]);
 * ```
 */
export const TRANSITIONS: Readonly<
  Record<StrategyState, readonly StrategyState[]>
> = Object.freeze({
  [StrategyState.UNSPECIFIED]: [StrategyState.QUEUED],
  [StrategyState.QUEUED]: [StrategyState.PROCESSING],
  [StrategyState.PROCESSING]: [
    StrategyState.COMPLETED,
    StrategyState.FAILED,
    StrategyState.QUEUED,
  ],
  [StrategyState.COMPLETED]: [StrategyState.RETIRED],
  [StrategyState.FAILED]: [StrategyState.QUEUED],
  [StrategyState.RETIRED]: [],
});

/**
 * True when `from → to` is a lifecycle transition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canTransition } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * assert.equal(canTransition(StrategyState.COMPLETED, StrategyState.QUEUED), false);
 * ```
 */
export function canTransition(from: StrategyState, to: StrategyState): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

export { stateFromName, stateName } from "../../contracts/states.ts";

/**
 * CloudEvent type of a transition into `to`. A move back to QUEUED from
 * PROCESSING is `qmtl.strategy.retrying`; from FAILED it is
 * `qmtl.strategy.requeued`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventTypeOf } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * assert.equal(eventTypeOf(StrategyState.PROCESSING, StrategyState.COMPLETED), "qmtl.strategy.completed");
 * ```
 */
export function eventTypeOf(from: StrategyState, to: StrategyState): string {
  if (to === StrategyState.QUEUED && from === StrategyState.PROCESSING) {
    return "qmtl.strategy.retrying";
  }
  if (to === StrategyState.QUEUED && from === StrategyState.FAILED) {
    return "qmtl.strategy.requeued";
  }
  return `qmtl.strategy.${stateName(to).toLowerCase()}`;
}
