// Classified diff failures (permanent / transient / unknown), the attempt
// bound, outages that pause instead of counting, dead letters that fail
// their strategy instead of being re-queued, crash loops, and no
// starvation of other strategies — on the memory backends.
import assert from "node:assert/strict";
import { StrategyState } from "../../lib/contracts/mod.ts";
import {
  MemoryRegistry,
  type NodeRegistry,
  RegistryError,
  UnavailableError,
} from "../../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../../lib/queue/mod.ts";
import {
  DIFF_JOB,
  diffJobKey,
  type GatewayOptions,
  MemoryStrategyStore,
  type StrategyStore,
} from "../../lib/gateway/mod.ts";
import {
  chain,
  client,
  closeAll,
  dag,
  memoryGateway,
  submitDag,
  token,
  waitFor,
} from "./helpers.ts";

type Gw = ReturnType<typeof memoryGateway>;
type Diff = NodeRegistry["diffAndCommit"];
type Fault = (dagName: string, attempt: number) => Promise<void> | void;

/**
 * A memory registry whose diff runs `fault(dagName, attempt)` first, and
 * whose health can be switched off; `calls` counts diffs per DAG name.
 */
function faultyRegistry(fault: Fault): {
  registry: NodeRegistry;
  healthy: { ok: boolean };
  calls: Map<string, number>;
} {
  const inner = new MemoryRegistry();
  const healthy = { ok: true };
  const calls = new Map<string, number>();
  const registry = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "diffAndCommit") {
        return async (...args: Parameters<Diff>) => {
          const id = args[0].name;
          const n = (calls.get(id) ?? 0) + 1;
          calls.set(id, n);
          await fault(id, n);
          return await target.diffAndCommit(...args);
        };
      }
      if (prop === "health") {
        return () =>
          Promise.resolve(
            healthy.ok
              ? { ok: true, detail: "memory" }
              : { ok: false, detail: "injected outage" },
          );
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { registry, healthy, calls };
}

async function submit(gw: Gw, name: string): Promise<string> {
  const tok = await token("alice", ["submitter", "reader"]);
  const ack = await submitDag(gw, tok, dag(name, chain(`${name}-`, 3)));
  return ack.strategyId;
}

async function state(gw: Gw, id: string) {
  return (await gw.service.store.get(id))!.status;
}

async function settled(gw: Gw, id: string, ms = 15_000) {
  return await waitFor(
    async () => {
      const s = await state(gw, id);
      return s.state === StrategyState.COMPLETED ||
          s.state === StrategyState.FAILED
        ? s
        : undefined;
    },
    ms,
    `${id} settled`,
  );
}

const fastQueue = () => new MemoryQueue({ backoff: { baseMs: 10, maxMs: 40 } });

/**
 * Runs `body` on a gateway over `faultyRegistry(fault)`, a fast-backoff
 * queue and these worker options; closes it all afterwards.
 */
async function withFaults(
  fault: Fault,
  worker: GatewayOptions["worker"],
  body: (
    gw: Gw,
    registry: ReturnType<typeof faultyRegistry>,
  ) => Promise<void>,
): Promise<void> {
  const faulty = faultyRegistry(fault);
  const gw = memoryGateway({
    registry: faulty.registry,
    queue: fastQueue(),
    worker,
  });
  try {
    await body(gw, faulty);
  } finally {
    await closeAll(gw);
  }
}

/** Waits until strategy `id` in `store` is in state `want`; its record. */
async function reaches(
  store: StrategyStore,
  id: string,
  want: StrategyState,
  ms = 5_000,
) {
  return await waitFor(
    async () => {
      const r = await store.get(id);
      return r?.status.state === want ? r : undefined;
    },
    ms,
    `${id} ${StrategyState[want]}`,
  );
}

/** Closes gateways that share backends, then the backends. */
async function closeShared(
  gateways: Gw[],
  ...backends: { close(): Promise<void> }[]
): Promise<void> {
  for (const gw of gateways) await gw.close();
  for (const b of backends) await b.close();
}

