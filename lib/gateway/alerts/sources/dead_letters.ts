/**
 * Alerts from dead-lettered jobs, read from the queues' statistics.
 *
 * @module
 */

import type { QueueStats } from "../../../queue/types.ts";
import type { Metrics } from "../../metrics/mod.ts";
import type { AlertRaiser } from "../types.ts";

/** Metric: jobs seen entering the dead-letter set. */
export const DEAD_LETTERS_TOTAL = "qmtl_dead_letters_total";

/**
 * Options of {@link deadLetterAlerts}.
 *
 * @example
 * ```ts
 * import type { DeadLetterAlertOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const o: DeadLetterAlertOptions = { queues: { diff: new MemoryQueue() } };
 * ```
 */
export interface DeadLetterAlertOptions {
  /** Queues by name. */
  queues: Record<string, { stats(): Promise<QueueStats> }>;
  /** `qmtl_dead_letters_total{queue}` is counted here when given. */
  metrics?: Metrics;
}

/**
 * A check to call periodically: raises `dead_letters` for a queue whose
 * dead-letter count grew since the previous check (or is above zero at the
 * first one), and counts the growth. A queue that cannot be read is skipped
 * (the dependency watch reports it).
 *
 * @example
 * ```ts
 * import { deadLetterAlerts, Alerter } from "@qmtl/qmtl/gateway";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const check = deadLetterAlerts(new Alerter(), { queues: { diff: new MemoryQueue() } });
 * await check();
 * ```
 */
export function deadLetterAlerts(
  alerter: AlertRaiser,
  options: DeadLetterAlertOptions,
): () => Promise<void> {
  const last = new Map<string, number>();
  const count = new Map<string, (by?: number) => void>();
  for (const name of Object.keys(options.queues)) {
    if (options.metrics) {
      count.set(
        name,
        options.metrics.counterSeries(
          DEAD_LETTERS_TOTAL,
          "Jobs seen entering the dead-letter set, by queue.",
          { queue: name },
        ),
      );
    }
  }
  return async () => {
    for (const [name, q] of Object.entries(options.queues)) {
      let dead: number;
      try {
        dead = (await q.stats()).dead;
      } catch {
        continue;
      }
      const prev = last.get(name);
      last.set(name, dead);
      const grown = prev === undefined ? dead : dead - prev;
      if (grown <= 0) continue;
      if (prev !== undefined) count.get(name)?.(grown);
      alerter.raise({
        condition: "dead_letters",
        subject: name,
        summary: prev === undefined
          ? `queue ${name} holds ${dead} dead-lettered job(s)`
          : `${grown} job(s) dead-lettered in queue ${name} (${dead} in total)`,
        details: { queue: name, newDeadLetters: grown, deadLetters: dead },
      });
    }
  };
}
