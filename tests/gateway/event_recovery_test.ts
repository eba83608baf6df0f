import assert from "node:assert/strict";
import { StrategyState } from "../../lib/contracts/mod.ts";
import {
  GLOBAL_STREAM,
  MemoryStrategyStore,
  type PendingEvent,
  strategyStream,
} from "../../lib/gateway/mod.ts";
import type { Event, EventLog } from "../../lib/queue/mod.ts";
import { serviceUrl } from "../support/services.ts";
import {
  closeAll,
  dag,
  memoryGateway,
  node,
  submitDag,
  token,
  waitFor,
} from "./helpers.ts";
import { lifecycleEventId } from "../../lib/gateway/events/emitter.ts";
import {
  statusOf,
  testEventBuilder,
  withRedisStore,
} from "../support/strategy_store.ts";

type Gw = ReturnType<typeof memoryGateway>;

async function ids(log: EventLog, stream: string): Promise<string[]> {
  return (await log.read(stream, { count: 1000 })).map((e) => e.event.id);
}

async function submit(gw: Gw, salt: string): Promise<string> {
  const alice = await token("alice", ["submitter", "reader"]);
  const src = node(`src-${salt}`, { type: "StreamInput", params: { salt } });
  const ack = await submitDag(
    gw,
    alice,
    dag(salt, [src, node(`n-${salt}`, { inputs: [src.nodeId] })]),
  );
  return ack.strategyId;
}

Deno.test("events: a crash between the transition and its append loses nothing; recovery appends it exactly once", async () => {
  const store = new MemoryStrategyStore();
  let armed = true;
  const gw1 = memoryGateway({
    store,
    hooks: {
      beforePublish: (e: PendingEvent) => {
        if (armed && e.type === "qmtl.strategy.completed") {
          throw new Error("injected crash before the event append");
        }
      },
    },
  });
  const id = await submit(gw1, "crash");
  await waitFor(
    async () => (await store.get(id))?.status.state === StrategyState.COMPLETED,
    10_000,
    "COMPLETED",
  );
  // The transition is stored with its event pending; the log lacks it.
  const rec = (await store.get(id))!;
  assert.deepEqual(rec.pendingEvents?.map((e) => e.id), [
    lifecycleEventId(id, 3),
  ]);
  assert.deepEqual(await ids(gw1.events, strategyStream(id)), [
    lifecycleEventId(id, 1),
    lifecycleEventId(id, 2),
  ]);
  // "Crash": the process goes away without publishing.
  await gw1.close();
  armed = false;

  // Restart on the same backends: the start-up sweep publishes it.
  const gw2 = memoryGateway({
    store,
    registry: gw1.registry,
    queue: gw1.queue,
    events: gw1.events,
    worker: { pendingEventGraceMs: 0, leaseMs: 5_000 },
  });
  try {
    await waitFor(
      async () => !(await store.get(id))?.pendingEvents?.length,
      5_000,
      "pending events cleared",
    );
    await gw2.worker.sweep(); // a second sweep changes nothing
    const expected = [1, 2, 3].map((n) => lifecycleEventId(id, n));
    assert.deepEqual(await ids(gw2.events, strategyStream(id)), expected);
    const global = (await ids(gw2.events, GLOBAL_STREAM)).filter((e) =>
      e.startsWith(id)
    );
    assert.deepEqual(global, expected);
    const last = (await gw2.events.read(strategyStream(id))).at(-1)!.event;
    assert.equal(last.type, "qmtl.strategy.completed");
    const data = JSON.parse(new TextDecoder().decode(last.data));
    assert.equal(data.state, "COMPLETED");
    assert.equal(Object.keys(data.queueMap).length, 2);
  } finally {
    await closeAll(gw2, store);
  }
});

/**
 * A gateway whose event log's first `appendLinked` does `partial` to the
 * real log and then fails, as a crash would.
 */