Deno.test("failures: a permanent failure fails at once with the registry's typed reason; others complete", async () => {
  await withFaults(
    (name) => {
      if (name === "huge") {
        // What the registry raises for "too big / invalid for the store":
        // a typed error, not retryable.
        throw new RegistryError(
          "E_INVALID",
          "the DAG needs more transaction memory than the store allows",
        );
      }
    },
    { maxAttempts: 5, leaseMs: 5_000 },
    async (gw, { calls }) => {
      const bad = await submit(gw, "huge");
      const ok = await Promise.all(
        Array.from({ length: 6 }, (_, i) => submit(gw, `ok${i}`)),
      );
      const failed = await settled(gw, bad);
      assert.equal(failed.state, StrategyState.FAILED);
      assert.equal(failed.error?.code, "E_INVALID");
      assert.match(failed.error!.message, /transaction memory/);
      assert.equal(calls.get("huge"), 1, "a permanent failure is not retried");
      for (const id of ok) {
        assert.equal((await settled(gw, id)).state, StrategyState.COMPLETED);
      }
      assert.equal((await gw.queue.stats()).dead, 0);
    },
  );
});

Deno.test("failures: an unknown failure is retried, bounded, and fails with a generic reason (raw text only in the log) while others keep completing", async () => {
  await withFaults(
    (name) => {
      if (name === "weird") {
        throw new Error("Neo.DatabaseError raw-store-text-42");
      }
    },
    { maxAttempts: 3, leaseMs: 5_000, concurrency: 2 },
    async (gw, { calls }) => {
      const bad = await submit(gw, "weird");
      const ok: string[] = [];
      // Submissions keep arriving while the bad one is retried.
      for (let i = 0; i < 8; i++) {
        ok.push(await submit(gw, `w${i}`));
        await new Promise((r) => setTimeout(r, 15));
      }
      const failed = await settled(gw, bad);
      assert.equal(failed.state, StrategyState.FAILED);
      assert.equal(failed.error?.code, "E_INTERNAL");
      assert.match(failed.error!.message, /^gave up after 3 failed attempts/);
      assert.equal(failed.error?.details.reason, "attempts_exhausted");
      assert.ok(!failed.error!.message.includes("raw-store-text-42"));
      assert.equal(calls.get("weird"), 3);
      assert.ok(gw.logs.some((l) => l.includes("raw-store-text-42")));
      for (const id of ok) {
        assert.equal((await settled(gw, id)).state, StrategyState.COMPLETED);
      }
    },
  );
});

Deno.test("failures: a transient failure while the registry is healthy counts; the strategy fails after maxAttempts", async () => {
  await withFaults(
    (name) => {
      if (name === "flaky") {
        throw new UnavailableError("neo4j unavailable: raw-driver-text");
      }
    },
    { maxAttempts: 4, leaseMs: 5_000 },
    async (gw, { calls }) => {
      const bad = await submit(gw, "flaky");
      const failed = await settled(gw, bad);
      assert.equal(failed.state, StrategyState.FAILED);
      assert.equal(failed.error?.code, "E_UNAVAILABLE");
      assert.equal(
        failed.error?.message,
        "gave up after 4 failed attempts: the registry was unavailable",
      );
      assert.equal(calls.get("flaky"), 4);
    },
  );
});

Deno.test("failures: during a registry outage strategies stay QUEUED, leasing pauses (attempts not spent), and they complete when it returns", async () => {
  const fault = { on: false };
  await withFaults(
    () => {
      if (fault.on) throw new UnavailableError("neo4j unavailable");
    },
    { maxAttempts: 2, leaseMs: 5_000, registryCheckMs: 50 },
    async (gw, { healthy }) => {
      fault.on = true;
      healthy.ok = false;
      const ids = await Promise.all(
        Array.from({ length: 4 }, (_, i) => submit(gw, `out${i}`)),
      );
      // Far longer than two backoffs: with counting, they would be FAILED.
      await new Promise((r) => setTimeout(r, 800));
      for (const id of ids) {
        const s = await state(gw, id);
        assert.equal(s.state, StrategyState.QUEUED, StrategyState[s.state]);
        assert.ok(s.attempts <= 2, `attempts ${s.attempts} during the outage`);
        assert.equal((await gw.service.store.get(id))!.strikes ?? 0, 0);
      }
      assert.ok(gw.logs.some((l) => l.includes("diffs paused")));
      fault.on = false;
      healthy.ok = true;
      for (const id of ids) {
        assert.equal((await settled(gw, id)).state, StrategyState.COMPLETED);
      }
      assert.ok(gw.logs.some((l) => l.includes("diffs resume")));
    },
  );
});

