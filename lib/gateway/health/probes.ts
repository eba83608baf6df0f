/**
 * Probes of the real dependencies: Redis (reachability and, when writes
 * must be confirmed by replicas, a probe write followed by `WAIT`) and the
 * DAG registry (Neo4j).
 *
 * @module
 */

import type { NodeRegistry } from "../../dag/registry.ts";
import type { RedisClient } from "../../queue/connection.ts";
import type { Probe, ProbeResult } from "./types.ts";

/**
 * Options of {@link redisProbe}.
 *
 * @example
 * ```ts ignore
 * import type { RedisProbeOptions } from "@qmtl/qmtl/gateway";
 * import { createRedis } from "@qmtl/qmtl/queue";
 * const o: RedisProbeOptions = { redis: createRedis("redis://127.0.0.1:6379"), waitReplicas: 1, waitTimeoutMs: 1000 };
 * ```
 */
export interface RedisProbeOptions {
  /**
   * A client of its own: `WAIT` blocks the connection it is sent on, so do
   * not share the client of the queue.
   */
  redis: RedisClient;
  /** Replicas that must confirm writes (0: only `PING`). */
  waitReplicas: number;
  /** `WAIT` timeout, ms. */
  waitTimeoutMs: number;
  /** Key of the probe write; default `qmtl:health:<random>` (expires after 60 s). */
  key?: string;
}

/**
 * Probe of Redis: `PING`; then, when `waitReplicas` > 0, `SET` of a probe
 * key and `WAIT waitReplicas waitTimeoutMs`. `writesConfirmed` is false
 * when fewer replicas confirmed in time, or when the master refuses writes
 * for lack of replicas (`NOREPLICAS`, with `min-replicas-to-write`).
 *
 * @example
 * ```ts ignore
 * import { redisProbe } from "@qmtl/qmtl/gateway";
 * import { createRedis } from "@qmtl/qmtl/queue";
 * const probe = redisProbe({ redis: createRedis(Deno.env.get("QMTL_REDIS_URL")!), waitReplicas: 1, waitTimeoutMs: 1000 });
 * console.log(await probe(AbortSignal.timeout(3000)));
 * ```
 */
export function redisProbe(options: RedisProbeOptions): Probe {
  const key = options.key ??
    `qmtl:health:${crypto.randomUUID().slice(0, 12)}`;
  const need = options.waitReplicas;
  return async (): Promise<ProbeResult> => {
    const pong = await options.redis.ping();
    if (pong !== "PONG") {
      return { up: false, detail: `PING answered ${JSON.stringify(pong)}` };
    }
    if (need <= 0) {
      return { up: true, detail: "PONG (replica confirmation not required)" };
    }
    try {
      await options.redis.set(key, String(Date.now()), "PX", 60_000);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if (/^NOREPLICAS/.test(msg)) {
        return {
          up: true,
          writesConfirmed: false,
          replicasConfirmed: 0,
          replicasRequired: need,
          detail:
            `writes cannot be confirmed: the master refuses writes (${msg})`,
        };
      }
      throw e;
    }
    const n = Number(
      await options.redis.call("WAIT", need, options.waitTimeoutMs),
    );
    const ok = n >= need;
    return {
      up: true,
      writesConfirmed: ok,
      replicasConfirmed: n,
      replicasRequired: need,
      detail: ok
        ? `writes confirmed by ${n} replica(s) (WAIT ${need})`
        : `writes cannot be confirmed: ${n} of ${need} replica(s) acknowledged a write within ${options.waitTimeoutMs} ms (WAIT ${need}); writes answer a retryable 503`,
    };
  };
}

/**
 * Probe of the DAG registry (Neo4j or memory): its `health()`.
 *
 * @example
 * ```ts
 * import { registryProbe } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import assert from "node:assert/strict";
 * const r = await registryProbe(new MemoryRegistry())(new AbortController().signal);
 * assert.equal(r.up, true);
 * ```
 */
export function registryProbe(registry: Pick<NodeRegistry, "health">): Probe {
  return async () => {
    const h = await registry.health();
    return { up: h.ok, detail: h.detail };
  };
}
