/**
 * Order statistics used by every benchmark group.
 *
 * @module
 */

/**
 * Nearest-rank percentile (`p` in 0–100) of a non-empty sample: the smallest
 * value with at least `p` % of the sample at or below it. With few samples
 * the high percentiles are the maximum (p95 of 5 samples is the slowest).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./stats.ts";
 * assert.equal(percentile([4, 1, 3, 2], 50), 2);
 * assert.equal(percentile([4, 1, 3, 2], 95), 4);
 * ```
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError("percentile of an empty sample");
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/**
 * Median (mean of the two middle values for an even count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./stats.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 3, 2]), 2.5);
 * ```
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of an empty sample");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * `p50 … p95 … p99 … (n = …)` summary of latency samples in ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latencySummary } from "./stats.ts";
 * assert.equal(latencySummary([1, 2, 3]), "p50 2.0 ms, p95 3.0 ms, p99 3.0 ms (n = 3)");
 * ```
 */
export function latencySummary(ms: readonly number[]): string {
  return `p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${
    percentile(ms, 95).toFixed(1)
  } ms, p99 ${percentile(ms, 99).toFixed(1)} ms (n = ${ms.length})`;
}
