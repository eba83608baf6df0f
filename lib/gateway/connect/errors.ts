/**
 * RPC errors: every failure of a contract call becomes a connect-es
 * `ConnectError` carrying the Connect code of its QMTL code and one
 * `qmtl.v1.ErrorDetail` detail (the QMTL code, message, field, node ID,
 * details); `Retry-After` travels as error metadata. connect-es renders it
 * for the protocol the client speaks (Connect: JSON error body with the
 * status of the Connect spec's code table; gRPC-Web: `grpc-status` /
 * `grpc-status-details-bin`).
 *
 * @module
 */

import { Code, ConnectError } from "@connectrpc/connect";
import {
  codeFromString,
  codeToHttpStatus,
  codeToString,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc-web";
import {
  type ErrorCode,
  errorCodeOfConnectCode,
  QmtlError,
} from "../../contracts/errors.ts";
import { ErrorDetailSchema } from "../../contracts/messages.ts";

/** Seconds a client should wait after an `E_UNAVAILABLE` answer. */
export const RETRY_AFTER_S = 5;

/** Extra response headers an error asks for (`WWW-Authenticate`, …). */
const ERROR_HEADERS = new WeakMap<QmtlError, Record<string, string>>();

/**
 * Attach response headers to an error (used for `WWW-Authenticate`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmtlError } from "@qmtl/qmtl/contracts";
 * import { errorHeaders, withHeaders } from "./errors.ts";
 * const e = withHeaders(new QmtlError("E_UNAUTHENTICATED", "no token"), { "www-authenticate": "Bearer" });
 * assert.equal(errorHeaders(e)["www-authenticate"], "Bearer");
 * ```
 */
export function withHeaders(
  err: QmtlError,
  headers: Record<string, string>,
): QmtlError {
  ERROR_HEADERS.set(err, { ...(ERROR_HEADERS.get(err) ?? {}), ...headers });
  return err;
}

/**
 * The response headers of an error: those attached with {@link withHeaders},
 * plus `Retry-After` on retryable errors (`E_UNAVAILABLE`, or any error whose
 * details carry `retryAfterS`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmtlError } from "@qmtl/qmtl/contracts";
 * import { errorHeaders } from "./errors.ts";
 * assert.equal(errorHeaders(new QmtlError("E_UNAVAILABLE", "neo4j down"))["retry-after"], "5");
 * ```
 */
export function errorHeaders(err: QmtlError): Record<string, string> {
  const h: Record<string, string> = { ...(ERROR_HEADERS.get(err) ?? {}) };
  const after = err.details?.retryAfterS;
  if (after !== undefined && /^\d+$/.test(after)) h["retry-after"] = after;
  else if (err.code === "E_UNAVAILABLE") {
    h["retry-after"] = String(RETRY_AFTER_S);
  }
  return h;
}

/**
 * The `ConnectError` of a QMTL error: Connect code from the error table,
 * message `[<QMTL code>] <message>`, one `qmtl.v1.ErrorDetail` detail, and
 * the error's response headers as metadata.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Code } from "@connectrpc/connect";
 * import { QmtlError } from "@qmtl/qmtl/contracts";
 * import { connectErrorOf } from "./errors.ts";
 * const e = connectErrorOf(new QmtlError("E_POLICY", "too many nodes"));
 * assert.equal(e.code, Code.PermissionDenied);
 * assert.equal(e.rawMessage, "[E_POLICY] too many nodes");
 * ```
 */
export function connectErrorOf(err: QmtlError, code?: Code): ConnectError {
  return new ConnectError(
    `[${err.code}] ${err.message}`,
    code ?? codeFromString(err.connectCode) ?? Code.Internal,
    errorHeaders(err),
    [{ desc: ErrorDetailSchema, value: err.toErrorDetail() }],
    err,
  );
}

/**
 * The QMTL code for an error connect-es raised itself (without a QMTL
 * detail), by its Connect code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Code } from "@connectrpc/connect";
 * import { qmtlCodeOf } from "./errors.ts";
 * assert.equal(qmtlCodeOf(Code.InvalidArgument), "E_INVALID");
 * ```
 */
export function qmtlCodeOf(code: Code): ErrorCode {
  // The contracts' table, except for the two codes connect-es raises in the
  // Gateway only for a request it cannot serve as sent: an oversized
  // message and an unknown method.
  if (code === Code.ResourceExhausted) return "E_PAYLOAD_TOO_LARGE";
  if (code === Code.Unimplemented) return "E_INVALID";
  return errorCodeOfConnectCode(codeToString(code)) ?? "E_INTERNAL";
}

/**
 * True when a connect-es error already carries a `qmtl.v1.ErrorDetail`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectError } from "@connectrpc/connect";
 * import { hasQmtlDetail } from "./errors.ts";
 * assert.equal(hasQmtlDetail(new ConnectError("x")), false);
 * ```
 */
export function hasQmtlDetail(err: ConnectError): boolean {
  return err.details.some((d) =>
    ("desc" in d ? d.desc.typeName : d.type) === ErrorDetailSchema.typeName
  );
}

/**
 * Give a connect-es error a QMTL detail when it has none (its QMTL code
 * from {@link qmtlCodeOf}, its Connect code and metadata kept).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { withQmtlDetail } from "./errors.ts";
 * const e = withQmtlDetail(new ConnectError("bad timeout", Code.InvalidArgument));
 * assert.equal(e.rawMessage, "[E_INVALID] bad timeout");
 * ```
 */
export function withQmtlDetail(err: ConnectError): ConnectError {
  if (hasQmtlDetail(err)) return err;
  const q = new QmtlError(qmtlCodeOf(err.code), err.rawMessage, {
    cause: err,
  });
  const e = connectErrorOf(q, err.code);
  err.metadata.forEach((v, k) => e.metadata.set(k, v));
  return e;
}

/** Content types of the gRPC-Web protocol. */
const GRPC_WEB = /^application\/grpc-web(?:-text)?(?:[+;]|$)/i;

/**
 * The response of a failed contract call, in the protocol of the request
 * (from its `content-type`): gRPC-Web answers 200 with the status in the
 * headers ("trailers-only"); anything else gets a Connect unary error (JSON
 * body, HTTP status from the Connect code table: `invalid_argument` and
 * `failed_precondition` 400, `unauthenticated` 401, `permission_denied`
 * 403, `not_found` 404, `aborted` / `already_exists` 409,
 * `resource_exhausted` 429, `internal` 500, `unimplemented` 501,
 * `unavailable` 503, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { rpcErrorResponse } from "./errors.ts";
 * const res = rpcErrorResponse(new ConnectError("no", Code.FailedPrecondition), new Headers());
 * assert.equal(res.status, 400);
 * ```
 */
export function rpcErrorResponse(
  err: ConnectError,
  requestHeaders: Headers,
): Response {
  const type = requestHeaders.get("content-type") ?? "";
  if (GRPC_WEB.test(type)) {
    const headers = new Headers({
      "content-type": type.toLowerCase().includes("json")
        ? "application/grpc-web+json"
        : "application/grpc-web+proto",
    });
    setTrailerStatus(headers, err);
    return new Response(null, { status: 200, headers });
  }
  const headers = new Headers({ "content-type": "application/json" });
  err.metadata.forEach((v, k) => headers.set(k, v));
  return new Response(errorToJsonBytes(err, {}) as BodyInit, {
    status: codeToHttpStatus(err.code),
    headers,
  });
}
