// One conformance suite for every WorkQueue backend.
import assert from "node:assert/strict";
import { LeaseLostError } from "../../lib/queue/errors.ts";
import type {
  BackoffOptions,
  LeasedJob,
  WorkQueue,
} from "../../lib/queue/types.ts";

/** Options a test asks of a fresh queue. */
export interface QueueSetup {
  backoff?: BackoffOptions;
  defaultMaxAttempts?: number;
}

/** A fresh, empty queue for one test, plus a way to open more handles on it. */
export interface QueueFixture {
  /** The first handle. */
  queue: WorkQueue;
  /** Another handle on the same queue (a new connection for Redis). */
  open(): Promise<WorkQueue>;
  /** Closes every handle and deletes the queue's data. */
  cleanup(): Promise<void>;
}

/** Registers a Deno.test. */
export type Register = (
  name: string,
  fn: () => Promise<void>,
) => void;

/**
 * A registrar of tests on fresh fixtures: `(name, setup, fn)` registers a
 * test that runs `fn` on `make(setup)` and cleans the fixture up afterwards,
 * whether `fn` passed or not.
 */
export function onFreshFixture<S, F extends { cleanup(): Promise<void> }>(
  register: Register,
  make: (setup: S) => Promise<F>,
): (name: string, setup: S, fn: (f: F) => Promise<void>) => void {
  return (name, setup, fn) =>
    register(name, async () => {
      const f = await make(setup);
      try {
        await fn(f);
      } finally {
        await f.cleanup();
      }
    });
}

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers the whole suite with `register`, each test on a fresh fixture. */
export function queueConformance(
  register: Register,
  make: (setup: QueueSetup) => Promise<QueueFixture>,
): void {
  const withQueue = onFreshFixture(register, make);

  withQueue("enqueue is idempotent per key", {}, async ({ queue: q }) => {
    const a = await q.enqueue("diff", enc.encode("a"), {
      idempotencyKey: "k1",
    });
    const b = await q.enqueue("diff", enc.encode("other"), {
      idempotencyKey: "k1",
    });
    const c = await q.enqueue("diff", enc.encode("c"), {
      idempotencyKey: "k2",
    });
    const d1 = await q.enqueue("diff", enc.encode("d"));
    const d2 = await q.enqueue("diff", enc.encode("d"));
    assert.ok(a.created);
    assert.ok(!b.created);
    assert.deepEqual(b.job.id, a.job.id);
    assert.deepEqual(b.job.payload, enc.encode("a"));
    assert.ok(c.created && c.job.id !== a.job.id);
    assert.ok(d1.created && d2.created && d1.job.id !== d2.job.id);
    assert.deepEqual(a.job.state, "ready");
    assert.deepEqual(a.job.attempts, 0);
    assert.deepEqual(a.job.idempotencyKey, "k1");
    assert.deepEqual(a.job.kind, "diff");
    assert.deepEqual((await q.stats()).ready, 4);
    // Still idempotent while leased and after done.
    const [l] = await q.lease(1, { leaseMs: 10_000 });
    assert.deepEqual(l.id, a.job.id);
    assert.deepEqual(
      (await q.enqueue("diff", enc.encode("x"), { idempotencyKey: "k1" }))
        .created,
      false,
    );
    await q.ack(l.id, l.leaseToken);
    const again = await q.enqueue("diff", enc.encode("x"), {
      idempotencyKey: "k1",
    });
    assert.deepEqual(again.created, false);
    assert.deepEqual(again.job.state, "done");
  });

  withQueue("payload bytes round-trip unchanged", {}, async ({ queue: q }) => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const { job } = await q.enqueue("bin", bytes);
    assert.deepEqual((await q.get(job.id))!.payload, bytes);
    const [l] = await q.lease(1, { leaseMs: 10_000 });
    assert.deepEqual(l.payload, bytes);
    const empty = await q.enqueue("bin", new Uint8Array());
    assert.deepEqual((await q.get(empty.job.id))!.payload, new Uint8Array());
  });

  withQueue(
    "lease is exclusive: 20 workers, 500 jobs, each processed once",
    {},
    async (f) => {
      const total = 500;
      const ids = new Set<string>();
      for (let i = 0; i < total; i += 50) {
        const batch = await Promise.all(
          Array.from(
            { length: 50 },
            (_, j) => f.queue.enqueue("w", enc.encode(String(i + j))),
          ),
        );
        for (const r of batch) ids.add(r.job.id);
      }
      const handles = [
        f.queue,
        ...await Promise.all(Array.from({ length: 3 }, () => f.open())),
      ];
      const holding = new Set<string>();
      const processed = new Map<string, number>();
      let overlaps = 0;
      const deadline = Date.now() + 30_000;
      const worker = async (q: WorkQueue) => {
        while (Date.now() < deadline) {
          let doneTotal = 0;
          for (const n of processed.values()) doneTotal += n;
          if (doneTotal >= total) return;
          const jobs = await q.lease(5, { leaseMs: 20_000, blockMs: 50 });
          for (const j of jobs) {
            if (holding.has(j.id)) overlaps++;
            holding.add(j.id);
          }
          await sleep(0);
          for (const j of jobs) {
            holding.delete(j.id);
            processed.set(j.id, (processed.get(j.id) ?? 0) + 1);
            await q.ack(j.id, j.leaseToken);
          }
        }
      };
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => worker(handles[i % handles.length]),
        ),
      );
      assert.deepEqual(overlaps, 0);
      assert.deepEqual(processed.size, total);
      for (const [id, n] of processed) {
        assert.ok(ids.has(id));
        assert.deepEqual(n, 1, `job ${id} processed ${n} times`);
      }
      const s = await f.queue.stats();
      assert.deepEqual({
        ready: s.ready,
        leased: s.leased,
        delayed: s.delayed,
        dead: s.dead,
        done: s.done,
      }, {
        ready: 0,
        leased: 0,
        delayed: 0,
        dead: 0,
        done: total,
      });
    },
  );

  withQueue(
    "an expired lease comes back with a new token",
    {},
    async ({ queue: q }) => {
      const { job } = await q.enqueue("diff", enc.encode("x"));
      const [first] = await q.lease(1, { leaseMs: 150 });
      assert.deepEqual(first.id, job.id);
      assert.deepEqual(first.attempts, 1);
      assert.deepEqual(await q.lease(1, { leaseMs: 150 }), []);
      await sleep(250);
      const [second] = await q.lease(1, { leaseMs: 5_000 });
      assert.deepEqual(second.id, job.id);
      assert.deepEqual(second.attempts, 2);
      assert.ok(second.leaseToken !== first.leaseToken);
      assert.deepEqual(second.lastError, "lease expired");
      await assert.rejects(
        () => q.ack(first.id, first.leaseToken),
        {
          name: "LeaseLostError",
          reason: "token-mismatch",
        },
      );
      await q.ack(second.id, second.leaseToken);
      assert.deepEqual((await q.get(job.id))!.state, "done");
    },
  );

  withQueue(
    "an expired but unreclaimed lease is lost",
    {},
    async ({ queue: q }) => {
      await q.enqueue("diff", enc.encode("x"));
      const [l] = await q.lease(1, { leaseMs: 100 });
      await sleep(180);
      await assert.rejects(
        () => q.ack(l.id, l.leaseToken),
        {
          name: "LeaseLostError",
          reason: "expired",
        },
      );
      await assert.rejects(
        () => q.extendLease(l.id, l.leaseToken, 1_000),
        LeaseLostError,
      );
    },
  );

  withQueue(
    "nack retries and keeps the last error",
    {},
    async ({ queue: q }) => {
      const { job } = await q.enqueue("diff", enc.encode("x"), {
        maxAttempts: 3,
      });
      const [a] = await q.lease(1, { leaseMs: 5_000 });
      const r = await q.nack(a.id, a.leaseToken, {
        retryAfterMs: 0,
        error: "neo4j down",
      });
      assert.deepEqual(r.state, "ready");
      assert.deepEqual(r.attempts, 1);
      const got = await q.get(job.id);
      assert.deepEqual(got!.state, "ready");
      assert.deepEqual(got!.lastError, "neo4j down");
      const [b] = await q.lease(1, { leaseMs: 5_000 });
      assert.deepEqual(b.id, job.id);
      assert.deepEqual(b.attempts, 2);
      assert.deepEqual(b.lastError, "neo4j down");
      await assert.rejects(
        () => q.nack(a.id, a.leaseToken),
        LeaseLostError,
      );
    },
  );

  withQueue(
    "nack without retryAfterMs backs off exponentially with jitter",
    { backoff: { baseMs: 200, maxMs: 1_000 } },
    async ({ queue: q }) => {
      const { job } = await q.enqueue("diff", enc.encode("x"), {
        maxAttempts: 10,
      });
      const [a] = await q.lease(1, { leaseMs: 5_000 });
      const t0 = Date.now();
      const r = await q.nack(a.id, a.leaseToken, { error: "e" });
      assert.deepEqual(r.state, "delayed");
      const d1 = r.notBeforeMs - t0;
      assert.ok(
        d1 >= 100 - 50 && d1 <= 200 + 50,
        `first delay ${d1} not in [100,200]`,
      );
      assert.deepEqual((await q.get(job.id))!.state, "delayed");
      assert.deepEqual(await q.lease(1, { leaseMs: 5_000 }), []);
      const [b] = await q.lease(1, { leaseMs: 5_000, blockMs: 1_000 });
      assert.deepEqual(b?.id, job.id);
      assert.ok(Date.now() - t0 >= 90, "leased before the backoff elapsed");
      const t1 = Date.now();
      const r2 = await q.nack(b.id, b.leaseToken, { error: "e" });
      const d2 = r2.notBeforeMs - t1;
      assert.ok(
        d2 >= 200 - 50 && d2 <= 400 + 50,
        `second delay ${d2} not in [200,400]`,
      );
      assert.deepEqual((await q.stats()).delayed, 1);
    },
  );

  withQueue(
    "dead-letters after maxAttempts with the last error",
    {},
    async ({ queue: q }) => {
      const { job } = await q.enqueue("diff", enc.encode("x"), {
        maxAttempts: 2,
      });
      const [a] = await q.lease(1, { leaseMs: 5_000 });
      await q.nack(a.id, a.leaseToken, { retryAfterMs: 0, error: "first" });
      const [b] = await q.lease(1, { leaseMs: 5_000 });
      const r = await q.nack(b.id, b.leaseToken, {
        retryAfterMs: 0,
        error: "second",
      });
      assert.deepEqual(r, { state: "dead", attempts: 2, notBeforeMs: 0 });
      const dead = await q.get(job.id);
      assert.deepEqual(dead!.state, "dead");
      assert.deepEqual(dead!.lastError, "second");
      assert.deepEqual(await q.lease(1, { leaseMs: 5_000 }), []);
      const listed = await q.listDead();
      assert.deepEqual(listed.map((j) => [j.id, j.lastError]), [[
        job.id,
        "second",
      ]]);
      assert.deepEqual((await q.stats()).dead, 1);
      assert.ok(await q.requeueDead(job.id));
      assert.ok(!(await q.requeueDead(job.id)));
      const back = await q.get(job.id);
      assert.deepEqual([back!.state, back!.attempts], ["ready", 0]);
      assert.deepEqual((await q.stats()).dead, 0);
      const [c] = await q.lease(1, { leaseMs: 5_000 });
      assert.deepEqual(c.id, job.id);
    },
  );

  withQueue(
    "an expired lease on the last attempt dead-letters",
    {},
    async ({ queue: q }) => {
      const { job } = await q.enqueue("diff", enc.encode("x"), {
        maxAttempts: 1,
      });
      await q.lease(1, { leaseMs: 80 });
      await sleep(150);
      assert.deepEqual(await q.lease(1, { leaseMs: 80 }), []);
      const dead = await q.get(job.id);
      assert.deepEqual([dead!.state, dead!.lastError], [
        "dead",
        "lease expired",
      ]);
    },
  );

  withQueue(
    "delayed jobs become leasable after delayMs",
    {},
    async ({ queue: q }) => {
      const t0 = Date.now();
      const { job } = await q.enqueue("diff", enc.encode("x"), {
        delayMs: 250,
      });
      await q.enqueue("now", enc.encode("y"));
      assert.deepEqual(job.state, "delayed");
      assert.ok(job.notBeforeMs - job.createdAtMs === 250);
      const first = await q.lease(5, { leaseMs: 5_000 });
      assert.deepEqual(first.map((j) => j.kind), ["now"]);
      assert.deepEqual((await q.stats()).delayed, 1);
      const [later] = await q.lease(1, { leaseMs: 5_000, blockMs: 2_000 });
      assert.deepEqual(later?.id, job.id);
      assert.ok(Date.now() - t0 >= 240, "delayed job leased too early");
    },
  );

  withQueue(
    "extendLease keeps a job past its first expiry",
    {},
    async ({ queue: q }) => {
      await q.enqueue("diff", enc.encode("x"));
      const [l] = await q.lease(1, { leaseMs: 200 });
      const until = await q.extendLease(l.id, l.leaseToken, 2_000);
      assert.ok(until >= l.leaseExpiresAtMs + 1_500);
      await sleep(300);
      assert.deepEqual(await q.lease(1, { leaseMs: 200 }), []);
      await q.ack(l.id, l.leaseToken);
      await assert.rejects(
        () => q.extendLease(l.id, "nope", 1_000),
        {
          name: "LeaseLostError",
          reason: "not-leased",
        },
      );
    },
  );

  withQueue(
    "wrong or unknown lease tokens raise LeaseLostError",
    {},
    async ({ queue: q }) => {
      await q.enqueue("diff", enc.encode("x"));
      const [l] = await q.lease(1, { leaseMs: 5_000 });
      await assert.rejects(
        () => q.ack(l.id, "bogus"),
        {
          name: "LeaseLostError",
          reason: "token-mismatch",
        },
      );
      await assert.rejects(
        () => q.nack(l.id, "bogus"),
        {
          name: "LeaseLostError",
          reason: "token-mismatch",
        },
      );
      await assert.rejects(
        () => q.ack("no-such-job", "x"),
        {
          name: "LeaseLostError",
          reason: "unknown-job",
        },
      );
      await q.ack(l.id, l.leaseToken);
      await q.ack(l.id, l.leaseToken); // a repeated ack is a no-op
      await assert.rejects(
        () => q.ack(l.id, "bogus"),
        {
          name: "LeaseLostError",
          reason: "not-leased",
        },
      );
      const { job } = await q.enqueue("diff", enc.encode("y"));
      await assert.rejects(
        () => q.ack(job.id, "x"),
        {
          name: "LeaseLostError",
          reason: "not-leased",
        },
      );
    },
  );

  withQueue("stats count every state", {}, async ({ queue: q }) => {
    assert.deepEqual(await q.stats(), {
      ready: 0,
      delayed: 0,
      leased: 0,
      done: 0,
      dead: 0,
    });
    for (let i = 0; i < 5; i++) await q.enqueue("k", enc.encode(String(i)));
    await q.enqueue("k", enc.encode("later"), { delayMs: 60_000 });
    await q.enqueue("k", enc.encode("doomed"), { maxAttempts: 1 });
    const leased: LeasedJob[] = await q.lease(6, { leaseMs: 10_000 });
    assert.deepEqual(leased.length, 6);
    await q.ack(leased[0].id, leased[0].leaseToken);
    await q.ack(leased[1].id, leased[1].leaseToken);
    const doomed = leased.find((j) => j.maxAttempts === 1)!;
    await q.nack(doomed.id, doomed.leaseToken, { error: "bad" });
    assert.deepEqual(await q.stats(), {
      ready: 0,
      delayed: 1,
      leased: 3,
      done: 2,
      dead: 1,
    });
  });

  withQueue(
    "lease with blockMs wakes up for a new job, bounded",
    {},
    async (f) => {
      const q = f.queue;
      const t0 = Date.now();
      assert.deepEqual(await q.lease(1, { leaseMs: 1_000, blockMs: 150 }), []);
      const waited = Date.now() - t0;
      assert.ok(
        waited >= 140 && waited < 1_500,
        `empty lease waited ${waited} ms`,
      );
      const other = await f.open();
      const p = q.lease(1, { leaseMs: 1_000, blockMs: 3_000 });
      await sleep(50);
      const t1 = Date.now();
      await other.enqueue("k", enc.encode("x"));
      const got = await p;
      assert.deepEqual(got.length, 1);
      assert.ok(
        Date.now() - t1 < 1_000,
        "blocked lease did not wake up promptly",
      );
    },
  );

  withQueue(
    "enqueueMany adds jobs in order, idempotent within and across calls",
    {},
    async ({ queue: q }) => {
      const first = await q.enqueue("diff", enc.encode("x"), {
        idempotencyKey: "old",
      });
      const res = await q.enqueueMany([
        { kind: "a", payload: enc.encode("1"), idempotencyKey: "k1" },
        { kind: "b", payload: enc.encode("2"), maxAttempts: 2 },
        { kind: "c", payload: enc.encode("3"), idempotencyKey: "k1" },
        { kind: "d", payload: enc.encode("4"), idempotencyKey: "old" },
        { kind: "e", payload: enc.encode("5"), delayMs: 60_000 },
      ]);
      assert.deepEqual(res.map((r) => r.created), [
        true,
        true,
        false,
        false,
        true,
      ]);
      assert.deepEqual(res[2].job.id, res[0].job.id);
      assert.deepEqual(res[2].job.payload, enc.encode("1"));
      assert.deepEqual(res[3].job.id, first.job.id);
      assert.deepEqual(res[3].job.kind, "diff");
      assert.deepEqual(res[1].job.maxAttempts, 2);
      assert.deepEqual(res[4].job.state, "delayed");
      assert.ok(res[4].job.notBeforeMs >= res[4].job.createdAtMs + 60_000);
      for (const r of res) {
        assert.deepEqual(await q.get(r.job.id), r.job);
      }
      assert.deepEqual(await q.enqueueMany([]), []);
      const leased = await q.lease(10, { leaseMs: 10_000 });
      assert.deepEqual(leased.map((j) => j.kind), ["diff", "a", "b"]);
      const s = await q.stats();
      assert.deepEqual([s.ready, s.leased, s.delayed], [0, 3, 1]);
    },
  );

  withQueue(
    "enqueueMany checks every job first: one bad job enqueues nothing",
    {},
    async ({ queue: q }) => {
      const ok = { kind: "a", payload: enc.encode("1") };
      await assert.rejects(
        () =>
          q.enqueueMany([
            ok,
            { kind: "b", payload: enc.encode("2"), delayMs: -5 },
          ]),
        { code: "E_INVALID", message: /jobs\[1\]\.delayMs/ },
      );
      await assert.rejects(
        () =>
          q.enqueueMany([
            ok,
            { kind: "", payload: enc.encode("2") },
          ]),
        { message: /jobs\[1\]\.kind/ },
      );
      await assert.rejects(
        () =>
          q.enqueueMany([
            { kind: "x", payload: "text" as unknown as Uint8Array },
          ]),
        { message: /jobs\[0\]\.payload/ },
      );
      await assert.rejects(
        () => q.enqueueMany("nope" as unknown as []),
        { message: /jobs must be an array/ },
      );
      const s = await q.stats();
      assert.deepEqual([s.ready, s.delayed], [0, 0]);
    },
  );

  withQueue(
    "concurrent enqueues each get their own job, in call order",
    {},
    async ({ queue: q }) => {
      const res = await Promise.all(
        Array.from(
          { length: 120 },
          (_, i) => q.enqueue("c", enc.encode(String(i))),
        ),
      );
      assert.deepEqual(new Set(res.map((r) => r.job.id)).size, 120);
      const leased = await q.lease(200, { leaseMs: 10_000 });
      assert.deepEqual(
        leased.map((j) => new TextDecoder().decode(j.payload)),
        Array.from({ length: 120 }, (_, i) => String(i)),
      );
    },
  );

  withQueue(
    "release gives an untouched job back first, its attempt returned",
    { defaultMaxAttempts: 1 },
    async ({ queue: q }) => {
      await q.enqueue("r", enc.encode("1"));
      await q.enqueue("r", enc.encode("2"));
      const [a] = await q.lease(1, { leaseMs: 10_000 });
      assert.deepEqual(a.attempts, 1);
      await q.release(a.id, a.leaseToken);
      await assert.rejects(
        () => q.ack(a.id, a.leaseToken),
        {
          name: "LeaseLostError",
          reason: "not-leased",
        },
      );
      await assert.rejects(
        () => q.release(a.id, a.leaseToken),
        LeaseLostError,
      );
      const job = await q.get(a.id);
      assert.deepEqual([job!.state, job!.attempts], ["ready", 0]);
      // Back at the head, and with maxAttempts 1 it can still run once.
      const [b] = await q.lease(1, { leaseMs: 10_000 });
      assert.deepEqual([b.id, b.attempts], [a.id, 1]);
      assert.ok(b.leaseToken !== a.leaseToken);
      await q.ack(b.id, b.leaseToken);
      await assert.rejects(
        () => q.release(b.id, b.leaseToken),
        LeaseLostError,
      );
      await assert.rejects(
        () => q.release("no-such-job", "t"),
        LeaseLostError,
      );
    },
  );

  withQueue("rejects invalid arguments", {}, async ({ queue: q }) => {
    await assert.rejects(
      () => q.enqueue("", new Uint8Array()),
    );
    await assert.rejects(
      () => q.enqueue("k", new Uint8Array(), { maxAttempts: 0 }),
    );
    await assert.rejects(
      () => q.enqueue("k", new Uint8Array(), { delayMs: -1 }),
    );
    await assert.rejects(
      () => q.lease(0, { leaseMs: 1_000 }),
    );
    await assert.rejects(
      () => q.lease(1, { leaseMs: 0 }),
    );
  });
}
