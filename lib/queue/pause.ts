/**
 * Internal: an abortable pause that never rejects — the wait between two
 * polls or retries of a loop that ends when its signal aborts. Lives here,
 * in the lowest layer the Gateway and the SDK runner both build on; it is
 * not part of the queue's public API.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never
 * rejects); the timer and the abort listener are removed either way, so a
 * pause keeps nothing alive after it ends.
 *
 * @param ms how long to wait (≤ 0: the next macrotask)
 * @param signal ends the pause early
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pause } from "./pause.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 10);
 * const t0 = Date.now();
 * await pause(60_000, stop.signal); // returns after ~10 ms
 * assert.ok(Date.now() - t0 < 1_000);
 * ```
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}
