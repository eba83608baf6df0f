/**
 * Error mapping: every failure becomes a QMTL error code and is answered in
 * the format of the API it hit — `application/problem+json` (RFC 9457) on
 * REST and operational routes; on RPC routes a connect-es `ConnectError`
 * with the `qmtl.v1.ErrorDetail`, rendered for the client's protocol (see
 * `../connect/errors.ts`).
 *
 * @module
 */

import { Code } from "@connectrpc/connect";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  errorCodeOfHttpStatus,
  isErrorCode,
  QmtlError,
} from "../../contracts/errors.ts";
import { RegistryError } from "../../dag/errors.ts";
import {
  connectErrorOf,
  errorHeaders,
  rpcErrorResponse,
} from "../connect/errors.ts";
import type { Logger } from "../logger/mod.ts";
import type { ApiKind, GatewayEnv, GatewayErrorHandler } from "../types.ts";

export { RETRY_AFTER_S, withHeaders } from "../connect/errors.ts";

/** Path prefix of the Connect RPC routes. */
export const RPC_PREFIX = "/qmtl.v1.GatewayService/";

/** The message of every `E_INTERNAL` answer. */
export const INTERNAL_MESSAGE = "internal server error";

/**
 * True for a failure that means "the client did not send its request in
 * time": an error carrying `status: 408`, such as the transport's
 * `BodyTimeoutError` (a body not complete within `bodyTimeoutMs`, or idle
 * for `idleTimeoutMs`) or a Hono `HTTPException(408)`. A client's fault,
 * not an internal error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyTimeoutError } from "@qmtl/qmtl/gateway";
 * import { isRequestTimeout } from "./mod.ts";
 * assert.equal(isRequestTimeout(new BodyTimeoutError("idle", 5000)), true);
 * assert.equal(isRequestTimeout(new Error("boom")), false);
 * ```
 */
export function isRequestTimeout(err: unknown): boolean {
  return err instanceof Error &&
    (err as { status?: unknown }).status === 408;
}

/**
 * Turn anything thrown into a {@link QmtlError} that is safe to show a
 * client. The text of a store's or driver's error never reaches the client:
 * every `E_INTERNAL` gets the generic message {@link INTERNAL_MESSAGE}, and
 * an `E_UNAVAILABLE` raised by the registry or the queue says which service
 * is unavailable and nothing more. The original stays the `cause` (the error
 * mapper logs it).
 *
 * A request that did not arrive in time ({@link isRequestTimeout}) is
 * `E_INVALID` with `field: "body"` (answered 408).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RegistryError } from "@qmtl/qmtl/dag";
 * import { toQmtlError } from "./mod.ts";
 * assert.equal(toQmtlError(new Error("boom")).code, "E_INTERNAL");
 * const leaky = new RegistryError("E_INTERNAL", "neo4j error: Property value is too large to index");
 * assert.equal(toQmtlError(leaky).message, "internal server error");
 * ```
 */
export function toQmtlError(err: unknown): QmtlError {
  if (isRequestTimeout(err)) {
    // Answered 408 by mapError (and by serveGateway, which closes the
    // connection); the code says the request was incomplete.
    return new QmtlError(
      "E_INVALID",
      (err as Error).message || "request body not received in time",
      { field: "body", details: { timeout: "true" }, cause: err },
    );
  }
  if (err instanceof RegistryError) {
    if (err.code === "E_INTERNAL") return internal(err);
    if (err.code === "E_UNAVAILABLE") {
      return new QmtlError(
        "E_UNAVAILABLE",
        "the node registry is unavailable; retry later",
        { cause: err },
      );
    }
    return err;
  }
  if (err instanceof QmtlError) {
    return err.code === "E_INTERNAL" && err.message !== INTERNAL_MESSAGE
      ? internal(err)
      : err;
  }
  // Typed errors of other modules (queue) carry a QMTL code too.
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && isErrorCode(code)) {
    if (code === "E_INTERNAL") return internal(err);
    if (code === "E_UNAVAILABLE") {
      return new QmtlError(
        "E_UNAVAILABLE",
        "the work queue is unavailable; retry later",
        { cause: err },
      );
    }
    return new QmtlError(code, err.message, { cause: err });
  }
  if (err instanceof HTTPException) {
    const mapped = errorCodeOfHttpStatus(err.status);
    if (mapped === undefined) return internal(err);
    return new QmtlError(mapped, err.message || "request failed", {
      cause: err,
    });
  }
  return internal(err);
}

function internal(cause: unknown): QmtlError {
  return new QmtlError("E_INTERNAL", INTERNAL_MESSAGE, { cause });
}

