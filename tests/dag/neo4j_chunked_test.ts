// Neo4j-only: diffs above the transaction budget are committed in chunks —
// same result as one transaction, crash-safe (a re-run resumes and converges;
// partial state is never reported as a committed version) and not blocking
// other diffs meanwhile.
import assert from "node:assert/strict";
import type { NodeSpec } from "../../lib/contracts/messages.ts";
import { commitDiff, type DiffTarget } from "../../lib/dag/neo4j/diff.ts";
import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { runWrite } from "../../lib/dag/neo4j/write.ts";
import { dagOf, freshNamespace, spec, testNeo4j } from "./helpers.ts";
import { dropRegistry, neo4jBase, openRegistry } from "./neo4j_env.ts";

const cfg = testNeo4j();
const base = neo4jBase(cfg);
const WEEK = 7 * 24 * 3600 * 1000;

/** 30 nodes: 5 tagged inputs, then nodes with 1–2 earlier inputs. */
function sampleDag(salt: string): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  for (let i = 0; i < 30; i++) {
    const inputs = i < 5 ? [] : [
      ...new Set([nodes[(i * 7) % i].nodeId, nodes[(i * 3) % i].nodeId]),
    ];
    nodes.push(spec(`${salt}${i}`, {
      type: i < 5 ? "StreamInput" : "Processing",
      inputs,
      tags: i < 5 ? ["chunk", `sym${i % 2}`] : [],
      asset: i < 5 ? `sym${i % 2}` : undefined,
    }));
  }
  // submitted consumers first: chunking must still put inputs first
  return nodes.reverse();
}

const open = (ns: string, maxNodes?: number) =>
  openRegistry(cfg!, ns, maxNodes);

/** A diff target over a driver whose writes can be delayed or failed. */
function target(
  ns: string,
  maxNodes: number,
  before: (write: number) => Promise<void>,
): { target: DiffTarget; close(): Promise<void> } {
  const driver = createNeo4jDriver(cfg!);
  let writes = 0;
  return {
    target: {
      ns,
      budget: { maxNodes, maxBytes: 1e12 },
      retentionMs: WEEK,
      write: async (work) => {
        await before(++writes);
        return await runWrite(
          () =>
            driver.session(cfg!.database ? { database: cfg!.database } : {}),
          work,
          { raceAttempts: 8, maxRetryTimeMs: 15_000 },
        );
      },
    },
    close: () => driver.close(),
  };
}

const ctx = (strategyId: string) => ({
  strategyId,
  version: "1",
  owner: "carol",
});

Deno.test({
  ...base,
  name:
    "[neo4j] a chunked commit gives the one-transaction result: nodes, topics, edges, tags, refs; a re-run returns it",
  fn: async () => {
    const nsA = freshNamespace("ch1"), nsB = freshNamespace("ch1");
    const chunked = await open(nsA, 4);
    const single = await open(nsB);
    try {
      const nodes = sampleDag("eq");
      const a = await chunked.diffAndCommit(dagOf("eq", nodes), ctx("st_eq"));
      const b = await single.diffAndCommit(dagOf("eq", nodes), ctx("st_eq"));
      assert.deepEqual(a, b);
      assert.equal(a.created.length, 30);
      // the re-run of a committed version returns the stored result
      assert.deepEqual(
        await chunked.diffAndCommit(dagOf("eq", nodes), ctx("st_eq")),
        a,
      );
      for (const n of nodes) {
        const [x, y] = [
          await chunked.getNode(n.nodeId),
          await single.getNode(n.nodeId),
        ];
        assert.ok(x && y);
        assert.deepEqual(
          { ...x, createdAtMs: 0, updatedAtMs: 0 },
          { ...y, createdAtMs: 0, updatedAtMs: 0 },
        );
        assert.deepEqual(
          (await chunked.dependencies(n.nodeId)).map((r) => r.node!.nodeId),
          (await single.dependencies(n.nodeId)).map((r) => r.node!.nodeId),
        );
      }
      assert.equal(
        (await chunked.queryByTags(["chunk"], { matchMode: "any" })).length,
        5,
      );
      // reused by another strategy, still in chunks
      const r = await chunked.diffAndCommit(dagOf("eq", nodes), ctx("st_eq2"));
      assert.equal(r.reused.length, 30);
      assert.deepEqual(r.queueMap, a.queueMap);
      assert.equal(await chunked.refCount(nodes[0].nodeId), 2);
    } finally {
      for (const reg of [chunked, single]) await dropRegistry(reg);
    }
  },
});

