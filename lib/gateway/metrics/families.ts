/**
 * The gateway's own metric families, declared at start-up so that
 * `/metrics` lists every documented family (at 0) before its first event.
 *
 * @module
 */

import { SENTINEL_EVENT_TYPES } from "../../queue/sentinel_observer.ts";
import type { Metrics } from "./mod.ts";

/**
 * Declares the HTTP, lifecycle and Redis Sentinel families (every Sentinel
 * event type and `qmtl_redis_failovers_total` at 0) and returns the
 * function that counts one Sentinel event.
 *
 * @param metrics The registry.
 * @returns `recordSentinelEvent(type)`.
 *
 * @example
 * ```ts
 * import { Metrics } from "@qmtl/qmtl/gateway";
 * import { declareGatewayFamilies } from "./families.ts";
 * import assert from "node:assert/strict";
 * const m = new Metrics();
 * const record = declareGatewayFamilies(m);
 * assert.match(await m.render(), /^qmtl_redis_failovers_total 0$/m);
 * record("+switch-master");
 * assert.equal(m.counter("qmtl_redis_failovers_total"), 1);
 * ```
 */
export function declareGatewayFamilies(
  metrics: Metrics,
): (type: string) => void {
  metrics.family(
    "qmtl_http_requests_total",
    "counter",
    "HTTP requests by route, method and status.",
  );
  metrics.family(
    "qmtl_http_request_duration_seconds",
    "histogram",
    "HTTP request latency by route.",
  );
  metrics.family(
    "qmtl_lifecycle_transitions_total",
    "counter",
    "Strategy lifecycle transitions.",
  );
  const help = "Redis Sentinel events seen (+switch-master = failover).";
  const byType = new Map<string, (by?: number) => void>();
  for (const type of SENTINEL_EVENT_TYPES) {
    byType.set(
      type,
      metrics.counterSeries("qmtl_redis_sentinel_events_total", help, {
        type,
      }),
    );
  }
  const failovers = metrics.counterSeries(
    "qmtl_redis_failovers_total",
    "Redis master failovers seen.",
  );
  return (type: string) => {
    const known = byType.get(type);
    if (known) known();
    else metrics.inc("qmtl_redis_sentinel_events_total", help, { type });
    if (type === "+switch-master") failovers();
  };
}
