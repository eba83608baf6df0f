// Neo4j-only: a small first-attempt diff is committed in ONE statement
// (Q_DIFF_SMALL, lib/dag/neo4j/diff_small.ts). It must write exactly the
// graph the general path (Q_DIFF_OPEN + Q_DIFF_CREATE + Q_DIFF_EDGES)
// writes — nodes, properties, topics, CONTAINS links, edges, tags — and
// report the same results and errors. Every step below runs in two
// namespaces, one per path, and the two graphs are compared after each.
import assert from "node:assert/strict";
import type { Driver, ManagedTransaction } from "neo4j-driver";
import type { NodeSpec } from "../../lib/contracts/messages.ts";
import type { DiffContext } from "../../lib/dag/registry.ts";
import { commitDiff, type DiffTarget } from "../../lib/dag/neo4j/diff.ts";
import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { runWrite } from "../../lib/dag/neo4j/write.ts";
import { dagOf, freshNamespace, spec, testNeo4j } from "./helpers.ts";
import { cypher, dropRegistry, neo4jBase, openRegistry } from "./neo4j_env.ts";

const cfg = testNeo4j();
const base = neo4jBase(cfg);
const WEEK = 7 * 24 * 3600 * 1000;
const NOW = 1_767_000_000_000;

/** A diff target whose transactions count their statements. */
function target(
  driver: Driver,
  ns: string,
  smallDiffMax: number | undefined,
  statements: number[],
): DiffTarget {
  return {
    ns,
    budget: { maxNodes: 10_000, maxBytes: 1e12 },
    retentionMs: WEEK,
    ...(smallDiffMax === undefined ? {} : { smallDiffMax }),
    write: (work) =>
      runWrite(
        () => driver.session(cfg!.database ? { database: cfg!.database } : {}),
        (tx, attempt) => {
          statements.push(0);
          const counted = new Proxy(tx, {
            get(o, k) {
              if (k !== "run") return Reflect.get(o, k);
              return (q: string, p: unknown) => {
                statements[statements.length - 1]++;
                return o.run(q, p as Record<string, unknown>);
              };
            },
          }) as ManagedTransaction;
          return work(counted, attempt);
        },
        { raceAttempts: 8, maxRetryTimeMs: 15_000 },
      ),
  };
}

/**
 * Every node and relationship of `ns`, the namespace, random tokens and
 * wall-clock stamps masked.
 */
async function snapshot(driver: Driver, ns: string): Promise<string[]> {
  const mask = (x: unknown): unknown =>
    typeof x === "string" ? x.replaceAll(ns, "NS") : x;
  const props = (p: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(p).filter(([k]) => k !== "_born" && k !== "_lock")
        .sort(([a], [b]) => a < b ? -1 : 1)
        .map(([k, v]) => [
          k,
          // retire and topic deletion stamp the clock, not the diff's `now`
          k.endsWith("_at") && v !== NOW
            ? "clock"
            : Array.isArray(v)
            ? v.map(mask)
            : mask(v),
        ]),
    );
  const nodes = await cypher(
    cfg!,
    driver,
    "MATCH (n) WHERE n.ns = $ns RETURN labels(n) AS l, properties(n) AS p",
    { ns },
  );
  const rels = await cypher(
    cfg!,
    driver,
    `MATCH (a)-[r]->(b) WHERE a.ns = $ns
     RETURN type(r) AS t, properties(r) AS p, a.uid AS a, b.uid AS b`,
    { ns },
  );
  return [
    ...nodes.records.map((r) =>
      JSON.stringify([r.get("l"), props(r.get("p"))])
    ),
    ...rels.records.map((r) =>
      JSON.stringify([
        r.get("t"),
        props(r.get("p")),
        mask(r.get("a")),
        mask(r.get("b")),
      ])
    ),
  ].sort();
}

const ctx = (strategyId: string): DiffContext => ({
  strategyId,
  version: "1",
  owner: "dave",
  now: NOW,
});

