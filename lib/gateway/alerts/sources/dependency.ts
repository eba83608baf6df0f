/**
 * Alerts from the dependency watch: Redis or Neo4j unreachable for longer
 * than a threshold (and their recovery), and Redis writes that replicas
 * cannot confirm (and their recovery).
 *
 * @module
 */

import type { DependencyState } from "../../health/types.ts";
import type { AlertRaiser } from "../types.ts";

/**
 * Options of {@link dependencyAlerts}.
 *
 * @example
 * ```ts
 * import type { DependencyAlertOptions } from "@qmtl/qmtl/gateway";
 * const o: DependencyAlertOptions = { downAfterMs: 30_000 };
 * ```
 */
export interface DependencyAlertOptions {
  /** A dependency down at least this long raises `dependency_unreachable`, ms; default 30000. */
  downAfterMs?: number;
  /** Clock (ms), the same as the watch's; default `Date.now`. */
  clock?: () => number;
}

/**
 * Anything reporting dependency checks, such as `DependencyWatch`.
 *
 * @example
 * ```ts
 * import type { DependencyCheckSource } from "@qmtl/qmtl/gateway";
 * const none: DependencyCheckSource = { onCheck: () => () => {} };
 * ```
 */
export interface DependencyCheckSource {
  /** Adds a listener called after each check; returns its remover. */
  onCheck(listener: (state: DependencyState) => void): () => void;
}

/**
 * Subscribes to the watch and raises `dependency_unreachable` once a
 * dependency has been down for `downAfterMs` (one alert; `resolved` when it
 * answers again) and `redis_writes_unconfirmed` as soon as a check finds
 * that writes cannot be confirmed (`resolved` once they are again).
 *
 * @example
 * ```ts
 * import { Alerter, DependencyWatch, dependencyAlerts } from "@qmtl/qmtl/gateway";
 * const watch = new DependencyWatch({ probes: { neo4j: () => Promise.resolve({ up: true, detail: "ok" }) } });
 * const off = dependencyAlerts(new Alerter(), watch, { downAfterMs: 30_000 });
 * off();
 * ```
 */
export function dependencyAlerts(
  alerter: AlertRaiser,
  source: DependencyCheckSource,
  options: DependencyAlertOptions = {},
): () => void {
  const downAfterMs = options.downAfterMs ?? 30_000;
  const clock = options.clock ?? Date.now;
  const unreachable = new Set<string>();
  const unconfirmed = new Set<string>();
  return source.onCheck((s) => {
    const now = clock();
    if (!s.up) {
      const downMs = now - s.sinceMs;
      if (!unreachable.has(s.name) && downMs >= downAfterMs) {
        unreachable.add(s.name);
        alerter.raise({
          condition: "dependency_unreachable",
          subject: s.name,
          summary: `${s.name} has not answered for ${
            Math.round(downMs / 1000)
          } s: ${s.lastError ?? s.detail}`,
          details: {
            dependency: s.name,
            downSince: s.since,
            downForMs: downMs,
            lastError: s.lastError ?? s.detail,
          },
        });
      }
      return;
    }
    if (unreachable.delete(s.name)) {
      alerter.raise({
        condition: "dependency_unreachable",
        status: "resolved",
        subject: s.name,
        summary: `${s.name} answers again (${s.latencyMs} ms)`,
        details: {
          dependency: s.name,
          upSince: s.since,
          latencyMs: s.latencyMs,
        },
      });
    }
    if (s.writesConfirmed === false && !unconfirmed.has(s.name)) {
      unconfirmed.add(s.name);
      alerter.raise({
        condition: "redis_writes_unconfirmed",
        subject: s.name,
        summary: `${s.name}: ${s.detail}`,
        details: {
          dependency: s.name,
          replicasConfirmed: s.replicasConfirmed ?? 0,
          replicasRequired: s.replicasRequired ?? 0,
        },
      });
    } else if (s.writesConfirmed === true && unconfirmed.delete(s.name)) {
      alerter.raise({
        condition: "redis_writes_unconfirmed",
        status: "resolved",
        subject: s.name,
        summary: `${s.name}: writes are confirmed by replicas again`,
        details: {
          dependency: s.name,
          replicasConfirmed: s.replicasConfirmed ?? 0,
          replicasRequired: s.replicasRequired ?? 0,
        },
      });
    }
  });
}
