/**
 * Retry delays: exponential backoff with "equal jitter".
 *
 * @module
 */

import type { BackoffOptions } from "./types.ts";

/**
 * The default backoff: 1 s after the first attempt, doubling, capped at 5 min.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BACKOFF } from "@qmtl/qmtl/queue";
 * assert.equal(DEFAULT_BACKOFF.baseMs, 1000);
 * ```
 */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseMs: 1_000,
  maxMs: 300_000,
});

/**
 * Delay before the next try after `attempts` failed attempts:
 * `d = min(maxMs, baseMs * 2^(attempts-1))`, then a uniform value in
 * `[d/2, d]` so that workers failing together do not retry together.
 *
 * @param attempts Attempts made so far (≥ 1; smaller values count as 1).
 * @param opts Base and cap.
 * @param random A number in `[0, 1)`; `Math.random()` by default.
 * @returns Milliseconds, an integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "@qmtl/qmtl/queue";
 * const d = backoffDelay(3, { baseMs: 100, maxMs: 10_000 });
 * assert.ok(d >= 200 && d <= 400);
 * ```
 */
export function backoffDelay(
  attempts: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: number = Math.random(),
): number {
  const n = Math.max(1, Math.floor(attempts));
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(n - 1, 52));
  return Math.floor(raw / 2 + (raw / 2) * random);
}

/**
 * The delays {@link backoffDelay} gives after attempt 1, 2, … up to the first
 * attempt whose delay reaches the cap (every later attempt gets the last
 * entry), for one random draw. The Redis queue sends this to its `nack`
 * script, which picks entry `min(attempts, length)`: the formula is defined
 * here only.
 *
 * @param opts Base and cap.
 * @param random A number in `[0, 1)`; `Math.random()` by default.
 * @returns 1 to 53 delays in ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffSchedule } from "@qmtl/qmtl/queue";
 * assert.deepEqual(backoffSchedule({ baseMs: 100, maxMs: 1_000 }, 0), [50, 100, 200, 400, 500]);
 * ```
 */
export function backoffSchedule(
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: number = Math.random(),
): number[] {
  const out: number[] = [];
  for (let n = 1; n <= 53; n++) {
    out.push(backoffDelay(n, opts, random));
    if (opts.baseMs * 2 ** (n - 1) >= opts.maxMs) break;
  }
  return out;
}
