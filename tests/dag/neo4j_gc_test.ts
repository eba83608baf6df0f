// Neo4j-only: what the GC leaves behind in the graph.
import assert from "node:assert/strict";
import neo4j from "neo4j-driver";
import { Q_RETIRE } from "../../lib/dag/neo4j/cypher.ts";
import { dagOf, spec, testNeo4j } from "./helpers.ts";
import { cypher, neo4jBase, withRegistryAndDriver } from "./neo4j_env.ts";

const cfg = testNeo4j();

Deno.test({
  name:
    "[neo4j] the GC deletes tags no node carries any more, and keeps shared ones",
  ...neo4jBase(cfg),
  fn: () =>
    withRegistryAndDriver(cfg!, "gct", async (reg, ns, driver) => {
      const tags = async () =>
        (await cypher(
          cfg!,
          driver,
          "MATCH (g:Tag) WHERE g.ns = $ns RETURN g.name AS name ORDER BY name",
          { ns },
        )).records.map((x) => x.get("name") as string);
      const gone = spec("tg-gone", { tags: ["only-here", "shared"] });
      const kept = spec("tg-kept", { tags: ["shared", "kept"] });
      await reg.diffAndCommit(dagOf("a", [gone]), {
        strategyId: "st_a",
        version: "1",
        owner: "o",
      });
      await reg.diffAndCommit(dagOf("b", [kept]), {
        strategyId: "st_b",
        version: "1",
        owner: "o",
      });
      assert.deepEqual(await tags(), ["kept", "only-here", "shared"]);
      await reg.retireVersion("st_a", "1");
      const rep = await reg.gc({ graceMs: 0, now: Date.now() + 1000 });
      assert.deepEqual(rep.removed, [gone.nodeId]);
      assert.deepEqual(await tags(), ["kept", "shared"]);
      assert.deepEqual(
        (await reg.queryByTags(["shared"], { matchMode: "any" })).map((r) =>
          r.node!.nodeId
        ),
        [kept.nodeId],
      );
      // a collected tag comes back with the next node that carries it
      const again = spec("tg-again", { tags: ["only-here"] });
      await reg.diffAndCommit(dagOf("c", [again]), {
        strategyId: "st_c",
        version: "1",
        owner: "o",
      });
      assert.deepEqual(
        (await reg.queryByTags(["only-here"], { matchMode: "any" })).map((r) =>
          r.node!.nodeId
        ),
        [again.nodeId],
      );
    }),
});

Deno.test({
  name:
    "[neo4j] a release cut short by a crash is finished by the next GC run (or retire call)",
  ...neo4jBase(cfg),
  fn: () =>
    withRegistryAndDriver(cfg!, "gcr", async (reg, ns, driver) => {
      const a = spec("rel-a");
      const b = spec("rel-b", { inputs: [a.nodeId] });
      const c = spec("rel-c");
      for (const [sid, nodes] of [["st_r1", [a, b]], ["st_r2", [c]]] as const) {
        await reg.diffAndCommit(dagOf(sid, [...nodes]), {
          strategyId: sid,
          version: "1",
          owner: "o",
        });
      }
      // the first transaction of a retire, then the process dies: retired,
      // nothing released (no node stamped, so no node is a GC candidate)
      for (const v of ["st_r1@1", "st_r2@1"]) {
        await cypher(cfg!, driver, Q_RETIRE, {
          vuid: `${ns}:${v}`,
          now: neo4j.int(1),
        });
      }
      assert.equal(await reg.refCount(a.nodeId), 0);
      // the next GC finishes both releases and collects the nodes
      const rep = await reg.gc({ graceMs: 0, now: Date.now() + 1000 });
      assert.deepEqual(rep.removed, [a.nodeId, b.nodeId, c.nodeId].sort());
      // a retire call on a finished release changes nothing
      const again = await reg.retireVersion("st_r1", "1");
      assert.deepEqual(again, {
        sentinelId: "st_r1@1",
        alreadyRetired: true,
        released: [],
      });
    }),
});
