/**
 * The reference server as a library (`@qmtl/qmtl/server`): its
 * configuration (every `QMTL_*` variable, validated), the backends a
 * configuration names, the operations wiring (alerts, dependency watch),
 * the dev key kept across restarts, and `startServer` — what `deno task
 * serve` runs, so that a service of your own starts the same server in a
 * few lines instead of re-assembling it.
 *
 * @example
 * ```ts
 * import { configFromEnv, startServer } from "@qmtl/qmtl/server";
 * import assert from "node:assert/strict";
 *
 * // QMTL_* variables as in the README; here: memory backends, a free port.
 * const server = await startServer(configFromEnv({ QMTL_PORT: "0", QMTL_LOG_LEVEL: "error" }), { quiet: true });
 * const res = await fetch(`${server.url}/healthz`);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await server.stop();
 * ```
 *
 * @module
 */

export * from "./config.ts";
export * from "./backends.ts";
export * from "./dev_key.ts";
export * from "./operations.ts";
export * from "./start.ts";
