// QueueWorker on any WorkQueue backend.
import assert from "node:assert/strict";
import { QueueWorker } from "../../lib/queue/worker.ts";
import type { LeasedJob, WorkQueue } from "../../lib/queue/types.ts";
import {
  onFreshFixture,
  type QueueFixture,
  type QueueSetup,
  type Register,
} from "./queue_conformance.ts";

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function fill(q: WorkQueue, n: number, kind = "w"): Promise<string[]> {
  const r = await q.enqueueMany(
    Array.from({ length: n }, (_, i) => ({
      kind,
      payload: enc.encode(String(i)),
    })),
  );
  return r.map((x) => x.job.id);
}

/** Registers the worker suite. */
export function workerConformance(
  register: Register,
  make: (setup: QueueSetup) => Promise<QueueFixture>,
): void {
  const withQueue = onFreshFixture(register, make);

  withQueue(
    "worker: every job once, never more than `concurrency` at a time",
    {},
    async ({ queue: q }) => {
      const ids = await fill(q, 300);
      const seen = new Map<string, number>();
      let running = 0;
      let peak = 0;
      const errors: unknown[] = [];
      const w = new QueueWorker(q, async (job) => {
        running++;
        peak = Math.max(peak, running);
        seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
        if (job.id.charCodeAt(0) % 3 === 0) await sleep(1);
        running--;
      }, { concurrency: 4, onError: (e) => errors.push(e) });
      w.start();
      await until("300 completions", () => w.completed === 300);
      await w.stop();
      assert.deepEqual(errors, []);
      assert.ok(peak <= 4, `peak ${peak}`);
      assert.deepEqual(seen.size, 300);
      for (const id of ids) assert.deepEqual(seen.get(id), 1);
      const s = await q.stats();
      assert.deepEqual([s.ready, s.leased, s.done], [0, 0, 300]);
    },
  );

  withQueue(
    "worker: a failing handler's job is retried, then dead-lettered",
    { defaultMaxAttempts: 3 },
    async ({ queue: q }) => {
      const [id] = await fill(q, 1);
      const failures: [LeasedJob, string][] = [];
      const w = new QueueWorker(q, (job) => {
        throw new Error(`boom ${job.attempts}`);
      }, {
        retryAfterMs: 0,
        onFailed: (job, _e, r) => failures.push([job, r.state]),
      });
      w.start();
      await until("3 failures", () => failures.length === 3);
      await w.stop();
      assert.deepEqual(failures.map(([j, s]) => [j.id, j.attempts, s]), [
        [id, 1, "ready"],
        [id, 2, "ready"],
        [id, 3, "dead"],
      ]);
      assert.deepEqual(w.failed, 3);
      const dead = await q.listDead();
      assert.deepEqual(dead.map((j) => [j.id, j.lastError]), [[id, "boom 3"]]);
    },
  );

  withQueue(
    "worker: stop releases prefetched jobs with their attempt returned",
    {},
    async ({ queue: q }) => {
      await fill(q, 40);
      let started = 0;
      const w = new QueueWorker(q, async () => {
        started++;
        await sleep(30);
      }, { concurrency: 2, prefetch: 10 });
      w.start();
      await until("a few jobs", () => w.completed >= 4);
      await w.stop();
      const s = await q.stats();
      assert.deepEqual(s.leased, 0);
      assert.deepEqual(s.done, started);
      assert.deepEqual(s.ready, 40 - started);
      const rest = await q.lease(40, { leaseMs: 10_000 });
      assert.deepEqual(rest.length, 40 - started);
      for (const j of rest) assert.deepEqual(j.attempts, 1, j.id);
    },
  );

  withQueue(
    "worker: a handler longer than the lease keeps it (renewed), no one else runs the job",
    {},
    async (f) => {
      const [id] = await fill(f.queue, 1);
      const other = await f.open();
      const errors: unknown[] = [];
      let stolen = 0;
      const w = new QueueWorker(f.queue, async () => {
        for (let i = 0; i < 8; i++) {
          await sleep(100);
          stolen += (await other.lease(1, { leaseMs: 5_000 })).length;
        }
      }, { leaseMs: 300, onError: (e) => errors.push(e) });
      w.start();
      await until("completion", () => w.completed === 1);
      await w.stop();
      assert.deepEqual(errors, []);
      assert.deepEqual(stolen, 0);
      const job = await f.queue.get(id);
      assert.deepEqual([job!.state, job!.attempts], ["done", 1]);
    },
  );

  withQueue(
    "worker: prefetched jobs that waited keep their leases (renewed), none is lost",
    {},
    async ({ queue: q }) => {
      await fill(q, 4);
      const errors: unknown[] = [];
      const attempts: number[] = [];
      const w = new QueueWorker(q, async (job) => {
        attempts.push(job.attempts);
        await sleep(150);
      }, {
        concurrency: 1,
        prefetch: 3,
        leaseMs: 250,
        onError: (e) => errors.push(e),
      });
      w.start();
      await until("4 completions", () => w.completed === 4);
      await w.stop();
      assert.deepEqual(errors, []);
      assert.deepEqual(attempts, [1, 1, 1, 1]);
    },
  );

  withQueue("worker: rejects bad options", {}, ({ queue: q }) => {
    for (
      const o of [{ concurrency: 0 }, { leaseMs: 0 }, { prefetch: -1 }, {
        blockMs: 1.5,
      }, { retryAfterMs: -1 }]
    ) {
      let threw = false;
      try {
        new QueueWorker(q, () => {}, o);
      } catch (e) {
        threw = (e as { code?: string }).code === "E_INVALID";
      }
      assert.ok(threw, JSON.stringify(o));
    }
    return Promise.resolve();
  });
}
