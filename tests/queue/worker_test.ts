import { memoryQueueFixture, redisQueueFixture } from "./queue_fixtures.ts";
import { redisTest } from "./redis_env.ts";
import { workerConformance } from "./worker_conformance.ts";

workerConformance(
  (name, fn) => Deno.test(`MemoryQueue ${name}`, fn),
  memoryQueueFixture,
);

workerConformance(
  (name, fn) => redisTest(`RedisQueue ${name}`, () => fn()),
  redisQueueFixture("w"),
);