async function flakyGateway(
  partial: (log: EventLog, stream: string, also: string, e: Event) => unknown,
) {
  const store = new MemoryStrategyStore();
  const gw0 = memoryGateway({ worker: { autoStart: false } });
  const real = gw0.events;
  let failOnce = true;
  const flaky: EventLog = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === "appendLinked") {
        return async (stream: string, also: string, event: Event) => {
          if (failOnce) {
            failOnce = false;
            await partial(target, stream, also, event);
            throw new Error("injected: crash during the append");
          }
          return target.appendLinked(stream, also, event);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  await gw0.close();
  const gw = memoryGateway({
    store,
    registry: gw0.registry,
    queue: gw0.queue,
    events: flaky,
    worker: { autoStart: false, pendingEventGraceMs: 0 },
  });
  return {
    gw,
    real,
    store,
    close: async () => {
      await gw.close();
      await closeAll(gw0, store);
    },
  };
}

for (
  const [name, partial, before] of [
    [
      "an append whose reply was lost (both streams have the event) is not repeated",
      (log: EventLog, s: string, a: string, e: Event) =>
        log.appendLinked(s, a, e),
      true,
    ],
    [
      "an event an earlier release appended to its own stream only (two appends, a crash between them) reaches the global stream once",
      (log: EventLog, s: string, _a: string, e: Event) => log.append(s, e),
      false,
    ],
  ] as const
) {
  Deno.test(`events: ${name}`, async () => {
    const { gw, real, store, close } = await flakyGateway(partial);
    try {
      const id = await submit(gw, "partial");
      const first = lifecycleEventId(id, 1);
      assert.deepEqual(await ids(real, strategyStream(id)), [first]);
      assert.equal((await ids(real, GLOBAL_STREAM)).includes(first), before);
      assert.deepEqual(
        (await store.get(id))?.pendingEvents?.map((e) => e.id),
        [first],
      );
      await gw.worker.sweep();
      await gw.worker.sweep();
      assert.deepEqual(await ids(real, strategyStream(id)), [first]);
      assert.deepEqual(
        (await ids(real, GLOBAL_STREAM)).filter((e) => e === first),
        [first],
      );
      assert.equal((await store.get(id))?.pendingEvents, undefined);
    } finally {
      await close();
    }
  });
}

const redisUrl = serviceUrl("QMTL_REDIS_URL");

Deno.test({
  name:
    "events (Redis store): pending events are indexed by the CAS and cleared",
  ignore: redisUrl.ignore,
  fn: () =>
    withRedisStore(redisUrl.url!, "gw", async (store) => {
      const id = "st_" + "ab".repeat(12);
      const now = Date.now();
      const build = testEventBuilder;
      const created = await store.create(
        statusOf(id, StrategyState.QUEUED, {
          createdAtMs: now,
          updatedAtMs: now,
          name: "r",
        }),
        new Uint8Array([1]),
        build,
      );
      assert.equal(created.created, true);
      assert.deepEqual(await store.idsWithPendingEvents(), [id]);
      await store.clearPendingEvents(id, [lifecycleEventId(id, 1)]);
      assert.deepEqual(await store.idsWithPendingEvents(), []);
      const t = await store.transition(id, {
        from: [StrategyState.QUEUED],
        to: StrategyState.PROCESSING,
        event: build,
      });
      assert.deepEqual(t.record.pendingEvents?.map((e) => e.id), [
        lifecycleEventId(id, 2),
      ]);
      assert.deepEqual(await store.idsWithPendingEvents(), [id]);
      // Same-state update: no new event, the pending one stays.
      await store.transition(id, {
        from: [StrategyState.PROCESSING],
        to: StrategyState.PROCESSING,
        patch: { attempts: 2 },
        event: build,
      });
      assert.equal((await store.get(id))?.pendingEvents?.length, 1);
      await store.clearPendingEvents(id, [lifecycleEventId(id, 2)]);
      assert.deepEqual(await store.idsWithPendingEvents(), []);
      assert.equal((await store.get(id))?.eventSeq, 2);
    }),
});
