/**
 * Internal: the "adopt a caller's client or open our own" rule shared by the
 * Redis backends. A client passed in is the caller's to close; one opened
 * from a URL is ours (closed by the backend's `close()`).
 *
 * @module
 */
import {
  createRedis,
  type CreateRedisOptions,
  type ParsedRedisUrl,
  type RedisClient,
} from "./connection.ts";
import { QueueError } from "./errors.ts";

/** A client and whether the backend owns (must close) it. */
export interface AdoptedClient {
  /** The client to use. */
  redis: RedisClient;
  /** True when the backend opened it and must close it. */
  owned: boolean;
}

/**
 * Returns `opts.redis` (not owned) or a new client for `opts.url` (owned).
 *
 * @param opts the backend's `redis` / `url` options
 * @param owner backend name for the error message, e.g. `"RedisQueue"`
 * @param create client options used when opening from a URL
 * @throws {QueueError} `E_INVALID` when neither is given
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adoptClient } from "./adopt_client.ts";
 * const { redis, owned } = adoptClient(
 *   { url: "redis://127.0.0.1:6379/0" },
 *   "Example",
 *   { connectionName: "example", extra: { lazyConnect: true } },
 * );
 * assert.ok(owned);
 * redis.disconnect();
 * ```
 */
export function adoptClient(
  opts: { redis?: RedisClient; url?: string | ParsedRedisUrl },
  owner: string,
  create: CreateRedisOptions,
): AdoptedClient {
  if (opts.redis) return { redis: opts.redis, owned: false };
  if (opts.url !== undefined) {
    return { redis: createRedis(opts.url, create), owned: true };
  }
  throw new QueueError("E_INVALID", `${owner} needs \`redis\` or \`url\``);
}
