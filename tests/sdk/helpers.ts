/**
 * Shared helpers of the SDK client tests: typed-error predicates and the
 * "waitFor survives a server restart" scenario, run in process and against
 * the `deno task serve` subprocess.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type QmtlClient,
  QmtlClientError,
  type StrategyBuilder,
} from "../../sdk/mod.ts";

/** A predicate for `assert.rejects`: a QmtlClientError with one of these codes. */
export function code(...codes: string[]): (e: unknown) => boolean {
  return (e) => e instanceof QmtlClientError && codes.includes(e.code);
}

/** The QmtlClientError `p` rejects with; fails if it resolves or rejects with anything else. */
export async function clientError(
  p: Promise<unknown>,
): Promise<QmtlClientError> {
  const e = await p.then(() => undefined, (e) => e);
  assert.ok(e instanceof QmtlClientError, String(e));
  return e;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Submits `strategy`, waits for COMPLETED, then starts waiting for RETIRED
 * and takes the server down for `downMs` (the wait must still be pending),
 * brings it back, retires the strategy: the wait that spanned the restart
 * ends RETIRED.
 */
export async function assertWaitSurvivesRestart(
  c: QmtlClient,
  strategy: StrategyBuilder,
  server: { stop(): Promise<void>; start(): Promise<void> | void },
  ms: {
    completed: number;
    retired: number;
    poll: number;
    beforeStop: number;
    down: number;
  },
): Promise<void> {
  const ack = await c.submit(strategy, { version: "1" });
  await c.waitFor(ack.strategyId, "COMPLETED", { timeoutMs: ms.completed });
  const waiting = c.waitFor(ack.strategyId, "RETIRED", {
    timeoutMs: ms.retired,
    pollMs: ms.poll,
  });
  let settled = false;
  waiting.finally(() => (settled = true)).catch(() => {});
  await sleep(ms.beforeStop);
  await server.stop(); // down: connections refused
  await sleep(ms.down);
  assert.equal(settled, false, "still waiting while the server is down");
  await server.start(); // back on the same port, same backends
  await c.retire(ack.strategyId);
  const st = await waiting;
  assert.equal(st.state, "RETIRED");
}
