/**
 * Argument checks shared by the backends (internal).
 *
 * @module
 */

import { DEFAULT_BACKOFF } from "./backoff.ts";
import { QueueError } from "./errors.ts";
import type { BackoffOptions } from "./types.ts";

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

/** {@link checkInt} of an optional value: `undefined` passes as it is. */
export function checkOptionalInt(
  name: string,
  v: unknown,
  min: number,
): number | undefined {
  return v === undefined ? undefined : checkInt(name, v, min);
}

/** `count` of an event log read: an integer ≥ 1, 100 when absent. */
export function checkReadCount(count: unknown): number {
  return checkInt("count", count ?? 100, 1);
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

/** Largest page of bars one read returns. */
export const MAX_BAR_READ = 10_000;

/** A read limit: default 1000, 1 to {@link MAX_BAR_READ}. */
export function checkLimit(v: unknown): number {
  if (v === undefined) return 1000;
  return Math.min(checkInt("limit", v, 1), MAX_BAR_READ);
}

/**
 * Throws E_INVALID unless `bars` is an array of `{barTs, data}` with bar
 * times ≥ 0, of at most millisecond precision, strictly increasing.
 */
export function checkBars(
  bars: unknown,
): readonly { barTs: number; data: Uint8Array }[] {
  if (!Array.isArray(bars)) {
    throw new QueueError("E_INVALID", "bars must be an array");
  }
  let last = -Infinity;
  bars.forEach((b, i) => {
    const t = (b as { barTs?: unknown })?.barTs;
    if (
      typeof t !== "number" || !(t >= 0) ||
      !Number.isSafeInteger(Math.round(t * 1000)) ||
      Math.abs(Math.round(t * 1000) - t * 1000) > 1e-6
    ) {
      throw new QueueError(
        "E_INVALID",
        `bars[${i}].barTs must be seconds ≥ 0 with at most millisecond precision, got ${
          String(t)
        }`,
      );
    }
    if (t <= last) {
      throw new QueueError(
        "E_INVALID",
        `bars[${i}].barTs ${t} is not after bars[${
          i - 1
        }].barTs ${last}: bars must be in increasing bar time`,
      );
    }
    last = t;
    checkBytes(`bars[${i}].data`, (b as { data?: unknown }).data);
  });
  return bars;
}

/** An enqueue request after its checks. */
export interface CheckedEnqueue {
  kind: string;
  payload: Uint8Array;
  /** Idempotency key, `""` for none. */
  key: string;
  delayMs: number;
  maxAttempts: number;
}

/**
 * Checks one enqueue request; `at` prefixes the names in messages (e.g.
 * `jobs[3].`).
 */
export function checkEnqueue(
  at: string,
  kind: unknown,
  payload: unknown,
  opts: {
    idempotencyKey?: unknown;
    delayMs?: unknown;
    maxAttempts?: unknown;
  },
  defaultMaxAttempts: number,
): CheckedEnqueue {
  const key = opts.idempotencyKey ?? "";
  if (typeof key !== "string") {
    throw new QueueError("E_INVALID", `${at}idempotencyKey must be a string`);
  }
  return {
    kind: checkName(`${at}kind`, kind),
    payload: checkBytes(`${at}payload`, payload),
    key,
    delayMs: checkInt(`${at}delayMs`, opts.delayMs ?? 0, 0),
    maxAttempts: checkInt(
      `${at}maxAttempts`,
      opts.maxAttempts ?? defaultMaxAttempts,
      1,
    ),
  };
}

/** Checks every request of an `enqueueMany` before anything is written. */
export function checkEnqueueMany(
  jobs: unknown,
  defaultMaxAttempts: number,
): CheckedEnqueue[] {
  if (!Array.isArray(jobs)) {
    throw new QueueError("E_INVALID", "jobs must be an array");
  }
  return jobs.map((j, i) => {
    if (typeof j !== "object" || j === null) {
      throw new QueueError("E_INVALID", `jobs[${i}] must be an object`);
    }
    const r = j as Record<string, unknown>;
    return checkEnqueue(
      `jobs[${i}].`,
      r.kind,
      r.payload,
      r,
      defaultMaxAttempts,
    );
  });
}

/**
 * The job defaults both queues take — `defaultMaxAttempts` (default 5, ≥ 1),
 * `backoff` and `retainDoneMs` (default 1 h) — filled in and checked.
 *
 * @param opts The queue's options.
 * @param minRetainDoneMs Smallest `retainDoneMs` the backend accepts.
 * @throws {QueueError} `E_INVALID` on a value out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkQueueDefaults } from "./validate.ts";
 * const d = checkQueueDefaults({ defaultMaxAttempts: 3 }, 0);
 * assert.equal(d.maxAttempts, 3);
 * assert.equal(d.retainDoneMs, 3_600_000); // 1 hour
 * ```
 */
export function checkQueueDefaults(
  opts: {
    defaultMaxAttempts?: number;
    backoff?: BackoffOptions;
    retainDoneMs?: number;
  },
  minRetainDoneMs: number,
): { maxAttempts: number; backoff: BackoffOptions; retainDoneMs: number } {
  return {
    maxAttempts: checkInt(
      "defaultMaxAttempts",
      opts.defaultMaxAttempts ?? 5,
      1,
    ),
    backoff: opts.backoff ?? DEFAULT_BACKOFF,
    retainDoneMs: checkInt(
      "retainDoneMs",
      opts.retainDoneMs ?? 3_600_000,
      minRetainDoneMs,
    ),
  };
}
