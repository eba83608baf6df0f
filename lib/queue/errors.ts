/**
 * Typed errors of the queue module. Each carries a stable QMTL error `code`
 * (the same strings as `ErrorCode` in the contracts) and a `retryable` flag.
 *
 * @module
 */

/**
 * QMTL error codes the queue module raises.
 *
 * @example
 * ```ts
 * import type { QueueErrorCode } from "@qmtl/qmtl/queue";
 * const c: QueueErrorCode = "E_CONFLICT";
 * ```
 */
export type QueueErrorCode =
  | "E_CONFLICT"
  | "E_UNAVAILABLE"
  | "E_INVALID"
  | "E_NOT_FOUND";

/**
 * Base class of every queue error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueError } from "@qmtl/qmtl/queue";
 * const e = new QueueError("E_INVALID", "leaseMs must be > 0");
 * assert.equal(e.code, "E_INVALID");
 * assert.equal(e.retryable, false);
 * ```
 */
export class QueueError extends Error {
  /** Stable QMTL error code. */
  readonly code: QueueErrorCode;
  /** True when the same call may succeed later unchanged. */
  readonly retryable: boolean;

  /**
   * Creates a queue error.
   *
   * @param code QMTL error code.
   * @param message Human-readable explanation.
   * @param options `retryable` (default false) and `cause`.
   */
  constructor(
    code: QueueErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "QueueError";
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Why a lease is not (or no longer) held.
 *
 * @example
 * ```ts
 * import type { LeaseLostReason } from "@qmtl/qmtl/queue";
 * const r: LeaseLostReason = "expired";
 * ```
 */
export type LeaseLostReason =
  | "unknown-job"
  | "not-leased"
  | "token-mismatch"
  | "expired";

/**
 * The caller's lease on a job is wrong, expired or gone: another worker may
 * hold (or have finished) the job. Stop working on it; do not retry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LeaseLostError } from "@qmtl/qmtl/queue";
 * try {
 *   throw new LeaseLostError("j1", "expired");
 * } catch (e) {
 *   assert.ok(e instanceof LeaseLostError);
 *   assert.equal(e.jobId, "j1");
 *   assert.equal(e.reason, "expired");
 * }
 * ```
 */
export class LeaseLostError extends QueueError {
  /** The job. */
  readonly jobId: string;
  /** Why the lease is not held. */
  readonly reason: LeaseLostReason;

  /**
   * Creates a lease-lost error.
   *
   * @param jobId The job.
   * @param reason Why the lease is not held.
   */
  constructor(jobId: string, reason: LeaseLostReason) {
    super("E_CONFLICT", `lease on job ${jobId} lost: ${reason}`);
    this.name = "LeaseLostError";
    this.jobId = jobId;
    this.reason = reason;
  }
}

/**
 * A write reached the Redis master but not enough replicas confirmed it
 * within the `WAIT` timeout (or the connection changed before they could),
 * so it could be lost in a failover. Retryable: an enqueue with the same
 * idempotency key, or an ack/nack with the same lease token, is safe to
 * repeat; a lease that throws it hands out no job (its jobs come back when
 * the lease expires).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DurabilityError } from "@qmtl/qmtl/queue";
 * const e = new DurabilityError("enqueue", "j1", 0, 1);
 * assert.ok(e.retryable);
 * assert.equal(e.jobId, "j1");
 * ```
 */
export class DurabilityError extends QueueError {
  /** The operation whose write is unconfirmed. */
  readonly operation: string;
  /** The job written, or `""`. */
  readonly jobId: string;
  /** Replicas that confirmed. */
  readonly acked: number;
  /** Replicas required. */
  readonly required: number;

  /**
   * Creates a durability error.
   *
   * @param operation The operation whose write is unconfirmed.
   * @param jobId The job written, or `""`.
   * @param acked Replicas that confirmed.
   * @param required Replicas required.
   */
  constructor(
    operation: string,
    jobId: string,
    acked: number,
    required: number,
  ) {
    super(
      "E_UNAVAILABLE",
      `${operation}${
        jobId ? ` of job ${jobId}` : ""
      }: ${acked} of ${required} replica(s) confirmed the write in time; it may be lost in a failover (retrying is safe: same idempotency key / same lease token)`,
      { retryable: true },
    );
    this.name = "DurabilityError";
    this.operation = operation;
    this.jobId = jobId;
    this.acked = acked;
    this.required = required;
  }
}

/**
 * A Redis connection URI is malformed. The message names the offending part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisUrlError } from "@qmtl/qmtl/queue";
 * const e = new RedisUrlError("redis://h:x", "bad port \"x\"");
 * assert.equal(e.message, 'invalid Redis URL "redis://h:x": bad port "x"');
 * ```
 */
export class RedisUrlError extends QueueError {
  /** The URI with any password masked. */
  readonly uri: string;

  /**
   * Creates a URL error.
   *
   * @param uri The offending URI (a password in it is masked).
   * @param problem What is wrong.
   */
  constructor(uri: string, problem: string) {
    const masked = maskPassword(uri);
    super("E_INVALID", `invalid Redis URL "${masked}": ${problem}`);
    this.name = "RedisUrlError";
    this.uri = masked;
  }
}

/**
 * The topic does not exist (create it first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicNotFoundError } from "@qmtl/qmtl/queue";
 * const e = new TopicNotFoundError("btc_Processing_ab12cd34_v1");
 * assert.equal(e.topic, "btc_Processing_ab12cd34_v1");
 * assert.equal(e.code, "E_NOT_FOUND");
 * ```
 */
export class TopicNotFoundError extends QueueError {
  /** The topic name. */
  readonly topic: string;

  /**
   * Creates a not-found error.
   *
   * @param topic The topic name.
   */
  constructor(topic: string) {
    super("E_NOT_FOUND", `topic ${topic} does not exist`);
    this.name = "TopicNotFoundError";
    this.topic = topic;
  }
}

/**
 * An append to a topic was fenced: the caller's producer lease is not (or
 * no longer) the topic's current grant. Nothing was appended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicLeaseError } from "@qmtl/qmtl/queue";
 * assert.equal(new TopicLeaseError("t", "runner-b").code, "E_CONFLICT");
 * ```
 */
export class TopicLeaseError extends QueueError {
  /** The topic. */
  readonly topic: string;
  /** The current holder, or `""` when nobody holds the lease. */
  readonly holder: string;

  /**
   * Creates a fencing error.
   *
   * @param topic The topic.
   * @param holder The current holder, or `""`.
   */
  constructor(topic: string, holder: string) {
    super(
      "E_CONFLICT",
      `producer lease of topic ${topic} is ${
        holder ? `held by ${holder}` : "not held"
      }: append refused`,
    );
    this.name = "TopicLeaseError";
    this.topic = topic;
    this.holder = holder;
  }
}

/**
 * A topic name or one of its components is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicNameError } from "@qmtl/qmtl/queue";
 * assert.equal(new TopicNameError("asset is empty").code, "E_INVALID");
 * ```
 */
export class TopicNameError extends QueueError {
  /**
   * Creates a topic-name error.
   *
   * @param problem What is wrong.
   */
  constructor(problem: string) {
    super("E_INVALID", `invalid topic name: ${problem}`);
    this.name = "TopicNameError";
  }
}

function maskPassword(uri: string): string {
  // scheme://user:pass@hosts… → scheme://user:***@hosts…
  return uri.replace(/^([a-z+]+:\/\/[^:@/]*):[^@/]*@/i, "$1:***@");
}
