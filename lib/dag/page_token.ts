/**
 * Opaque page tokens: the last key of a page, base64url-encoded.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";

/**
 * Encode the last key of a page as an opaque token (`""` for none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePageToken, encodePageToken } from "@qmtl/qmtl/dag";
 * assert.equal(decodePageToken(encodePageToken("sha256:ab")), "sha256:ab");
 * ```
 */
export function encodePageToken(lastKey: string): string {
  if (lastKey === "") return "";
  return new TextEncoder().encode("k1:" + lastKey).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * Decode a token from {@link encodePageToken}; `""` or absent → `""` (first
 * page). A malformed token is a `RegistryError` (`E_INVALID`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePageToken } from "@qmtl/qmtl/dag";
 * assert.equal(decodePageToken(""), "");
 * ```
 */
export function decodePageToken(token: string | undefined): string {
  if (!token) return "";
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.fromBase64(token, { alphabet: "base64url" }),
    );
    if (text.startsWith("k1:") && text.length > 3) return text.slice(3);
  } catch {
    // fall through
  }
  throw new RegistryError("E_INVALID", "malformed page token");
}

/**
 * Clamp a requested page size to 1‥`max` (default when absent or 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clampPageSize } from "@qmtl/qmtl/dag";
 * assert.equal(clampPageSize(undefined), 100);
 * assert.equal(clampPageSize(5000), 1000);
 * ```
 */
export function clampPageSize(
  size: number | undefined,
  fallback = 100,
  max = 1000,
): number {
  if (size === undefined || size === 0 || !Number.isFinite(size)) {
    return fallback;
  }
  if (size < 0) throw new RegistryError("E_INVALID", "pageSize must be ≥ 0");
  return Math.min(Math.floor(size), max) || 1;
}
