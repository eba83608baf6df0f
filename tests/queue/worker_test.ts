import { MemoryQueue } from "../../lib/queue/memory_queue.ts";
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
import { redisTest, testPrefix } from "./redis_env.ts";
import { workerConformance } from "./worker_conformance.ts";

workerConformance(
  (name, fn) => Deno.test(`MemoryQueue ${name}`, fn),
  (setup) => {
    const queue = new MemoryQueue(setup);
    return Promise.resolve({
      queue,
      open: () => Promise.resolve(queue),
      cleanup: () => queue.close(),
    });
  },
);

workerConformance(
  (name, fn) => redisTest(`RedisQueue ${name}`, () => fn()),
  (setup) => {
    const url = Deno.env.get("QMTL_REDIS_URL")!;
    const keyPrefix = testPrefix("w");
    const handles: RedisQueue[] = [];
    const open = () => {
      const q = new RedisQueue({ url, keyPrefix, ...setup });
      handles.push(q);
      return Promise.resolve(q);
    };
    const queue = new RedisQueue({ url, keyPrefix, ...setup });
    handles.push(queue);
    return Promise.resolve({
      queue,
      open,
      cleanup: async () => {
        await queue.purge();
        for (const h of handles) await h.close();
      },
    });
  },
);
