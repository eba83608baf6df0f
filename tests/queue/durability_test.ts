// The one durability path: stores on one connection share one WAIT per tick.
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { EventSchema } from "../../lib/contracts/messages.ts";
import { closeRedis } from "../../lib/queue/connection.ts";
import { DurableWriter } from "../../lib/queue/durability.ts";
import { DurabilityError } from "../../lib/queue/errors.ts";
import { RedisEventLog } from "../../lib/queue/redis_event_log.ts";
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
import { RedisTopicStore } from "../../lib/queue/redis_topic_store.ts";
import {
  deletePrefix,
  redisTest,
  testClient,
  testPrefix,
} from "./redis_env.ts";

/** Counts the WAIT commands sent on `redis` from now on (in `n`). */
function countWaits(redis: ReturnType<typeof testClient>): { n: number } {
  const waits = { n: 0 };
  const wait = redis.wait.bind(redis);
  redis.wait = ((...a: Parameters<typeof redis.wait>) => {
    waits.n++;
    return wait(...a);
  }) as typeof redis.wait;
  return waits;
}

redisTest(
  "durability: stores on one connection share one WAIT per tick; concurrent enqueues share WAITs",
  async (url) => {
    const redis = testClient(url);
    const p = testPrefix("dur");
    const waits = countWaits(redis);
    const opts = { redis, waitReplicas: 1, waitTimeoutMs: 2_000 };
    const q = new RedisQueue({ ...opts, keyPrefix: `${p}:q` });
    const log = new RedisEventLog({ ...opts, keyPrefix: `${p}:ev` });
    const topics = new RedisTopicStore({ ...opts, keyPrefix: `${p}:t` });
    try {
      await topics.create("t1");
      const event = create(EventSchema, { id: "e1", type: "x", subject: "s" });
      // Load the scripts first: a NOSCRIPT fallback rightly adds a WAIT.
      await q.enqueue("k", new Uint8Array([0]));
      await log.append("s1", event);
      await topics.append("t1", [{ barTs: 1, data: new Uint8Array([0]) }]);
      waits.n = 0;
      // Writes issued in one tick share one WAIT across stores.
      await Promise.all([
        log.append("s1", event),
        log.append("s2", event),
        topics.append("t1", [{ barTs: 60, data: new Uint8Array([3]) }]),
      ]);
      assert.equal(waits.n, 1);
      // Concurrent enqueues: the first leaves at once, the other 19 together
      // when it returns, so two script calls and two WAITs, not twenty.
      waits.n = 0;
      const all = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => q.enqueue("k", new Uint8Array([i])),
        ),
      );
      assert.equal(new Set(all.map((r) => r.job.id)).size, 20);
      assert.equal(waits.n, 2);
      assert.equal(q.unconfirmedWrites + log.unconfirmedWrites, 0);
      assert.equal(topics.unconfirmedWrites, 0);
    } finally {
      await q.close();
      await log.close();
      await topics.close();
      await deletePrefix(redis, p);
      await closeRedis(redis);
    }
  },
);

redisTest(
  "durability: more replicas than exist → DurabilityError after the timeout, counted",
  async (url) => {
    const redis = testClient(url);
    const w = new DurableWriter(redis, { waitReplicas: 5, waitTimeoutMs: 100 });
    const key = `${testPrefix("dur5")}:k`;
    try {
      const e = await assert.rejects(
        () => w.write("set", key, () => redis.set(key, "v")),
        (e: unknown) =>
          e instanceof DurabilityError && e.retryable && e.required === 5 &&
          e.jobId === key && e.acked < 5,
      );
      assert.equal(e, undefined);
      assert.equal(w.unconfirmedWrites, 1);
      // Not confirmed when `when` says there is nothing to confirm.
      assert.equal(
        await w.write("get", key, () => redis.get(key), { when: () => false }),
        "v",
      );
      assert.equal(w.unconfirmedWrites, 1);
    } finally {
      w.close();
      await redis.del(key);
      await closeRedis(redis);
    }
  },
);

redisTest("durability: waitReplicas 0 sends no WAIT", async (url) => {
  const redis = testClient(url);
  const waits = countWaits(redis);
  const w = new DurableWriter(redis, { waitReplicas: 0 });
  const key = `${testPrefix("dur0")}:k`;
  try {
    assert.equal(await w.write("set", key, () => redis.set(key, "v")), "OK");
    assert.equal(waits.n, 0);
    assert.equal(w.replicas, 0);
  } finally {
    w.close();
    await redis.del(key);
    await closeRedis(redis);
  }
});
