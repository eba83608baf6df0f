import assert from "node:assert/strict";
import {
  type GroupOutcome,
  num,
  renderResults,
  type RunRecord,
} from "../../bench/harness/render.ts";
import {
  latencySummary,
  median,
  percentile,
} from "../../bench/harness/stats.ts";
import type { BenchGroup } from "../../bench/harness/types.ts";

const group = (name: string): BenchGroup => ({
  name,
  title: `Group ${name}`,
  description: `about ${name}`,
  needs: [],
  run: () => Promise.resolve({ figures: [], notes: [] }),
});

function record(outcomes: GroupOutcome[], quick = false): RunRecord {
  return {
    label: "test run",
    command: "`deno task bench`",
    started: new Date("2026-01-01T00:00:00Z"),
    finished: new Date("2026-01-01T00:01:00Z"),
    commit: "0".repeat(40),
    machine: {
      cpuModel: "CPU",
      cores: 2,
      memoryGiB: 4,
      os: "linux",
      deno: "Deno x",
      redis: "Redis y",
      neo4j: "Neo4j z",
      wrk: "wrk w",
    },
    loadBefore: "0.10 0.20 0.30",
    loadAfter: "1.00 2.00 3.00",
    quick,
    outcomes,
  };
}

Deno.test("percentile is nearest-rank; median averages the middle pair", () => {
  const xs = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 10);
  assert.equal(percentile(xs, 95), 19);
  assert.equal(percentile(xs, 99), 20);
  assert.equal(percentile([5], 99), 5);
  assert.equal(median([1, 2, 3, 10]), 2.5);
  assert.throws(() => percentile([], 50), RangeError);
  assert.equal(
    latencySummary([2, 1]),
    "p50 1.0 ms, p95 2.0 ms, p99 2.0 ms (n = 2)",
  );
});

Deno.test("num formats by magnitude and marks non-finite values", () => {
  assert.equal(num(1234567.8), "1,234,568");
  assert.equal(num(56.78), "56.8");
  assert.equal(num(5.678), "5.68");
  assert.equal(num(NaN), "—");
});

Deno.test("results: header, targets table, peer ratio, failed and skipped groups", () => {
  const md = renderResults(record([
    {
      group: group("http"),
      status: "ok",
      seconds: 3,
      report: {
        figures: [
          {
            name: "GET",
            value: 800,
            unit: "req/s",
            peer: { name: "bare", value: 1000 },
            ratioNote: "% of bare",
            target: { text: "≥ 80 % of bare", met: true },
          },
          {
            name: "latency",
            value: 20,
            unit: "ms",
            target: { text: "p95 ≤ 15 ms", met: false },
          },
          {
            name: "50k",
            value: NaN,
            unit: "ms",
            detail: "Neo4jError: out of memory",
          },
        ],
        notes: ["pinned"],
      },
    },
    {
      group: group("queue"),
      status: "skipped",
      reason: "needs QMTL_REDIS_URL",
    },
    {
      group: group("registry"),
      status: "failed",
      error: "Error: boom",
      seconds: 1,
    },
  ]));
  assert.match(md, /before 0\.10 0\.20 0\.30, after 1\.00 2\.00 3\.00/);
  assert.match(
    md,
    /\| http \| GET \| 80\.0 % of bare \| ≥ 80 % of bare \*\*met\*\* \|/,
  );
  assert.match(
    md,
    /\| http \| latency \| 20 ms \| p95 ≤ 15 ms \*\*not met\*\* \|/,
  );
  assert.match(
    md,
    /\| GET \| 800 req\/s \| bare: 1,000 req\/s \| 80\.0 % of bare \|/,
  );
  assert.match(md, /\| 50k \| failed \| .*Neo4jError: out of memory \|/);
  assert.match(md, /\*\*Skipped:\*\* needs QMTL_REDIS_URL/);
  assert.match(md, /\*\*Failed\*\* after 1\.0 s:\n\n```\nError: boom\n```/);
  assert.match(md, /- pinned\n- Group wall time: 3\.0 s\./);
});

Deno.test("results: quick mode shows targets without judging them", () => {
  const md = renderResults(record([{
    group: group("submit"),
    status: "ok",
    seconds: 1,
    report: {
      figures: [{
        name: "p95",
        value: 99,
        unit: "ms",
        target: { text: "p95 ≤ 15 ms", met: false },
      }],
      notes: [],
    },
  }], true));
  assert.doesNotMatch(md, /## Targets/);
  assert.doesNotMatch(md, /not met/);
  assert.match(md, /p95 ≤ 15 ms \(not judged: quick mode\)/);
});
