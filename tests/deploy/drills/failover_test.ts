// `deno task drill:failover --short --json` as CI runs it: a private Redis
// group whose master is killed under load. Nothing acknowledged may be lost
// or completed twice, and the failover alert must reach the drill's sink.
import assert from "node:assert/strict";
import { REDIS_TOOLS } from "../../../deploy/drills/tools.ts";
import { explain, runDrill, skipWithout } from "./run_drill.ts";

Deno.test({
  name:
    "drill:failover --short: Redis master killed under load — nothing acknowledged lost or duplicated, redis_failover alert delivered",
  ignore: skipWithout(REDIS_TOOLS),
  async fn() {
    const run = await runDrill("failover", 240_000);
    const r = run.report;
    assert.equal(run.code, 0, explain(run));
    assert.equal(r.ok, true, explain(run));
    assert.equal(r.drill, "failover");
    assert.equal(r.mode, "short");
    assert.ok(r.strategies.acknowledged > 0, explain(run));
    assert.equal(r.strategies.lost, 0, explain(run));
    assert.equal(r.strategies.duplicates, 0, explain(run));
    assert.equal(r.strategies.completed, r.strategies.acknowledged);
    assert.ok(
      (r.alerts.byCondition["redis_failover/firing"] ?? 0) >= 1,
      `no redis_failover alert: ${JSON.stringify(r.alerts.byCondition)}`,
    );
    const t = Object.fromEntries(r.timings.map((x) => [x.key, x.ms]));
    // The Sentinel's view follows the kill: detect, then promote.
    assert.ok(
      t.detect_sdown !== null && t.detect_sdown > 0,
      `${t.detect_sdown}`,
    );
    assert.ok(
      t.promote !== null && t.promote >= t.detect_sdown!,
      `${t.promote}`,
    );
    assert.ok(
      t.first_completed !== null,
      "nothing acknowledged after the kill completed",
    );
    assert.ok(
      r.sentinelEvents?.some((e) => e.type === "+switch-master"),
      "no +switch-master in the report",
    );
  },
});
