// Neo4j-only: migrations, schema checks, query plans, unavailability.
import assert from "node:assert/strict";
import neo4j, { type Driver } from "neo4j-driver";
import {
  applyMigrations,
  checkSchema,
  MIGRATIONS,
  Neo4jRegistry,
  RETIRED_SCHEMA,
  SCHEMA,
  UnavailableError,
} from "../../lib/dag/mod.ts";
import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { Q_BY_TAGS } from "../../lib/dag/neo4j/cypher.ts";
import { dagOf, freshNamespace, spec, testNeo4j } from "./helpers.ts";
import { cypher as runCypher, neo4jBase, withRegistry } from "./neo4j_env.ts";

const cfg = testNeo4j();
const base = neo4jBase(cfg);
const FIXTURE = new URL("../fixtures/dag_sample_graph.cypher", import.meta.url);
const SHARED_INDEX = "qmtl_compute_node_last_ref";

async function withDriver<T>(fn: (d: Driver) => Promise<T>): Promise<T> {
  const driver = createNeo4jDriver(cfg!);
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

const cypher = (
  driver: Driver,
  q: string,
  params: Record<string, unknown> = {},
) => runCypher(cfg!, driver, q, params);

async function dropScope(driver: Driver, scope: string) {
  await cypher(driver, "MATCH (m:Migration) WHERE m.scope = $scope DELETE m", {
    scope,
  });
}

type PlanNode = { operatorType: string; children: PlanNode[] };
function operators(plan: PlanNode): string[] {
  return [plan.operatorType, ...plan.children.flatMap(operators)];
}

Deno.test({
  ...base,
  name: "[neo4j] migrations: fresh ledger applies all, re-run is a no-op",
  fn: () =>
    withDriver(async (driver) => {
      const scope = freshNamespace("mig");
      try {
        const first = await applyMigrations({
          driver,
          database: cfg!.database,
          scope,
        });
        assert.deepEqual(
          first.applied.map((m) => m.version),
          MIGRATIONS.map((m) => m.version),
        );
        assert.deepEqual(first.alreadyApplied, []);
        const ledger = await cypher(
          driver,
          "MATCH (m:Migration) WHERE m.scope = $scope RETURN m.version AS v, m.name AS name, m.applied_at AS at ORDER BY v",
          { scope },
        );
        assert.deepEqual(
          ledger.records.map((r) => r.get("v")),
          MIGRATIONS.map((m) => m.version),
        );
        assert.ok(ledger.records.every((r) => r.get("at") > 0));
        const second = await applyMigrations({
          driver,
          database: cfg!.database,
          scope,
        });
        assert.deepEqual(second.applied, []);
        assert.deepEqual(second.repaired, []);
        assert.deepEqual(
          second.alreadyApplied,
          MIGRATIONS.map((m) => m.version),
        );
        // migration 3 dropped the indexes no statement uses
        const names = (await cypher(driver, "SHOW INDEXES YIELD name"))
          .records.map((r) => r.get("name"));
        for (const o of RETIRED_SCHEMA) {
          assert.ok(!names.includes(o.name), `${o.name} still exists`);
        }
        assert.deepEqual(
          await checkSchema({ driver, database: cfg!.database }),
          [],
        );
      } finally {
        await dropScope(driver, scope);
      }
    }),
});

Deno.test({
  ...base,
  name:
    "[neo4j] a dropped index is reported by checkSchema and start-up, and repaired by migrate",
  fn: () =>
    withDriver(async (driver) => {
      const object = SCHEMA.find((o) => o.name === SHARED_INDEX)!;
      // other suites share the database: the index only speeds up GC scans,
      // and it is re-created in `finally` whatever happens
      try {
        await cypher(driver, `DROP INDEX ${SHARED_INDEX} IF EXISTS`);
        const issues = await checkSchema({ driver, database: cfg!.database });
        assert.deepEqual(
          issues.map((i) => [i.object.name, i.problem]),
          [[SHARED_INDEX, "missing"]],
        );
        const warnings: string[] = [];
        const reg = await Neo4jRegistry.connect({
          ...cfg!,
          namespace: freshNamespace("chk"),
          migrate: "check",
          warn: (m) => warnings.push(m),
        });
        try {
          assert.deepEqual(
            reg.startup.missing.map((i) => i.object.name),
            [SHARED_INDEX],
          );
          assert.equal(warnings.length, 1);
          assert.match(warnings[0], new RegExp(SHARED_INDEX));
          assert.match(warnings[0], /deno task migrate/);
          assert.deepEqual(
            (await reg.checkSchema()).map((i) => i.object.name),
            [SHARED_INDEX],
          );
        } finally {
          await reg.close();
        }
        const repaired = await applyMigrations({
          driver,
          database: cfg!.database,
        });
        assert.deepEqual(repaired.applied, []);
        assert.deepEqual(repaired.repaired, [SHARED_INDEX]);
        assert.deepEqual(
          await checkSchema({ driver, database: cfg!.database }),
          [],
        );
      } finally {
        await cypher(driver, object.create);
        await cypher(driver, "CALL db.awaitIndexes(60)");
      }
    }),
});

Deno.test({
  ...base,
  name:
    "[neo4j] migrate: auto start-up leaves no issue; fixture graph reads back through the registry",
  fn: () =>
    withRegistry(cfg!, "fix", async (reg, ns) => {
      assert.deepEqual(reg.startup.missing, []);
      await withDriver(async (driver) => {
        await cypher(driver, await Deno.readTextFile(FIXTURE), { ns });
      });
      const price =
        "sha256:1111111111111111111111111111111111111111111111111111111111111111";
      const rsi =
        "sha256:3333333333333333333333333333333333333333333333333333333333333333";
      const rec = await reg.getNode(price);
      assert.ok(rec);
      assert.equal(rec.refCount, 1);
      assert.equal(rec.topic, "btc_StreamInput_11111111_v1");
      assert.deepEqual(rec.node!.tags, ["btc", "price"]);
      assert.deepEqual(rec.node!.metadata, { asset: "btc" });
      assert.equal(await reg.refCount(rsi), 0);
      assert.equal((await reg.dependents(price)).length, 2);
      const momentum = await reg.queryByTags(["btc", "momentum"], {
        matchMode: "all",
      });
      assert.deepEqual(momentum.map((r) => r.node!.nodeId), [rsi]);
      const users = await reg.strategiesUsing(price);
      assert.deepEqual(
        users.map((u) => [u.sentinelId, u.retired]),
        [["s1@1", false], ["s2@1", true]],
      );
      // GC: RSI is released and out of grace; price is still live
      const rep = await reg.gc({ graceMs: 1000 });
      assert.deepEqual(rep.removed, [rsi]);
      assert.deepEqual(rep.removedTopics, ["any_Processing_33333333_v1"]);
      // a new DAG can build on the fixture nodes
      const mine = spec("on-fixture", { inputs: [price] });
      const d = await reg.diffAndCommit(dagOf("f", [mine]), {
        strategyId: "s3",
        version: "1",
        owner: "carol",
      });
      assert.deepEqual(d.created, [mine.nodeId]);
    }),
});

Deno.test({
  ...base,
  name: "[neo4j] the tag query plan starts with a unique index seek on Tag.uid",
  fn: () =>
    withRegistry(cfg!, "plan", async (reg, ns) => {
      const nodes = Array.from(
        { length: 30 },
        (_, i) => spec(`p${i}`, { tags: [`t${i % 5}`, "all"] }),
      );
      await reg.diffAndCommit(dagOf("p", nodes), {
        strategyId: "p",
        version: "1",
        owner: "o",
      });
      const params = {
        tagUids: [`${ns}:t1`, `${ns}:all`],
        need: neo4j.int(2),
        interval: null,
        limit: neo4j.int(100),
      };
      await withDriver(async (driver) => {
        for (const mode of ["EXPLAIN", "PROFILE"]) {
          const r = await cypher(driver, `${mode} ${Q_BY_TAGS}`, params);
          const plan = (mode === "EXPLAIN"
            ? r.summary.plan
            : r.summary.profile) as unknown as PlanNode;
          const ops = operators(plan);
          assert.ok(
            ops.some((o) => /^NodeUniqueIndexSeek/.test(o)),
            `${mode} plan has no unique index seek: ${ops.join(" < ")}`,
          );
          assert.ok(
            !ops.some((o) =>
              /AllNodesScan|NodeByLabelScan/.test(o)
            ),
            `${mode} plan scans: ${ops.join(" < ")}`,
          );
          if (mode === "PROFILE") assert.equal(r.records.length, 6);
        }
      });
    }),
});

Deno.test({
  // runs even without a configured Neo4j: nothing listens on port 1
  name: "[neo4j] an unreachable server fails fast with UnavailableError",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t0 = performance.now();
    const err = await Neo4jRegistry.connect({
      url: "bolt://127.0.0.1:1",
      connectionTimeoutMs: 1000,
      maxRetryTimeMs: 1000,
    }).catch((e) => e);
    const ms = performance.now() - t0;
    assert.ok(err instanceof UnavailableError, String(err));
    assert.equal(err.code, "E_UNAVAILABLE");
    assert.equal(err.retryable, true);
    assert.equal(err.httpStatus, 503);
    assert.ok(ms < 5000, `took ${ms} ms`);
  },
});
