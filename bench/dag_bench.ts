/**
 * DAG Manager benchmark against a real Neo4j (`QMTL_NEO4J_URL`).
 *
 *   source /tmp/qmtl-stack/env.sh
 *   deno run -A bench/dag_bench.ts [--nodes=1000] [--iterations=15]
 *
 * Not a `Deno.bench` file: under `deno bench` it does nothing.
 *
 * Measures, in a throw-away namespace that is purged at the end:
 * - diffAndCommit of a new N-node DAG (every node created), p50/p95;
 * - diffAndCommit of the same N nodes under a new strategy (all reused);
 * - raw node upserts/s: one batched `UNWIND … MERGE` (parameters as columns,
 *   uids built server-side, like the registry's own upsert) vs a naive loop
 *   of one `MERGE` round trip per node, in the same process, and their ratio.
 *
 * Every measured series runs after warm-up iterations of the same work
 * (query plans cached, JIT-compiled, connections open) that are not counted.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import neo4j from "neo4j-driver";
import {
  canonicalParamsJson,
  computeNodeId,
  type NodeSpec,
  NodeSpecSchema,
  type StrategyDag,
  StrategyDagSchema,
} from "../lib/contracts/mod.ts";
import { neo4jOptionsFromEnv, Neo4jRegistry } from "../lib/dag/mod.ts";
import { createNeo4jDriver } from "../lib/dag/neo4j/driver.ts";

function arg(name: string, fallback: number): number {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  const v = a ? Number(a.split("=")[1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bad --${name}`);
  return Math.min(v, name === "nodes" ? 20000 : 200);
}

const N = arg("nodes", 1000);
const ITER = arg("iterations", 15);

/** A layered DAG: 10% stream inputs, the rest with 1–2 inputs from earlier nodes. */
function makeDag(salt: string, n: number): StrategyDag {
  const nodes: NodeSpec[] = [];
  let seed = 42;
  const rand = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const isInput = i < Math.max(1, Math.floor(n / 10));
    const inputs = isInput ? [] : [
      ...new Set([
        nodes[Math.floor(rand() * i)].nodeId,
        nodes[Math.floor(rand() * i)].nodeId,
      ]),
    ];
    const nodeType = isInput ? "StreamInput" : "Processing";
    const paramsJson = canonicalParamsJson({ salt, i });
    nodes.push(create(NodeSpecSchema, {
      nodeId: computeNodeId({
        nodeType,
        intervalS: 60,
        period: 1 + (i % 20),
        paramsJson,
        inputs,
      }),
      nodeType,
      intervalS: 60,
      period: 1 + (i % 20),
      paramsJson,
      inputs,
      codeHash: "",
      schemaCompatId: "v1",
      name: `n${i}`,
      tags: isInput ? ["bench", `sym${i % 7}`] : [],
      metadata: isInput ? { asset: `sym${i % 7}` } : {},
    }));
  }
  return create(StrategyDagSchema, { name: salt, nodes });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const fmt = (x: number) => x.toFixed(1);

