/**
 * Bounded waiting: every wait of a drill has a deadline, so a drill that
 * goes wrong ends with a message instead of hanging.
 *
 * @module
 */

import { pause } from "../../lib/queue/pause.ts";

/**
 * Resolve after `ms` milliseconds (or at once when `signal` aborts).
 *
 * @example
 * ```ts
 * import { sleep } from "./wait.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return pause(ms, signal);
}

/** A wait ran out of time. */
export class WaitTimeout extends Error {
  /**
   * @param what what was waited for
   * @param ms how long
   * @param last the last error the probe threw, if any
   */
  constructor(what: string, ms: number, last?: unknown) {
    super(
      `timed out after ${ms} ms waiting for ${what}${
        last === undefined ? "" : ` (last error: ${String(last)})`
      }`,
    );
    this.name = "WaitTimeout";
  }
}

/**
 * Call `probe` every `intervalMs` until it returns something other than
 * `undefined` (returned), or throw {@linkcode WaitTimeout} after
 * `timeoutMs`. A probe that throws is tried again; its last error is named
 * in the timeout message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitFor } from "./wait.ts";
 * let n = 0;
 * assert.equal(await waitFor("n to reach 3", () => ++n >= 3 ? n : undefined, { timeoutMs: 1000, intervalMs: 1 }), 3);
 * ```
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<T> {
  const end = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 200;
  let last: unknown;
  for (let i = 0;; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end || options.signal?.aborted) {
      throw new WaitTimeout(what, options.timeoutMs, last);
    }
    await sleep(Math.min(interval, Math.max(0, end - Date.now())));
  }
}
