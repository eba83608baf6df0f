/**
 * A periodic check that never overlaps itself and never throws.
 *
 * @module
 */

/**
 * A started poll; `stop()` waits for a check in flight.
 *
 * @example
 * ```ts
 * import type { PollHandle } from "./poller.ts";
 * async function end(p: PollHandle): Promise<void> {
 *   await p.stop();
 * }
 * ```
 */
export interface PollHandle {
  /** Stop polling; resolves after a running check ends. */
  stop(): Promise<void>;
}

/**
 * Runs `check` now and then every `intervalMs` after the previous one
 * ended. A rejected check is passed to `onError`.
 *
 * @example
 * ```ts
 * import { poll } from "./poller.ts";
 * import assert from "node:assert/strict";
 * let n = 0;
 * const p = poll(() => { n++; return Promise.resolve(); }, 10_000, () => {});
 * await p.stop();
 * assert.equal(n, 1);
 * ```
 */
export function poll(
  check: () => Promise<void>,
  intervalMs: number,
  onError: (e: unknown) => void,
): PollHandle {
  let running = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    current = (async () => {
      try {
        await check();
      } catch (e) {
        onError(e);
      }
      if (running) timer = setTimeout(tick, intervalMs);
    })();
  };
  tick();
  return {
    async stop() {
      running = false;
      clearTimeout(timer);
      await current;
      clearTimeout(timer);
    },
  };
}
