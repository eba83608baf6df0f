/**
 * One byte array out of the chunks a body was read in (internal: the body
 * limit, the gzip codec and the RPC router's response collector).
 *
 * @module
 */

/**
 * Join chunks into one array, in order. A single chunk is returned as it is
 * (no copy); none gives an empty array.
 *
 * @param chunks the chunks, in order
 * @returns their bytes, back to back
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { joinBytes } from "./join_bytes.ts";
 * const joined = joinBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * assert.deepEqual([...joined], [1, 2, 3]);
 * assert.equal(joinBytes([]).byteLength, 0);
 * ```
 */
export function joinBytes<B extends ArrayBufferLike>(
  chunks: readonly Uint8Array<B>[],
): Uint8Array<B | ArrayBuffer> {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
