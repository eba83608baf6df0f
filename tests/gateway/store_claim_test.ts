// The strategy store's publishing claim, generation guard and strike
// count, on both backends (memory, and Redis with its Lua compare-and-set).
import assert from "node:assert/strict";
import { StrategyState, type StrategyStatus } from "../../lib/contracts/mod.ts";
import {
  MemoryStrategyStore,
  type StrategyStore,
} from "../../lib/gateway/mod.ts";
import { serviceUrl } from "../support/services.ts";
import { lifecycleEventId } from "../../lib/gateway/events/emitter.ts";
import {
  statusOf,
  testEventBuilder,
  withRedisStore,
} from "../support/strategy_store.ts";

const build = testEventBuilder;

function status(id: string): StrategyStatus {
  const now = Date.now();
  return statusOf(id, StrategyState.QUEUED, {
    createdAtMs: now,
    updatedAtMs: now,
    name: "c",
  });
}

async function conformance(store: StrategyStore): Promise<void> {
  const id = "st_" + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
  const far = () => Date.now() + 60_000;
  const a = { token: "A", untilMs: far() };
  const made = await store.create(status(id), new Uint8Array([1]), build, a);
  assert.equal(made.record.publisher?.token, "A");

  // B's transition while A's claim is live: recorded, but A keeps the claim.
  const t = await store.transition(id, {
    from: [StrategyState.QUEUED],
    to: StrategyState.PROCESSING,
    event: build,
    claim: { token: "B", untilMs: far() },
    expectGeneration: 0,
    strikes: 2,
    jobId: "j1",
  });
  assert.equal(t.record.publisher?.token, "A");
  assert.equal(t.record.strikes, 2);
  assert.deepEqual(t.record.pendingEvents?.map((e) => e.id), [
    lifecycleEventId(id, 1),
    lifecycleEventId(id, 2),
  ]);
  assert.equal(
    await store.claimEvents(id, { token: "B", untilMs: far() }),
    null,
  );

  // A publishes e1: its claim is renewed while e2 is pending.
  const renewed = { token: "A", untilMs: far() + 1 };
  const after1 = await store.clearPendingEvents(
    id,
    [lifecycleEventId(id, 1)],
    renewed,
  );
  assert.equal(after1?.publisher?.untilMs, renewed.untilMs);
  assert.deepEqual(after1?.pendingEvents?.map((e) => e.id), [
    lifecycleEventId(id, 2),
  ]);

  // A gives up (a lapsed claim): B may take it.
  await store.clearPendingEvents(id, [], { token: "A", untilMs: 0 });
  const b = await store.claimEvents(id, { token: "B", untilMs: far() });
  assert.equal(b?.publisher?.token, "B");

  // Everything out: the claim is released; nothing left to claim.
  const done = await store.clearPendingEvents(id, [lifecycleEventId(id, 2)], {
    token: "B",
    untilMs: far(),
  });
  assert.equal(done?.publisher, undefined);
  assert.equal(done?.pendingEvents, undefined);
  assert.ok(!(await store.idsWithPendingEvents()).includes(id));
  assert.equal(
    await store.claimEvents(id, { token: "A", untilMs: far() }),
    null,
  );

  // The generation guard.
  await assert.rejects(
    store.transition(id, {
      from: [StrategyState.PROCESSING],
      to: StrategyState.PROCESSING,
      expectGeneration: 5,
    }),
    /diff generation 0, expected 5/,
  );
  assert.equal(await store.clearPendingEvents("st_unknown", []), null);
}

Deno.test("store claims: memory", async () => {
  const store = new MemoryStrategyStore();
  await conformance(store);
  await store.close();
});

const redisUrl = serviceUrl("QMTL_REDIS_URL");

Deno.test({
  name: "store claims: Redis",
  ignore: redisUrl.ignore,
  fn: () => withRedisStore(redisUrl.url!, "claim", conformance),
});
