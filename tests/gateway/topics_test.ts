// Topic lifecycle through the gateway, on each topic-store backend: a diff
// creates its nodes' topics, scheduled GC deletes them after a retirement, a
// topic the registry knows but the store lost is recreated on use, and a
// lease takeover reaches the hook.
import assert from "node:assert/strict";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import { createGateway } from "../../lib/gateway/mod.ts";
import { TEST_AUTH, token as signToken } from "../support/auth.ts";
import {
  closeRedis,
  MemoryEventLog,
  MemoryQueue,
  MemoryTopicStore,
  type ProducerLease,
  RedisTopicStore,
  type TopicStore,
} from "../../lib/queue/mod.ts";
import { QmtlClient, StrategyBuilder } from "../../sdk/mod.ts";
import {
  deletePrefix,
  REDIS_URL,
  redisTest,
  testClient,
  testPrefix,
} from "../queue/redis_env.ts";
import { input60, step60 } from "../sdk/fixtures/nodes.ts";

function strategy(name: string): StrategyBuilder {
  const s = new StrategyBuilder(name);
  const px = input60(s, "px", ["topics", "close"]);
  step60(s, `own_${name}`, [px], 2, (v) => v.last - v.at(0), {
    params: { name },
  });
  return s;
}

async function lifecycle(store: TopicStore): Promise<void> {
  const registry = new MemoryRegistry();
  const takeovers: [string, ProducerLease][] = [];
  const gw = createGateway({
    registry,
    queue: new MemoryQueue({ backoff: { baseMs: 20, maxMs: 200 } }),
    events: new MemoryEventLog(),
    topics: store,
    auth: TEST_AUTH,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    onLeaseTakeover: (t, g) => takeovers.push([t, g]),
  });
  try {
    const token = await signToken("alice", ["submitter", "operator"]);
    const client = new QmtlClient({
      url: "http://gateway.test",
      token,
      fetch: (input, init) =>
        Promise.resolve(gw.app.fetch(new Request(input, init))),
    });
    const a = await client.submit(strategy("a"), { version: "1" });
    const sa = await client.waitFor(a.strategyId, "COMPLETED", {
      timeoutMs: 10_000,
    });
    const b = await client.submit(strategy("b"), { version: "1" });
    const sb = await client.waitFor(b.strategyId, "COMPLETED", {
      timeoutMs: 10_000,
    });
    const topicsA = Object.values(sa.queueMap);
    const topicsB = Object.values(sb.queueMap);
    assert.equal(topicsA.length, 2);
    for (const t of [...topicsA, ...topicsB]) {
      assert.ok(await store.exists(t), `topic ${t} created by the diff`);
    }
    const shared = topicsA.find((t) => topicsB.includes(t))!;
    const ownA = topicsA.find((t) => t !== shared)!;

    // A topic the store lost is recreated when used.
    await store.delete(ownA);
    const g = await gw.topics.acquire("runner-1", 1_000, [{ topic: ownA }]);
    assert.ok(g[0].granted && await store.exists(ownA));
    await assert.rejects(
      () => gw.topics.publish("no_such_topic_v1", [], ""),
      /no topic no_such_topic_v1/,
    );
    // A lease that expires unreleased is taken over; the hook hears of it.
    await new Promise((r) => setTimeout(r, 1_100));
    const t2 = await gw.topics.acquire("runner-2", 5_000, [{ topic: ownA }]);
    assert.ok(t2[0].granted && t2[0].takeover);
    assert.deepEqual(takeovers.map(([t, gr]) => [t, gr.previousHolder]), [[
      ownA,
      "runner-1",
    ]]);

    // Retire a: GC removes its own node's topic, keeps the shared input's.
    await client.retire(a.strategyId);
    const gc = new (await import("../../lib/gateway/gc/mod.ts")).GcScheduler({
      registry,
      topics: gw.topics,
      intervalMs: 60_000,
      graceMs: 0,
    });
    const report = await gc.runOnce();
    assert.deepEqual(report.removedTopics, [ownA]);
    assert.equal(report.topicsDeleted, 1);
    assert.ok(!(await store.exists(ownA)), "GC deleted the stream");
    assert.ok(await store.exists(shared), "still used by b");
  } finally {
    await gw.close();
  }
}

Deno.test("topics: memory store — created by the diff, healed, taken over, deleted by GC", async () => {
  const store = new MemoryTopicStore();
  await lifecycle(store);
  await store.close();
});

redisTest(
  "topics: Redis store — created by the diff, healed, taken over, deleted by GC",
  async () => {
    const keyPrefix = testPrefix("gwtopics");
    const store = new RedisTopicStore({ url: REDIS_URL!, keyPrefix });
    try {
      await lifecycle(store);
    } finally {
      await store.close();
      const r = testClient(REDIS_URL!);
      await deletePrefix(r, keyPrefix);
      await closeRedis(r);
    }
  },
);

Deno.test("gateway: scheduled GC runs on its interval when configured", async () => {
  const registry = new MemoryRegistry();
  let runs = 0;
  const origGc = registry.gc.bind(registry);
  registry.gc = (o) => {
    runs++;
    return origGc(o);
  };
  const gw = createGateway({
    registry,
    queue: new MemoryQueue(),
    events: new MemoryEventLog(),
    auth: TEST_AUTH,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    gc: { intervalMs: 30, graceMs: 0 },
  });
  await new Promise((r) => setTimeout(r, 200));
  await gw.close();
  const after = runs;
  assert.ok(after >= 3, `gc ran ${after} times`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(runs, after, "close stops the timer");
});