Deno.test({
  ...base,
  name:
    "[neo4j] a small first-attempt diff in one statement writes the general path's graph and results",
  fn: async () => {
    const nsS = freshNamespace("sm1"), nsG = freshNamespace("sm1");
    const regS = await openRegistry(cfg!, nsS);
    const regG = await openRegistry(cfg!, nsG);
    const driver = createNeo4jDriver(cfg!);
    const stS: number[] = [], stG: number[] = [];
    const tS = target(driver, nsS, undefined, stS);
    const tG = target(driver, nsG, 0, stG);
    /** The same step on both paths: equal outcomes, equal graphs. */
    const both = async (
      nodes: NodeSpec[],
      c: DiffContext,
    ): Promise<{ small: unknown; general: unknown; statements: number }> => {
      stS.length = 0;
      const run = (t: DiffTarget) =>
        commitDiff(t, dagOf("d", nodes), c).catch((e: Error) =>
          `${e.name}: ${e.message.replaceAll(t.ns, "NS")}`
        );
      const small = await run(tS);
      const general = await run(tG);
      assert.deepEqual(small, general);
      assert.deepEqual(
        await snapshot(driver, nsS),
        await snapshot(driver, nsG),
      );
      return { small, general, statements: stS[0] };
    };
    try {
      const i1 = spec("sm-i1", {
        type: "StreamInput",
        tags: ["x", "x", "y"],
        asset: "btc",
      });
      const i2 = spec("sm-i2", { type: "StreamInput", tags: ["y"] });
      const p1 = spec("sm-p1", { inputs: [i1.nodeId, i2.nodeId, i1.nodeId] });
      const p2 = spec("sm-p2", { inputs: [p1.nodeId], tags: ["z"] });
      // 1. all new: topics, links, in-DAG edges (one input listed twice),
      // tags (one listed twice) — in one statement
      const a = await both([p2, i1, p1, i2], ctx("st_a"));
      assert.equal(a.statements, 1);
      assert.equal((a.small as { created: string[] }).created.length, 4);
      // 2. partly reused, an edge to a found node and one to an external
      // input (i2, not in the DAG)
      const p3 = spec("sm-p3", {
        inputs: [p1.nodeId, i2.nodeId],
        tags: ["x"],
      });
      const b = await both([p1, i1, p3], ctx("st_b"));
      assert.equal(b.statements, 1);
      assert.deepEqual((b.small as { created: string[] }).created, [
        p3.nodeId,
      ]);
      // 3. all reused
      assert.equal((await both([p1, i1, p3], ctx("st_c"))).statements, 1);
      // 4. re-runs: the stored result; another DAG conflicts
      await both([p2, i1, p1, i2], ctx("st_a"));
      const conflict = await both([p2], ctx("st_a"));
      assert.match(String(conflict.small), /ConflictError/);
      // 5. an unknown input: rejected, nothing written
      const lost = spec("sm-lost", { inputs: [spec("sm-nowhere").nodeId] });
      const unknown = await both([lost], ctx("st_d"));
      assert.match(String(unknown.small), /UnknownInputError/);
      // 6. a found node whose topic was deleted gets it back
      for (const reg of [regS, regG]) {
        await reg.retireVersion("st_a", "1");
        assert.equal(
          await reg.deleteTopic((await reg.getNode(p2.nodeId))!.topic),
          true,
        );
      }
      assert.deepEqual(
        await snapshot(driver, nsS),
        await snapshot(driver, nsG),
      );
      const p4 = spec("sm-p4", { inputs: [p2.nodeId] });
      const d = await both([p2, p4], ctx("st_e"));
      assert.equal(d.statements, 2, "the lookup and the topic attach");
      assert.notEqual(
        (d.small as { queueMap: Record<string, string> }).queueMap[p2.nodeId],
        "",
      );
      // 7. two nodes with one topic base: the general path
      const twin = spec("sm-twin", { type: "T", params: { k: 1 } });
      const last = twin.nodeId.endsWith("f") ? "0" : "f";
      const twin2 = { ...twin, nodeId: twin.nodeId.slice(0, -1) + last };
      const e = await both([twin, twin2], ctx("st_f"));
      assert.equal((e.small as { created: string[] }).created.length, 2);
      assert.ok(e.statements > 1);
    } finally {
      await driver.close();
      for (const reg of [regS, regG]) await dropRegistry(reg);
    }
  },
});
