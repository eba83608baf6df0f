/**
 * Registry (DAG Manager) on a real Neo4j: `Neo4jRegistry.diffAndCommit`
 * latency for new and reused DAGs at 100 / 1k / 10k / 50k nodes, with the
 * memory of the Neo4j JVM and of the bench process sampled during each
 * series, and batched `UNWIND … MERGE` node upserts against a naive loop of
 * one `MERGE` round trip per node, in the same run. Everything happens in a
 * throw-away registry namespace that is purged at the end.
 *
 * @module
 */

import neo4j, { type Driver } from "neo4j-driver";
import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import { configFromEnv } from "../../lib/gateway/server/config.ts";
import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { Columns, intColumn, textColumn } from "../../lib/dag/neo4j/columns.ts";
import { latencySummary, median, percentile } from "../harness/stats.ts";
import { makeDag } from "./dag_shape.ts";
import { warmNeo4j } from "./neo4j_warm.ts";
import type {
  BenchGroup,
  Figure,
  GroupContext,
  GroupReport,
} from "../harness/types.ts";

/** Peak memory seen while a series ran. */
interface MemoryPeak {
  clientRssMiB: number;
  clientHeapMiB: number;
  jvmRssMiB?: number;
  /** Largest `estimatedUsedHeapMemory` of a registry transaction. */
  txMiB?: number;
}

/**
 * Polls Neo4j's `SHOW TRANSACTIONS` every 50 ms from its own session and
 * keeps the largest `estimatedUsedHeapMemory` of a registry diff statement
 * (recognised by its `CYPHER replan=skip` prefix): what one diff
 * transaction holds, the quantity Neo4j's per-transaction limit
 * (`db.memory.transaction.max`) bounds.
 */
class TxMemoryPoller {
  #peak = 0;
  #on = false;
  #loop: Promise<void> = Promise.resolve();
  constructor(readonly driver: Driver, readonly database?: string) {}

  start(): void {
    this.#peak = 0;
    this.#on = true;
    this.#loop = this.#poll();
  }

