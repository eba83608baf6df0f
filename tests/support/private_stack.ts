/**
 * Plumbing for the tests that start PRIVATE stacks (own folder, free ports)
 * with `deploy/local/stack.sh`: the drills' free-port search and command
 * runner (deploy/drills/), plus the Redis group's port layout and
 * `redis-cli`.
 *
 * @module
 */

import { freePortBlock, portFree } from "../../deploy/drills/ports.ts";
import { run } from "../../deploy/drills/private_stack.ts";

export { portFree, run };

/** Absolute path of `deploy/local/stack.sh`. */
export const STACK: string =
  new URL("../../deploy/local/stack.sh", import.meta.url).pathname;

/** A base port such that `base + o` is free for every offset `o`. */
export function freePorts(offsets: readonly number[]): number {
  return freePortBlock(offsets);
}

/** Ports of a private Redis group: master, replica(s) +1…, Sentinels +10‥12. */
export function freeRedisPorts(
  replicas = 1,
): { redis: number; sentinel: number } {
  const members = Array.from({ length: replicas + 1 }, (_, i) => i);
  const redis = freePortBlock([...members, 10, 11, 12]);
  return { redis, sentinel: redis + 10 };
}

/** `stack.sh`'s settings for a private Redis group in `dir` on `ports`. */
export function redisStackEnv(
  dir: string,
  ports: { redis: number; sentinel: number },
): Record<string, string> {
  return {
    QMTL_STACK_DIR: dir,
    QMTL_STACK_REDIS_PORT: String(ports.redis),
    QMTL_STACK_SENTINEL_PORT: String(ports.sentinel),
  };
}

/** `redis-cli -p port …args`, trimmed. */
export async function redisCli(
  port: number,
  ...args: string[]
): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).trim();
}
