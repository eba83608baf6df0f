/**
 * Retry policy of the client: exponential backoff with full jitter, bounded
 * in attempts and in delay, and a sleep that an `AbortSignal` interrupts.
 *
 * @module
 */

/**
 * How the client retries calls that failed with
 * `E_UNAVAILABLE`: at most `maxAttempts` attempts in all, waiting a
 * random time up to `min(maxMs, baseMs · 2^(attempt−1))` between them (or the
 * server's `Retry-After`, capped at `maxMs`).
 *
 * @example
 * ```ts
 * import type { RetryOptions } from "@qmtl/qmtl/sdk";
 * const r: RetryOptions = { maxAttempts: 5, baseMs: 100, maxMs: 2000 };
 * ```
 */
export interface RetryOptions {
  /** Attempts in all, including the first; ≥ 1. */
  maxAttempts: number;
  /** Backoff base in milliseconds. */
  baseMs: number;
  /** Largest single wait in milliseconds. */
  maxMs: number;
}

/**
 * The default retry policy: 5 attempts, 200 ms base, 5 s cap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_RETRY } from "@qmtl/qmtl/sdk";
 * assert.equal(DEFAULT_RETRY.maxAttempts, 5);
 * ```
 */
export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({
  maxAttempts: 5,
  baseMs: 200,
  maxMs: 5000,
});

/**
 * Fill and check a partial retry policy. Throws a `RangeError` for a
 * non-integer or < 1 `maxAttempts`, or negative delays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryOptions } from "./retry.ts";
 * assert.deepEqual(retryOptions({ maxAttempts: 2 }), { maxAttempts: 2, baseMs: 200, maxMs: 5000 });
 * ```
 */
export function retryOptions(
  partial: Partial<RetryOptions> = {},
): RetryOptions {
  const r: RetryOptions = { ...DEFAULT_RETRY, ...partial };
  if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) {
    throw new RangeError(
      `retry.maxAttempts must be an integer ≥ 1, got ${r.maxAttempts}`,
    );
  }
  if (!(r.baseMs >= 0) || !(r.maxMs >= 0)) {
    throw new RangeError("retry.baseMs and retry.maxMs must be ≥ 0");
  }
  return r;
}

/**
 * The wait before retry number `attempt` (1 = the first retry): a uniformly
 * random delay in `[0, min(maxMs, baseMs · 2^(attempt−1))]` ("full jitter").
 * A server-suggested `retryAfterMs` replaces the exponential bound but is
 * still capped at `maxMs`.
 *
 * @param attempt retry number, ≥ 1
 * @param policy the retry policy
 * @param retryAfterMs the server's `Retry-After`, if any
 * @param random a source of numbers in `[0, 1)`; default `Math.random`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "@qmtl/qmtl/sdk";
 * assert.equal(backoffMs(3, { maxAttempts: 5, baseMs: 100, maxMs: 1000 }, undefined, () => 0.5), 200);
 * assert.ok(backoffMs(9, { maxAttempts: 5, baseMs: 100, maxMs: 1000 }, undefined, () => 0.999) <= 1000);
 * ```
 */
export function backoffMs(
  attempt: number,
  policy: RetryOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) {
    // Honour the server, with a little jitter so clients do not stampede.
    const capped = Math.min(policy.maxMs, retryAfterMs);
    return Math.round(capped * (0.8 + 0.2 * random()));
  }
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const bound = Math.min(policy.maxMs, policy.baseMs * 2 ** exp);
  return Math.round(bound * random());
}

/**
 * Resolve after `ms` milliseconds, or reject with the signal's reason as soon
 * as `signal` aborts.
 *
 * @example
 * ```ts
 * import { sleep } from "./retry.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A signal that aborts after `ms` (with a `TimeoutError`), and `clear()` to
 * drop its timer. Unlike `AbortSignal.timeout`, whose timer keeps the
 * process alive for its whole duration once something listens to it, a
 * cleared deadline lets a finished program exit at once.
 *
 * @param ms milliseconds until the signal aborts
 * @returns the signal and a function that cancels the timer
 * @example
 * ```ts
 * import { deadline } from "./retry.ts";
 * import assert from "node:assert/strict";
 * const d = deadline(60_000);
 * assert.equal(d.signal.aborted, false);
 * d.clear(); // the process is free to exit now
 * ```
 */
export function deadline(ms: number): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new DOMException("deadline exceeded", "TimeoutError")),
    Math.max(0, ms),
  );
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

/**
 * An internal signal that follows the caller's `signal`, and `dispose()` to
 * detach it. The SDK hands the caller's signal to nothing else: fetches,
 * sleeps and `AbortSignal.any` chains add listeners that may outlive the
 * call, and a listener on a caller's `AbortSignal.timeout(…)` keeps the
 * process alive until that timeout fires. After `dispose()` the caller's
 * signal has no listener of the SDK left.
 *
 * @param signal the caller's signal, if any
 * @returns the internal signal (aborted with the caller's reason) and `dispose`
 * @example
 * ```ts
 * import { linkSignal } from "./retry.ts";
 * import assert from "node:assert/strict";
 * const caller = new AbortController();
 * const link = linkSignal(caller.signal);
 * caller.abort("stop");
 * assert.equal(link.signal.reason, "stop");
 * link.dispose();
 * ```
 */
export function linkSignal(
  signal?: AbortSignal,
): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  if (signal === undefined) return { signal: ac.signal, dispose() {} };
  if (signal.aborted) {
    ac.abort(signal.reason);
    return { signal: ac.signal, dispose() {} };
  }
  const relay = () => ac.abort(signal.reason);
  signal.addEventListener("abort", relay, { once: true });
  return {
    signal: ac.signal,
    dispose: () => signal.removeEventListener("abort", relay),
  };
}

/**
 * Parse a `Retry-After` header (seconds or an HTTP date) into milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./retry.ts";
 * assert.equal(parseRetryAfter("5"), 5000);
 * assert.equal(parseRetryAfter(null), undefined);
 * ```
 */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}
