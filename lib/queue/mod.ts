/**
 * Durable work queue, CloudEvents event log and node-output topic store, each
 * with an in-process and a Redis (Sentinel-aware) backend.
 *
 * @example
 * ```ts
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const q = new MemoryQueue();
 * const { job } = await q.enqueue("diff", new Uint8Array([1]), { idempotencyKey: "st_1" });
 * const [leased] = await q.lease(1, { leaseMs: 30_000 });
 * await q.ack(leased.id, leased.leaseToken);
 * await q.close();
 * ```
 *
 * @module
 */

export type * from "./types.ts";
export { APPEND_DEDUP_WINDOW, LINKED_DEDUP_WINDOW } from "./types.ts";
export * from "./errors.ts";
export * from "./backoff.ts";
export * from "./topic_name.ts";
export * from "./memory_queue.ts";
export * from "./memory_event_log.ts";
export * from "./memory_topic_store.ts";
export * from "./connection.ts";
export * from "./durability.ts";
export * from "./redis_queue.ts";
export * from "./redis_event_log.ts";
export * from "./redis_topic_store.ts";
export * from "./sentinel_observer.ts";
export * from "./worker.ts";
