/**
 * Alerts from Redis Sentinel events: `+switch-master` (failover), `+odown`
 * / `-odown` of the master, `+sdown` / `-sdown` of a replica.
 *
 * @module
 */

import type { SentinelEvent } from "../../../queue/sentinel_observer.ts";
import type { AlertInput, AlertRaiser } from "../types.ts";

/**
 * Anything that reports Sentinel events, such as `SentinelObserver`.
 *
 * @example
 * ```ts
 * import type { SentinelEventSource } from "@qmtl/qmtl/gateway";
 * const none: SentinelEventSource = { on: () => () => {} };
 * ```
 */
export interface SentinelEventSource {
  /** Adds a listener; returns its remover. */
  on(listener: (event: SentinelEvent) => void): () => void;
}

const addr = (a?: { host: string; port: number }) =>
  a ? `${a.host}:${a.port}` : "?";

/**
 * Turns one Sentinel event into an alert (or nothing).
 *
 * @example
 * ```ts
 * import { sentinelAlert } from "@qmtl/qmtl/gateway";
 * import { parseSentinelMessage } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const e = parseSentinelMessage("+switch-master", "qmtl 127.0.0.1 16379 127.0.0.1 16380", { host: "127.0.0.1", port: 16389 })!;
 * assert.equal(sentinelAlert(e)?.condition, "redis_failover");
 * ```
 */
export function sentinelAlert(
  e: SentinelEvent,
): AlertInput | undefined {
  const base = { sentinel: addr(e.sentinel), event: e.type };
  switch (e.type) {
    case "+switch-master":
      return {
        condition: "redis_failover",
        subject: `${e.masterName}->${addr(e.newMaster)}`,
        summary: `Redis master ${e.masterName} failed over from ${
          addr(e.oldMaster)
        } to ${addr(e.newMaster)}`,
        details: {
          ...base,
          master: e.masterName,
          oldMaster: addr(e.oldMaster),
          newMaster: addr(e.newMaster),
        },
      };
    case "+odown":
    case "-odown": {
      if (e.instanceType !== "master") return undefined;
      const down = e.type === "+odown";
      return {
        condition: "redis_master_down",
        status: down ? "firing" : "resolved",
        subject: `${e.masterName}@${addr(e.address)}`,
        summary: down
          ? `Redis master ${e.masterName} at ${
            addr(e.address)
          } is down (Sentinels agree)`
          : `Redis master ${e.masterName} at ${addr(e.address)} is back`,
        details: { ...base, master: e.masterName, address: addr(e.address) },
      };
    }
    case "+sdown":
    case "-sdown": {
      if (e.instanceType !== "slave") return undefined;
      const down = e.type === "+sdown";
      return {
        condition: "redis_replica_down",
        status: down ? "firing" : "resolved",
        subject: addr(e.address),
        summary: down
          ? `Redis replica ${addr(e.address)} of ${e.masterName} is down`
          : `Redis replica ${addr(e.address)} of ${e.masterName} is back`,
        details: {
          ...base,
          master: e.masterName,
          replica: addr(e.address),
          masterAddress: addr(e.masterAddress),
        },
      };
    }
    default:
      return undefined;
  }
}

/**
 * Feeds Sentinel events to the alerter; returns the unsubscribe function.
 *
 * @example
 * ```ts ignore
 * import { Alerter, sentinelAlerts } from "@qmtl/qmtl/gateway";
 * import { SentinelObserver } from "@qmtl/qmtl/queue";
 * const off = sentinelAlerts(new Alerter(), new SentinelObserver(Deno.env.get("QMTL_REDIS_URL")!));
 * ```
 */
export function sentinelAlerts(
  alerter: AlertRaiser,
  source: SentinelEventSource,
): () => void {
  return source.on((e) => {
    const a = sentinelAlert(e);
    if (a) alerter.raise(a);
  });
}
