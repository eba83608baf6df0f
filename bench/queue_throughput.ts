// Not a `deno bench` file (named so that `deno task bench` skips it): a
// `deno run` script.
// Queue throughput: RedisQueue vs BullMQ on the same Redis master, same
// process model (one Deno process, 50 concurrent producers, then 50
// concurrent worker slots, one job per lease/fetch, no-op job body), same
// job count, bounded in time. Plus redis-benchmark lpush/rpop as the ceiling.
//
// usage: source /tmp/qmtl-stack/env.sh
//        deno run -A bench/queue_throughput.ts [--jobs 20000] [--concurrency 50] [--max-seconds 60]
//
// Needs QMTL_REDIS_URL (redis:// or redis+sentinel://).
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { parseRedisUrl, redisOptions } from "../lib/queue/connection.ts";
import { RedisQueue } from "../lib/queue/redis_queue.ts";

function arg(name: string, def: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}

const JOBS = arg("jobs", 20_000);
const CONC = arg("concurrency", 50);
const MAX_MS = arg("max-seconds", 60) * 1_000;
const URL = Deno.env.get("QMTL_REDIS_URL");
if (!URL) {
  console.error("QMTL_REDIS_URL is not set (source /tmp/qmtl-stack/env.sh)");
  Deno.exit(2);
}
const parsed = parseRedisUrl(URL);
const PAYLOAD = "x".repeat(64);
const PAYLOAD_BYTES = new TextEncoder().encode(PAYLOAD);
const tag = crypto.randomUUID().slice(0, 8);

interface Result {
  name: string;
  enqueuePerS: number;
  processPerS: number;
  enqueued: number;
  processed: number;
}

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

async function ours(waitReplicas: number): Promise<Result> {
  const q = new RedisQueue({
    url: URL!,
    keyPrefix: `{qmtl:bench:${tag}:w${waitReplicas}}`,
    waitReplicas,
  });
  try {
    let t = Date.now();
    const enqueued = await pool(CONC, JOBS, t + MAX_MS, async () => {
      await q.enqueue("bench", PAYLOAD_BYTES);
    });
    const enqueueMs = Date.now() - t;
    t = Date.now();
    let processed = 0;
    const deadline = t + MAX_MS;
    await Promise.all(Array.from({ length: CONC }, async () => {
      while (processed < enqueued && Date.now() < deadline) {
        const jobs = await q.lease(1, { leaseMs: 60_000, blockMs: 200 });
        for (const j of jobs) {
          await q.ack(j.id, j.leaseToken);
          processed++;
        }
      }
    }));
    const processMs = Date.now() - t;
    return {
      name: `RedisQueue (WAIT ${waitReplicas === 0 ? "off" : waitReplicas})`,
      enqueuePerS: enqueued / (enqueueMs / 1_000),
      processPerS: processed / (processMs / 1_000),
      enqueued,
      processed,
    };
  } finally {
    await q.purge();
    await q.close();
  }
}

async function bull(): Promise<Result> {
  const connection = new Redis(
    redisOptions(parsed, { maxRetriesPerRequest: null, commandTimeoutMs: 0 }),
  );
  const prefix = `{qmtl-bench-bull-${tag}}`;
  const queue = new Queue("bench", { connection, prefix });
  let worker: Worker | undefined;
  try {
    let t = Date.now();
    const enqueued = await pool(CONC, JOBS, t + MAX_MS, async () => {
      await queue.add("bench", { p: PAYLOAD }, {
        removeOnComplete: { age: 3_600 },
        attempts: 5,
      });
    });
    const enqueueMs = Date.now() - t;
    let processed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    t = Date.now();
    worker = new Worker("bench", async () => {}, {
      connection: new Redis(
        redisOptions(parsed, {
          maxRetriesPerRequest: null,
          commandTimeoutMs: 0,
        }),
      ),
      prefix,
      concurrency: CONC,
    });
    worker.on("completed", () => {
      if (++processed >= enqueued) resolveDone();
    });
    let timer: number | undefined;
    await Promise.race([
      done,
      new Promise<void>((
        r,
      ) => (timer = setTimeout(r, MAX_MS) as unknown as number)),
    ]);
    clearTimeout(timer);
    const processMs = Date.now() - t;
    return {
      name: "BullMQ 5.81.5 (no WAIT)",
      enqueuePerS: enqueued / (enqueueMs / 1_000),
      processPerS: processed / (processMs / 1_000),
      enqueued,
      processed,
    };
  } finally {
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}

async function masterPort(): Promise<number> {
  if (parsed.mode === "standalone") return parsed.hosts[0].port;
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
    return Number(r[1]);
  } finally {
    s.disconnect();
  }
}

const rate = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(
  `jobs=${JOBS} concurrency=${CONC} payload=${PAYLOAD.length}B max=${
    MAX_MS / 1000
  }s url=${URL}`,
);
const results: Result[] = [];
for (const run of [() => ours(0), () => bull(), () => ours(1)]) {
  const r = await run();
  results.push(r);
  console.log(
    `${r.name.padEnd(26)} enqueue ${
      rate(r.enqueuePerS).padStart(7)
    } jobs/s   process ${
      rate(r.processPerS).padStart(7)
    } jobs/s   (${r.processed}/${r.enqueued})`,
  );
}
const [o0, b, o1] = results;
console.log(
  `ratio ours/BullMQ, no WAIT on either: enqueue ${
    (o0.enqueuePerS / b.enqueuePerS).toFixed(2)
  }×, ` +
    `process ${(o0.processPerS / b.processPerS).toFixed(2)}×`,
);
console.log(
  `ratio ours(WAIT 1)/BullMQ(no WAIT): enqueue ${
    (o1.enqueuePerS / b.enqueuePerS).toFixed(2)
  }×, ` +
    `process ${(o1.processPerS / b.processPerS).toFixed(2)}×`,
);
const port = await masterPort();
const out = await new Deno.Command("redis-benchmark", {
  args: ["-p", String(port), "-t", "lpush,rpop", "-n", "100000", "-q"],
  stdout: "piped",
  stderr: "piped",
}).output();
console.log(`redis-benchmark -p ${port} -t lpush,rpop -n 100000 -q (ceiling):`);
console.log(
  new TextDecoder().decode(out.stdout).replace(/\r/g, "\n").split("\n").filter((
    l,
  ) => /requests per second/.test(l)).join("\n"),
);