async function main(): Promise<number> {
  const options = neo4jOptionsFromEnv();
  if (!options) {
    console.error("QMTL_NEO4J_URL is not set (source /tmp/qmtl-stack/env.sh)");
    return 2;
  }
  const ns = `bench_${crypto.randomUUID().slice(0, 8)}`;
  const reg = await Neo4jRegistry.connect({
    ...options,
    namespace: ns,
    migrate: "auto",
  });
  const driver = createNeo4jDriver(options);
  const out: string[] = [];
  const log = (s: string) => {
    console.log(s);
    out.push(s);
  };
  try {
    log(
      `DAG Manager bench: ${N}-node DAGs, ${ITER} iterations, namespace ${ns}`,
    );
    // warm-up, not counted: plans cached, JIT warm, connections open
    for (let w = 0; w < 3; w++) {
      await reg.diffAndCommit(makeDag(`warm${w}`, N), {
        strategyId: `warm${w}`,
        version: "1",
        owner: "bench",
      });
    }

    const created: number[] = [];
    for (let i = 0; i < ITER; i++) {
      const dag = makeDag(`new${i}`, N);
      const t0 = performance.now();
      const d = await reg.diffAndCommit(dag, {
        strategyId: `new${i}`,
        version: "1",
        owner: "bench",
      });
      created.push(performance.now() - t0);
      if (d.created.length !== N) throw new Error("expected all created");
    }
    log(
      `diffAndCommit new DAG     p50 ${fmt(pct(created, 50))} ms  p95 ${
        fmt(pct(created, 95))
      } ms  (${Math.round(N / (pct(created, 50) / 1000))} nodes/s at p50)`,
    );

    const reused: number[] = [];
    const base = makeDag("new0", N);
    for (let i = -3; i < ITER * 2; i++) { // i < 0: warm-up, not counted
      const t0 = performance.now();
      const d = await reg.diffAndCommit(base, {
        strategyId: `reuse${i}`,
        version: "1",
        owner: "bench",
      });
      if (i >= 0) reused.push(performance.now() - t0);
      if (d.reused.length !== N) throw new Error("expected all reused");
    }
    log(
      `diffAndCommit reused DAG  p50 ${fmt(pct(reused, 50))} ms  p95 ${
        fmt(pct(reused, 95))
      } ms`,
    );

    // raw upserts: batched UNWIND vs one MERGE round trip per node
    const session = driver.session(
      options.database ? { database: options.database } : {},
    );
    try {
      const rows = (salt: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          uid: `${ns}:raw:${salt}:${i}`,
          id: `${salt}:${i}`,
          interval: neo4j.int(60),
        }));
      const batchSizes = [1000, 5000];
      let bestBatch = 0;
      for (const size of batchSizes) {
        const times: number[] = [];
        const samples = Math.max(5, Math.floor(ITER / 2));
        for (let i = -2; i < samples; i++) { // i < 0: warm-up, not counted
          const r = rows(`b${size}_${i}`, size);
          const t0 = performance.now();
          await session.executeWrite((tx) =>
            tx.run(
              `UNWIND range(0, size($ids) - 1) AS i
               MERGE (n:ComputeNode {uid: $prefix + $ids[i]})
               ON CREATE SET n.ns = $ns, n.node_id = $ids[i],
                 n.interval = $intervals[i]
               SET n.updated_at = timestamp()`,
              {
                prefix: `${ns}:raw:`,
                ids: r.map((x) => x.id),
                intervals: r.map((x) => x.interval),
                ns,
              },
            )
          );
          if (i >= 0) times.push(performance.now() - t0);
        }
        const rate = size / (pct(times, 50) / 1000);
        bestBatch = Math.max(bestBatch, rate);
        log(
          `batched upsert x${size}   p50 ${fmt(pct(times, 50))} ms  → ${
            Math.round(rate)
          } upserts/s`,
        );
      }
      const naiveN = Math.min(N, 1000);
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
      // warm-up, not counted
      await session.executeWrite(async (tx) => {
        for (const row of rows("naive_warm", 100)) await naive(tx, row);
      });
      const r = rows("naive", naiveN);
      const t0 = performance.now();
      await session.executeWrite(async (tx) => {
        for (const row of r) await naive(tx, row);
      });
      const naiveMs = performance.now() - t0;
      const naiveRate = naiveN / (naiveMs / 1000);
      log(
        `naive MERGE per node x${naiveN}  ${fmt(naiveMs)} ms  → ${
          Math.round(naiveRate)
        } upserts/s`,
      );
      log(`batched / naive ratio     ${fmt(bestBatch / naiveRate)}×`);
      log(
        `diff (new) vs naive       ${
          fmt((N / (pct(created, 50) / 1000)) / naiveRate)
        }× (full diff incl. topics, tags, edges, links)`,
      );
    } finally {
      await session.close();
    }
  } finally {
    const t0 = performance.now();
    const purged = await reg.purgeNamespace();
    console.log(
      `purged ${purged} bench nodes in ${fmt(performance.now() - t0)} ms`,
    );
    await reg.close();
    await driver.close();
  }
  return 0;
}

// `deno task bench` (deno bench) loads this file too: run only as a script
if (import.meta.main) Deno.exit(await main());
