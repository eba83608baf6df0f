/**
 * Typed errors of the SDK. Every error the Gateway can answer becomes one of
 * these classes, chosen by its QMTL error code; the builder throws
 * {@link ValidationError} too. All of them extend {@link QmtlClientError},
 * which extends `QmtlError` from `lib/contracts` and so carries `code`,
 * `field`, `nodeId` and `details`.
 *
 * @module
 */

import {
  ErrorCode,
  isErrorCode,
  QmtlError,
  type QmtlErrorOptions,
  type StrategyStatus,
} from "./contracts.ts";
import { stateName } from "./states.ts";

/**
 * Options of {@link QmtlClientError} and its subclasses.
 *
 * @example
 * ```ts
 * import type { ClientErrorOptions } from "./errors.ts";
 * const o: ClientErrorOptions = { status: 404, field: "strategy_id" };
 * ```
 */
export interface ClientErrorOptions extends QmtlErrorOptions {
  /** HTTP status of the response that carried the error, if any. */
  status?: number;
  /** Name of the offending node in the strategy (builder name), if known. */
  node?: string;
}

/**
 * Base class of every error the SDK throws about a QMTL call or DAG.
 *
 * @example
 * ```ts
 * import { NotFoundError, QmtlClientError } from "./errors.ts";
 * const e = new NotFoundError("no strategy st_1");
 * e instanceof QmtlClientError; // true
 * e.code; // "E_NOT_FOUND"
 * ```
 */
export class QmtlClientError extends QmtlError {
  /** HTTP status of the response that carried the error, if any. */
  readonly status?: number;

  /**
   * Create the error.
   *
   * @param code the QMTL error code
   * @param message human-readable explanation
   * @param options HTTP status, field, node ID, details and cause
   * @example
   * ```ts
   * import { QmtlClientError } from "./errors.ts";
   * const e = new QmtlClientError("E_NOT_FOUND", "no strategy st_1", { status: 404 });
   * ```
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: ClientErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = "QmtlClientError";
    if (options.status !== undefined) this.status = options.status;
  }
}

/**
 * The DAG or a request is invalid: a cycle, a missing or invalid interval or
 * period, duplicate names or IDs, an unknown input, non-JSON params, a node ID
 * or checksum mismatch. `node` names the offending node (its builder name) and
 * `field` the offending field.
 *
 * @example
 * ```ts
 * import { ValidationError } from "./errors.ts";
 * const e = new ValidationError("period must be ≥ 1", { node: "sma_fast", field: "period" });
 * e.code; // "E_INVALID"
 * `${e.node}.${e.field}`; // "sma_fast.period"
 * ```
 */
export class ValidationError extends QmtlClientError {
  /** Name of the offending node, if known. */
  readonly node?: string;

  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options node, field, code (default `E_INVALID`), node ID, details
   * @example
   * ```ts
   * import { ValidationError } from "./errors.ts";
   * const e = new ValidationError("period must be ≥ 1", { node: "sma", field: "period" });
   * ```
   */
  constructor(
    message: string,
    options: ClientErrorOptions & { code?: ErrorCode } = {},
  ) {
    super(options.code ?? ErrorCode.E_INVALID, message, options);
    this.name = "ValidationError";
    if (options.node !== undefined) this.node = options.node;
  }
}

/**
 * The Gateway refused the client's schema version (HTTP 412). `accepted`
 * lists the versions it accepts.
 *
 * @example
 * ```ts
 * import { SchemaIncompatibleError } from "./errors.ts";
 * const e = new SchemaIncompatibleError("schema 2.0.0 not accepted", { accepted: ["1.x"] });
 * e.accepted; // ["1.x"]
 * ```
 */
export class SchemaIncompatibleError extends QmtlClientError {
  /** Versions the server accepts. */
  readonly accepted: string[];
  /** The server's own schema version, when it said so. */
  readonly serverVersion?: string;

  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options accepted versions, server version and the usual options
   * @example
   * ```ts
   * import { SchemaIncompatibleError } from "./errors.ts";
   * const e = new SchemaIncompatibleError("not accepted", { accepted: ["1.0.0"] });
   * ```
   */
  constructor(
    message: string,
    options: ClientErrorOptions & {
      accepted?: string[];
      serverVersion?: string;
    } = {},
  ) {
    super(ErrorCode.E_SCHEMA_INCOMPATIBLE, message, {
      status: 412,
      ...options,
    });
    this.name = "SchemaIncompatibleError";
    this.accepted = options.accepted ?? [];
    if (options.serverVersion !== undefined) {
      this.serverVersion = options.serverVersion;
    }
  }
}

/**
 * Missing, expired or invalid credentials (HTTP 401).
 *
 * @example
 * ```ts
 * import { UnauthenticatedError } from "./errors.ts";
 * new UnauthenticatedError("token expired").code; // "E_UNAUTHENTICATED"
 * ```
 */
export class UnauthenticatedError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { UnauthenticatedError } from "./errors.ts";
   * const e = new UnauthenticatedError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_UNAUTHENTICATED, message, options);
    this.name = "UnauthenticatedError";
  }
}

