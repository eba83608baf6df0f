/**
 * Dependency health: probes of Redis (with replica write confirmation) and
 * the registry, a watch that keeps their last state for `/readyz`, metrics
 * and alerts, and the `/readyz` handler.
 *
 * @example
 * ```ts
 * import { DependencyWatch, registryProbe } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import assert from "node:assert/strict";
 * const watch = new DependencyWatch({ probes: { registry: registryProbe(new MemoryRegistry()) } });
 * assert.equal((await watch.check("registry")).ok, true);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./probes.ts";
export * from "./watch.ts";
export { type ReadyzBody, runReadiness } from "./readyz.ts";
