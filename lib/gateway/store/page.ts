/**
 * Page-token helpers shared by the strategy store backends.
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";

/** A position in the newest-first strategy order. */
export interface PagePosition {
  /** createdAtMs of the last item of the previous page. */
  createdAtMs: number;
  /** strategyId of the last item of the previous page. */
  id: string;
}

/**
 * Encode a page position as an opaque token.
 *
 * @example
 * ```ts
 * import { encodePageToken } from "./page.ts";
 * encodePageToken({ createdAtMs: 1, id: "st_1" });
 * ```
 */
export function encodePageToken(p: PagePosition): string {
  return new TextEncoder().encode(JSON.stringify([p.createdAtMs, p.id]))
    .toBase64({ omitPadding: true });
}

/**
 * Decode a page token; `undefined` for `""`; `E_INVALID` when malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePageToken, encodePageToken } from "./page.ts";
 * assert.equal(decodePageToken(encodePageToken({ createdAtMs: 1, id: "a" }))?.id, "a");
 * ```
 */
export function decodePageToken(
  token: string | undefined,
): PagePosition | undefined {
  if (!token) return undefined;
  try {
    const [createdAtMs, id] = JSON.parse(
      new TextDecoder().decode(Uint8Array.fromBase64(token)),
    );
    if (typeof createdAtMs === "number" && typeof id === "string") {
      return { createdAtMs, id };
    }
  } catch {
    // fall through
  }
  throw new QmtlError("E_INVALID", "malformed page_token", {
    field: "page_token",
  });
}

/**
 * Clamp a page size to 1‥1000 (default 100).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pageSizeOf } from "./page.ts";
 * assert.equal(pageSizeOf(0), 100);
 * ```
 */
export function pageSizeOf(n: number | undefined): number {
  if (!n || !Number.isFinite(n)) return 100;
  return Math.min(Math.max(Math.floor(n), 1), 1000);
}

/**
 * Newest-first order: by createdAtMs descending, then id ascending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newerFirst } from "./page.ts";
 * assert.equal([{ createdAtMs: 1, id: "a" }, { createdAtMs: 2, id: "b" }].sort(newerFirst)[0].id, "b");
 * ```
 */
export function newerFirst(a: PagePosition, b: PagePosition): number {
  return b.createdAtMs - a.createdAtMs ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
