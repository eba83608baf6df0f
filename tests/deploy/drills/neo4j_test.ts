// `deno task drill:neo4j --short --json` as CI runs it: a private Neo4j
// killed under load and restarted. Nothing acknowledged may be lost or
// completed twice; submissions during the outage stay QUEUED; /readyz fails
// and recovers; dependency_unreachable fires and resolves at the sink.
import assert from "node:assert/strict";
import { NEO4J_TOOLS, REDIS_TOOLS } from "../../../deploy/drills/tools.ts";
import {
  assertAlerted,
  assertDrillPassed,
  runDrill,
  skipWithout,
} from "./run_drill.ts";

Deno.test({
  name:
    "drill:neo4j --short: Neo4j killed under load and restarted — nothing acknowledged lost or duplicated, outage seen and alerted",
  ignore: skipWithout([
    ...REDIS_TOOLS,
    ...NEO4J_TOOLS.filter((t) => t.name === "java"),
  ]),
  async fn() {
    const run = await runDrill("neo4j", 420_000);
    assertDrillPassed(run, "neo4j");
    const r = run.report;
    assertAlerted(r, "dependency_unreachable/firing");
    assertAlerted(r, "dependency_unreachable/resolved");
    assert.ok(
      r.readiness?.some((c) => c.status === 503),
      "/readyz never failed",
    );
    const states = r.observed?.[
      "states of the strategies acknowledged during the outage"
    ] as Record<string, number>;
    assert.ok((states?.QUEUED ?? 0) > 0, JSON.stringify(states));
    assert.equal(states?.COMPLETED, undefined);
    assert.equal(states?.FAILED, undefined);
  },
});
