// `deno task drill:failover --short --json` as CI runs it: a private Redis
// group whose master is killed under load. Nothing acknowledged may be lost
// or completed twice, and the failover alert must reach the drill's sink.
import assert from "node:assert/strict";
import { REDIS_TOOLS } from "../../../deploy/drills/tools.ts";
import {
  assertAlerted,
  assertDrillPassed,
  runDrill,
  skipWithout,
} from "./run_drill.ts";

Deno.test({
  name:
    "drill:failover --short: Redis master killed under load — nothing acknowledged lost or duplicated, redis_failover alert delivered",
  ignore: skipWithout(REDIS_TOOLS),
  async fn() {
    const run = await runDrill("failover", 240_000);
    assertDrillPassed(run, "failover");
    const r = run.report;
    assertAlerted(r, "redis_failover/firing");
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
