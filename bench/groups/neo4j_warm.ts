/**
 * Warms the Neo4j JVM before a group times it. A freshly started Neo4j runs
 * its query code interpreted until the JIT has compiled it: on the 2-core
 * bench machine a `RETURN 1` round trip went from 2.9 ms to 0.9 ms over the
 * first 8,000 queries, and a 4-node `diffAndCommit` from ~40 ms to ~12 ms
 * over the first ~1,000 diffs (2026-11-30). A database that serves users is
 * a long-running process, so the timed figures are taken warm; the figures
 * of the first and last warm-up rounds go in the group's notes, so the cold
 * cost stays visible.
 *
 * The warm-up commits small new DAGs (the registry bench's shape) in a
 * throw-away namespace, then purges it.
 *
 * @module
 */

import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import type { Neo4jOptions } from "../../lib/dag/neo4j/config.ts";
import { median } from "../harness/stats.ts";
import { makeDag } from "./dag_shape.ts";

/** Options of {@linkcode warmNeo4j}. */
export interface WarmOptions {
  /** Diffs to run at most (default 1,200). */
  diffs?: number;
  /** Stop after this long, ms (default 45,000). */
  budgetMs?: number;
  /** Nodes per DAG (default 4). */
  nodes?: number;
}

/**
 * Runs small new-DAG diffs until `diffs` or `budgetMs`; returns a sentence
 * for the notes: how many, how long, and the median of the first and last
 * 100.
 */
export async function warmNeo4j(
  options: Neo4jOptions,
  warm: WarmOptions = {},
): Promise<string> {
  const diffs = warm.diffs ?? 1_200;
  const budgetMs = warm.budgetMs ?? 45_000;
  const nodes = warm.nodes ?? 4;
  const ns = `warm_${crypto.randomUUID().slice(0, 8)}`;
  const reg = await Neo4jRegistry.connect({
    ...options,
    namespace: ns,
    migrate: "auto",
  });
  const times: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < diffs && performance.now() - t0 < budgetMs; i++) {
      const dag = makeDag(`${ns}_${i}`, nodes);
      const t = performance.now();
      await reg.diffAndCommit(dag, {
        strategyId: `${ns}_${i}`,
        version: "1",
        owner: "bench-warm-up",
        dagHash: `${ns}_${i}`,
      });
      times.push(performance.now() - t);
    }
  } finally {
    await reg.purgeNamespace().catch(() => {});
    await reg.close();
  }
  const first = median(times.slice(0, 100));
  const last = median(times.slice(-100));
  return `Neo4j warmed first (the JIT compiles its query code over the first thousands of queries; a serving database is warm): ${times.length} untimed ${nodes}-node diffs in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s, in a throw-away namespace purged afterwards; median of the first 100 ${
    first.toFixed(1)
  } ms, of the last 100 ${last.toFixed(1)} ms.`;
}
