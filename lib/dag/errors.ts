/**
 * Typed errors raised by every {@link NodeRegistry} backend.
 *
 * Each error carries a stable QMTL error `code` and a `retryable` flag so a
 * caller (the Gateway) can map it to a response without string matching:
 * `UnavailableError` → 503 + `Retry-After`, everything else → a client or
 * server error that retrying will not fix.
 *
 * Every class extends the contracts' `QmtlError`, so `code`, `httpStatus`,
 * `connectCode` and `toErrorDetail()` work as for any other QMTL error.
 *
 * @module
 */

import { QmtlError } from "../contracts/errors.ts";

/**
 * QMTL error codes the DAG Manager raises.
 *
 * @example
 * ```ts
 * import type { DagErrorCode } from "@qmtl/qmtl/dag";
 * const c: DagErrorCode = "E_CYCLE";
 * ```
 */
export type DagErrorCode =
  | "E_INVALID"
  | "E_UNAVAILABLE"
  | "E_CYCLE"
  | "E_UNKNOWN_INPUT"
  | "E_NOT_FOUND"
  | "E_CONFLICT"
  | "E_PAYLOAD_TOO_LARGE"
  | "E_INTERNAL";

/**
 * Base class of every DAG Manager error: not retryable unless a subclass says
 * so.
 *
 * @example
 * ```ts
 * import { RegistryError } from "@qmtl/qmtl/dag";
 * try {
 *   throw new RegistryError("E_INVALID", "interval must be > 0");
 * } catch (e) {
 *   if (e instanceof RegistryError) console.log(e.code, e.retryable);
 * }
 * ```
 */
export class RegistryError extends QmtlError {
  /** True when the same call may succeed later unchanged. */
  readonly retryable: boolean;

