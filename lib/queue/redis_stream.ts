/**
 * Helpers shared by the Redis event log and topic store (internal).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { QueueError } from "./errors.ts";

/** A raw stream entry as ioredis returns it from `*Buffer` commands. */
export type RawEntry = [Buffer, Buffer[]];

/** Field name → bytes of one entry. */
export function fieldsOf(raw: Buffer[]): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    m.set(raw[i].toString(), raw[i + 1]);
  }
  return m;
}

/** A copy of `b` as a plain Uint8Array (not a Buffer view of a pool). */
export function bytes(b: Buffer | undefined): Uint8Array {
  if (!b) return new Uint8Array();
  return new Uint8Array(
    b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
  );
}

/** `b` as a Buffer view (no copy). */
export function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Checks a stream id given as `after`; returns the exclusive XRANGE start. */
export function exclusiveStart(after: string | undefined): string {
  if (after === undefined) return "-";
  if (!/^\d+(-\d+)?$/.test(after)) {
    throw new QueueError("E_INVALID", `invalid stream id "${after}"`);
  }
  return `(${after.includes("-") ? after : `${after}-0`}`;
}

/** Throws E_INVALID unless `name` is usable inside a key's `{hash tag}`. */
export function checkStreamName(what: string, name: string): string {
  if (
    typeof name !== "string" || name === "" || name.length > 512 ||
    /[{}\s]/.test(name)
  ) {
    throw new QueueError(
      "E_INVALID",
      `${what} "${
        String(name)
      }" must be 1-512 characters without braces or whitespace`,
    );
  }
  return name;
}
