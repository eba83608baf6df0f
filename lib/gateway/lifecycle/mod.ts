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

import { StrategyState } from "../../contracts/messages.ts";

/**
 * Allowed transitions: from → the states it may move to.
 *
 * @example
 * ```ts
 * import { TRANSITIONS } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * TRANSITIONS[StrategyState.QUEUED]; // [PROCESSING]
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
 * import { canTransition } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * canTransition(StrategyState.COMPLETED, StrategyState.QUEUED); // false
 * ```
 */
export function canTransition(from: StrategyState, to: StrategyState): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

/**
 * Name of a state as used in REST JSON, events and metrics (`QUEUED`, …).
 *
 * @example
 * ```ts
 * import { stateName } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * stateName(StrategyState.COMPLETED); // "COMPLETED"
 * ```
 */
export function stateName(state: StrategyState): string {
  return StrategyState[state] ?? String(state);
}

/**
 * The state named `name` (`QUEUED`, …), or `undefined`.
 *
 * @example
 * ```ts
 * import { stateFromName } from "@qmtl/qmtl/gateway";
 * stateFromName("FAILED"); // 4
 * ```
 */
export function stateFromName(name: string): StrategyState | undefined {
  const v =
    (StrategyState as unknown as Record<string, number>)[name.toUpperCase()];
  return typeof v === "number" && v !== 0 ? v as StrategyState : undefined;
}

/**
 * CloudEvent type of a transition into `to`. A move back to QUEUED from
 * PROCESSING is `qmtl.strategy.retrying`; from FAILED it is
 * `qmtl.strategy.requeued`.
 *
 * @example
 * ```ts
 * import { eventTypeOf } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * eventTypeOf(StrategyState.PROCESSING, StrategyState.COMPLETED); // "qmtl.strategy.completed"
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
