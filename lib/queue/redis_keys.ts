/**
 * Deleting a key space by prefix (internal): `SCAN MATCH` with the prefix's
 * glob characters escaped, `UNLINK` of each batch.
 *
 * @module
 */

import type { RedisClient } from "./connection.ts";

/**
 * Deletes every key that starts with `prefix` (its `*`, `?`, `[`, `]` and
 * `\` match themselves); not atomic: keys written meanwhile may survive.
 *
 * @returns Number of keys deleted.
 * @example
 * ```ts ignore
 * import { createRedis } from "@qmtl/qmtl/queue";
 * import { unlinkByPrefix } from "./redis_keys.ts";
 * const n = await unlinkByPrefix(createRedis("redis://127.0.0.1:6379/0"), "{qmtl:test}:");
 * ```
 */
export async function unlinkByPrefix(
  redis: RedisClient,
  prefix: string,
): Promise<number> {
  let cursor = "0";
  let n = 0;
  const match = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  do {
    const [next, keys] = await redis.scan(
      cursor,
      "MATCH",
      match,
      "COUNT",
      1000,
    );
    cursor = next;
    if (keys.length > 0) n += await redis.unlink(...keys);
  } while (cursor !== "0");
  return n;
}
