/**
 * The process's open-file limit, used to keep the default connection cap
 * below it: a cap above the limit would turn a connection flood into
 * `EMFILE` for everything else the process opens (Redis, Neo4j, files).
 *
 * @module
 */

/**
 * Soft `RLIMIT_NOFILE` of this process, read from `/proc/self/limits`
 * (Linux) when read permission for it is already granted; otherwise
 * undefined (no permission prompt).
 *
 * @example
 * ```ts
 * import { openFileLimit } from "./fd_limit.ts";
 * const n = openFileLimit(); // e.g. 1024 on Linux, undefined elsewhere
 * ```
 */
export function openFileLimit(): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const path = "/proc/self/limits";
  try {
    const st = Deno.permissions.querySync({ name: "read", path });
    if (st.state !== "granted") return undefined;
    const text = Deno.readTextFileSync(path);
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
    if (!m || m[1] === "unlimited") return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Default connection cap when none is configured. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * Default connection cap for an open-file limit: at most
 * {@linkcode DEFAULT_MAX_CONNECTIONS}, and at most three quarters of the
 * limit (the rest is left to the backends' connections and files).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultMaxConnections } from "./fd_limit.ts";
 * assert.equal(defaultMaxConnections(256), 192);
 * assert.equal(defaultMaxConnections(1_048_576), 4096);
 * assert.equal(defaultMaxConnections(undefined), 1024);
 * ```
 */
export function defaultMaxConnections(limit: number | undefined): number {
  if (limit === undefined) return 1024;
  return Math.max(
    16,
    Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor(limit * 3 / 4)),
  );
}