/**
 * Authenticated, but the token's roles may not make this call (HTTP 403).
 *
 * @example
 * ```ts
 * import { ForbiddenError } from "./errors.ts";
 * new ForbiddenError("role submitter required").code; // "E_FORBIDDEN"
 * ```
 */
export class ForbiddenError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { ForbiddenError } from "./errors.ts";
   * const e = new ForbiddenError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_FORBIDDEN, message, options);
    this.name = "ForbiddenError";
  }
}

/**
 * Refused by a policy limit: max nodes, max depth, node types, submission
 * rate (HTTP 403).
 *
 * @example
 * ```ts
 * import { PolicyError } from "./errors.ts";
 * new PolicyError("at most 50 nodes").code; // "E_POLICY"
 * ```
 */
export class PolicyError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { PolicyError } from "./errors.ts";
   * const e = new PolicyError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_POLICY, message, options);
    this.name = "PolicyError";
  }
}

/**
 * The strategy (or node) does not exist (HTTP 404).
 *
 * @example
 * ```ts
 * import { NotFoundError } from "./errors.ts";
 * new NotFoundError("no strategy st_9").code; // "E_NOT_FOUND"
 * ```
 */
export class NotFoundError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { NotFoundError } from "./errors.ts";
   * const e = new NotFoundError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_NOT_FOUND, message, options);
    this.name = "NotFoundError";
  }
}

/**
 * The Gateway or a service behind it is unavailable (HTTP 502/503/504, a
 * refused connection). The client retries these with exponential backoff and
 * jitter and throws this error once its retry budget is spent.
 *
 * @example
 * ```ts
 * import { UnavailableError } from "./errors.ts";
 * const e = new UnavailableError("neo4j down", { retryAfterMs: 2000 });
 * e.retryAfterMs; // 2000
 * ```
 */
export class UnavailableError extends QmtlClientError {
  /** Server-suggested wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** Attempts made before giving up (set by the client's retry loop). */
  attempts?: number;

  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options plus `retryAfterMs`
   * @example
   * ```ts
   * import { UnavailableError } from "./errors.ts";
   * const e = new UnavailableError("explanation", { status: 400 });
   * ```
   */
  constructor(
    message: string,
    options: ClientErrorOptions & { retryAfterMs?: number } = {},
  ) {
    super(ErrorCode.E_UNAVAILABLE, message, options);
    this.name = "UnavailableError";
    if (options.retryAfterMs !== undefined) {
      this.retryAfterMs = options.retryAfterMs;
    }
  }
}

/**
 * Too many requests for this subject (HTTP 429). Not retried automatically;
 * `retryAfterMs` says how long the server wants you to wait.
 *
 * @example
 * ```ts
 * import { RateLimitedError } from "./errors.ts";
 * new RateLimitedError("slow down", { retryAfterMs: 1000 }).code; // "E_RATE_LIMITED"
 * ```
 */
