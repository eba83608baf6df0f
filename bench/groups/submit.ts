/**
 * SubmitStrategy → COMPLETED from outside: the reference server
 * (`deploy/server.ts`) as its own process on Neo4j + Redis Sentinel (the
 * local stack), the SDK's `QmtlClient` in the bench process. One run =
 * `submit` of a DAG whose nodes are all new, then the strategy's event
 * stream (`client.events`, SSE) until its COMPLETED event arrives. The peer
 * is the same server process on the in-memory backends, in the same run.
 *
 * After the measurements every submitted strategy is retired and the
 * registry's GC (grace 0) removes the nodes they created, so repeated runs
 * do not grow the database. The server runs in the namespace `bench`
 * (`QMTL_NAMESPACE`: its Redis names and its Neo4j namespace), apart from
 * any other deployment on the same stack.
 *
 * @module
 */

import { configFromEnv } from "../../lib/gateway/server/config.ts";
import { warmNeo4j } from "./neo4j_warm.ts";

/** The server's namespace (Redis names and Neo4j namespace). */
const BENCH_NAMESPACE = "bench";
import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import { DIFF_PHASES } from "../../lib/gateway/mod.ts";
import {
  type NodeRef,
  QmtlClient,
  StrategyBuilder,
  type StrategyDag,
} from "../../sdk/mod.ts";
import {
  benchCredentials,
  type ReferenceServer,
  startReferenceServer,
} from "../harness/reference_server.ts";
import { latencySummary, percentile } from "../harness/stats.ts";
import type {
  BenchGroup,
  Figure,
  GroupContext,
  GroupReport,
} from "../harness/types.ts";

/** A DAG of `n` new nodes: 10 % stream inputs, the rest 1–2 earlier inputs. */
function newDag(n: number, salt: string): StrategyDag {
  const s = new StrategyBuilder(`submit-bench-${n}`);
  const inputs = Math.max(1, Math.floor(n / 10));
  const refs: NodeRef[] = [];
  let seed = 7;
  const rand = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    if (i < inputs) {
      refs.push(s.streamInput({
        name: `in${i}`,
        tags: ["bench", `sym${i % 7}`],
        intervalS: 60,
        period: 1,
        params: { salt, i },
      }));
    } else {
      const a = refs[Math.floor(rand() * i)];
      const b = refs[Math.floor(rand() * i)];
      refs.push(s.processing({
        name: `p${i}`,
        inputs: a === b ? [a] : [a, b],
        intervalS: 60,
        period: 1 + (i % 20),
        params: { salt, i },
        compute: (v) => v.inputs[0].last + (v.inputs[1]?.last ?? 0),
      }));
    }
  }
  return s.build();
}

interface Sample {
  /** submit → COMPLETED event, ms. */
  total: number;
  /** submit → ack, ms. */
  ack: number;
}

async function once(
  client: QmtlClient,
  dag: StrategyDag,
): Promise<Sample & { id: string }> {
  const t0 = performance.now();
  const ack = await client.submit(dag, { version: "1" });
  const tAck = performance.now();
  if (ack.duplicate) {
    throw new Error("expected a new strategy, got a duplicate");
  }
  const signal = AbortSignal.timeout(120_000);
  for await (const e of client.events(ack.strategyId, { signal })) {
    if (e.state === "COMPLETED") {
      const total = performance.now() - t0;
      const created = e.data.created?.length;
      if (created !== undefined && created !== dag.nodes.length) {
        throw new Error(
          `expected ${dag.nodes.length} created nodes, the event says ${created}`,
        );
      }
      return { total, ack: tAck - t0, id: ack.strategyId };
    }
    if (e.state === "FAILED") {
      throw new Error(`strategy FAILED: ${JSON.stringify(e.data.error)}`);
    }
  }
  throw new Error(`no COMPLETED event for ${ack.strategyId} within 120 s`);
}

/** Σ seconds and count of each diff-job phase, from the server's /metrics. */
type PhaseTotals = Map<string, { sum: number; count: number }>;

