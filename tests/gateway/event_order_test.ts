// Per-strategy event order across gateways: one process publishes a
// strategy's pending events at a time (a claim recorded in the strategy
// record by the same compare-and-set as the transition), so a second
// gateway's transitions never re-publish or reorder the first one's
// events; a dead publisher's claim lapses and the sweep takes over.
import assert from "node:assert/strict";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../../lib/queue/mod.ts";
import {
  GLOBAL_STREAM,
  MemoryStrategyStore,
  type PendingEvent,
  strategyStream,
} from "../../lib/gateway/mod.ts";
import { StrategyState } from "../../lib/contracts/mod.ts";
import { Metrics } from "../../lib/gateway/metrics/mod.ts";
import {
  chain,
  dag,
  memoryGateway,
  submitDag,
  token,
  waitFor,
} from "./helpers.ts";
import { lifecycleEventId } from "../../lib/gateway/events/emitter.ts";

async function types(log: MemoryEventLog, stream: string): Promise<string[]> {
  return (await log.read(stream, { count: 1000 })).map((e) =>
    `${e.event.id}:${e.event.type}`
  );
}

function expected(id: string): string[] {
  return [
    `${lifecycleEventId(id, 1)}:qmtl.strategy.queued`,
    `${lifecycleEventId(id, 2)}:qmtl.strategy.processing`,
    `${lifecycleEventId(id, 3)}:qmtl.strategy.completed`,
  ];
}

function shared() {
  return {
    store: new MemoryStrategyStore(),
    queue: new MemoryQueue({ backoff: { baseMs: 10, maxMs: 40 } }),
    registry: new MemoryRegistry(),
    events: new MemoryEventLog(),
  };
}

/** Closes the gateways, then the backends they share. */
async function closeShared(
  s: ReturnType<typeof shared>,
  ...gateways: { close(): Promise<void> }[]
): Promise<void> {
  for (const gw of gateways) await gw.close();
  await s.queue.close();
  await s.events.close();
  await s.registry.close();
}

Deno.test("events: a slow publisher on gateway A and the worker on gateway B — each strategy's stream is queued, processing, completed, once each", async () => {
  const s = shared();
  // A publishes its QUEUED events slowly: B's worker makes the next
  // transitions meanwhile (the old code re-published A's event from B).
  const a = memoryGateway({
    ...s,
    worker: { autoStart: false },
    hooks: {
      beforePublish: async (e: PendingEvent) => {
        if (e.type === "qmtl.strategy.queued") {
          await new Promise((r) => setTimeout(r, 150));
        }
      },
    },
  });
  const b = memoryGateway({ ...s });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const ids = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) =>
          (await submitDag(a, tok, dag(`ord${i}`, chain(`ord${i}-`, 2))))
            .strategyId,
      ),
    );
    for (const id of ids) {
      await waitFor(
        async () => {
          const r = await s.store.get(id);
          return r?.status.state === StrategyState.COMPLETED &&
            !r.pendingEvents?.length;
        },
        10_000,
        `${id} completed and published`,
      );
      assert.deepEqual(
        await types(s.events, strategyStream(id)),
        expected(id),
      );
      const global = (await types(s.events, GLOBAL_STREAM)).filter((e) =>
        e.startsWith(id)
      );
      assert.deepEqual(global, expected(id));
    }
    // B made transitions while A held the claim: B published none of them.
    assert.ok(
      b.logs.every((l) => !l.includes("event not yet published")),
    );
  } finally {
    await closeShared(s, a, b);
  }
});

Deno.test("events: a publisher that dies holding the claim — its claim lapses and the sweep publishes everything in order, once", async () => {
  const s = shared();
  // A "dies" inside its first publish: the hook never returns, the claim
  // stays in the record until it lapses (300 ms).
  const a = memoryGateway({
    ...s,
    worker: { autoStart: false, pendingEventGraceMs: 300 },
    hooks: { beforePublish: () => new Promise<void>(() => {}) },
  });
  const b = memoryGateway({
    ...s,
    worker: { pendingEventGraceMs: 300, sweepIntervalMs: 60_000 },
  });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const submitting = submitDag(a, tok, dag("dies", chain("dies-", 2)));
    // The submission itself hangs in A's publish; find the strategy.
    const id = await waitFor(
      async () => {
        const page = await s.store.list({});
        return page.strategies[0]?.strategyId;
      },
      5_000,
      "strategy recorded",
    );
    void submitting.catch(() => {});
    // B's worker completes it; its transitions leave the events to A.
    await b.service.sweep(); // enqueue (A never got to it)
    await waitFor(
      async () => {
        const r = await s.store.get(id);
        return r?.status.state === StrategyState.COMPLETED;
      },
      10_000,
      "COMPLETED",
    );
    const held = await s.store.get(id);
    assert.equal(held?.pendingEvents?.length, 3);
    assert.deepEqual(await types(s.events, strategyStream(id)), []);
    await new Promise((r) => setTimeout(r, 350)); // the claim lapses
    await b.service.sweep();
    assert.deepEqual(await types(s.events, strategyStream(id)), expected(id));
    assert.equal((await s.store.get(id))?.pendingEvents, undefined);
    await b.service.sweep();
    assert.deepEqual(await types(s.events, strategyStream(id)), expected(id));
  } finally {
    await closeShared(s, a, b);
  }
});

