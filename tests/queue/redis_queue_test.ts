import { closeRedis } from "../../lib/queue/connection.ts";
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
import { queueConformance } from "./queue_conformance.ts";
import { redisQueueFixture } from "./queue_fixtures.ts";
import {
  deletePrefix,
  redisTest,
  testClient,
  testPrefix,
} from "./redis_env.ts";
import assert from "node:assert/strict";

// The suite runs twice: with the default durability of the test URI (WAIT 1
// under Sentinel) and with WAIT off, which takes other code paths.
for (const waitReplicas of [undefined, 0]) {
  const label = waitReplicas === 0 ? "RedisQueue (WAIT off)" : "RedisQueue";
  queueConformance(
    (name, fn) => redisTest(`${label}: ${name}`, () => fn()),
    redisQueueFixture("q", { waitReplicas }),
  );
}

redisTest(
  "RedisQueue: keys live under the prefix and purge removes them",
  async (url) => {
    const keyPrefix = testPrefix("keys");
    const q = new RedisQueue({ url, keyPrefix });
    const redis = testClient(url);
    try {
      await q.enqueue("k", new Uint8Array([1]), { idempotencyKey: "x" });
      await q.enqueue("k", new Uint8Array([2]), { delayMs: 10_000 });
      const keys = await redis.keys(`${keyPrefix}*`);
      assert.ok(keys.length >= 4, keys.join(","));
      for (const k of keys) assert.ok(k.startsWith(`${keyPrefix}:`), k);
      assert.ok(await q.purge() >= 4);
      assert.deepEqual(await redis.keys(`${keyPrefix}*`), []);
    } finally {
      await q.close();
      await deletePrefix(redis, keyPrefix);
      await closeRedis(redis);
    }
  },
);

redisTest("RedisQueue: waits for a replica in Sentinel mode", async (url) => {
  const q = new RedisQueue({ url, keyPrefix: testPrefix("wait") });
  try {
    if (url.includes("+sentinel")) assert.deepEqual(q.waitReplicas, 1);
    await q.enqueue("k", new Uint8Array([1]));
    const [j] = await q.lease(1, { leaseMs: 1_000 });
    await q.ack(j.id, j.leaseToken);
    assert.deepEqual(q.unconfirmedWrites, 0);
  } finally {
    await q.purge();
    await q.close();
  }
});
