/**
 * The `/readyz` handler: runs every readiness check (each bounded by a
 * timeout), answers 200 `ready` or 503 `not ready` with the reasons.
 *
 * @module
 */

import type { Handler } from "hono";
import type { HealthStatus } from "../../dag/registry.ts";
import type { GatewayEnv } from "../types.ts";

/**
 * The JSON body of `/readyz`.
 *
 * @example
 * ```ts
 * import type { ReadyzBody } from "@qmtl/qmtl/gateway";
 * const b: ReadyzBody = {
 *   status: "not ready",
 *   reasons: ["redis: writes cannot be confirmed: 0 of 1 replica(s) acknowledged"],
 *   checks: { redis: { ok: false, detail: "writes cannot be confirmed" } },
 * };
 * ```
 */
export interface ReadyzBody {
  /** `ready` (HTTP 200) or `not ready` (HTTP 503). */
  status: "ready" | "not ready";
  /** One line per failing check: `<check>: <detail>`. */
  reasons: string[];
  /** Every check's result (dependencies add latency, last error, …). */
  checks: Record<string, HealthStatus>;
}

/**
 * Runs the checks concurrently, each bounded by `timeoutMs`; a check that
 * throws or times out fails with that as its detail.
 *
 * @example
 * ```ts
 * import { runReadiness } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const body = await runReadiness({
 *   a: () => Promise.resolve({ ok: true, detail: "fine" }),
 *   b: () => Promise.reject(new Error("refused")),
 * });
 * assert.equal(body.status, "not ready");
 * assert.deepEqual(body.reasons, ["b: refused"]);
 * ```
 */
export async function runReadiness(
  checks: Record<string, () => Promise<HealthStatus>>,
  timeoutMs = 5_000,
): Promise<ReadyzBody> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map(async (n) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        checks[n](),
        new Promise<HealthStatus>((resolve) => {
          timer = setTimeout(
            () =>
              resolve({
                ok: false,
                detail: `check timed out after ${timeoutMs} ms`,
              }),
            timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      return { ok: false, detail: (e as Error)?.message ?? String(e) };
    } finally {
      clearTimeout(timer);
    }
  }));
  const out: Record<string, HealthStatus> = {};
  const reasons: string[] = [];
  names.forEach((n, i) => {
    out[n] = results[i];
    if (!results[i].ok) reasons.push(`${n}: ${results[i].detail}`);
  });
  return {
    status: reasons.length === 0 ? "ready" : "not ready",
    reasons,
    checks: out,
  };
}

/**
 * The Hono handler of `/readyz` over `checks`.
 *
 * @example
 * ```ts
 * import { readyzHandler } from "./readyz.ts";
 * const h = readyzHandler({ redis: () => Promise.resolve({ ok: true, detail: "PONG" }) });
 * ```
 */
export function readyzHandler(
  checks: Record<string, () => Promise<HealthStatus>>,
  timeoutMs = 5_000,
): Handler<GatewayEnv> {
  return async (c) => {
    const body = await runReadiness(checks, timeoutMs);
    return c.json(body, body.status === "ready" ? 200 : 503);
  };
}
