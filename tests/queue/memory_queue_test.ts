import { MemoryQueue } from "../../lib/queue/memory_queue.ts";
import { queueConformance } from "./queue_conformance.ts";
import { memoryQueueFixture } from "./queue_fixtures.ts";
import assert from "node:assert/strict";

queueConformance(
  (name, fn) => Deno.test(`MemoryQueue: ${name}`, fn),
  memoryQueueFixture,
);

Deno.test("MemoryQueue: done records are pruned after retainDoneMs", async () => {
  let now = 1_000;
  const q = new MemoryQueue({ retainDoneMs: 100, now: () => now });
  const { job } = await q.enqueue("k", new Uint8Array([1]), {
    idempotencyKey: "x",
  });
  const [l] = await q.lease(1, { leaseMs: 50 });
  await q.ack(l.id, l.leaseToken);
  assert.deepEqual((await q.get(job.id))?.state, "done");
  now += 200;
  assert.deepEqual(await q.get(job.id), null);
  const again = await q.enqueue("k", new Uint8Array([1]), {
    idempotencyKey: "x",
  });
  assert.deepEqual(again.created, true);
  assert.deepEqual((await q.stats()).done, 1);
  await q.close();
});
