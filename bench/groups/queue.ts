/**
 * Queue: `RedisQueue` enqueue and process throughput against BullMQ (pinned
 * in deno.json) on the same Redis master, at 1 / 4 / 16 / 64 workers, with
 * `WAIT` off (BullMQ's guarantee) and `WAIT 1`, plus `redis-benchmark`
 * LPUSH on the same master as the raw ceiling — all in the same run.
 *
 * Process model, identical for both libraries: one Deno process; `c`
 * concurrent producers each awaiting one enqueue / `Queue.add` at a time,
 * then `c` worker slots each taking one job per `lease(1)` (BullMQ: a
 * `Worker` with `concurrency: c`), no-op job body, 64-byte payload, each
 * phase bounded in jobs and time. BullMQ jobs get `attempts: 5` and
 * `removeOnComplete: {age: 3600}`, mirroring our defaults.
 *
 * @module
 */

import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { parseRedisUrl, redisOptions } from "../../lib/queue/connection.ts";
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
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
}

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
    const enqueueMs = performance.now() - t;
    t = performance.now();
    let processed = 0;
    const deadline = Date.now() + maxMs;
    await Promise.all(Array.from({ length: conc }, async () => {
      while (processed < enqueued && Date.now() < deadline) {
        const leased = await q.lease(1, { leaseMs: 60_000, blockMs: 200 });
        for (const j of leased) {
          await q.ack(j.id, j.leaseToken);
          processed++;
        }
      }
    }));
    const processMs = performance.now() - t;
    return {
      enqueue: {
        perS: enqueued / (enqueueMs / 1000),
        done: enqueued,
        of: jobs,
      },
      process: {
        perS: processed / (processMs / 1000),
        done: processed,
        of: enqueued,
      },
    };
  } finally {
    await q.purge();
    await q.close();
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      done,
      new Promise<void>((r) => (timer = setTimeout(r, maxMs))),
    ]);
    clearTimeout(timer);
    const processMs = performance.now() - t;
    return {
      enqueue: {
        perS: enqueued / (enqueueMs / 1000),
        done: enqueued,
        of: jobs,
      },
      process: {
        perS: processed / (processMs / 1000),
        done: processed,
        of: enqueued,
      },
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
    const off = await ours(url, tag, c, jobs, maxMs, 0);
    ctx.log(`queue: ${c} worker(s): BullMQ`);
    const b = await bull(url, tag, c, jobs, maxMs);
    ctx.log(`queue: ${c} worker(s): RedisQueue WAIT 1`);
    const w1 = await ours(url, tag, c, jobs, maxMs, 1);
    const peerProcess = { name: "BullMQ, no WAIT", value: b.process.perS };
    const peerEnqueue = { name: "BullMQ, no WAIT", value: b.enqueue.perS };
    const w = c === 1 ? "1 worker" : `${c} workers`;
    const p = c === 1 ? "1 producer" : `${c} producers`;
    figures.push(
      {
        name: `process, ${w}, RedisQueue WAIT off`,
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
        name: `process, ${w}, RedisQueue WAIT 1`,
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
      `Per level: RedisQueue WAIT off, then BullMQ ${BULLMQ}, then RedisQueue WAIT 1, one run each, ${
        jobs.toLocaleString("en-US")
      } jobs per phase, each phase bounded at ${
        maxMs / 1000
      } s (a phase stopped by the bound says so). Ratios are figure ÷ BullMQ at the same level.`,
      "Durability: BullMQ has no replica wait. WAIT off is the equal guarantee (acknowledged once the master has it); WAIT 1 acknowledges every enqueue, non-empty lease, ack and nack only after one replica has it (the default with Sentinel). Concurrent leases and acks of one client are coalesced into one Lua call sharing one WAIT.",
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
