import assert from "node:assert/strict";
import { closeRedis } from "../../lib/queue/connection.ts";
import { WakeSubscriber } from "../../lib/queue/wake.ts";
import { redisTest, testClient, testPrefix } from "./redis_env.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

redisTest(
  "WakeSubscriber.poll: a message published during a read ends the next wait at once (no lost wake-up)",
  async (url) => {
    const base = testClient(url);
    const publisher = testClient(url);
    const wake = new WakeSubscriber(base);
    const channel = `${testPrefix("wake")}:wake`;
    try {
      // Subscribe first (a message before SUBSCRIBE is answered is lost by
      // design: polling covers it), then check the subscription is live.
      await wake.poll(() => Promise.resolve([]), {
        channel,
        blockMs: 20,
        maxPollMs: 5,
      });
      const deadline = Date.now() + 5_000;
      while (Number(await publisher.publish(channel, "")) === 0) {
        assert.ok(Date.now() < deadline, "subscription not live in 5 s");
        await sleep(10);
      }
      // Eight empty reads grow the pause to 1,280 ms; the ninth read misses a
      // write whose wake-up message arrives while it is still under way.
      let reads = 0;
      let ninthEnded = 0;
      let tenthStarted = 0;
      const got = await wake.poll(async () => {
        reads++;
        if (reads === 10) {
          tenthStarted = performance.now();
          return ["written"];
        }
        if (reads === 9) {
          await publisher.publish(channel, "");
          await sleep(100); // the message is delivered meanwhile
          ninthEnded = performance.now();
        }
        return [];
      }, { channel, blockMs: 10_000, maxPollMs: 5_000 });
      assert.deepEqual(got, ["written"]);
      const gap = tenthStarted - ninthEnded;
      // Without listening from before the read: a 1,280 ms pause.
      assert.ok(gap < 500, `the next read came ${gap.toFixed(0)} ms later`);
    } finally {
      wake.close();
      await closeRedis(base);
      await closeRedis(publisher);
    }
  },
);

redisTest(
  "WakeSubscriber.poll: ends at blockMs, on abort, and when stop() says so; blockMs 0 reads once",
  async (url) => {
    const base = testClient(url);
    const wake = new WakeSubscriber(base);
    const channel = `${testPrefix("wake")}:wake`;
    try {
      let reads = 0;
      const empty = () => {
        reads++;
        return Promise.resolve([] as string[]);
      };
      assert.deepEqual(
        await wake.poll(empty, { channel, blockMs: 0, maxPollMs: 5 }),
        [],
      );
      assert.equal(reads, 1);
      const t0 = performance.now();
      await wake.poll(empty, { channel, blockMs: 150, maxPollMs: 20 });
      assert.ok(performance.now() - t0 >= 140);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const t1 = performance.now();
      await wake.poll(empty, {
        channel,
        blockMs: 10_000,
        maxPollMs: 5_000,
        signal: ac.signal,
      });
      assert.ok(performance.now() - t1 < 2_000, "abort ended the poll");
      reads = 0;
      await wake.poll(empty, {
        channel,
        blockMs: 10_000,
        maxPollMs: 5,
        stop: () => reads >= 3,
      });
      assert.equal(reads, 3);
      // A read that throws ends the poll with its error.
      await assert.rejects(
        wake.poll(() => Promise.reject(new Error("boom")), {
          channel,
          blockMs: 1_000,
          maxPollMs: 5,
        }),
        /boom/,
      );
    } finally {
      wake.close();
      await closeRedis(base);
    }
  },
);
