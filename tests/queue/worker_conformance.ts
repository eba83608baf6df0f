// QueueWorker on any WorkQueue backend.
import assert from "node:assert/strict";
import { QueueWorker, RetryJobError } from "../../lib/queue/worker.ts";
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

  withQueue(
    "worker: a RetryJobError gives the job back after its delay, as an expected outcome",
    {},
    async ({ queue: q }) => {
      const [id] = await fill(q, 1);
      const runs: number[] = [];
      const failures: [string, string, string][] = [];
      const w = new QueueWorker(q, (job) => {
        runs.push(Date.now());
        if (job.attempts === 1) throw new RetryJobError("HTTP 503", 400);
      }, {
        blockMs: 50,
        retryAfterMs: 0, // other failures: at once; this one waits 400 ms
        onFailed: (job, e, r) =>
          failures.push([job.id, (e as Error).message, r.state]),
      });
      w.start();
      await until("completion", () => w.completed === 1);
      await w.stop();
      assert.deepEqual(failures, [[id, "HTTP 503", "delayed"]]);
      assert.equal(runs.length, 2);
      assert.ok(
        runs[1] - runs[0] >= 350,
        `retried after ${runs[1] - runs[0]} ms`,
      );
    },
  );

  withQueue(
    "worker: while `ready` answers false (or throws) no job is leased",
    {},
    async ({ queue: q }) => {
      await fill(q, 3);
      let ready = false;
      let asked = 0;
      const errors: unknown[] = [];
      const w = new QueueWorker(q, () => {}, {
        blockMs: 50,
        ready: () => {
          asked++;
          if (asked === 2) throw new Error("probe failed");
          return ready;
        },
        onError: (e) => errors.push(e),
      });
      w.start();
      await until("asked 4 times", () => asked >= 4);
      const s = await q.stats();
      assert.deepEqual([s.ready, s.leased, w.completed], [3, 0, 0]);
      assert.ok(w.alive, "a gated worker is alive");
      assert.deepEqual(errors.map((e) => (e as Error).message), [
        "probe failed",
      ]);
      ready = true;
      await until("3 completions", () => w.completed === 3);
      await w.stop();
      assert.ok(!w.alive, "a stopped worker is not alive");
    },
  );

  withQueue(
    "worker: stop(graceMs) releases a hung handler's job with its attempt returned",
    {},
    async ({ queue: q }) => {
      const [id] = await fill(q, 1);
      const { promise: hang, resolve: unhang } = Promise.withResolvers<void>();
      let started = false;
      const errors: unknown[] = [];
      const w = new QueueWorker(q, async () => {
        started = true;
        await hang;
      }, { blockMs: 50, onError: (e) => errors.push(e) });
      w.start();
      await until("the handler runs", () => started);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopped = await Promise.race([
        w.stop(100).then(() => true),
        new Promise<boolean>((r) => timer = setTimeout(() => r(false), 3_000)),
      ]);
      clearTimeout(timer);
      assert.ok(stopped, "stop(100) returned within 3 s");
      const s = await q.stats();
      assert.deepEqual([s.ready, s.leased], [1, 0]);
      const [again] = await q.lease(1, { leaseMs: 10_000 });
      assert.deepEqual([again.id, again.attempts], [id, 1]);
      // The late handler's ack finds its lease gone: reported, not applied.
      unhang();
      await until("the late ack is refused", () => errors.length === 1);
      assert.equal((errors[0] as Error).name, "LeaseLostError");
      await q.ack(again.id, again.leaseToken);
    },
  );

  withQueue(
    "worker: an ack that fails in a way that may pass is repeated until it lands",
    {},
    async ({ queue: q }) => {
      await fill(q, 2);
      let failing = 3;
      const flaky = new Proxy(q, {
        get(target, p) {
          if (p === "ack") {
            return (...a: Parameters<WorkQueue["ack"]>) => {
              if (failing-- > 0) {
                return Promise.reject(new Error("connection lost"));
              }
              return target.ack(...a);
            };
          }
          const v = Reflect.get(target, p);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const errors: unknown[] = [];
      const w = new QueueWorker(flaky, () => {}, {
        onError: (e) => errors.push(e),
      });
      w.start();
      await until("2 completions", () => w.completed === 2);
      await w.stop();
      assert.deepEqual(errors, []);
      assert.ok(failing < 0, "the failing acks were tried");
      const s = await q.stats();
      assert.deepEqual([s.leased, s.done], [0, 2]);
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
