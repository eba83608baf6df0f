// Where the Redis tests get their server: env QMTL_REDIS_URL, through the
// one rule in tests/support/services.ts (unset under CI=true → the run fails;
// unset elsewhere → the tests are ignored with a message).
import type { Redis } from "ioredis";
import { closeRedis, createRedis } from "../../lib/queue/connection.ts";
import { unlinkByPrefix } from "../../lib/queue/redis_keys.ts";
import { serviceUrl } from "../support/services.ts";

const redis = serviceUrl("QMTL_REDIS_URL");

/** The Redis URI of the tests, or undefined. */
export const REDIS_URL: string | undefined = redis.url;

/** Registers a test that needs Redis. */
export function redisTest(
  name: string,
  fn: (url: string) => Promise<void>,
): void {
  // ignore is true only outside CI without QMTL_REDIS_URL (see serviceUrl).
  Deno.test({ name, ignore: redis.ignore, fn: () => fn(redis.url!) });
}

/** A unique key prefix (hash tag) for one test. */
export function testPrefix(what: string): string {
  return `{qmtl:test:${what}:${crypto.randomUUID().slice(0, 8)}}`;
}

/** A client for test bookkeeping. */
export function testClient(url: string): Redis {
  return createRedis(url, { connectionName: "qmtl-test" });
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(
  redis: Redis,
  prefix: string,
): Promise<void> {
  await unlinkByPrefix(redis, prefix);
}

/** Closes `backend`, then deletes every key under `keyPrefix`. */
export async function closeAndDeletePrefix(
  url: string,
  keyPrefix: string,
  backend: { close(): Promise<void> },
): Promise<void> {
  await backend.close();
  const redis = testClient(url);
  await deletePrefix(redis, keyPrefix);
  await closeRedis(redis);
}

/**
 * A backend made by `make` on QMTL_REDIS_URL under a fresh key prefix
 * `what`; `cleanup` closes it and deletes every key under the prefix.
 */
export function freshPrefixed<B extends { close(): Promise<void> }>(
  what: string,
  make: (url: string, keyPrefix: string) => B,
): { backend: B; cleanup: () => Promise<void> } {
  const url = Deno.env.get("QMTL_REDIS_URL")!;
  const keyPrefix = testPrefix(what);
  const backend = make(url, keyPrefix);
  return {
    backend,
    cleanup: () => closeAndDeletePrefix(url, keyPrefix, backend),
  };
}