  /**
   * Create the error.
   *
   * @param code QMTL error code.
   * @param message Human-readable explanation.
   * @param options `nodeId` the error is about, `cause`, `retryable`.
   */
  constructor(
    code: DagErrorCode,
    message: string,
    options: { nodeId?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(code, message, {
      ...(options.nodeId ? { nodeId: options.nodeId } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.name = "RegistryError";
    this.retryable = options.retryable ?? false;
  }
}

/**
 * The backing store cannot be reached or answered with a transient failure
 * (Neo4j ServiceUnavailable, SessionExpired, transient transaction errors).
 * Retryable; the Gateway answers 503 with `Retry-After` and keeps the work
 * queued. There is never a silent fallback to another backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnavailableError } from "@qmtl/qmtl/dag";
 * const e = new UnavailableError("neo4j unreachable at bolt://db:7687");
 * assert.equal(e.code, "E_UNAVAILABLE");
 * assert.equal(e.retryable, true);
 * ```
 */
export class UnavailableError extends RegistryError {
  /**
   * Create the error.
   *
   * @param message What could not be reached.
   * @param options `cause`: the driver error.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("E_UNAVAILABLE", message, { cause: options.cause, retryable: true });
    this.name = "UnavailableError";
  }
}

/**
 * A DAG (or a dependency edge) would close a cycle. `path` lists the node IDs
 * of the cycle, first node repeated at the end (`[a, b, a]`). Nothing was
 * written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CycleError } from "@qmtl/qmtl/dag";
 * const e = new CycleError(["sha256:a", "sha256:b", "sha256:a"]);
 * assert.equal(e.code, "E_CYCLE");
 * assert.equal(e.path.length, 3);
 * ```
 */
export class CycleError extends RegistryError {
  /** The cycle, as node IDs, first node repeated at the end. */
  readonly path: string[];

  /**
   * Create the error.
   *
   * @param path Node IDs along the cycle, first repeated at the end.
   */
  constructor(path: string[]) {
    super("E_CYCLE", `dependency cycle: ${path.join(" → ")}`, {
      nodeId: path[0] ?? "",
    });
    this.name = "CycleError";
    this.path = path;
  }
}

/**
 * A node names an input that is neither in the submitted DAG nor in the
 * registry. Nothing was written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownInputError } from "@qmtl/qmtl/dag";
 * const e = new UnknownInputError("sha256:b", "sha256:a");
 * assert.equal(e.code, "E_UNKNOWN_INPUT");
 * assert.equal(e.input, "sha256:a");
 * ```
 */
export class UnknownInputError extends RegistryError {
  /** The missing input node ID. */
  readonly input: string;

  /**
   * Create the error.
   *
   * @param nodeId The node that names the input.
   * @param input The input node ID that does not exist.
   */
  constructor(nodeId: string, input: string) {
    super(
      "E_UNKNOWN_INPUT",
      `node ${nodeId} has unknown input ${input}`,
      { nodeId },
    );
    this.name = "UnknownInputError";
    this.input = input;
  }
}

/**
 * The named node, topic or strategy version does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotFoundError } from "@qmtl/qmtl/dag";
 * const e = new NotFoundError("node sha256:a not found", { nodeId: "sha256:a" });
 * assert.equal(e.code, "E_NOT_FOUND");
 * ```
 */
export class NotFoundError extends RegistryError {
  /**
   * Create the error.
   *
   * @param message What was not found.
   * @param options `nodeId` the error is about.
   */
  constructor(message: string, options: { nodeId?: string } = {}) {
    super("E_NOT_FOUND", message, options);
    this.name = "NotFoundError";
  }
}

/**
 * The request conflicts with the stored state: a strategy version re-submitted
 * with a different DAG, a topic name taken by another node, deleting a topic
 * that a live node emits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConflictError } from "@qmtl/qmtl/dag";
 * const e = new ConflictError("topic btc_Processing_ab12cd34_v1 is in use");
 * assert.equal(e.code, "E_CONFLICT");
 * ```
 */
export class ConflictError extends RegistryError {
  /**
   * Create the error.
   *
   * @param message What conflicts.
   * @param options `nodeId` the error is about.
   */
  constructor(message: string, options: { nodeId?: string } = {}) {
    super("E_CONFLICT", message, options);
    this.name = "ConflictError";
  }
}

/**
 * Why a backing store refused an input for good (see
 * {@link StoreRejectedError}).
 *
 * - `transaction_memory`: one registry transaction for this input needs more
 *   memory than the store allows per transaction (`E_PAYLOAD_TOO_LARGE`).
 * - `index_key_size`: a value that must be indexed (a tag, a topic name) is
 *   larger than the store's index key limit (`E_INVALID`).
 * - `constraint`: the input breaks a uniqueness constraint (`E_CONFLICT`).
 * - `invalid_value`: the store cannot hold a value of the input, e.g. a
 *   number out of its range (`E_INVALID`).
 *
 * @example
 * ```ts
 * import type { StoreRejection } from "@qmtl/qmtl/dag";
 * const r: StoreRejection = "transaction_memory";
 * ```
 */
export type StoreRejection =
  | "transaction_memory"
  | "index_key_size"
  | "constraint"
  | "invalid_value";

const REJECTION_CODE: Readonly<Record<StoreRejection, DagErrorCode>> = {
  transaction_memory: "E_PAYLOAD_TOO_LARGE",
  index_key_size: "E_INVALID",
  constraint: "E_CONFLICT",
  invalid_value: "E_INVALID",
};

/**
 * The backing store refused this input, and retrying the same input will
 * not help (not retryable; the Gateway fails the strategy with this error).
 * The message is written for the client and never carries the store's own
 * text; that stays in `cause` (and its status code in `storeCode`) for the
 * logs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreRejectedError } from "@qmtl/qmtl/dag";
 * const e = new StoreRejectedError(
 *   "transaction_memory",
 *   "the DAG needs more memory than one registry transaction may use",
 *   { storeCode: "Neo.TransientError.General.MemoryPoolOutOfMemoryError" },
 * );
 * assert.equal(e.code, "E_PAYLOAD_TOO_LARGE");
 * assert.equal(e.retryable, false);
 * ```
 */
export class StoreRejectedError extends RegistryError {
  /** What the store refused. */
  readonly reason: StoreRejection;
  /** The store's status code (e.g. a `Neo.ClientError…` code), for logs. */
  readonly storeCode: string;

  /**
   * Create the error.
   *
   * @param reason What the store refused; decides the QMTL code.
   * @param message Client-safe explanation.
   * @param options `storeCode`, `cause` (the store's error), `nodeId`.
   */
  constructor(
    reason: StoreRejection,
    message: string,
    options: { storeCode?: string; cause?: unknown; nodeId?: string } = {},
  ) {
    super(REJECTION_CODE[reason], message, {
      cause: options.cause,
      nodeId: options.nodeId,
      retryable: false,
    });
    this.name = "StoreRejectedError";
    this.reason = reason;
    this.storeCode = options.storeCode ?? "";
  }
}
