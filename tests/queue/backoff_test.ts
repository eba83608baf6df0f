import assert from "node:assert/strict";
import { backoffDelay, backoffSchedule } from "../../lib/queue/backoff.ts";

Deno.test("backoffSchedule: entry i is backoffDelay(i + 1); later attempts repeat the last", () => {
  const cases = [
    { baseMs: 1_000, maxMs: 300_000 },
    { baseMs: 100, maxMs: 100 },
    { baseMs: 500, maxMs: 100 },
    { baseMs: 1, maxMs: 2 ** 60 },
    { baseMs: 0, maxMs: 1_000 },
    { baseMs: 3, maxMs: 1_000 },
  ];
  for (const opts of cases) {
    for (const random of [0, 0.25, 0.999]) {
      const s = backoffSchedule(opts, random);
      assert.ok(s.length >= 1 && s.length <= 53, JSON.stringify(opts));
      for (let attempts = 1; attempts <= 80; attempts++) {
        assert.equal(
          s[Math.min(attempts, s.length) - 1],
          backoffDelay(attempts, opts, random),
          `${JSON.stringify(opts)} random ${random} attempts ${attempts}`,
        );
      }
    }
  }
});
