/**
 * Argument checks shared by the backends (internal).
 *
 * @module
 */

import { QueueError } from "./errors.ts";

/** Throws E_INVALID unless `v` is an integer ≥ `min`. */
export function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new QueueError(
      "E_INVALID",
      `${name} must be an integer ≥ ${min}, got ${String(v)}`,
    );
  }
  return v;
}

/** Throws E_INVALID unless `v` is a non-empty string. */
export function checkName(name: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) {
    throw new QueueError("E_INVALID", `${name} must be a non-empty string`);
  }
  return v;
}

/** Throws E_INVALID unless `v` is a Uint8Array. */
export function checkBytes(name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) {
    throw new QueueError("E_INVALID", `${name} must be a Uint8Array`);
  }
  return v;
}

/** A new random id: 32 lowercase hex digits. */
export function newId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
