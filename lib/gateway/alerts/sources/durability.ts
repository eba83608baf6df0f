/**
 * Alerts from writes that failed for lack of replica confirmation
 * (`DurabilityError`s counted by the Redis backends).
 *
 * @module
 */

import type { AlertRaiser } from "../types.ts";

/**
 * Options of {@link durabilityAlerts}.
 *
 * @example
 * ```ts
 * import type { DurabilityAlertOptions } from "@qmtl/qmtl/gateway";
 * const o: DurabilityAlertOptions = { unconfirmedWrites: () => 0 };
 * ```
 */
export interface DurabilityAlertOptions {
  /** Writes that threw `DurabilityError` since start (e.g. sum of `RedisQueue.unconfirmedWrites`). */
  unconfirmedWrites: () => number;
}

/**
 * A check to call periodically: raises `redis_writes_unconfirmed` when the
 * count of unconfirmed writes grew since the previous call.
 *
 * @example
 * ```ts
 * import { durabilityAlerts, type AlertInput } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const raised: AlertInput[] = [];
 * let n = 0;
 * const check = durabilityAlerts({ raise: (a) => { raised.push(a); return "raised"; } }, { unconfirmedWrites: () => n });
 * check();
 * n = 2;
 * check();
 * assert.equal(raised.length, 1);
 * assert.equal(raised[0].details?.newUnconfirmedWrites, 2);
 * ```
 */
export function durabilityAlerts(
  alerter: AlertRaiser,
  options: DurabilityAlertOptions,
): () => void {
  let last = options.unconfirmedWrites();
  return () => {
    const now = options.unconfirmedWrites();
    if (now > last) {
      alerter.raise({
        condition: "redis_writes_unconfirmed",
        subject: "redis",
        summary: `${
          now - last
        } write(s) failed for lack of replica confirmation (DurabilityError); callers got a retryable 503`,
        details: {
          dependency: "redis",
          newUnconfirmedWrites: now - last,
          unconfirmedWritesTotal: now,
        },
      });
    }
    last = now;
  };
}
