/**
 * A sliding-window rate limiter on an injected clock.
 *
 * @module
 */

/**
 * Allows at most `limit` events in any `windowMs` span.
 *
 * @example
 * ```ts
 * import { SlidingWindowLimiter } from "./rate_limit.ts";
 * import assert from "node:assert/strict";
 * const l = new SlidingWindowLimiter(2, 60_000);
 * assert.equal(l.take(0), true);
 * assert.equal(l.take(1), true);
 * assert.equal(l.take(2), false);
 * assert.equal(l.take(60_001), true); // the first has left the window
 * ```
 */
export class SlidingWindowLimiter {
  #limit: number;
  #windowMs: number;
  #times: number[] = [];

  /**
   * Creates an empty limiter.
   *
   * @param limit Events allowed per window (≥ 1).
   * @param windowMs Window length, ms.
   */
  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Takes one slot at `now` (ms); false when the window is full. */
  take(now: number): boolean {
    while (
      this.#times.length > 0 && now - this.#times[0] >= this.#windowMs
    ) this.#times.shift();
    if (this.#times.length >= this.#limit) return false;
    this.#times.push(now);
    return true;
  }
}
