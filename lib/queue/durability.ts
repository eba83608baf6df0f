/**
 * Replica confirmation (`WAIT`) with group commit, and its settings from the
 * environment.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { RedisClient } from "./connection.ts";
import { QueueError } from "./errors.ts";

/**
 * Durability settings of a Redis backend.
 *
 * @example
 * ```ts
 * import type { DurabilityOptions } from "@qmtl/qmtl/queue";
 * const d: DurabilityOptions = { waitReplicas: 1, waitTimeoutMs: 1_000 };
 * ```
 */
export interface DurabilityOptions {
  /**
   * Replicas that must confirm a write before it is acknowledged to the
   * caller (`WAIT n`). 0 turns confirmation off. Default: env
   * `QMTL_REDIS_WAIT_REPLICAS`, else 1 for a Sentinel client and 0 otherwise.
   */
  waitReplicas?: number;
  /** `WAIT` timeout in ms (default: env `QMTL_REDIS_WAIT_TIMEOUT_MS`, else 1000). */
  waitTimeoutMs?: number;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: use the defaults
  }
}

/**
 * Resolves {@link DurabilityOptions} from explicit values, then the
 * environment (`QMTL_REDIS_WAIT_REPLICAS`: `true|on|yes|1` → 1,
 * `false|off|no|0` → 0, or a replica count; `QMTL_REDIS_WAIT_TIMEOUT_MS`),
 * then the defaults.
 *
 * @param opts Explicit values.
 * @param sentinel Whether the client uses Sentinel (default on then).
 * @returns Replicas (0 = off) and timeout.
 *
 * @example
 * ```ts
 * import { resolveDurability } from "@qmtl/qmtl/queue";
 * const d = resolveDurability({}, true); // { waitReplicas: 1, waitTimeoutMs: 1000 } unless env overrides
 * ```
 */
export function resolveDurability(
  opts: DurabilityOptions,
  sentinel: boolean,
): Required<DurabilityOptions> {
  let replicas = opts.waitReplicas;
  if (replicas === undefined) {
    const raw = env("QMTL_REDIS_WAIT_REPLICAS")?.trim().toLowerCase();
    if (raw === undefined || raw === "") replicas = sentinel ? 1 : 0;
    else if (["true", "on", "yes"].includes(raw)) replicas = 1;
    else if (["false", "off", "no"].includes(raw)) replicas = 0;
    else if (/^\d+$/.test(raw)) replicas = Number(raw);
    else {
      throw new QueueError(
        "E_INVALID",
        `QMTL_REDIS_WAIT_REPLICAS must be true/false or a replica count, got "${raw}"`,
      );
    }
  }
  let timeout = opts.waitTimeoutMs;
  if (timeout === undefined) {
    const raw = env("QMTL_REDIS_WAIT_TIMEOUT_MS")?.trim();
    if (raw === undefined || raw === "") timeout = 1_000;
    else if (/^\d+$/.test(raw) && Number(raw) > 0) timeout = Number(raw);
    else {
      throw new QueueError(
        "E_INVALID",
        `QMTL_REDIS_WAIT_TIMEOUT_MS must be a positive integer, got "${raw}"`,
      );
    }
  }
  if (!Number.isSafeInteger(replicas) || replicas < 0) {
    throw new QueueError("E_INVALID", `waitReplicas must be an integer ≥ 0`);
  }
  if (!Number.isSafeInteger(timeout) || timeout <= 0) {
    throw new QueueError("E_INVALID", `waitTimeoutMs must be an integer > 0`);
  }
  return { waitReplicas: replicas, waitTimeoutMs: timeout };
}

/**
 * Group commit of `WAIT`: every write that asks for confirmation waits for
 * one `WAIT` sent after it on the same connection; concurrent callers share
 * one `WAIT`, so confirmation costs one replica round trip per batch, not
 * per write. A reconnect between a write and its `WAIT` (failover) counts as
 * unconfirmed, since a `WAIT` on a new connection says nothing about writes
 * sent on the old one.
 *
 * @example
 * ```ts
 * import { ReplicaWaiter } from "@qmtl/qmtl/queue";
 * import type { Redis } from "ioredis";
 * async function durableSet(redis: Redis, waiter: ReplicaWaiter): Promise<number> {
 *   const epoch = waiter.epoch;
 *   await redis.set("k", "v");
 *   return await waiter.confirm(epoch); // replicas that have the write, 0 if unknown
 * }
 * function waiterFor(redis: Redis): ReplicaWaiter {
 *   return new ReplicaWaiter(redis, 1, 1_000);
 * }
 * ```
 */
export class ReplicaWaiter {
  #redis: Redis;
  #replicas: number;
  #timeoutMs: number;
  #epoch = 0;
  #inflight: Promise<number> | null = null;
  #next: Promise<number> | null = null;
  #onClose = () => {
    this.#epoch++;
  };

  /**
   * Watches `redis` for reconnects.
   *
   * @param redis The connection the writes go through.
   * @param replicas Replicas required (> 0).
   * @param timeoutMs `WAIT` timeout.
   */
  constructor(redis: RedisClient, replicas: number, timeoutMs: number) {
    this.#redis = redis;
    this.#replicas = replicas;
    this.#timeoutMs = timeoutMs;
    redis.on("close", this.#onClose);
  }

  /** Connection generation; read it before sending a write. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Replicas required. */
  get replicas(): number {
    return this.#replicas;
  }

  /**
   * Waits for a `WAIT` sent after the caller's write; returns the replicas
   * that confirmed it (0 when the connection changed since `epoch`).
   *
   * @param epoch {@link ReplicaWaiter.epoch} read before the write was sent.
   * @returns Confirmed replica count.
   */
  async confirm(epoch: number): Promise<number> {
    if (this.#epoch !== epoch) return 0;
    let p: Promise<number>;
    if (this.#inflight === null) {
      p = this.#inflight = this.#send();
    } else {
      // The in-flight WAIT may predate this write: wait for the next one.
      if (this.#next === null) {
        const prev = this.#inflight;
        this.#next = prev.catch(() => 0).then(() => {
          const sent = this.#send();
          this.#inflight = sent;
          this.#next = null;
          return sent;
        });
      }
      p = this.#next;
    }
    let n: number;
    try {
      n = await p;
    } catch {
      n = 0;
    }
    return this.#epoch === epoch ? n : 0;
  }

  /** Stops watching the connection. */
  close(): void {
    this.#redis.off("close", this.#onClose);
  }

  #send(): Promise<number> {
    const p =
      (this.#redis.call("WAIT", this.#replicas, this.#timeoutMs) as Promise<
        number
      >)
        .then(Number);
    const clear = () => {
      if (this.#inflight === p) this.#inflight = null;
    };
    p.then(clear, clear);
    return p;
  }
}