Deno.test({
  ...base,
  name:
    "[neo4j] a crash between chunks: nothing reported committed, nodes held from the GC, a re-run resumes and converges",
  fn: async () => {
    const ns = freshNamespace("ch2");
    const reg = await open(ns, 4);
    // write 1 opens the version, 2.. commit chunks: die before the 4th
    const t = target(ns, 4, (w) => {
      if (w === 4) throw new Error("process killed");
      return Promise.resolve();
    });
    try {
      const nodes = sampleDag("cr");
      const dag = dagOf("cr", nodes);
      await assert.rejects(
        () => commitDiff(t.target, dag, ctx("st_cr")),
        /process killed/,
      );
      // two chunks are in the graph, held by the unfinished version ...
      let present = 0;
      for (const n of nodes) {
        const rec = await reg.getNode(n.nodeId);
        if (!rec) continue;
        present++;
        assert.equal(rec.refCount, 1);
        assert.notEqual(rec.topic, "");
        // ... which is not listed as a version using them
        assert.deepEqual(await reg.strategiesUsing(n.nodeId), []);
      }
      assert.equal(present, 8);
      const gc = await reg.gc({ graceMs: 0, now: Date.now() + 1000 });
      assert.deepEqual(gc.removed, []);
      // a re-run (another process, another budget) resumes it
      const other = await open(ns);
      try {
        const d = await other.diffAndCommit(dag, ctx("st_cr"));
        assert.equal(d.created.length, 30, "the crashed attempt's nodes count");
        assert.deepEqual(d.reused, []);
        for (const n of nodes) {
          assert.equal(
            (await reg.getNode(n.nodeId))?.topic,
            d.queueMap[n.nodeId],
          );
          assert.deepEqual(
            (await reg.strategiesUsing(n.nodeId)).map((s) => s.sentinelId),
            ["st_cr@1"],
          );
        }
        assert.deepEqual(await reg.diffAndCommit(dag, ctx("st_cr")), d);
        // same graph as an uninterrupted commit elsewhere
        const clean = await open(freshNamespace("ch2c"));
        try {
          assert.deepEqual(await clean.diffAndCommit(dag, ctx("st_cr")), d);
        } finally {
          await dropRegistry(clean);
        }
      } finally {
        await other.close();
      }
    } finally {
      await t.close();
      await dropRegistry(reg);
    }
  },
});

Deno.test({
  ...base,
  name:
    "[neo4j] other diffs run between the chunks of a large one (no lock or memory held across chunks)",
  fn: async () => {
    const ns = freshNamespace("ch3");
    const reg = await open(ns);
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    let paused!: () => void;
    const atGate = new Promise<void>((r) => paused = r);
    const t = target(ns, 4, async (w) => {
      if (w === 3) {
        paused();
        await gate;
      }
    });
    try {
      const nodes = sampleDag("cc");
      const big = commitDiff(t.target, dagOf("cc", nodes), ctx("st_big"));
      await atGate; // the first chunk is committed, the second waits
      const shared = nodes[nodes.length - 1]; // an input, in chunk 1
      const mine = spec("cc-small", { inputs: [shared.nodeId] });
      const t0 = performance.now();
      const small = await reg.diffAndCommit(
        dagOf("s", [shared, mine]),
        ctx("st_small"),
      );
      assert.ok(performance.now() - t0 < 10_000);
      assert.deepEqual(small.created, [mine.nodeId]);
      assert.deepEqual(small.reused, [shared.nodeId]);
      release();
      const done = await big;
      assert.equal(done.created.length, 30);
      assert.equal(await reg.refCount(shared.nodeId), 2);
    } finally {
      release();
      await t.close();
      await dropRegistry(reg);
    }
  },
});
