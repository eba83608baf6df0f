// Neo4j-only: the failures a registry write can meet, reproduced on the real
// server, and how they reach the caller (typed, retryable or not, a message
// safe to show a client, Neo4j's own text kept in `cause`).
import assert from "node:assert/strict";
import { NotFoundError, StoreRejectedError } from "../../lib/dag/mod.ts";
import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { run } from "../../lib/dag/neo4j/run.ts";
import { runWrite } from "../../lib/dag/neo4j/write.ts";
import { dagOf, spec, testNeo4j } from "./helpers.ts";
import { neo4jBase, withRegistry } from "./neo4j_env.ts";

const cfg = testNeo4j();
const base = neo4jBase(cfg);

Deno.test({
  ...base,
  name:
    "[neo4j] a transaction over the per-transaction memory limit is rejected at once, not retried, with a safe message",
  fn: async () => {
    const driver = createNeo4jDriver(cfg!);
    const session = () =>
      driver.session(cfg!.database ? { database: cfg!.database } : {});
    try {
      // the local stack sets db.memory.transaction.max (Neo4jLauncher.java);
      // without it one transaction can only fail on the shared pool
      const s = session();
      const limit = await s.run(
        "SHOW SETTINGS YIELD name, value WHERE name = 'db.memory.transaction.max' RETURN value",
      ).finally(() => s.close());
      const value = String(limit.records[0]?.get("value") ?? "0B");
      assert.ok(
        Number.parseFloat(value) > 0,
        `db.memory.transaction.max is ${value}: restart the stack (deploy/local/stack.sh down, then up) so that the launcher sets it`,
      );
      let attempts = 0;
      const t0 = performance.now();
      const err = await runWrite(session, (tx) => {
        attempts++;
        // ≈ 800 MB of 2 KB strings collected in one transaction
        return run(
          tx,
          "UNWIND range(1, 400000) AS x WITH collect(x + $pad) AS xs RETURN size(xs) AS n",
          { pad: "x".repeat(2000) },
        );
      }, { raceAttempts: 8, maxRetryTimeMs: 15_000 }).catch((e) => e);
      const ms = performance.now() - t0;
      assert.ok(err instanceof StoreRejectedError, String(err));
      assert.equal(err.reason, "transaction_memory");
      assert.equal(err.code, "E_PAYLOAD_TOO_LARGE");
      assert.equal(err.retryable, false);
      assert.equal(err.httpStatus, 413);
      // Neo4j 5.26 calls it a *transient* error; the driver would retry it
      assert.equal(
        err.storeCode,
        "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
      );
      assert.equal(attempts, 1);
      assert.ok(ms < 10_000, `took ${ms} ms`);
      assert.ok(!/MiB|threshold|db\.memory/.test(err.message), err.message);
      assert.match(
        String((err.cause as Error).message),
        /db\.memory\.transaction\.max threshold reached/,
      );
    } finally {
      await driver.close();
    }
  },
});

Deno.test({
  ...base,
  name:
    "[neo4j] a tag too large for the index fails the diff with E_INVALID, not retried, and writes nothing",
  fn: () =>
    withRegistry(cfg!, "err", async (reg) => {
      const ok = spec("idx-ok", { tags: ["fine"] });
      const bad = spec("idx-bad", { tags: ["t".repeat(10_000)] });
      const t0 = performance.now();
      const err = await reg.diffAndCommit(dagOf("i", [ok, bad]), {
        strategyId: "st_idx",
        version: "1",
        owner: "o",
      }).catch((e) => e);
      assert.ok(err instanceof StoreRejectedError, String(err));
      assert.equal(err.reason, "index_key_size");
      assert.equal(err.code, "E_INVALID");
      assert.equal(err.retryable, false);
      assert.ok(performance.now() - t0 < 10_000);
      assert.ok(!/element id|Index\(/.test(err.message), err.message);
      assert.match(String((err.cause as Error).message), /too large to index/);
      // the transaction was rolled back: no node, no version
      assert.equal(await reg.getNode(ok.nodeId), null);
      assert.equal(await reg.getNode(bad.nodeId), null);
      assert.deepEqual((await reg.listTopics()).topics, []);
      await assert.rejects(
        () => reg.retireVersion("st_idx", "1"),
        NotFoundError,
      );
      // a topic name too large for the index: same error, from createTopic
      const topicErr = await reg.createTopic({ name: "n".repeat(10_000) })
        .catch((e) => e);
      assert.ok(topicErr instanceof StoreRejectedError, String(topicErr));
      assert.equal(topicErr.code, "E_INVALID");
    }),
});

Deno.test({
  ...base,
  name:
    "[neo4j] a permanent failure in a later chunk aborts the chunked commit: no version, its nodes released for the GC",
  fn: () =>
    withRegistry(cfg!, "err", async (reg, ns) => {
      // chunks of 3 in dependency order: the bad tag sits on the last node
      const chain = [spec("ab0")];
      for (let i = 1; i < 8; i++) {
        chain.push(spec(`ab${i}`, {
          inputs: [chain[i - 1].nodeId],
          tags: i === 7 ? ["t".repeat(10_000)] : ["ok"],
        }));
      }
      const err = await reg.diffAndCommit(dagOf("a", chain), {
        strategyId: "st_abort",
        version: "1",
        owner: "o",
      }).catch((e) => e);
      assert.ok(err instanceof StoreRejectedError, String(err));
      assert.equal(err.code, "E_INVALID");
      // the first chunks were committed, then released: no version links
      // them, they have no reference and the GC takes them
      await assert.rejects(
        () => reg.retireVersion("st_abort", "1"),
        NotFoundError,
      );
      const first = await reg.getNode(chain[0].nodeId);
      assert.ok(first, "the first chunk was committed");
      assert.equal(first.refCount, 0);
      assert.deepEqual(await reg.strategiesUsing(chain[0].nodeId), []);
      assert.equal(await reg.getNode(chain[7].nodeId), null);
      const gc = await reg.gc({ graceMs: 0, now: Date.now() + 1000 });
      assert.deepEqual(
        gc.removed,
        chain.slice(0, 6).map((n) => n.nodeId).sort(),
      );
      // a retry with the input fixed starts afresh and completes
      chain[7] = spec("ab7", { inputs: [chain[6].nodeId], tags: ["ok"] });
      const d = await reg.diffAndCommit(dagOf("a", chain), {
        strategyId: "st_abort",
        version: "1",
        owner: "o",
      });
      assert.equal(d.created.length, 8);
      assert.equal(d.reused.length, 0);
      assert.ok(ns);
    }, 3),
});
