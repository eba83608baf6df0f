// Fresh queues for the conformance suites (queue_conformance.ts,
// worker_conformance.ts), on memory or on Redis under a fresh key prefix.
import { MemoryQueue } from "../../lib/queue/memory_queue.ts";
import {
  RedisQueue,
  type RedisQueueOptions,
} from "../../lib/queue/redis_queue.ts";
import type { QueueFixture, QueueSetup } from "./queue_conformance.ts";
import { testPrefix } from "./redis_env.ts";

/** A memory queue; `open` returns the same queue (there is one handle). */
export function memoryQueueFixture(setup: QueueSetup): Promise<QueueFixture> {
  const queue = new MemoryQueue(setup);
  return Promise.resolve({
    queue,
    open: () => Promise.resolve(queue),
    cleanup: () => queue.close(),
  });
}

/**
 * A maker of Redis queues under a fresh prefix `what`, on QMTL_REDIS_URL,
 * with `options` added; each `open` is a new handle (its own connection).
 * Cleanup purges the queue and closes every handle.
 */
export function redisQueueFixture(
  what: string,
  options: Partial<RedisQueueOptions> = {},
): (setup: QueueSetup) => Promise<QueueFixture> {
  return (setup) => {
    const url = Deno.env.get("QMTL_REDIS_URL")!;
    const keyPrefix = testPrefix(what);
    const handles: RedisQueue[] = [];
    const open = () => {
      const q = new RedisQueue({ url, keyPrefix, ...options, ...setup });
      handles.push(q);
      return q;
    };
    const queue = open();
    return Promise.resolve({
      queue,
      open: () => Promise.resolve(open()),
      cleanup: async () => {
        await queue.purge();
        for (const h of handles) await h.close();
      },
    });
  };
}
