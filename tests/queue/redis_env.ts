// Where the Redis tests get their server: env QMTL_REDIS_URL.
// Unset under CI=true → every Redis test FAILS (a registered test that throws);
// unset elsewhere → the tests are ignored with one clear message.
import type { Redis } from "ioredis";
import { createRedis } from "../../lib/queue/connection.ts";

/** The Redis URI of the tests, or undefined. */
export const REDIS_URL: string | undefined = Deno.env.get("QMTL_REDIS_URL") ||
  undefined;
const CI = Deno.env.get("CI") === "true";

let warned = false;

/** Registers a test that needs Redis. */
export function redisTest(
  name: string,
  fn: (url: string) => Promise<void>,
): void {
  if (REDIS_URL) {
    Deno.test({ name, fn: () => fn(REDIS_URL!) });
  } else if (CI) {
    Deno.test(name, () => {
      throw new Error(
        "QMTL_REDIS_URL is not set but CI=true: Redis tests must run (use `deno task test`)",
      );
    });
  } else {
    if (!warned) {
      warned = true;
      console.warn(
        "[tests/queue] QMTL_REDIS_URL not set: skipping Redis tests (source /tmp/qmtl-stack/env.sh or use `deno task test`)",
      );
    }
    Deno.test({ name, ignore: true, fn: () => {} });
  }
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
  let cursor = "0";
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
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
}