export class RateLimitedError extends QmtlClientError {
  /** Server-suggested wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;

  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options plus `retryAfterMs`
   * @example
   * ```ts
   * import { RateLimitedError } from "./errors.ts";
   * const e = new RateLimitedError("explanation", { status: 400 });
   * ```
   */
  constructor(
    message: string,
    options: ClientErrorOptions & { retryAfterMs?: number } = {},
  ) {
    super(ErrorCode.E_RATE_LIMITED, message, options);
    this.name = "RateLimitedError";
    if (options.retryAfterMs !== undefined) {
      this.retryAfterMs = options.retryAfterMs;
    }
  }
}

/**
 * The request conflicts with the strategy's current state, e.g. retiring a
 * strategy that is not COMPLETED (HTTP 409).
 *
 * @example
 * ```ts
 * import { ConflictError } from "./errors.ts";
 * new ConflictError("strategy is QUEUED").code; // "E_CONFLICT"
 * ```
 */
export class ConflictError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { ConflictError } from "./errors.ts";
   * const e = new ConflictError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_CONFLICT, message, options);
    this.name = "ConflictError";
  }
}

/**
 * The request body is larger than the Gateway accepts (HTTP 413).
 *
 * @example
 * ```ts
 * import { PayloadTooLargeError } from "./errors.ts";
 * new PayloadTooLargeError("body over 8 MiB").code; // "E_PAYLOAD_TOO_LARGE"
 * ```
 */
export class PayloadTooLargeError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { PayloadTooLargeError } from "./errors.ts";
   * const e = new PayloadTooLargeError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_PAYLOAD_TOO_LARGE, message, options);
    this.name = "PayloadTooLargeError";
  }
}

/**
 * An unexpected server-side failure, or an answer the client could not
 * understand (HTTP 500 or a malformed response).
 *
 * @example
 * ```ts
 * import { InternalError } from "./errors.ts";
 * new InternalError("boom").code; // "E_INTERNAL"
 * ```
 */
export class InternalError extends QmtlClientError {
  /**
   * Create the error.
   *
   * @param message human-readable explanation
   * @param options the usual options
   * @example
   * ```ts
   * import { InternalError } from "./errors.ts";
   * const e = new InternalError("explanation", { status: 400 });
   * ```
   */
  constructor(message: string, options: ClientErrorOptions = {}) {
    super(ErrorCode.E_INTERNAL, message, options);
    this.name = "InternalError";
  }
}

const VALIDATION_CODES: ReadonlySet<string> = new Set([
  ErrorCode.E_INVALID,
  ErrorCode.E_CYCLE,
  ErrorCode.E_DUPLICATE,
  ErrorCode.E_UNKNOWN_INPUT,
  ErrorCode.E_NODE_ID_MISMATCH,
  ErrorCode.E_CHECKSUM_MISMATCH,
]);

/**
 * Build the typed error for a QMTL error code. Unknown codes become an
 * {@link InternalError} whose `details.code` keeps the original code.
 *
 * @param code a QMTL error code (`E_…`), possibly unknown
 * @param message human-readable explanation
 * @param options HTTP status, field, node, node ID, details, accepted versions
 * @example
 * ```ts
 * import { errorFromCode, PolicyError } from "./errors.ts";
 * const e = errorFromCode("E_POLICY", "too many nodes", { status: 403 });
 * e instanceof PolicyError; // true
 * ```
 */
export function errorFromCode(
  code: string,
  message: string,
  options: ClientErrorOptions & {
    accepted?: string[];
    serverVersion?: string;
    retryAfterMs?: number;
  } = {},
): QmtlClientError {
  if (!isErrorCode(code)) {
    return new InternalError(message, {
      ...options,
      details: { ...(options.details ?? {}), code },
    });
  }
  if (VALIDATION_CODES.has(code)) {
    return new ValidationError(message, { ...options, code });
  }
  switch (code) {
    case ErrorCode.E_SCHEMA_INCOMPATIBLE:
      return new SchemaIncompatibleError(message, options);
    case ErrorCode.E_UNAUTHENTICATED:
      return new UnauthenticatedError(message, options);
    case ErrorCode.E_FORBIDDEN:
      return new ForbiddenError(message, options);
    case ErrorCode.E_POLICY:
      return new PolicyError(message, options);
    case ErrorCode.E_NOT_FOUND:
      return new NotFoundError(message, options);
    case ErrorCode.E_UNAVAILABLE:
      return new UnavailableError(message, options);
    case ErrorCode.E_RATE_LIMITED:
      return new RateLimitedError(message, options);
    case ErrorCode.E_CONFLICT:
      return new ConflictError(message, options);
    case ErrorCode.E_PAYLOAD_TOO_LARGE:
      return new PayloadTooLargeError(message, options);
    default:
      return new InternalError(message, options);
  }
}