Deno.test("events: the PROCESSING event is published while the diff runs, and the job ends once its COMPLETED event is out, in order", async () => {
  const s = shared();
  const released = Promise.withResolvers<void>();
  let diffStarted = false;
  let processingOut = false;
  const registry = s.registry;
  const diffAndCommit = registry.diffAndCommit.bind(registry);
  registry.diffAndCommit = (...args) => {
    diffStarted = true;
    return diffAndCommit(...args);
  };
  const gw = memoryGateway({
    ...s,
    worker: { autoStart: false },
    hooks: {
      beforePublish: async (e: PendingEvent) => {
        if (e.type !== "qmtl.strategy.processing") return;
        await released.promise;
        processingOut = true;
      },
    },
  });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const id = (await submitDag(gw, tok, dag("bg", chain("bg-", 2))))
      .strategyId;
    const [job] = await s.queue.lease(1, { leaseMs: 30_000 });
    const done = gw.service.processDiffJob(job);
    // The diff starts though the PROCESSING event is held back…
    await waitFor(
      () => Promise.resolve(diffStarted || undefined),
      5_000,
      "the diff",
    );
    assert.equal(processingOut, false);
    // …and the job does not end before its events are published.
    const early = await Promise.race([
      done.then(() => "ended"),
      new Promise((r) => setTimeout(() => r("waiting"), 100)),
    ]);
    assert.equal(early, "waiting");
    released.resolve();
    await done;
    assert.deepEqual(await types(s.events, strategyStream(id)), expected(id));
    assert.equal((await s.store.get(id))?.pendingEvents, undefined);
  } finally {
    released.resolve();
    await closeShared(s, gw);
  }
});

Deno.test("events: a failure while the PROCESSING event is published in the background is logged, not left unhandled, and the strategy still completes with its events in order", async () => {
  const s = shared();
  // The phase observer of "publish" breaks (a metrics backend bug, say).
  class BrokenPublishPhase extends Metrics {
    override histogramSeries(
      name: string,
      help: string,
      labels: Record<string, string>,
      buckets?: readonly number[],
    ): (value: number) => void {
      const observe = super.histogramSeries(name, help, labels, buckets);
      return labels.phase === "publish"
        ? () => {
          throw new Error("observer broke");
        }
        : observe;
    }
  }
  const gw = memoryGateway({
    ...s,
    metrics: new BrokenPublishPhase(),
    worker: { autoStart: false },
  });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const id = (await submitDag(gw, tok, dag("bgfail", chain("bgfail-", 2))))
      .strategyId;
    const [job] = await s.queue.lease(1, { leaseMs: 30_000 });
    // The completing transition waits for its publish, so its observer's
    // failure reaches the job (which is retried); the start's does not.
    await gw.service.processDiffJob(job).catch(() => {});
    await gw.service.idle();
    assert.deepEqual(await types(s.events, strategyStream(id)), expected(id));
    assert.ok(
      gw.logs.some((l) =>
        l.includes("event publish failed") && l.includes("observer broke")
      ),
      gw.logs.join("\n"),
    );
  } finally {
    await closeShared(s, gw);
  }
});

Deno.test("events: a submission's ack waits for its QUEUED event only, not for the diff job's events its publisher goes on to publish", async () => {
  const s = shared();
  const heldProcessing = Promise.withResolvers<void>();
  let processingHeld = false;
  const gw = memoryGateway({
    ...s,
    hooks: {
      beforePublish: async (e: PendingEvent) => {
        if (e.type === "qmtl.strategy.queued") {
          // The worker moves the strategy on while QUEUED goes out: its
          // PROCESSING event joins this (the submission's) publisher.
          await waitFor(
            async () =>
              (await s.store.get(e.subject))?.status.state !==
                StrategyState.QUEUED,
            10_000,
            "the diff job started",
          );
        } else if (e.type === "qmtl.strategy.processing") {
          processingHeld = true;
          await heldProcessing.promise;
        }
      },
    },
  });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const ack = await Promise.race([
      submitDag(gw, tok, dag("ackq", chain("ackq-", 2))),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error("the ack waited for the PROCESSING event")),
          5_000,
        )
      ),
    ]);
    // The ack came while PROCESSING was held by the same publisher.
    assert.ok(processingHeld);
    assert.deepEqual(await types(s.events, strategyStream(ack.strategyId)), [
      `${lifecycleEventId(ack.strategyId, 1)}:qmtl.strategy.queued`,
    ]);
    heldProcessing.resolve();
    await waitFor(
      async () => {
        const r = await s.store.get(ack.strategyId);
        return r?.status.state === StrategyState.COMPLETED &&
          !r.pendingEvents?.length;
      },
      10_000,
      "completed and published",
    );
    assert.deepEqual(
      await types(s.events, strategyStream(ack.strategyId)),
      expected(ack.strategyId),
    );
  } finally {
    heldProcessing.resolve();
    await closeShared(s, gw);
  }
});