/**
 * The API surface of a path: `rpc` for `/qmtl.v1.GatewayService/…`, `rest`
 * for `/v1/…`, `ops` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { apiKindOf } from "./mod.ts";
 * assert.equal(apiKindOf("/v1/nodes"), "rest");
 * ```
 */
export function apiKindOf(path: string): ApiKind {
  if (path.startsWith(RPC_PREFIX)) return "rpc";
  if (path.startsWith("/v1/")) return "rest";
  return "ops";
}

/**
 * The problem+json (RFC 9457) response of `err`, as REST and operational
 * routes answer it (`Retry-After` on retryable errors).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorResponse } from "./mod.ts";
 * import { QmtlError } from "@qmtl/qmtl/contracts";
 * const res = errorResponse(new QmtlError("E_NOT_FOUND", "no such node"), "req-1");
 * assert.equal(res.status, 404);
 * ```
 */
export function errorResponse(err: QmtlError, requestId: string): Response {
  const detail = err.toErrorDetail();
  const headers = new Headers(errorHeaders(err));
  headers.set("content-type", "application/problem+json");
  const body: Record<string, unknown> = {
    type: `urn:qmtl:error:${err.code}`,
    title: err.code,
    status: err.httpStatus,
    detail: err.message,
    code: err.code,
    requestId,
  };
  if (detail.field) body.field = detail.field;
  if (detail.nodeId) body.nodeId = detail.nodeId;
  if (Object.keys(detail.details).length) body.details = detail.details;
  return new Response(JSON.stringify(body), {
    status: err.httpStatus,
    headers,
  });
}

/**
 * The app's `onError` handler: maps, logs 5xx with the cause, and answers in
 * the request's API format. Response headers set by earlier middleware (for
 * example the schema version echo or `WWW-Authenticate`) are kept when the
 * error carries them in `details.header:*`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger, type GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { errorHandler } from "./mod.ts";
 * const app = new Hono<GatewayEnv>();
 * app.onError(errorHandler(createLogger()));
 * ```
 */
export function errorHandler(logger: Logger): GatewayErrorHandler {
  return (err, c) => mapError(err, c, logger);
}

/**
 * Map `err` to the error response of the request's API kind (what
 * {@link errorHandler} and the per-route pipeline answer), logging 5xx.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger, type GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { mapError } from "./mod.ts";
 * const log = createLogger({ sink: () => {} });
 * const app = new Hono<GatewayEnv>();
 * app.get("/", (c) => mapError(new Error("boom"), c, log));
 * ```
 */
export function mapError(
  err: unknown,
  c: Context<GatewayEnv>,
  logger: Logger,
): Response {
  const q = toQmtlError(err);
  const kind = c.get("apiKind") ?? apiKindOf(c.req.path);
  if (isRequestTimeout(err)) {
    logger.info("request body timed out", {
      requestId: c.get("requestId"),
      path: c.req.path,
      reason: q.message,
    });
    return timeoutResponse(q, kind, c);
  }
  if (q.code === "E_INTERNAL" || q.httpStatus >= 500) {
    // The raw error (whose text the client never sees) goes to the log.
    logger.error("request failed", {
      requestId: c.get("requestId"),
      code: q.code,
      error: err instanceof Error ? err : String(err),
      cause: q.cause instanceof Error && q.cause !== err ? q.cause : undefined,
    });
  }
  const res = kind === "rpc"
    ? rpcErrorResponse(connectErrorOf(q), c.req.raw.headers)
    : errorResponse(q, c.get("requestId") ?? "");
  for (const [k, v] of c.res?.headers ?? []) {
    if (k.startsWith("qmtl-") && !res.headers.has(k)) res.headers.set(k, v);
  }
  return res;
}

/** A 408 in the request's API format (`deadline_exceeded` on RPC routes). */
function timeoutResponse(
  q: QmtlError,
  kind: ApiKind,
  c: Context<GatewayEnv>,
): Response {
  const res = kind === "rpc"
    ? rpcErrorResponse(
      connectErrorOf(q, Code.DeadlineExceeded),
      c.req.raw.headers,
    )
    : errorResponse(q, c.get("requestId") ?? "");
  if (res.status === 200) return res; // gRPC-Web: the status is in the headers
  const headers = new Headers(res.headers);
  headers.set("connection", "close");
  if (kind !== "rpc") {
    const body = {
      type: `urn:qmtl:error:${q.code}`,
      title: "request timeout",
      status: 408,
      detail: q.message,
      code: q.code,
      requestId: c.get("requestId") ?? "",
      field: "body",
    };
    return new Response(JSON.stringify(body), { status: 408, headers });
  }
  return new Response(res.body, { status: 408, headers });
}