  /** Stop; the peak in MiB, or undefined when it was not running. */
  async stop(): Promise<number | undefined> {
    if (!this.#on) return undefined;
    this.#on = false;
    await this.#loop;
    return this.#peak / 2 ** 20;
  }

  async #poll(): Promise<void> {
    const s = this.driver.session(
      this.database ? { database: this.database } : {},
    );
    try {
      while (this.#on) {
        const r = await s.run(
          "SHOW TRANSACTIONS YIELD estimatedUsedHeapMemory AS m, currentQuery AS q WHERE q STARTS WITH 'CYPHER replan=skip' RETURN max(m) AS m",
        );
        this.#peak = Math.max(this.#peak, Number(r.records[0]?.get("m") ?? 0));
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch {
      // a server without SHOW TRANSACTIONS: no figure
    } finally {
      await s.close();
    }
  }
}

/**
 * Samples the bench process (`Deno.memoryUsage`) and the Neo4j JVM's RSS
 * (`/proc/<pid>/status` VmRSS) every 100 ms.
 */
class MemorySampler {
  #timer?: ReturnType<typeof setInterval>;
  #peak: MemoryPeak = { clientRssMiB: 0, clientHeapMiB: 0 };
  constructor(readonly jvmPid: number | undefined) {}

  start(): void {
    this.#peak = { clientRssMiB: 0, clientHeapMiB: 0 };
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 100);
  }

  stop(): MemoryPeak {
    clearInterval(this.#timer);
    this.#sample();
    return { ...this.#peak };
  }

  #sample() {
    const m = Deno.memoryUsage();
    const p = this.#peak;
    p.clientRssMiB = Math.max(p.clientRssMiB, m.rss / 2 ** 20);
    p.clientHeapMiB = Math.max(p.clientHeapMiB, m.heapUsed / 2 ** 20);
    const jvm = jvmRssMiB(this.jvmPid);
    if (jvm !== undefined) p.jvmRssMiB = Math.max(p.jvmRssMiB ?? 0, jvm);
  }
}

function jvmRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const t = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(t)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The local stack's Neo4j JVM: the pid in `$QMTL_STACK_DIR/neo4j/neo4j.pid`
 * (default /tmp/qmtl-stack), accepted only when that process is the launcher
 * serving the Bolt port of `QMTL_NEO4J_URL`.
 */
async function findJvmPid(url: string): Promise<{ pid?: number; why: string }> {
  const dir = Deno.env.get("QMTL_STACK_DIR") ?? "/tmp/qmtl-stack";
  const port = /:(\d+)\/?$/.exec(url)?.[1] ?? "7687";
  try {
    const pid = Number(
      (await Deno.readTextFile(`${dir}/neo4j/neo4j.pid`)).trim(),
    );
    const cmd = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
    if (cmd.some((a) => a.includes("Neo4jLauncher")) && cmd.includes(port)) {
      return { pid, why: `pid ${pid} from ${dir}/neo4j/neo4j.pid` };
    }
    return {
      why:
        `the process in ${dir}/neo4j/neo4j.pid is not the Neo4j on port ${port}`,
    };
  } catch (e) {
    return { why: `no local-stack Neo4j found (${(e as Error).message})` };
  }
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

function memText(m: MemoryPeak, base: MemoryPeak): string {
  const signed = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(0)}`;
  const jvm = m.jvmRssMiB !== undefined
    ? `Neo4j JVM RSS peak ${m.jvmRssMiB.toFixed(0)} MiB (${
      signed(m.jvmRssMiB - (base.jvmRssMiB ?? 0))
    } MiB against the start of the group)`
    : "Neo4j JVM RSS not measured";
  const tx = m.txMiB !== undefined
    ? `largest diff transaction ${m.txMiB.toFixed(1)} MiB (SHOW TRANSACTIONS); `
    : "";
  return `${tx}${jvm}; bench process RSS peak ${
    m.clientRssMiB.toFixed(0)
  } MiB, JS heap peak ${m.clientHeapMiB.toFixed(0)} MiB`;
}

interface SizePlan {
  n: number;
  newRuns: number;
  reusedRuns: number;
  warm: number;
  newTargetMs?: number;
  reusedTargetMs?: number;
  mustComplete?: boolean;
}

async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`${what} did not finish within ${ms / 1000} s`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(ctx: GroupContext): Promise<GroupReport> {
  const url = ctx.services.neo4jUrl;
  if (!url) throw new Error("needs QMTL_NEO4J_URL");
  const options = configFromEnv({
    ...Deno.env.toObject(),
    QMTL_NEO4J_URL: url,
  }).neo4j!;
  const plans: SizePlan[] = ctx.quick
    ? [{ n: 20, newRuns: 2, reusedRuns: 2, warm: 1 }, {
      n: 50,
      newRuns: 2,
      reusedRuns: 2,
      warm: 0,
    }]
    : [
      { n: 100, newRuns: 20, reusedRuns: 20, warm: 3 },
      {
        n: 1_000,
        newRuns: 15,
        reusedRuns: 20,
        warm: 3,
        newTargetMs: 100,
        reusedTargetMs: 30,
      },
      {
        n: 10_000,
        newRuns: 5,
        reusedRuns: 10,
        warm: 1,
        newTargetMs: 600,
        reusedTargetMs: 150,
      },
      { n: 50_000, newRuns: 1, reusedRuns: 2, warm: 0, mustComplete: true },
    ];
  const ns = `bench_${crypto.randomUUID().slice(0, 8)}`;
  const reg = await Neo4jRegistry.connect({
    ...options,
    namespace: ns,
    migrate: "auto",
  });
  const driver = createNeo4jDriver(options);
  const jvm = await findJvmPid(url);
  const sampler = new MemorySampler(jvm.pid);
  const txMem = new TxMemoryPoller(driver, options.database);
  sampler.start();
  const base = sampler.stop();
  const figures: Figure[] = [];
  const notes: string[] = [];
  let purged = 0;
  ctx.log("registry: warming Neo4j (untimed diffs)");
  notes.push(
    await warmNeo4j(options, ctx.quick ? { diffs: 20, budgetMs: 5_000 } : {}),
  );
  try {
    for (const plan of plans) {
      const { n } = plan;
      const label = n.toLocaleString("en-US");
      const timeoutMs = Math.max(60_000, n * 6);
      /** `dag` committed as version 1 of `strategyId`, given up after `timeoutMs`. */
      const commit = (
        dag: ReturnType<typeof makeDag>,
        strategyId: string,
        kind: "new" | "reused",
      ) =>
        withTimeout(
          reg.diffAndCommit(dag, { strategyId, version: "1", owner: "bench" }),
          timeoutMs,
          `diffAndCommit of a ${kind} ${label}-node DAG`,
        );
      // warm-up, not counted: plans cached, JIT warm, connections open
      for (let w = 0; w < plan.warm; w++) {
        await reg.diffAndCommit(makeDag(`warm${n}_${w}`, n), {
          strategyId: `warm${n}_${w}`,
          version: "1",
          owner: "bench",
        });
      }
      ctx.log(`registry: ${label} nodes, new DAGs`);
      const created: number[] = [];
      let newError: string | undefined;
      sampler.start();
      txMem.start();
      for (let i = 0; i < plan.newRuns; i++) {
        const dag = makeDag(`new${n}_${i}`, n);
        const t0 = performance.now();
        try {
          const d = await commit(dag, `new${n}_${i}`, "new");
          created.push(performance.now() - t0);
          if (d.created.length !== n) {
            throw new Error(`expected ${n} created, got ${d.created.length}`);
          }
        } catch (e) {
          newError = `${(e as Error).name}: ${(e as Error).message} (after ${
            ms(performance.now() - t0)
          })`;
          break;
        }
      }
      const newMem = { ...sampler.stop(), txMiB: await txMem.stop() };
      figures.push(seriesFigure(
        `diffAndCommit, new ${label}-node DAG (all created)`,
        created,
        newError,
        plan.newTargetMs,
        plan.mustComplete,
        memText(newMem, base),
      ));

      ctx.log(`registry: ${label} nodes, reused DAGs`);
      const reused: number[] = [];
      let reusedError: string | undefined;
      if (newError || created.length === 0) {
        reusedError = "not run: no new DAG of this size was committed";
      } else {
        const dag = makeDag(`new${n}_0`, n);
        sampler.start();
        txMem.start();
        for (let i = -plan.warm; i < plan.reusedRuns; i++) { // i < 0: warm-up
          const t0 = performance.now();
          try {
            const d = await commit(dag, `reuse${n}_${i}`, "reused");
            if (i >= 0) reused.push(performance.now() - t0);
            if (d.reused.length !== n) {
              throw new Error(`expected ${n} reused, got ${d.reused.length}`);
            }
          } catch (e) {
            reusedError = `${(e as Error).name}: ${
              (e as Error).message
            } (after ${ms(performance.now() - t0)})`;
            break;
          }
        }
      }
      const reusedMem = { ...sampler.stop(), txMiB: await txMem.stop() };
      figures.push(seriesFigure(
        `diffAndCommit, the same ${label} nodes under a new strategy (all reused)`,
        reused,
        reusedError,
        plan.reusedTargetMs,
        plan.mustComplete,
        memText(reusedMem, base),
      ));
    }

    ctx.log("registry: batched vs naive upserts");
    figures.push(...await upserts(ctx, driver, options.database, ns));
  } finally {
    const t0 = performance.now();
    purged = await reg.purgeNamespace().catch(() => -1);
    notes.push(
      `Namespace \`${ns}\` purged at the end: ${purged} graph nodes in ${
        ms(performance.now() - t0)
      }.`,
    );
    await reg.close();
    await driver.close();
  }
  const plannedSizes = plans.map((p) => p.n.toLocaleString("en-US")).join(
    " / ",
  );
  notes.unshift(
    `Sizes ${plannedSizes} nodes; runs per size (new / reused): ${
      plans.map((p) => `${p.newRuns}/${p.reusedRuns}`).join(", ")
    }, after ${
      plans.map((p) => p.warm).join("/")
    } untimed warm-up run(s). With ≤ 20 samples, p95 is the slowest sample or next to it.`,
    "DAG shape: 10 % tagged StreamInputs, the rest Processing nodes with 1–2 inputs from earlier nodes (as in the earlier dag_bench). A new DAG creates nodes, topics, tags, edges and links; a reused one links every existing node. Up to the registry's transaction budget (default 10,000 nodes) that is one write transaction; the 50,000-node DAG is committed in chunks of 10,000 (lib/dag/neo4j/diff.ts).",
    `Memory: the bench process (the registry client) by \`Deno.memoryUsage()\` (RSS and JS heap used), the Neo4j JVM by VmRSS of /proc/<pid>/status (${jvm.why}), both sampled every 100 ms during each series, and the largest diff transaction by Neo4j's own \`SHOW TRANSACTIONS\` (estimatedUsedHeapMemory, polled every 50 ms); peaks quoted. The JVM's RSS covers its heap (the stack's -Xmx1g; G1 grows it under load and gives memory back later) and the page cache, so it bounds Neo4j's use from above rather than measuring one transaction; a transaction is bounded by \`db.memory.transaction.max\` (256 MiB on the local stack) and all of them together by \`dbms.memory.transaction.total.max\` (70 % of the heap).`,
  );
  return { figures, notes };
}