async function phaseTotals(base: string, token: string): Promise<PhaseTotals> {
  const res = await fetch(`${base}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`/metrics: HTTP ${res.status}`);
  const out: PhaseTotals = new Map();
  const re =
    /^qmtl_diff_job_phase_seconds_(sum|count)\{phase="([a-z_]+)"\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const t = out.get(m[2]) ?? { sum: 0, count: 0 };
    t[m[1] as "sum" | "count"] = Number(m[3]);
    out.set(m[2], t);
  }
  return out;
}

/** "queue_wait 1.2 ms, start 3.4 ms, …": mean per phase between two scrapes. */
function phaseMeans(before: PhaseTotals, after: PhaseTotals): string {
  const parts: string[] = [];
  for (const phase of DIFF_PHASES) {
    const a = after.get(phase);
    const b = before.get(phase) ?? { sum: 0, count: 0 };
    if (!a || a.count === b.count) continue;
    const ms = (a.sum - b.sum) / (a.count - b.count) * 1_000;
    parts.push(`${phase} ${ms.toFixed(ms < 10 ? 2 : 1)}`);
  }
  return parts.length ? parts.join(", ") + " ms" : "none recorded";
}

function startServer(
  ctx: GroupContext,
  key: string,
  env: Record<string, string>,
): Promise<ReferenceServer> {
  return startReferenceServer(
    ctx.root,
    env,
    `${ctx.tmpDir}/submit-${key}.log`,
  );
}

/** Retire `ids`, then GC (grace 0) until nothing more goes; bounded in time. */
async function cleanUp(
  ctx: GroupContext,
  client: QmtlClient,
  ids: string[],
  neo4jUrl: string,
  budgetMs: number,
): Promise<string> {
  const deadline = Date.now() + budgetMs;
  for (const id of ids) await client.retire(id);
  const reg = await Neo4jRegistry.connect({
    url: neo4jUrl,
    namespace: BENCH_NAMESPACE,
    migrate: "check",
  });
  let removed = 0;
  let passes = 0;
  try {
    while (Date.now() < deadline) {
      const r = await reg.gc({ graceMs: 0 });
      passes++;
      removed += r.removed.length;
      if (r.removed.length === 0) break;
    }
  } finally {
    await reg.close();
  }
  ctx.log(
    `submit: cleanup retired ${ids.length} strategies, GC removed ${removed} nodes`,
  );
  return `Clean-up: ${ids.length} strategies retired, then ${passes} GC pass(es) with grace 0 removed ${removed} nodes from the namespace \`${BENCH_NAMESPACE}\`${
    Date.now() >= deadline ? ` (stopped at the ${budgetMs / 1000} s bound)` : ""
  }.`;
}

async function run(ctx: GroupContext): Promise<GroupReport> {
  const { neo4jUrl, redisUrl } = ctx.services;
  if (!neo4jUrl || !redisUrl) {
    throw new Error("needs QMTL_NEO4J_URL and QMTL_REDIS_URL");
  }
  const bigN = ctx.quick ? 20 : 1_000;
  const runs = ctx.quick ? 2 : undefined;
  const sizes = [
    { n: 4, runs: runs ?? 50, targetMs: 15 },
    { n: bigN, runs: runs ?? 30, targetMs: 100 },
  ];
  const warmRuns = ctx.quick ? 1 : 3;
  const { secret, token } = await benchCredentials("bench-submit", [
    "submitter",
    "reader",
    "operator",
  ]);

  ctx.log("submit: warming Neo4j (untimed diffs)");
  const warmed = await warmNeo4j(
    configFromEnv({ ...Deno.env.toObject(), QMTL_NEO4J_URL: neo4jUrl }).neo4j!,
    ctx.quick ? { diffs: 20, budgetMs: 5_000 } : {},
  );
  ctx.log(
    "submit: starting the server on Neo4j + Redis Sentinel and on memory",
  );
  // One subject submits ~150 DAGs per server in a few minutes: over the
  // default rate limit (120/min), which is not what is measured here.
  const unlimited = { QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "0" };
  const [real, mem] = await Promise.all([
    startServer(ctx, "real", {
      QMTL_NEO4J_URL: neo4jUrl,
      QMTL_REDIS_URL: redisUrl,
      QMTL_NEO4J_MIGRATE: "auto",
      QMTL_JWT_SECRET: secret,
      // Redis names and Neo4j namespace of its own: never a user's data.
      QMTL_NAMESPACE: BENCH_NAMESPACE,
      ...unlimited,
    }),
    startServer(ctx, "memory", { QMTL_JWT_SECRET: secret, ...unlimited }),
  ]);
  const clients = {
    real: new QmtlClient({ url: real.base, token }),
    memory: new QmtlClient({ url: mem.base, token }),
  };
  const realIds: string[] = [];
  const runTag = crypto.randomUUID().slice(0, 8);
  const figures: Figure[] = [];
  try {
    for (const { n, runs, targetMs } of sizes) {
      const results: Record<"real" | "memory", Sample[]> = {
        real: [],
        memory: [],
      };
      for (const key of ["real", "memory"] as const) {
        for (let i = 0; i < warmRuns; i++) {
          const w = await once(
            clients[key],
            newDag(n, `${runTag}-warm-${key}-${n}-${i}`),
          );
          if (key === "real") realIds.push(w.id);
        }
      }
      const phasesBefore = {
        real: await phaseTotals(real.base, token),
        memory: await phaseTotals(mem.base, token),
      };
      // Alternate the backends run by run, so both see the same machine.
      for (let i = 0; i < runs; i++) {
        for (const key of ["real", "memory"] as const) {
          const dag = newDag(n, `${runTag}-${key}-${n}-${i}`);
          const s = await once(clients[key], dag);
          results[key].push(s);
          if (key === "real") realIds.push(s.id);
        }
      }
      const phases = {
        real: phaseMeans(
          phasesBefore.real,
          await phaseTotals(real.base, token),
        ),
        memory: phaseMeans(
          phasesBefore.memory,
          await phaseTotals(mem.base, token),
        ),
      };
      ctx.log(`submit: ${n} nodes, worker phases (mean): ${phases.real}`);
      const totals = (k: "real" | "memory") => results[k].map((x) => x.total);
      const p95 = percentile(totals("real"), 95);
      const memP95 = percentile(totals("memory"), 95);
      ctx.log(
        `submit: ${n.toLocaleString("en-US")} nodes p95 ${
          p95.toFixed(1)
        } ms (memory ${memP95.toFixed(1)} ms)`,
      );
      figures.push({
        name: `SubmitStrategy → COMPLETED event, ${
          n.toLocaleString("en-US")
        }-node DAG (all new), Neo4j + Redis Sentinel, p95`,
        value: p95,
        unit: "ms",
        peer: { name: "same server on memory backends, p95", value: memP95 },
        ratioNote: "the memory server's time",
        target: { text: `p95 ≤ ${targetMs} ms`, met: p95 <= targetMs },
        detail: `${latencySummary(totals("real"))}; ack alone p50 ${
          percentile(results.real.map((x) => x.ack), 50).toFixed(1)
        } ms; memory: ${
          latencySummary(totals("memory"))
        }; diff-job phases, mean (qmtl_diff_job_phase_seconds): ${phases.real}; memory: ${phases.memory}`,
      });
    }
  } finally {
    await mem.stop();
  }
  const cleanup = await cleanUp(
    ctx,
    clients.real,
    realIds,
    neo4jUrl,
    ctx.quick ? 20_000 : 120_000,
  )
    .catch((e) => `Clean-up failed: ${(e as Error).message}`);
  await real.stop();
  return {
    figures,
    notes: [
      "Server: `deno run --allow-net --allow-env --allow-read --allow-sys deploy/server.ts`, its own process, default log level (stdout+stderr to a file), `QMTL_NEO4J_MIGRATE=auto`, WAIT 1 (the Sentinel default). Not pinned: Neo4j, Redis, the server and the client share the cores.",
      `Client: \`QmtlClient\` in the bench process; time from \`submit()\` to the COMPLETED event on \`client.events()\` (the SSE stream replays from the strategy's first event). DAGs built before the clock starts; their nodes are all new (salted params). ${warmRuns} untimed warm-up run(s) per size and backend; the two backends alternate run by run.`,
      "The ratio reads: Neo4j + Redis p95 ÷ memory p95 (how many times slower the real backends are).",
      warmed,
      "Diff-job phases: the server's own `qmtl_diff_job_phase_seconds` histogram (sum ÷ count between two scrapes of /metrics around the timed runs): `queue_wait` enqueued → leased, `start` QUEUED → PROCESSING stored (with its event), `load` the DAG read back, `diff` the registry's diffAndCommit, `topics` the node topics created, `complete` PROCESSING → COMPLETED stored (with its event), `publish` one transition's events appended (inside start and complete). The rest of a submission's time is the ack and the event's way to the client over SSE.",
      cleanup,
    ],
  };
}

/** The submit-latency group. */
export const submitGroup: BenchGroup = {
  name: "submit",
  title: "SubmitStrategy → COMPLETED from outside",
  description:
    "Latency of a submission until its COMPLETED event, server process on Neo4j + Redis Sentinel, SDK client in the bench process; peer: the same server on memory backends.",
  needs: ["neo4jUrl", "redisUrl"],
  run,
};
