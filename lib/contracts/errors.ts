/**
 * QMTL error codes, their HTTP statuses and Connect codes, and the typed
 * error classes every component throws.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import { type ErrorDetail, ErrorDetailSchema } from "./messages.ts";

/**
 * Every QMTL error code. The value equals the key, so codes travel as plain
 * strings in `ErrorDetail.code`, Connect errors and problem+json bodies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode } from "@qmtl/qmtl/contracts";
 * const code: ErrorCode = ErrorCode.E_CYCLE;
 * assert.equal(code, "E_CYCLE");
 * ```
 */
export const ErrorCode = {
  /** A node's ID does not match the hash of its identity fields. */
  E_NODE_ID_MISMATCH: "E_NODE_ID_MISMATCH",
  /** The DAG checksum does not match its node IDs. */
  E_CHECKSUM_MISMATCH: "E_CHECKSUM_MISMATCH",
  /** The DAG (or a requested edge) would contain a cycle. */
  E_CYCLE: "E_CYCLE",
  /** A node input is neither in the DAG nor in the global registry. */
  E_UNKNOWN_INPUT: "E_UNKNOWN_INPUT",
  /** Two nodes of one DAG share an ID or a name. */
  E_DUPLICATE: "E_DUPLICATE",
  /** The client's schema version / hash is not accepted. */
  E_SCHEMA_INCOMPATIBLE: "E_SCHEMA_INCOMPATIBLE",
  /** Missing or invalid credentials. */
  E_UNAUTHENTICATED: "E_UNAUTHENTICATED",
  /** Authenticated but not allowed by the ACL. */
  E_FORBIDDEN: "E_FORBIDDEN",
  /** Refused by a policy limit (max nodes, depth, node types, …). */
  E_POLICY: "E_POLICY",
  /** A backing service (Neo4j, Redis) is unavailable; retry later. */
  E_UNAVAILABLE: "E_UNAVAILABLE",
  /** Malformed or semantically invalid input. */
  E_INVALID: "E_INVALID",
  /** The addressed entity does not exist. */
  E_NOT_FOUND: "E_NOT_FOUND",
  /** The request conflicts with the current state (e.g. a lost compare-and-set). */
  E_CONFLICT: "E_CONFLICT",
  /**
   * A publish under a producer lease that is not (or no longer) the caller's:
   * another runner produces the node now.
   */
  E_LEASE_LOST: "E_LEASE_LOST",
  /** The request body exceeds the size limit. */
  E_PAYLOAD_TOO_LARGE: "E_PAYLOAD_TOO_LARGE",
  /** Too many requests for this subject. */
  E_RATE_LIMITED: "E_RATE_LIMITED",
  /** An unexpected server-side failure. */
  E_INTERNAL: "E_INTERNAL",
} as const;

/**
 * A QMTL error code string (one of the {@link ErrorCode} values).
 *
 * @example
 * ```ts
 * import type { ErrorCode } from "@qmtl/qmtl/contracts";
 * const c: ErrorCode = "E_NOT_FOUND";
 * ```
 */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * A Connect protocol error code.
 *
 * @example
 * ```ts
 * import type { ConnectCode } from "@qmtl/qmtl/contracts";
 * const c: ConnectCode = "invalid_argument";
 * ```
 */
export type ConnectCode =
  | "canceled"
  | "unknown"
  | "invalid_argument"
  | "deadline_exceeded"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "resource_exhausted"
  | "failed_precondition"
  | "aborted"
  | "out_of_range"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "data_loss"
  | "unauthenticated";

/**
 * How one error code is reported over HTTP (REST problem+json) and Connect.
 *
 * @example
 * ```ts
 * import type { ErrorMapping } from "@qmtl/qmtl/contracts";
 * const m: ErrorMapping = { httpStatus: 404, connectCode: "not_found" };
 * ```
 */
export interface ErrorMapping {
  /** HTTP status of REST responses and of Connect unary error responses. */
  readonly httpStatus: number;
  /** Connect error code. */
  readonly connectCode: ConnectCode;
}

