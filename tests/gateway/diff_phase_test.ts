import assert from "node:assert/strict";
import { StrategyState } from "../../lib/contracts/mod.ts";
import { DIFF_PHASES } from "../../lib/gateway/mod.ts";
import {
  chain,
  client,
  dag,
  token,
  waitForState,
  withGateway,
} from "./helpers.ts";

/** `name{labels} value` lines of one family, as a map label text → value. */
function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = line.match(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`));
    if (m) out.set(m[1] ?? "", Number(m[2]));
  }
  return out;
}

Deno.test("diff phases: every step of a diff job is timed into qmtl_diff_job_phase_seconds", async () => {
  await withGateway({}, async (gw) => {
    const before = series(
      await gw.metrics.render(),
      "qmtl_diff_job_phase_seconds_count",
    );
    // Declared at start-up, at 0, so a dashboard sees every phase at once.
    for (const phase of DIFF_PHASES) {
      assert.equal(before.get(`{phase="${phase}"}`), 0, phase);
    }
    const tok = await token("alice", ["submitter"]);
    const c = client(gw, tok);
    for (let i = 0; i < 2; i++) {
      const ack = await c.submitStrategy({
        dag: dag(`phases-${i}`, chain(`ph${i}-`, 3)),
        version: "1",
      });
      await waitForState(gw, ack.strategyId, StrategyState.COMPLETED, tok);
    }
    const text = await gw.metrics.render();
    const counts = series(text, "qmtl_diff_job_phase_seconds_count");
    const sums = series(text, "qmtl_diff_job_phase_seconds_sum");
    // Every phase but publish runs once per job.
    for (const phase of DIFF_PHASES.filter((p) => p !== "publish")) {
      assert.equal(counts.get(`{phase="${phase}"}`), 2, phase);
      const sum = sums.get(`{phase="${phase}"}`)!;
      assert.ok(sum >= 0 && sum < 20, `${phase} sum ${sum}`);
    }
    // Two transitions per job publish events (PROCESSING, COMPLETED).
    assert.equal(counts.get('{phase="publish"}'), 4);
  });
});
