/**
 * The benchmarks cannot rot: `deno task bench --quick` runs every group at
 * tiny sizes (seconds) and must write a results file in which every group
 * ran — or, outside CI only, was skipped for a missing service.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BENCH_GROUPS } from "../../bench/groups/mod.ts";

const ROOT = new URL("../../", import.meta.url);
const TIME_BOUND_MS = 110_000;

Deno.test({
  name: "deno task bench --quick runs every group and writes results",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "qmtl-bench-smoke-" });
    const out = `${dir}/results.md`;
    try {
      const t0 = performance.now();
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "bench", "--quick", "--out", out],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(TIME_BOUND_MS),
      }).output();
      const seconds = (performance.now() - t0) / 1000;
      const log = new TextDecoder().decode(r.stderr) +
        new TextDecoder().decode(r.stdout);
      assert.equal(r.code, 0, `bench --quick exited ${r.code}:\n${log}`);
      const md = await Deno.readTextFile(out);
      assert.match(md, /^# Benchmark results/);
      assert.match(
        md,
        /\*\*Load average \(1\/5\/15 min\):\*\* before \S+ \S+ \S+, after/,
      );
      assert.match(md, /\*\*Commit:\*\* [0-9a-f]{40}/);
      assert.match(md, /\*\*Machine:\*\* .+ \d+ logical cores/);
      assert.match(md, /deno task bench --quick --out /);
      assert.doesNotMatch(md, /\*\*Failed\*\*/);
      const ci = Deno.env.get("CI") === "true";
      for (const g of BENCH_GROUPS) {
        const at = md.indexOf(`(\`--only ${g.name}\`)`);
        assert.ok(at > 0, `no section for group ${g.name}`);
        const next = md.indexOf("\n## ", at);
        const section = md.slice(at, next < 0 ? undefined : next);
        if (section.includes("**Skipped:**")) {
          assert.ok(!ci, `group ${g.name} skipped under CI`);
          continue;
        }
        const rows = section.split("\n").filter((l) =>
          l.startsWith("| ") && !l.startsWith("| figure") &&
          !l.startsWith("| ---")
        );
        assert.ok(rows.length > 0, `group ${g.name} reported no figure`);
        for (const row of rows) {
          const value = row.split(" | ")[1];
          assert.match(
            value,
            /^[\d,.]+ \S/,
            `${g.name}: no measured value in ${row}`,
          );
        }
      }
      console.log(`bench --quick: ${seconds.toFixed(1)} s`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
