/**
 * A program that hands the SDK its own long `AbortSignal.timeout(60_000)`
 * (as the JSDoc examples do) exits right after its last line: every call,
 * `events()` broken out of, and `live()` stopped leave no listener on the
 * caller's signal and no timer, socket or stream behind. On memory and on
 * the real stack.
 */
import assert from "node:assert/strict";
import { startServe } from "../support/server_process.ts";
import { MAX_EXIT_LAG_MS, runTimed } from "../support/exit_timing.ts";

const ROOT = new URL("../../", import.meta.url);
const CASES = ["calls", "events", "live"];

async function check(keepBackends: boolean): Promise<void> {
  const srv = await startServe({ keepBackends });
  try {
    for (const c of CASES) {
      const run = await runTimed(
        ["run", "-A", "tests/sdk/fixtures/signal_user.ts", c],
        {
          cwd: ROOT,
          env: { QMTL_URL: srv.url, QMTL_TOKEN: srv.token! },
          timeoutMs: 90_000,
        },
      );
      assert.equal(run.code, 0, `${c}: ${run.stderr}`);
      assert.match(run.stdout.at(-1) ?? "", new RegExp(`^${c} done`));
      assert.ok(
        run.exitLagMs < MAX_EXIT_LAG_MS,
        `${c}: exited ${Math.round(run.exitLagMs)} ms after its last line`,
      );
    }
  } finally {
    await srv.stop();
  }
}

Deno.test("SDK with the caller's timeout signals: exits at once (memory)", () =>
  check(false));

const realStack = Deno.env.get("QMTL_REDIS_URL") &&
  Deno.env.get("QMTL_NEO4J_URL");
Deno.test({
  name:
    "SDK with the caller's timeout signals: exits at once (Neo4j + Redis Sentinel)",
  ignore: !realStack && Deno.env.get("CI") !== "true",
  fn: () => check(true),
});
