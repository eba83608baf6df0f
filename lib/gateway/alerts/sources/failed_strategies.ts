/**
 * Alerts when strategies go FAILED repeatedly: the global lifecycle event
 * stream is read and FAILED events are counted in a sliding window.
 *
 * @module
 */

import type { EventLog } from "../../../queue/types.ts";
import { GLOBAL_STREAM } from "../../events/emitter.ts";
import type { AlertRaiser } from "../types.ts";

/**
 * Options of {@link failedStrategyAlerts}.
 *
 * @example
 * ```ts
 * import type { FailedStrategyAlertOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const o: FailedStrategyAlertOptions = { events: new MemoryEventLog(), threshold: 3, windowMs: 600_000 };
 * ```
 */
export interface FailedStrategyAlertOptions {
  /** The gateway's event log. */
  events: Pick<EventLog, "read">;
  /** FAILED transitions inside the window that raise the alert; default 3. */
  threshold?: number;
  /** Window, ms; default 600000. */
  windowMs?: number;
  /** Clock (ms); default `Date.now`. */
  clock?: () => number;
  /** Read events after this stream id; default: those appended from now on. */
  after?: string;
}

interface Failure {
  at: number;
  strategyId: string;
  error: string;
}

/**
 * A check to call periodically: reads new lifecycle events and raises
 * `strategies_failing` when `threshold` FAILED transitions fall inside
 * `windowMs` (then de-duplicated by the alerter's window).
 *
 * @example
 * ```ts
 * import { Alerter, failedStrategyAlerts } from "@qmtl/qmtl/gateway";
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const check = failedStrategyAlerts(new Alerter(), { events: new MemoryEventLog() });
 * await check();
 * ```
 */
export function failedStrategyAlerts(
  alerter: AlertRaiser,
  options: FailedStrategyAlertOptions,
): () => Promise<void> {
  const threshold = options.threshold ?? 3;
  const windowMs = options.windowMs ?? 600_000;
  const clock = options.clock ?? Date.now;
  let cursor = options.after ?? `${Date.now()}-0`;
  let failures: Failure[] = [];
  const decoder = new TextDecoder();
  return async () => {
    for (let page = 0; page < 50; page++) {
      const batch = await options.events.read(GLOBAL_STREAM, {
        after: cursor,
        count: 500,
      });
      for (const { id, event } of batch) {
        cursor = id;
        if (event.type !== "qmtl.strategy.failed") continue;
        let error = "";
        try {
          const d = JSON.parse(decoder.decode(event.data));
          if (d?.error?.code) error = `${d.error.code}: ${d.error.message}`;
        } catch { /* not JSON: keep the id only */ }
        failures.push({ at: clock(), strategyId: event.subject, error });
      }
      if (batch.length < 500) break;
    }
    const now = clock();
    failures = failures.filter((f) => now - f.at < windowMs);
    if (failures.length < threshold) return;
    const ids = [...new Set(failures.map((f) => f.strategyId))];
    const last = failures[failures.length - 1];
    alerter.raise({
      condition: "strategies_failing",
      summary: `${failures.length} strategy failure(s) in the last ${
        Math.round(windowMs / 60_000)
      } min (${ids.length} strateg${ids.length === 1 ? "y" : "ies"})`,
      details: {
        failures: failures.length,
        strategies: ids.slice(0, 10).join(", ") +
          (ids.length > 10 ? `, … (${ids.length - 10} more)` : ""),
        lastStrategy: last.strategyId,
        lastError: last.error,
        windowMs,
      },
    });
  };
}
