/**
 * Strategy lifecycle states by name: `QUEUED → PROCESSING → COMPLETED |
 * FAILED`, `FAILED → QUEUED`, `COMPLETED → RETIRED`. The SDK's public
 * surface uses the names everywhere; the wire uses the `StrategyState` enum
 * of `@qmtl/qmtl/contracts`.
 *
 * @module
 */

import type { StrategyState } from "./contracts.ts";
import {
  stateFromName,
  stateName as contractStateName,
} from "../lib/contracts/states.ts";

/**
 * The name of a lifecycle state.
 *
 * @example
 * ```ts
 * import type { StateName } from "@qmtl/qmtl/sdk";
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
 * (`StrategyState.COMPLETED` of `@qmtl/qmtl/contracts`), as {@link toState}
 * and {@link stateName} accept it.
 *
 * @example
 * ```ts
 * import type { StateLike } from "@qmtl/qmtl/sdk";
 * const a: StateLike = "FAILED";
 * const b: StateLike = 4; // StrategyState.FAILED
 * ```
 */
export type StateLike = StateName | StrategyState;

/**
 * The enum value of a state name or value; also accepts lowercase names and
 * the `STRATEGY_STATE_` prefix of proto3 JSON. Throws a `TypeError` for
 * anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toState } from "@qmtl/qmtl/sdk";
 * assert.equal(toState("completed"), 3); // StrategyState.COMPLETED
 * assert.equal(toState("STRATEGY_STATE_RETIRED"), 5);
 * ```
 */
export function toState(state: StateLike | string | number): StrategyState {
  const found = typeof state === "number"
    ? stateFromName(contractStateName(state))
    : typeof state === "string"
    ? stateFromName(state.toUpperCase().replace(/^STRATEGY_STATE_/, ""))
    : undefined;
  if (found !== undefined) return found;
  throw new TypeError(`unknown strategy state ${JSON.stringify(state)}`);
}

/**
 * The name of a state (given by enum value or by name). A value this SDK
 * does not know — a state added by a newer Gateway — is given as its number
 * (`"6"`), and 0 as `"UNSPECIFIED"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateName } from "@qmtl/qmtl/sdk";
 * assert.equal(stateName(2), "PROCESSING");
 * assert.equal(stateName("COMPLETED"), "COMPLETED");
 * ```
 */
export function stateName(state: StateLike | number): StateName {
  if (typeof state === "string") return state;
  return contractStateName(state) as StateName;
}
