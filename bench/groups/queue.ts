/**
 * Queue: `RedisQueue` enqueue and process throughput against BullMQ (pinned
 * in deno.json) on the same Redis master, at 1 / 4 / 16 / 64 workers, with
 * `WAIT` off (BullMQ's guarantee) and `WAIT 1`, plus `redis-benchmark`
 * LPUSH on the same master as the raw ceiling — all in the same run.
 *
 * Process model, identical for both libraries: one Deno process; `c`
 * concurrent producers each awaiting one enqueue / `Queue.add` at a time,
 * then each library's worker with `concurrency: c` (our `QueueWorker` at its
 * default prefetch; BullMQ's `Worker`), no-op job body, 64-byte payload,
 * each phase bounded in jobs and time. A job counts as processed when its
 * acknowledgement is stored (`onCompleted` / BullMQ's `completed` event).
 * Also measured, without a peer: `c` slots each doing `lease(1)` + `ack`
 * through the plain `WorkQueue` API. The batch APIs (`enqueueMany` /
 * `addBulk`, 100 jobs per call) are compared once. BullMQ jobs get
 * `attempts: 5` and `removeOnComplete: {age: 3600}`, mirroring our defaults.
 *
 * @module
 */

import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { parseRedisUrl, redisOptions } from "../../lib/queue/connection.ts";
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
import { QueueWorker } from "../../lib/queue/worker.ts";
import { output } from "../harness/process.ts";
import type {
  BenchGroup,
  Figure,
  GroupContext,
  GroupReport,
} from "../harness/types.ts";
import denoJson from "../../deno.json" with { type: "json" };

const BULLMQ = denoJson.imports.bullmq.replace(/^npm:bullmq@/, "");

interface Phase {
  perS: number;
  done: number;
  of: number;
}

interface Result {
  enqueue: Phase;
  process: Phase;
  /** lease(1) + ack per slot through the WorkQueue API (WAIT off only). */
  api?: Phase;
}

const phase = (done: number, of: number, ms: number): Phase => ({
  perS: done / (ms / 1000),
  done,
  of,
});

const PAYLOAD = "x".repeat(64);
const PAYLOAD_BYTES = new TextEncoder().encode(PAYLOAD);

async function pool(
  n: number,
  total: number,
  deadline: number,
  fn: () => Promise<void>,
) {
  let started = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (started < total && Date.now() < deadline) {
      started++;
      await fn();
    }
  }));
  return started;
}

async function ours(
  url: string,
  tag: string,
  conc: number,
  jobs: number,
  maxMs: number,
  waitReplicas: number,
  withApi: boolean,
): Promise<Result> {
  const q = new RedisQueue({
    url,
    keyPrefix: `{qmtl:bench:${tag}:c${conc}:w${waitReplicas}}`,
    waitReplicas,
  });
  try {
    let t = performance.now();
    const enqueued = await pool(conc, jobs, Date.now() + maxMs, async () => {
      await q.enqueue("bench", PAYLOAD_BYTES);
    });
    const enqueue = phase(enqueued, jobs, performance.now() - t);
    let processed = 0;
    const errors: unknown[] = [];
    const { promise: done, resolve } = Promise.withResolvers<void>();
    const worker = new QueueWorker(q, () => {}, {
      concurrency: conc,
      leaseMs: 60_000,
      blockMs: 200,
      onCompleted: () => {
        if (++processed >= enqueued) resolve();
      },
      onError: (e) => errors.push(e),
    });
    t = performance.now();
    worker.start();
    await within(done, maxMs);
    const process = phase(processed, enqueued, performance.now() - t);
    await worker.stop();
    if (errors.length > 0) {
      throw new Error(
        `QueueWorker reported ${errors.length} error(s): ${errors[0]}`,
      );
    }
    let api: Phase | undefined;
    if (withApi) {
      const n = Math.min(jobs, 5_000);
      for (let i = 0; i < n; i += 100) {
        await q.enqueueMany(
          Array.from({ length: Math.min(100, n - i) }, () => ({
            kind: "bench",
            payload: PAYLOAD_BYTES,
          })),
        );
      }
      let acked = 0;
      const deadline = Date.now() + maxMs;
      t = performance.now();
      await Promise.all(Array.from({ length: conc }, async () => {
        while (acked < n && Date.now() < deadline) {
          const leased = await q.lease(1, { leaseMs: 60_000, blockMs: 200 });
          for (const j of leased) {
            await q.ack(j.id, j.leaseToken);
            acked++;
          }
        }
      }));
      api = phase(acked, n, performance.now() - t);
    }
    return { enqueue, process, api };
  } finally {
    await q.purge();
    await q.close();
  }
}