/**
 * The table mapping every {@link ErrorCode} to its HTTP status and Connect
 * code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ERROR_TABLE } from "@qmtl/qmtl/contracts";
 * assert.equal(ERROR_TABLE.E_SCHEMA_INCOMPATIBLE.httpStatus, 412);
 * ```
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorMapping>> = Object
  .freeze({
    E_NODE_ID_MISMATCH: { httpStatus: 400, connectCode: "invalid_argument" },
    E_CHECKSUM_MISMATCH: { httpStatus: 400, connectCode: "invalid_argument" },
    E_CYCLE: { httpStatus: 400, connectCode: "invalid_argument" },
    E_UNKNOWN_INPUT: { httpStatus: 422, connectCode: "failed_precondition" },
    E_DUPLICATE: { httpStatus: 400, connectCode: "invalid_argument" },
    E_SCHEMA_INCOMPATIBLE: {
      httpStatus: 412,
      connectCode: "failed_precondition",
    },
    E_UNAUTHENTICATED: { httpStatus: 401, connectCode: "unauthenticated" },
    E_FORBIDDEN: { httpStatus: 403, connectCode: "permission_denied" },
    E_POLICY: { httpStatus: 403, connectCode: "permission_denied" },
    E_UNAVAILABLE: { httpStatus: 503, connectCode: "unavailable" },
    E_INVALID: { httpStatus: 400, connectCode: "invalid_argument" },
    E_NOT_FOUND: { httpStatus: 404, connectCode: "not_found" },
    E_CONFLICT: { httpStatus: 409, connectCode: "aborted" },
    E_LEASE_LOST: { httpStatus: 409, connectCode: "failed_precondition" },
    E_PAYLOAD_TOO_LARGE: { httpStatus: 413, connectCode: "resource_exhausted" },
    E_RATE_LIMITED: { httpStatus: 429, connectCode: "resource_exhausted" },
    E_INTERNAL: { httpStatus: 500, connectCode: "internal" },
  });

/**
 * True when `value` is a known QMTL error code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isErrorCode } from "@qmtl/qmtl/contracts";
 * assert.ok(isErrorCode("E_CYCLE"));
 * assert.equal(isErrorCode("nope"), false);
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_TABLE, value);
}

/**
 * HTTP status for an error code (500 for an unknown code).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpStatusOf } from "@qmtl/qmtl/contracts";
 * assert.equal(httpStatusOf("E_NOT_FOUND"), 404);
 * ```
 */
export function httpStatusOf(code: string): number {
  return isErrorCode(code) ? ERROR_TABLE[code].httpStatus : 500;
}

/**
 * Connect code for an error code (`"internal"` for an unknown code).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectCodeOf } from "@qmtl/qmtl/contracts";
 * assert.equal(connectCodeOf("E_UNAVAILABLE"), "unavailable");
 * ```
 */
export function connectCodeOf(code: string): ConnectCode {
  return isErrorCode(code) ? ERROR_TABLE[code].connectCode : "internal";
}

/**
 * The QMTL code a bare HTTP status stands for, when an answer or an
 * exception carries no QMTL code of its own (a proxy's 502, a framework's
 * 413): the inverse of {@link ERROR_TABLE} for the statuses it uses, plus
 * 502 and 504 as `E_UNAVAILABLE`. `undefined` for any other status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorCodeOfHttpStatus } from "@qmtl/qmtl/contracts";
 * assert.equal(errorCodeOfHttpStatus(404), "E_NOT_FOUND");
 * assert.equal(errorCodeOfHttpStatus(502), "E_UNAVAILABLE");
 * assert.equal(errorCodeOfHttpStatus(418), undefined);
 * ```
 */
export function errorCodeOfHttpStatus(status: number): ErrorCode | undefined {
  return Object.hasOwn(BY_HTTP_STATUS, status)
    ? BY_HTTP_STATUS[status]
    : undefined;
}

const BY_HTTP_STATUS: Readonly<Record<number, ErrorCode>> = Object.freeze({
  400: "E_INVALID",
  401: "E_UNAUTHENTICATED",
  403: "E_FORBIDDEN",
  404: "E_NOT_FOUND",
  409: "E_CONFLICT",
  412: "E_SCHEMA_INCOMPATIBLE",
  413: "E_PAYLOAD_TOO_LARGE",
  422: "E_UNKNOWN_INPUT",
  429: "E_RATE_LIMITED",
  502: "E_UNAVAILABLE",
  503: "E_UNAVAILABLE",
  504: "E_UNAVAILABLE",
});

/**
 * The QMTL code a bare Connect code stands for, when a Connect error
 * carries no `qmtl.v1.ErrorDetail`. `undefined` for codes with no QMTL
 * meaning (`unknown`, `internal`, `unimplemented`, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorCodeOfConnectCode } from "@qmtl/qmtl/contracts";
 * assert.equal(errorCodeOfConnectCode("aborted"), "E_CONFLICT");
 * assert.equal(errorCodeOfConnectCode("internal"), undefined);
 * ```
 */
export function errorCodeOfConnectCode(code: string): ErrorCode | undefined {
  return Object.hasOwn(BY_CONNECT_CODE, code)
    ? BY_CONNECT_CODE[code as ConnectCode]
    : undefined;
}

