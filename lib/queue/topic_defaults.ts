/**
 * The defaults of a topic store (retention, maximum length), shared by
 * `MemoryTopicStore` and `RedisTopicStore`. Re-exported publicly by
 * `memory_topic_store.ts`; {@link resolveTopicDefaults} is internal.
 *
 * @module
 */
import { checkInt } from "./validate.ts";

/**
 * Defaults of a topic store, used when `create` gets no value.
 *
 * @example
 * ```ts
 * import type { TopicDefaults } from "@qmtl/qmtl/queue";
 * const d: TopicDefaults = { retentionMs: 86_400_000, maxLen: 10_000 };
 * ```
 */
export interface TopicDefaults {
  /** Default retention (7 days). */
  retentionMs?: number;
  /** Default maximum length (100000). */
  maxLen?: number;
}

/** Default retention of a topic: 7 days. */
export const DEFAULT_TOPIC_RETENTION_MS = 7 * 86_400_000;
/** Default maximum length of a topic: 100000 records. */
export const DEFAULT_TOPIC_MAX_LEN = 100_000;

/**
 * A store's defaults with the missing ones filled in, checked.
 *
 * @param d The store's `defaults` option.
 * @returns Retention and maximum length, both ≥ 1.
 * @throws {QueueError} `E_INVALID` on a value that is not an integer ≥ 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTopicDefaults } from "./topic_defaults.ts";
 * const { retentionMs, maxLen } = resolveTopicDefaults({ maxLen: 10 });
 * assert.equal(retentionMs, 604_800_000); // 7 days
 * assert.equal(maxLen, 10);
 * ```
 */
export function resolveTopicDefaults(
  d: TopicDefaults | undefined,
): Required<TopicDefaults> {
  return {
    retentionMs: checkInt(
      "retentionMs",
      d?.retentionMs ?? DEFAULT_TOPIC_RETENTION_MS,
      1,
    ),
    maxLen: checkInt("maxLen", d?.maxLen ?? DEFAULT_TOPIC_MAX_LEN, 1),
  };
}