async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p,
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]);
  clearTimeout(timer);
}

/** enqueueMany vs addBulk, `batch` jobs per call, one caller. */
async function batches(
  url: string,
  tag: string,
  jobs: number,
  batch: number,
  maxMs: number,
): Promise<{ ours: Phase; bull: Phase }> {
  const q = new RedisQueue({
    url,
    keyPrefix: `{qmtl:bench:${tag}:many}`,
    waitReplicas: 0,
  });
  const connection = new Redis(
    redisOptions(parseRedisUrl(url), {
      maxRetriesPerRequest: null,
      commandTimeoutMs: 0,
    }),
  );
  const queue = new Queue("bench", {
    connection,
    prefix: `{qmtl-bench-bull-${tag}-many}`,
  });
  const run = async (add: (n: number) => Promise<void>) => {
    const deadline = Date.now() + maxMs;
    const t = performance.now();
    let done = 0;
    while (done < jobs && Date.now() < deadline) {
      const n = Math.min(batch, jobs - done);
      await add(n);
      done += n;
    }
    return phase(done, jobs, performance.now() - t);
  };
  try {
    const ours = await run(async (n) => {
      await q.enqueueMany(
        Array.from({ length: n }, () => ({
          kind: "bench",
          payload: PAYLOAD_BYTES,
        })),
      );
    });
    const bull = await run(async (n) => {
      await queue.addBulk(
        Array.from({ length: n }, () => ({
          name: "bench",
          data: { p: PAYLOAD },
          opts: { removeOnComplete: { age: 3_600 }, attempts: 5 },
        })),
      );
    });
    return { ours, bull };
  } finally {
    await q.purge();
    await q.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}

async function bull(
  url: string,
  tag: string,
  conc: number,
  jobs: number,
  maxMs: number,
): Promise<Result> {
  const parsed = parseRedisUrl(url);
  const connection = new Redis(
    redisOptions(parsed, { maxRetriesPerRequest: null, commandTimeoutMs: 0 }),
  );
  const workerConnection = new Redis(
    redisOptions(parsed, { maxRetriesPerRequest: null, commandTimeoutMs: 0 }),
  );
  const prefix = `{qmtl-bench-bull-${tag}-c${conc}}`;
  const queue = new Queue("bench", { connection, prefix });
  let worker: Worker | undefined;
  try {
    let t = performance.now();
    const enqueued = await pool(conc, jobs, Date.now() + maxMs, async () => {
      await queue.add("bench", { p: PAYLOAD }, {
        removeOnComplete: { age: 3_600 },
        attempts: 5,
      });
    });
    const enqueueMs = performance.now() - t;
    let processed = 0;
    const { promise: done, resolve } = Promise.withResolvers<void>();
    t = performance.now();
    worker = new Worker("bench", async () => {}, {
      connection: workerConnection,
      prefix,
      concurrency: conc,
    });
    worker.on("completed", () => {
      if (++processed >= enqueued) resolve();
    });
    await within(done, maxMs);
    return {
      enqueue: phase(enqueued, jobs, enqueueMs),
      process: phase(processed, enqueued, performance.now() - t),
    };
  } finally {
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
    workerConnection.disconnect();
  }
}

async function masterAddress(
  url: string,
): Promise<{ host: string; port: number }> {
  const parsed = parseRedisUrl(url);
  if (parsed.mode === "standalone") return parsed.hosts[0];
  const s = new Redis({
    host: parsed.hosts[0].host,
    port: parsed.hosts[0].port,
  });
  try {
    const r = await s.call(
      "SENTINEL",
      "get-master-addr-by-name",
      parsed.masterName,
    ) as string[];
    return { host: r[0], port: Number(r[1]) };
  } finally {
    s.disconnect();
  }
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const counts = (
  p: Phase,
) => (p.done < p.of ? ` (only ${p.done}/${p.of} in the time bound)` : "");

async function run(ctx: GroupContext): Promise<GroupReport> {
  const url = ctx.services.redisUrl;
  if (!url) throw new Error("needs QMTL_REDIS_URL");
  const levels = ctx.quick ? [1, 4] : [1, 4, 16, 64];
  const jobs = ctx.quick ? 200 : 10_000;
  const maxMs = ctx.quick ? 10_000 : 30_000;
  const tag = crypto.randomUUID().slice(0, 8);
  const figures: Figure[] = [];
  for (const c of levels) {
    ctx.log(`queue: ${c} worker(s): RedisQueue WAIT off`);
    const off = await ours(url, tag, c, jobs, maxMs, 0, true);
    ctx.log(`queue: ${c} worker(s): BullMQ`);
    const b = await bull(url, tag, c, jobs, maxMs);
    ctx.log(`queue: ${c} worker(s): RedisQueue WAIT 1`);
    const w1 = await ours(url, tag, c, jobs, maxMs, 1, false);
    const peerProcess = { name: "BullMQ, no WAIT", value: b.process.perS };
    const peerEnqueue = { name: "BullMQ, no WAIT", value: b.enqueue.perS };
    const w = c === 1 ? "1 worker" : `${c} workers`;
    const p = c === 1 ? "1 producer" : `${c} producers`;
    const api = off.api!;
    figures.push(
      {
        name: `process, ${w}, QueueWorker WAIT off`,
        value: off.process.perS,
        unit: "jobs/s",
        peer: peerProcess,
        ratioNote: "BullMQ",
        target: {
          text: "≥ 3× BullMQ",
          met: off.process.perS >= 3 * b.process.perS,
        },
        detail: `${int(off.process.done)} jobs${counts(off.process)}; BullMQ ${
          int(b.process.done)
        }${counts(b.process)}`,
      },
      {
        name: `process, ${w}, QueueWorker WAIT 1`,
        value: w1.process.perS,
        unit: "jobs/s",
        peer: peerProcess,
        ratioNote: "BullMQ (no WAIT)",
        target: {
          text: "≥ 2× BullMQ without WAIT",
          met: w1.process.perS >= 2 * b.process.perS,
        },
        detail: `${int(w1.process.done)} jobs${counts(w1.process)}`,
      },
      {
        name: `process, ${c} slot(s) of lease(1) + ack, WAIT off`,
        value: api.perS,
        unit: "jobs/s",
        peer: peerProcess,
        ratioNote: "BullMQ Worker",
        detail:
          `the plain WorkQueue API, no prefetch: each slot awaits its lease and its ack; ${
            int(api.done)
          } jobs${counts(api)}`,
      },
      {
        name: `enqueue, ${p}, RedisQueue WAIT off`,
        value: off.enqueue.perS,
        unit: "jobs/s",
        peer: peerEnqueue,
        ratioNote: "BullMQ",
        target: {
          text: "≥ 2× BullMQ",
          met: off.enqueue.perS >= 2 * b.enqueue.perS,
        },
        detail: `${int(off.enqueue.done)} jobs${counts(off.enqueue)}; BullMQ ${
          int(b.enqueue.done)
        }${counts(b.enqueue)}`,
      },
      {
        name: `enqueue, ${p}, RedisQueue WAIT 1`,
        value: w1.enqueue.perS,
        unit: "jobs/s",
        peer: peerEnqueue,
        ratioNote: "BullMQ (no WAIT)",
        detail: `${int(w1.enqueue.done)} jobs${counts(w1.enqueue)}`,
      },
    );
  }
  ctx.log("queue: enqueueMany vs addBulk");
  const many = await batches(url, tag, jobs, 100, maxMs);
  figures.push({
    name: "enqueueMany, 100 jobs per call, 1 caller, WAIT off",
    value: many.ours.perS,
    unit: "jobs/s",
    peer: { name: "BullMQ addBulk, 100 per call", value: many.bull.perS },
    ratioNote: "BullMQ addBulk",
    target: {
      text: "≥ 2× BullMQ",
      met: many.ours.perS >= 2 * many.bull.perS,
    },
    detail: `${int(many.ours.done)} jobs${counts(many.ours)}; BullMQ ${
      int(many.bull.done)
    }${counts(many.bull)}`,
  });
  const master = await masterAddress(url);
  const n = ctx.quick ? 2_000 : 100_000;
  ctx.log(`queue: redis-benchmark LPUSH on ${master.host}:${master.port}`);
  const out = await output([
    "redis-benchmark",
    "-h",
    master.host,
    "-p",
    String(master.port),
    "-t",
    "lpush",
    "-n",
    String(n),
    "-c",
    "50",
    "--csv",
  ]);
  // --csv: a header line, then "LPUSH","<rps>",…
  const row = out.split("\n").find((l) => l.startsWith('"LPUSH'));
  const lpush = Number(row?.split(",")[1]?.replace(/"/g, ""));
  if (!Number.isFinite(lpush)) {
    throw new Error(`cannot read redis-benchmark output:\n${out}`);
  }
  const bestEnqueue = Math.max(
    ...figures.filter((f) => f.name.startsWith("enqueue")).map((f) => f.value),
  );
  figures.push({
    name: "raw ceiling: redis-benchmark LPUSH, 50 clients, same master",
    value: lpush,
    unit: "req/s",
    detail:
      `redis-benchmark -t lpush -n ${n} -c 50; the best enqueue figure above is ${
        (100 * bestEnqueue / lpush).toFixed(0)
      } % of it (a job is a Lua script touching 3–5 keys, LPUSH one command)`,
  });
  return {
    figures,
    notes: [
      `Per level: RedisQueue WAIT off (enqueue, QueueWorker, then lease(1)+ack slots over ${
        Math.min(jobs, 5_000).toLocaleString("en-US")
      } jobs), then BullMQ ${BULLMQ} (add, Worker), then RedisQueue WAIT 1 (enqueue, QueueWorker), one run each, ${
        jobs.toLocaleString("en-US")
      } jobs per phase, each phase bounded at ${
        maxMs / 1000
      } s (a phase stopped by the bound says so). Ratios are figure ÷ BullMQ at the same level.`,
      "Workers: QueueWorker runs `concurrency` handlers, leases ahead (default prefetch max(64, concurrency), capped by measured handler time) and acknowledges without holding a slot; BullMQ's Worker fetches the next job with each completion. Both count a job when its completion is stored.",
      "Durability: BullMQ has no replica wait. WAIT off is the equal guarantee (acknowledged once the master has it); WAIT 1 acknowledges every enqueue, non-empty lease, ack and nack only after one replica has it (the default with Sentinel). Concurrent enqueues, leases and acks of one client are coalesced into one Lua call each per round trip, sharing one WAIT sent in the same pipeline.",
      "Nothing is pinned: Redis (master, replica, sentinels), the bench process and BullMQ's connections share the cores. redis-benchmark runs after the library runs, against the master Sentinel names.",
    ],
  };
}

/** The queue group. */
export const queueGroup: BenchGroup = {
  name: "queue",
  title: "Queue: RedisQueue vs BullMQ",
  description:
    "Enqueue and process throughput of RedisQueue against BullMQ on the same Redis master at 1 / 4 / 16 / 64 workers, WAIT off and WAIT 1, with redis-benchmark LPUSH as the ceiling.",
  needs: ["redisUrl"],
  programs: ["redis-benchmark"],
  run,
};
