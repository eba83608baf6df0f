/**
 * The alert conditions QMTL raises, with their default severity. Each has a
 * section in `docs/operations.md` (what it means, what to do), checked by a
 * test.
 *
 * @module
 */

import type { AlertSeverity } from "./types.ts";

/**
 * Declaration of one alert condition.
 *
 * @example
 * ```ts
 * import type { AlertCondition } from "@qmtl/qmtl/gateway";
 * const c: AlertCondition = {
 *   id: "dead_letters", severity: "warning", recovers: false,
 *   description: "Jobs were dead-lettered.",
 * };
 * ```
 */
export interface AlertCondition {
  /** Condition id (`Alert.condition`). */
  id: string;
  /** Severity of its firing alerts. */
  severity: AlertSeverity;
  /** True when a `resolved` alert follows once the condition ends. */
  recovers: boolean;
  /** One line: what it means. */
  description: string;
}

/**
 * Every condition QMTL's own sources raise.
 *
 * @example
 * ```ts
 * import { ALERT_CONDITIONS } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * assert.ok(ALERT_CONDITIONS.some((c) => c.id === "redis_failover"));
 * ```
 */
export const ALERT_CONDITIONS: readonly AlertCondition[] = Object.freeze(
  [
    {
      id: "redis_failover",
      severity: "critical",
      recovers: false,
      description: "Sentinel promoted a replica (`+switch-master`).",
    },
    {
      id: "redis_master_down",
      severity: "critical",
      recovers: true,
      description:
        "The Sentinels agree the Redis master is down (`+odown`; resolved on `-odown`).",
    },
    {
      id: "redis_replica_down",
      severity: "warning",
      recovers: true,
      description:
        "A Sentinel sees a Redis replica down (`+sdown`; resolved on `-sdown`).",
    },
    {
      id: "redis_writes_unconfirmed",
      severity: "critical",
      recovers: true,
      description:
        "Writes cannot be confirmed by replicas (`WAIT`): they answer a retryable 503.",
    },
    {
      id: "dependency_unreachable",
      severity: "critical",
      recovers: true,
      description:
        "Redis or Neo4j has not answered for longer than the threshold.",
    },
    {
      id: "dead_letters",
      severity: "warning",
      recovers: false,
      description: "Jobs were dead-lettered (their attempts ran out).",
    },
    {
      id: "strategies_failing",
      severity: "warning",
      recovers: false,
      description: "Strategies went FAILED repeatedly inside the window.",
    },
    {
      id: "neo4j_schema_missing",
      severity: "warning",
      recovers: false,
      description: "Neo4j constraints or indexes were missing at start-up.",
    },
    {
      id: "runner_lease_takeover",
      severity: "warning",
      recovers: false,
      description: "A runner took over the producer lease of a node.",
    },
  ] satisfies AlertCondition[],
);

/**
 * The declaration of a condition id, or `undefined`.
 *
 * @example
 * ```ts
 * import { alertCondition } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * assert.equal(alertCondition("dead_letters")?.severity, "warning");
 * ```
 */
export function alertCondition(id: string): AlertCondition | undefined {
  return ALERT_CONDITIONS.find((c) => c.id === id);
}