Deno.test("failures: an attempt that never finishes (the worker died each time) counts; the strategy fails after maxAttempts", async () => {
  // Every diff hangs, like a worker that dies mid-diff; the job's lease
  // expires each time and the next lease finds the attempt unfinished.
  const { registry } = faultyRegistry(() => new Promise<void>(() => {}));
  const queue = new MemoryQueue();
  const gw = memoryGateway({
    registry,
    queue,
    worker: { autoStart: false, maxAttempts: 3 },
  });
  try {
    const id = await submit(gw, "crashy");
    // Three attempts die; the fourth lease finds the bound reached.
    for (let i = 0; i < 4; i++) {
      const [job] = await waitFor(
        async () => {
          const j = await queue.lease(1, { leaseMs: 30 });
          return j.length ? j : undefined;
        },
        5_000,
        "a lease",
      );
      if (i > 0) assert.equal(job.lastError, "lease expired");
      // Not awaited: this "worker" dies in the diff.
      void gw.service.processDiffJob(job);
      await waitFor(
        async () =>
          (await state(gw, id)).state !== StrategyState.QUEUED || undefined,
        2_000,
        "PROCESSING",
      );
    }
    const { status: s } = await reaches(
      gw.service.store,
      id,
      StrategyState.FAILED,
      2_000,
    );
    assert.equal(s.error?.details.reason, "attempts_exhausted");
    assert.match(s.error!.message, /did not finish in 3 attempts/);
  } finally {
    await closeAll(gw);
  }
});

Deno.test("failures: the sweep never re-queues a dead letter: the strategy goes FAILED with the reason; requeue() revives it", async () => {
  const queue = new MemoryQueue();
  const gw = memoryGateway({
    queue,
    worker: { autoStart: false, maxAttempts: 1 },
  });
  try {
    const id = await submit(gw, "dead");
    // Exhaust the job's leases (the backstop: 20) without a handler.
    for (let i = 0; i < 20; i++) {
      const [job] = await queue.lease(1, { leaseMs: 5_000 });
      await queue.nack(job.id, job.leaseToken, {
        error: "raw queue text",
        retryAfterMs: 0,
      });
    }
    assert.equal((await queue.stats()).dead, 1);
    await gw.worker.sweep();
    const s = await state(gw, id);
    assert.equal(s.state, StrategyState.FAILED);
    assert.equal(s.error?.details.reason, "dead_letter");
    assert.match(s.error!.message, /given up after 20 attempts/);
    assert.ok(!s.error!.message.includes("raw queue text"));
    // Nothing was re-queued: no ready job, the dead one stays for the operator.
    const stats = await queue.stats();
    assert.equal(stats.ready + stats.delayed + stats.leased, 0);
    assert.equal(stats.dead, 1);
    await gw.worker.sweep();
    assert.equal((await queue.stats()).ready, 0);
    // Operator re-queue: a new generation, its own job.
    const again = await gw.service.requeue(id);
    assert.equal(again.state, StrategyState.QUEUED);
    assert.equal((await gw.service.store.get(id))!.generation, 1);
    const job = await queue.lease(1, { leaseMs: 5_000 });
    assert.equal(job[0].idempotencyKey, diffJobKey(id, 1));
    await queue.nack(job[0].id, job[0].leaseToken, { retryAfterMs: 0 });
    await gw.worker.start();
    assert.equal((await settled(gw, id)).state, StrategyState.COMPLETED);
  } finally {
    await closeAll(gw);
  }
});

