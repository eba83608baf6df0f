/**
 * Strategy lifecycle states by name or number: `QUEUED → PROCESSING →
 * COMPLETED | FAILED`, `FAILED → QUEUED`, `COMPLETED → RETIRED`.
 *
 * @module
 */

import type { StrategyState } from "./contracts.ts";

/**
 * The name of a lifecycle state.
 *
 * @example
 * ```ts
 * import type { StateName } from "./states.ts";
 * const s: StateName = "COMPLETED";
 * ```
 */
export type StateName =
  | "QUEUED"
  | "PROCESSING"
  | "COMPLETED"
  | "FAILED"
  | "RETIRED";

/**
 * A state given by name (`"COMPLETED"`) or by enum value
 * (`StrategyState.COMPLETED`).
 *
 * @example
 * ```ts
 * import type { StateLike } from "./states.ts";
 * import { StrategyState } from "../lib/contracts/messages.ts";
 * const a: StateLike = "FAILED";
 * const b: StateLike = StrategyState.FAILED;
 * ```
 */
export type StateLike = StateName | StrategyState;

const NAMES: readonly string[] = [
  "UNSPECIFIED",
  "QUEUED",
  "PROCESSING",
  "COMPLETED",
  "FAILED",
  "RETIRED",
];

/**
 * The enum value of a state name or value; also accepts lowercase names and
 * the `STRATEGY_STATE_` prefix used by some JSON encoders. Throws a
 * `TypeError` for anything else.
 *
 * @example
 * ```ts
 * import { toState } from "./states.ts";
 * import { StrategyState } from "../lib/contracts/messages.ts";
 * toState("completed") === StrategyState.COMPLETED; // true
 * toState(StrategyState.RETIRED) === StrategyState.RETIRED; // true
 * ```
 */
export function toState(state: StateLike | string | number): StrategyState {
  if (typeof state === "number") {
    if (Number.isInteger(state) && state > 0 && state < NAMES.length) {
      return state as StrategyState;
    }
  } else if (typeof state === "string") {
    const upper = state.toUpperCase().replace(/^STRATEGY_STATE_/, "");
    const i = NAMES.indexOf(upper);
    if (i > 0) return i as StrategyState;
  }
  throw new TypeError(`unknown strategy state ${JSON.stringify(state)}`);
}

/**
 * The name of a state value (`"UNSPECIFIED"` for 0, the number as a string
 * for an unknown value).
 *
 * @example
 * ```ts
 * import { stateName } from "./states.ts";
 * import { StrategyState } from "../lib/contracts/messages.ts";
 * stateName(StrategyState.PROCESSING); // "PROCESSING"
 * ```
 */
export function stateName(state: StrategyState | number): string {
  return NAMES[state] ?? String(state);
}