/**
 * `waitFor` gave up: the strategy did not reach the wanted state within
 * `timeoutMs`. This is a client-side condition, not a server error, so it is
 * a plain `Error` (not a {@link QmtlClientError}).
 *
 * @example
 * ```ts
 * import { WaitTimeoutError } from "./errors.ts";
 * const e = new WaitTimeoutError("st_1", ["COMPLETED"], 5000);
 * e.message; // "strategy st_1 did not reach COMPLETED within 5000 ms"
 * ```
 */
export class WaitTimeoutError extends Error {
  /** The strategy waited for. */
  readonly strategyId: string;
  /** The states waited for. */
  readonly states: string[];
  /** The last status seen, if any. */
  readonly lastStatus?: StrategyStatus;

  /**
   * Create the error.
   *
   * @param strategyId the strategy waited for
   * @param states names of the wanted states
   * @param timeoutMs the timeout that expired
   * @param lastStatus the last status seen
   * @example
   * ```ts
   * import { WaitTimeoutError } from "./errors.ts";
   * const e = new WaitTimeoutError("st_1", ["COMPLETED"], 1000);
   * ```
   */
  constructor(
    strategyId: string,
    states: string[],
    timeoutMs: number,
    lastStatus?: StrategyStatus,
  ) {
    super(
      `strategy ${strategyId} did not reach ${
        states.join(" or ")
      } within ${timeoutMs} ms`,
    );
    this.name = "WaitTimeoutError";
    this.strategyId = strategyId;
    this.states = states;
    if (lastStatus !== undefined) this.lastStatus = lastStatus;
  }
}

/**
 * `waitFor` stopped because the strategy reached a state from which the
 * wanted one cannot follow (by default FAILED or RETIRED). `status` is the
 * strategy's status, `status.error` the server's reason.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { UnexpectedStateError } from "./errors.ts";
 * import { StrategyState, type StrategyStatus, StrategyStatusSchema } from "../lib/contracts/messages.ts";
 * const failed: StrategyStatus = create(StrategyStatusSchema, {
 *   strategyId: "st_1", owner: "alice", version: "1", state: StrategyState.FAILED,
 *   attempts: 3, nodeCount: 4, name: "s",
 * });
 * const e = new UnexpectedStateError(failed, ["COMPLETED"]);
 * e.state; // "FAILED"
 * ```
 */
export class UnexpectedStateError extends Error {
  /** The status that stopped the wait. */
  readonly status: StrategyStatus;
  /** Name of the state reached. */
  readonly state: string;

  /**
   * Create the error.
   *
   * @param status the status that stopped the wait
   * @param wanted names of the wanted states
   * @example
   * ```ts
   * import { create } from "@bufbuild/protobuf";
   * import { UnexpectedStateError } from "./errors.ts";
   * import { StrategyState, StrategyStatusSchema } from "../lib/contracts/messages.ts";
   * const e = new UnexpectedStateError(create(StrategyStatusSchema, {
   *   strategyId: "st_1", state: StrategyState.RETIRED,
   * }), ["COMPLETED"]);
   * ```
   */
  constructor(status: StrategyStatus, wanted: string[]) {
    const state = stateName(status.state);
    const reason = status.error?.message ? `: ${status.error.message}` : "";
    super(
      `strategy ${status.strategyId} is ${state}, it will not reach ${
        wanted.join(" or ")
      }${reason}`,
    );
    this.name = "UnexpectedStateError";
    this.status = status;
    this.state = state;
  }
}