Deno.test("submit: accepted work is never answered 409 — the worker taking the job before the submission returns, and duplicates racing on two gateways", async () => {
  const store = new MemoryStrategyStore();
  const queue = fastQueue();
  // The enqueue returns only after a worker moved the strategy on: the
  // old submission wrote the job id after enqueue and lost this race.
  const racing = new Proxy(queue, {
    get(target, prop, receiver) {
      if (prop === "enqueue") {
        return async (...args: Parameters<MemoryQueue["enqueue"]>) => {
          const r = await target.enqueue(...args);
          const id = new TextDecoder().decode(args[1]);
          await waitFor(
            async () => {
              const s = (await store.get(id))?.status.state;
              return s !== undefined && s !== StrategyState.QUEUED;
            },
            5_000,
            "the worker's transition",
          ).catch(() => {});
          return r;
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const registry = new MemoryRegistry();
  const log = new MemoryEventLog();
  const a = memoryGateway({ store, queue: racing, registry, events: log });
  const b = memoryGateway({ store, queue: racing, registry, events: log });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const d = dag(`race${i}`, chain(`race${i}-`, 2));
      const req = { dag: d, version: "1", callbackUrl: "", metadata: {} };
      const [ra, rb] = await Promise.all([
        client(a, tok).submitStrategy(req),
        client(b, tok).submitStrategy(req),
      ]);
      assert.equal(ra.strategyId, rb.strategyId);
      assert.equal(
        [ra.duplicate, rb.duplicate].filter((d) => !d).length,
        1,
        "exactly one created",
      );
      ids.add(ra.strategyId);
    }
    for (const id of ids) {
      const { status } = await reaches(
        store,
        id,
        StrategyState.COMPLETED,
        10_000,
      );
      assert.equal(status.attempts, 1);
    }
    for (const gw of [a, b]) {
      assert.ok(
        !gw.logs.some((l) => l.includes("carried by another job")),
        "no conflict between submission and worker",
      );
      assert.deepEqual(
        gw.logs.filter((l) => JSON.parse(l).level === "error"),
        [],
      );
    }
  } finally {
    await closeShared([a, b], queue, log, registry);
  }
});

Deno.test("submit: a FAILED strategy resubmitted on two gateways at once is queued once, both answered OK", async () => {
  let fail = true;
  const { registry } = faultyRegistry(() => {
    if (fail) throw new RegistryError("E_INVALID", "nope");
  });
  const store = new MemoryStrategyStore();
  const queue = fastQueue();
  const log = new MemoryEventLog();
  const a = memoryGateway({ store, queue, registry, events: log });
  const b = memoryGateway({ store, queue, registry, events: log });
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    const req = {
      dag: dag("again", chain("again-", 2)),
      version: "1",
      callbackUrl: "",
      metadata: {},
    };
    const first = await client(a, tok).submitStrategy(req);
    await reaches(store, first.strategyId, StrategyState.FAILED);
    fail = false;
    const [ra, rb] = await Promise.all([
      client(a, tok).submitStrategy(req),
      client(b, tok).submitStrategy(req),
    ]);
    assert.ok(ra.duplicate && rb.duplicate);
    const done = await reaches(
      store,
      first.strategyId,
      StrategyState.COMPLETED,
    );
    assert.equal(done.generation, 1, "queued again once");
    assert.equal((await queue.stats()).dead, 0);
  } finally {
    await closeShared([a, b], queue, log, registry);
  }
});

Deno.test("worker: a job whose strategy this gateway's store does not know is never acknowledged (left in the queue with the reason)", async () => {
  const queue = fastQueue();
  const registry = new MemoryRegistry();
  const logA = new MemoryEventLog();
  const logB = new MemoryEventLog();
  // Two deployments wrongly sharing one queue, each with its own store.
  const a = memoryGateway({
    queue,
    registry,
    events: logA,
    worker: { autoStart: false },
  });
  const b = memoryGateway({ queue, registry, events: logB });
  try {
    const id = await submit(a, "lost");
    await waitFor(
      () =>
        Promise.resolve(
          b.logs.some((l) => l.includes("does not know")) || undefined,
        ),
      5_000,
      "b leases the foreign job",
    );
    await b.worker.stop();
    const stats = await queue.stats();
    assert.equal(stats.done, 0, "not acknowledged by the wrong gateway");
    // Still there, waiting for its retry, with the reason.
    const { job, created } = await queue.enqueue(
      DIFF_JOB,
      new TextEncoder().encode(id),
      { idempotencyKey: diffJobKey(id, 0) },
    );
    assert.equal(created, false);
    assert.equal(job.state, "delayed");
    assert.match(job.lastError, /unknown to this gateway's store/);
    assert.equal((await state(a, id)).state, StrategyState.QUEUED);
  } finally {
    await closeShared([a, b], queue, logA, logB, registry);
  }
});
