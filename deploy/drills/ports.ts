/**
 * Free TCP ports on 127.0.0.1 for a drill's private services.
 *
 * @module
 */

/**
 * True when nothing listens on `port` (127.0.0.1).
 *
 * @example
 * ```ts
 * import { portFree } from "./ports.ts";
 * const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(portFree(l.addr.port)); // false
 * l.close();
 * ```
 */
export function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A base port `b` such that `b + o` is free for every offset `o`, chosen at
 * random in 21000–39000 (away from the fixed ports of the shared stacks).
 *
 * @param offsets offsets that must all be free, e.g. `[0, 1, 10, 11, 12]`
 * @throws {Error} when no such block is found in 100 tries
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freePortBlock, portFree } from "./ports.ts";
 * const b = freePortBlock([0, 1]);
 * assert.ok(portFree(b) && portFree(b + 1));
 * ```
 */
export function freePortBlock(offsets: readonly number[]): number {
  for (let i = 0; i < 100; i++) {
    const base = 21_000 + Math.floor(Math.random() * 18_000);
    if (offsets.every((o) => portFree(base + o))) return base;
  }
  throw new Error(
    `no free block of ports ${JSON.stringify(offsets)} on 127.0.0.1`,
  );
}