function seriesFigure(
  name: string,
  times: number[],
  error: string | undefined,
  targetMs: number | undefined,
  mustComplete: boolean | undefined,
  mem: string,
): Figure {
  if (times.length === 0) {
    return {
      name: `${name}, p95`,
      value: NaN,
      unit: "ms",
      ...(mustComplete ? { target: { text: "completes", met: false } } : {}),
      detail: `${error ?? "no sample"}; ${mem}`,
    };
  }
  const p95 = percentile(times, 95);
  const target = targetMs !== undefined
    ? { text: `p95 ≤ ${targetMs} ms`, met: p95 <= targetMs && !error }
    : mustComplete
    ? { text: "completes", met: !error }
    : undefined;
  return {
    name: `${name}, p95`,
    value: p95,
    unit: "ms",
    ...(target ? { target } : {}),
    detail: `${latencySummary(times)}${
      error ? `; then failed: ${error}` : ""
    }; ${mem}`,
  };
}

async function upserts(
  ctx: GroupContext,
  driver: ReturnType<typeof createNeo4jDriver>,
  database: string | undefined,
  ns: string,
): Promise<Figure[]> {
  const session = driver.session(database ? { database } : {});
  const batchSizes = ctx.quick ? [100] : [1_000, 5_000, 10_000];
  const samples = ctx.quick ? 2 : 7;
  const naiveN = ctx.quick ? 50 : 1_000;
  const rows = (salt: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      uid: `${ns}:raw:${salt}:${i}`,
      id: `${salt}:${i}`,
      interval: neo4j.int(60),
    }));
  try {
    const perBatch: string[] = [];
    let best = 0;
    for (const size of batchSizes) {
      const times: number[] = [];
      for (let i = -2; i < samples; i++) { // i < 0: warm-up, not counted
        const r = rows(`b${size}_${i}`, size);
        const t0 = performance.now();
        // the registry's parameter encoding: one joined string per column
        const columns = new Columns()
          .text("ids", r.map((x) => x.id))
          .int("intervals", r.map(() => 60));
        await session.executeWrite((tx) =>
          tx.run(
            `CYPHER replan=skip
             WITH ${textColumn("ids")} AS ids, ${
              intColumn("intervals")
            } AS intervals
             UNWIND range(0, size(ids) - 1) AS i
             MERGE (n:ComputeNode {uid: $prefix + ids[i]})
             ON CREATE SET n.ns = $ns, n.node_id = ids[i], n.interval = intervals[i]
             SET n.updated_at = timestamp()`,
            { ...columns.params, prefix: `${ns}:raw:`, ns },
          )
        );
        if (i >= 0) times.push(performance.now() - t0);
      }
      const rate = size / (median(times) / 1000);
      best = Math.max(best, rate);
      perBatch.push(
        `batches of ${size.toLocaleString("en-US")}: ${
          Math.round(rate).toLocaleString("en-US")
        }/s (median of ${samples})`,
      );
    }
    const naive = (
      tx: { run: (q: string, p: Record<string, unknown>) => unknown },
      row: ReturnType<typeof rows>[number],
    ) =>
      tx.run(
        `MERGE (n:ComputeNode {uid: $uid})
         ON CREATE SET n.ns = $ns, n.node_id = $id, n.interval = $interval
         SET n.updated_at = timestamp()`,
        { ...row, ns },
      );
    await session.executeWrite(async (tx) => { // warm-up, not counted
      for (const row of rows("naive_warm", Math.min(100, naiveN))) {
        await naive(tx, row);
      }
    });
    const r = rows("naive", naiveN);
    const t0 = performance.now();
    await session.executeWrite(async (tx) => {
      for (const row of r) await naive(tx, row);
    });
    const naiveRate = naiveN / ((performance.now() - t0) / 1000);
    const ratio = best / naiveRate;
    return [{
      name:
        "node upserts, batched `UNWIND … MERGE` (columns sent as one joined string each), best batch size",
      value: best,
      unit: "upserts/s",
      peer: {
        name: `naive loop, one MERGE round trip per node (${
          naiveN.toLocaleString("en-US")
        } in one transaction)`,
        value: naiveRate,
      },
      ratioNote: "the naive loop",
      target: {
        text: "≥ 100,000/s and ≥ 20× naive",
        met: best >= 100_000 && ratio >= 20,
      },
      detail: perBatch.join("; "),
    }];
  } finally {
    await session.close();
  }
}

/** The registry group. */
export const registryGroup: BenchGroup = {
  name: "registry",
  title: "Registry: diffAndCommit on Neo4j",
  description:
    "`Neo4jRegistry.diffAndCommit` latency for new and reused DAGs at 100 / 1k / 10k / 50k nodes, memory of Neo4j and of the client, and batched upserts against a naive loop (peer), client in the bench process.",
  needs: ["neo4jUrl"],
  run,
};