const BY_CONNECT_CODE: Readonly<Partial<Record<ConnectCode, ErrorCode>>> =
  Object.freeze({
    invalid_argument: "E_INVALID",
    out_of_range: "E_INVALID",
    failed_precondition: "E_INVALID",
    not_found: "E_NOT_FOUND",
    already_exists: "E_CONFLICT",
    aborted: "E_CONFLICT",
    permission_denied: "E_FORBIDDEN",
    unauthenticated: "E_UNAUTHENTICATED",
    resource_exhausted: "E_RATE_LIMITED",
    unavailable: "E_UNAVAILABLE",
    deadline_exceeded: "E_UNAVAILABLE",
  });

/**
 * Optional context of a {@link QmtlError}.
 *
 * @example
 * ```ts
 * import type { QmtlErrorOptions } from "@qmtl/qmtl/contracts";
 * const o: QmtlErrorOptions = { field: "nodes[2].period", nodeId: "sha256:…" };
 * ```
 */
export interface QmtlErrorOptions {
  /** Path of the offending field, e.g. `nodes[3].intervalS`. */
  field?: string;
  /** Offending node ID. */
  nodeId?: string;
  /** Extra key/value context. */
  details?: Record<string, string>;
  /** Underlying cause. */
  cause?: unknown;
}

/**
 * Base class of every typed QMTL error: a code from {@link ErrorCode} plus
 * optional field path, node ID and details.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmtlError } from "@qmtl/qmtl/contracts";
 * const e = new QmtlError("E_NOT_FOUND", "no strategy st_9", { field: "strategy_id" });
 * assert.equal(e.httpStatus, 404);
 * assert.equal(e.toErrorDetail().code, "E_NOT_FOUND");
 * ```
 */
export class QmtlError extends Error {
  /** The QMTL error code. */
  readonly code: ErrorCode;
  /** Path of the offending field, if any. */
  readonly field?: string;
  /** Offending node ID, if any. */
  readonly nodeId?: string;
  /** Extra key/value context, if any. */
  readonly details?: Record<string, string>;

  /**
   * Create an error with a code, a message and optional context.
   *
   * @param code the QMTL error code
   * @param message human-readable explanation
   * @param options field, node ID, details and cause
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: QmtlErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "QmtlError";
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.nodeId !== undefined) this.nodeId = options.nodeId;
    if (options.details !== undefined) this.details = options.details;
  }

  /** HTTP status for this error's code. */
  get httpStatus(): number {
    return ERROR_TABLE[this.code].httpStatus;
  }

  /** Connect code for this error's code. */
  get connectCode(): ConnectCode {
    return ERROR_TABLE[this.code].connectCode;
  }

  /**
   * The `ErrorDetail` message for this error (empty strings for absent
   * fields).
   */
  toErrorDetail(): ErrorDetail {
    return create(ErrorDetailSchema, {
      code: this.code,
      message: this.message,
      field: this.field ?? "",
      nodeId: this.nodeId ?? "",
      details: { ...(this.details ?? {}) },
    });
  }
}

/**
 * Error raised by the contracts layer: malformed protobuf, invalid values,
 * node-ID and checksum mismatches. Its code defaults to `E_INVALID`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContractError } from "@qmtl/qmtl/contracts";
 * const e = new ContractError("period must be ≥ 1", { field: "period" });
 * assert.equal(e.code, "E_INVALID");
 * ```
 */
export class ContractError extends QmtlError {
  /**
   * Create a contracts error (code `E_INVALID` unless given).
   *
   * @param message human-readable explanation
   * @param options field, node ID, details, cause, and the code (default `E_INVALID`)
   */
  constructor(
    message: string,
    options: QmtlErrorOptions & { code?: ErrorCode } = {},
  ) {
    super(options.code ?? ErrorCode.E_INVALID, message, options);
    this.name = "ContractError";
  }
}

/**
 * Rebuild a {@link QmtlError} from an `ErrorDetail` received over the wire
 * (unknown codes become `E_INTERNAL`, the original code kept in
 * `details.code`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { ErrorDetailSchema } from "./messages.ts";
 * import { fromErrorDetail } from "@qmtl/qmtl/contracts";
 * const e = fromErrorDetail(create(ErrorDetailSchema, { code: "E_CYCLE", message: "cycle" }));
 * assert.equal(e.code, "E_CYCLE");
 * ```
 */
export function fromErrorDetail(detail: ErrorDetail): QmtlError {
  const known = isErrorCode(detail.code);
  const details: Record<string, string> = { ...detail.details };
  if (!known) details.code = detail.code;
  const options: QmtlErrorOptions = {};
  if (detail.field !== "") options.field = detail.field;
  if (detail.nodeId !== "") options.nodeId = detail.nodeId;
  if (Object.keys(details).length > 0) options.details = details;
  return new QmtlError(
    known ? detail.code as ErrorCode : ErrorCode.E_INTERNAL,
    detail.message,
    options,
  );
}
