// Two reference servers on one stack (same namespace, the shared Redis and
// Neo4j): submissions go to both, and every DAG is also sent to both at
// the same moment. Checked: no 409 for accepted work (each pair: one
// created, one duplicate), every acknowledged strategy COMPLETED exactly
// once with its events in transition order once each, the registry
// consistent, neither server restarted.
import assert from "node:assert/strict";
import { realStack } from "../support/services.ts";
import { token } from "../gateway/helpers.ts";
import {
  assertNoneRestarted,
  checkAll,
  freshNamespace,
  type GatewayProcess,
  inspect,
  loadDag,
  settle,
  startGateway,
  submitLoad,
} from "./harness.ts";

const { neo4j, redis, ignore } = realStack();

Deno.test({
  name:
    "chaos: two gateways on one stack share the work — same DAG to both at once, no 409, each strategy COMPLETED once, events in order",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const ns = freshNamespace("chaos2gw");
    const env = {
      QMTL_REDIS_URL: redis.url!,
      QMTL_NEO4J_URL: neo4j.url!,
      QMTL_NEO4J_MIGRATE: "auto",
      QMTL_NAMESPACE: ns,
    };
    const gws: GatewayProcess[] = [];
    const check = inspect(redis.url!, ns);
    try {
      gws.push(...await Promise.all([startGateway(env), startGateway(env)]));
      const tok = await token("alice", ["submitter", "reader"]);
      const salt = ns;
      const urls = () => gws.map((g) => g.url);
      // Identical pairs: every DAG to both gateways at the same moment.
      const pairs = await submitLoad({
        urls,
        dags: Array.from({ length: 40 }, (_, i) => loadDag(salt, i)),
        token: tok,
        concurrency: 4,
        pairs: true,
        deadlineMs: 25_000,
      });
      // Plain load spread over both.
      const spread = await submitLoad({
        urls,
        dags: Array.from({ length: 40 }, (_, i) => loadDag(salt, 100 + i)),
        token: tok,
        concurrency: 6,
        deadlineMs: 15_000,
      });
      assert.equal(pairs.acked.size, 40, JSON.stringify(pairs.answers));
      assert.equal(pairs.duplicates, 40, "one duplicate per pair");
      assert.equal(spread.acked.size, 40, JSON.stringify(spread.answers));
      await settle(check, 30_000);
      const load = {
        acked: new Map([...pairs.acked, ...spread.acked]),
        answers: {},
        conflicts: [...pairs.conflicts, ...spread.conflicts],
        duplicates: 0,
      };
      const { completed } = await checkAll({
        load,
        inspect: check,
        neo4jUrl: neo4j.url!,
        namespace: ns,
      });
      assert.equal(completed, 80);
      // Both gateways did diffs (the work is shared).
      assertNoneRestarted(gws);
      for (const g of gws) {
        assert.ok(
          !g.lines.some((l) => /"level":"error"/.test(l)),
          g.lines.filter((l) => /"level":"error"/.test(l)).slice(0, 3)
            .join("\n"),
        );
      }
    } finally {
      for (const g of gws) await g.stop();
      await check.close();
    }
  },
});
