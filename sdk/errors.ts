/**
 * Errors of the SDK. Every answer of the Gateway that is an error becomes a
 * {@link QmtlClientError}: `code` is the QMTL code (from the
 * `qmtl.v1.ErrorDetail` the Gateway attaches), `connectCode` the Connect
 * code, plus `field`, `nodeId`, `details` and, when they apply,
 * `retryAfterMs`, `accepted` (schema versions) and `attempts`. Validation
 * codes (`E_INVALID`, `E_CYCLE`, `E_DUPLICATE`, `E_UNKNOWN_INPUT`,
 * `E_NODE_ID_MISMATCH`, `E_CHECKSUM_MISMATCH`) come as its subclass
 * {@link ValidationError}, which also names the offending node — the builder
 * throws it too. `waitFor` adds two client-side conditions:
 * {@link WaitTimeoutError} and {@link UnexpectedStateError}.
 *
 *     try { … } catch (e) {
 *       if (e instanceof ValidationError) … e.node, e.field
 *       else if (e instanceof QmtlClientError && e.code === "E_POLICY") …
 *     }
 *
 * @module
 */

import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import {
  type ConnectCode,
  ErrorCode,
  ErrorDetailSchema,
  isErrorCode,
  QmtlError,
  type QmtlErrorOptions,
  SCHEMA_VERSION_HEADER,
} from "./contracts.ts";
import {
  errorCodeOfConnectCode,
  errorCodeOfHttpStatus,
} from "../lib/contracts/errors.ts";
import { parseRetryAfter } from "./retry.ts";
import { type StateName, stateName } from "./states.ts";
import type { StrategyStatus } from "./views.ts";

/**
 * Options of {@link QmtlClientError} and {@link ValidationError}.
 *
 * @example
 * ```ts
 * import type { ClientErrorOptions } from "@qmtl/qmtl/sdk";
 * const o: ClientErrorOptions = { status: 404, field: "strategy_id" };
 * ```
 */
export interface ClientErrorOptions extends QmtlErrorOptions {
  /** HTTP status of the answer, if there was one. */
  status?: number;
  /** The Connect code of the answer; default the one of the QMTL code. */
  connectCode?: ConnectCode;
  /** Name of the offending node in the strategy (builder name), if known. */
  node?: string;
  /** Server-suggested wait (`Retry-After`), ms. */
  retryAfterMs?: number;
  /** Schema versions the server accepts (`E_SCHEMA_INCOMPATIBLE`). */
  accepted?: string[];
  /** The server's own schema version, when it said so. */
  serverVersion?: string;
}

/**
 * Every error the SDK throws about a QMTL call or a DAG. Check the `code`
 * (a QMTL code) rather than the class; `retryable` is true for
 * `E_UNAVAILABLE`, which the client already retried with backoff
 * (`attempts` says how often) before throwing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmtlClientError } from "@qmtl/qmtl/sdk";
 * const e = new QmtlClientError("E_NOT_FOUND", "no strategy st_1", { status: 404 });
 * assert.equal(e.code, "E_NOT_FOUND");
 * assert.equal(e.connectCode, "not_found");
 * assert.equal(e.retryable, false);
 * ```
 */
export class QmtlClientError extends QmtlError {
  /** HTTP status of the answer, if there was one. */
  readonly status?: number;
  /** Server-suggested wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** Versions the server accepts (on `E_SCHEMA_INCOMPATIBLE`). */
  readonly accepted?: string[];
  /** The server's schema version (on `E_SCHEMA_INCOMPATIBLE`), if known. */
  readonly serverVersion?: string;
  /** Attempts made before giving up (set by the client's retry loop). */
  attempts?: number;
  readonly #connectCode?: ConnectCode;

  /**
   * Create the error.
   *
   * @param code the QMTL error code
   * @param message human-readable explanation
   * @param options HTTP status, Connect code, field, node ID, details, cause
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: ClientErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = "QmtlClientError";
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) {
      this.retryAfterMs = options.retryAfterMs;
    }
    if (options.accepted !== undefined) this.accepted = options.accepted;
    if (options.serverVersion !== undefined) {
      this.serverVersion = options.serverVersion;
    }
    this.#connectCode = options.connectCode;
  }

  /** The Connect code of the answer (or of the QMTL code). */
  override get connectCode(): ConnectCode {
    return this.#connectCode ?? super.connectCode;
  }

  /** True when trying again later may succeed (`E_UNAVAILABLE`). */
  get retryable(): boolean {
    return this.code === ErrorCode.E_UNAVAILABLE;
  }
}

/**
 * The DAG or a request is invalid: a cycle, a missing or invalid interval or
 * period, duplicate names or IDs, an unknown input, non-JSON params, a node
 * ID or checksum mismatch — found by the builder or by the Gateway. `node`
 * names the offending node (its builder name), `field` the offending field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ValidationError } from "@qmtl/qmtl/sdk";
 * const e = new ValidationError("period must be ≥ 1", { node: "sma_fast", field: "period" });
 * assert.equal(e.code, "E_INVALID");
 * assert.equal(`${e.node}.${e.field}`, "sma_fast.period");
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

const VALIDATION_CODES: ReadonlySet<string> = new Set([
  ErrorCode.E_INVALID,
  ErrorCode.E_CYCLE,
  ErrorCode.E_DUPLICATE,
  ErrorCode.E_UNKNOWN_INPUT,
  ErrorCode.E_NODE_ID_MISMATCH,
  ErrorCode.E_CHECKSUM_MISMATCH,
]);

/**
 * The error for a QMTL code: a {@link ValidationError} for the validation
 * codes, a {@link QmtlClientError} otherwise. An unknown code becomes
 * `E_INTERNAL`, the original kept in `details.code`.
 *
 * @param code a QMTL error code (`E_…`), possibly unknown
 * @param message human-readable explanation
 * @param options HTTP status, Connect code, field, node ID, details, …
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromCode, ValidationError } from "@qmtl/qmtl/sdk";
 * assert.ok(errorFromCode("E_CYCLE", "a → b → a") instanceof ValidationError);
 * assert.equal(errorFromCode("E_POLICY", "too many nodes").code, "E_POLICY");
 * ```
 */
export function errorFromCode(
  code: string,
  message: string,
  options: ClientErrorOptions = {},
): QmtlClientError {
  if (!isErrorCode(code)) {
    return new QmtlClientError(ErrorCode.E_INTERNAL, message, {
      ...options,
      details: { ...(options.details ?? {}), code },
    });
  }
  return VALIDATION_CODES.has(code)
    ? new ValidationError(message, { ...options, code })
    : new QmtlClientError(code, message, options);
}

function connectCodeName(code: Code): ConnectCode {
  return Code[code].replace(
    /[A-Z]/g,
    (c, i) => (i ? "_" : "") + c.toLowerCase(),
  ) as ConnectCode;
}

function splitList(s: string | undefined): string[] {
  return (s ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "");
}

/**
 * The {@link QmtlClientError} of anything a contract call threw: a
 * connect-es `ConnectError` (its `qmtl.v1.ErrorDetail` gives the QMTL code,
 * otherwise its Connect code does; a network failure is `E_UNAVAILABLE`),
 * or an error already converted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Code, ConnectError } from "@connectrpc/connect";
 * import { clientErrorOf } from "@qmtl/qmtl/sdk";
 * const e = clientErrorOf(new ConnectError("HTTP 503", Code.Unavailable));
 * assert.equal(e.code, "E_UNAVAILABLE");
 * assert.ok(e.retryable);
 * ```
 */
export function clientErrorOf(e: unknown): QmtlClientError {
  if (e instanceof QmtlClientError) return e;
  if (!(e instanceof ConnectError)) {
    return new QmtlClientError(
      ErrorCode.E_UNAVAILABLE,
      `cannot reach the Gateway (${e instanceof Error ? e.message : e})`,
      { cause: e, connectCode: "unavailable" },
    );
  }
  if (e.cause instanceof QmtlClientError) return e.cause;
  const connectCode = connectCodeName(e.code);
  const options: ClientErrorOptions = {
    connectCode,
    status: codeToHttpStatus(e.code),
    cause: e,
  };
  const retryAfter = parseRetryAfter(e.metadata.get("retry-after"));
  if (retryAfter !== undefined) options.retryAfterMs = retryAfter;
  const [detail] = e.findDetails(ErrorDetailSchema);
  let code: string;
  let message = e.rawMessage;
  if (detail !== undefined) {
    code = detail.code;
    message = detail.message;
    if (detail.field) options.field = detail.field;
    if (detail.nodeId) options.nodeId = detail.nodeId;
    if (Object.keys(detail.details).length > 0) {
      options.details = { ...detail.details };
    }
  } else {
    const bracket = /^\[(E_[A-Z_]+)\]\s*/.exec(message);
    if (bracket) message = message.slice(bracket[0].length);
    // A request that never got an answer (refused connection, reset).
    const network = e.code === Code.Unknown && e.cause instanceof TypeError;
    code = bracket?.[1] ??
      (network ? "E_UNAVAILABLE" : errorCodeOfConnectCode(connectCode)) ??
      "E_INTERNAL";
    if (network) {
      message = `cannot reach the Gateway (${e.cause})`;
      options.connectCode = "unavailable";
    }
  }
  if (code === ErrorCode.E_SCHEMA_INCOMPATIBLE) {
    options.accepted = splitList(options.details?.accepted);
    const sv = options.details?.[SCHEMA_VERSION_HEADER] ??
      e.metadata.get(SCHEMA_VERSION_HEADER) ?? undefined;
    if (sv) options.serverVersion = sv;
  }
  return errorFromCode(code, message, options);
}

/**
 * Turn a non-2xx REST / SSE answer (an RFC 9457 problem, or anything else)
 * into a {@link QmtlClientError}. Reads the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromResponse } from "@qmtl/qmtl/sdk";
 * const res = Response.json({ code: "E_NOT_FOUND", detail: "no strategy st_1" }, { status: 404 });
 * assert.equal((await errorFromResponse(res)).code, "E_NOT_FOUND");
 * ```
 */
export async function errorFromResponse(
  res: Response,
): Promise<QmtlClientError> {
  let body: Record<string, unknown> = {};
  let text = "";
  try {
    text = await res.text();
    const parsed = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed;
  } catch {
    // not JSON: the status decides
  }
  const code = typeof body.code === "string" && /^E_[A-Z_]+$/.test(body.code)
    ? body.code
    : errorCodeOfHttpStatus(res.status) ?? "E_INTERNAL";
  const message = typeof body.detail === "string"
    ? body.detail
    : text.slice(0, 200) || res.statusText || `HTTP ${res.status}`;
  const options: ClientErrorOptions = { status: res.status };
  if (typeof body.field === "string") options.field = body.field;
  if (typeof body.nodeId === "string") options.nodeId = body.nodeId;
  if (typeof body.details === "object" && body.details !== null) {
    options.details = Object.fromEntries(
      Object.entries(body.details).map(([k, v]) => [k, String(v)]),
    );
  }
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  if (retryAfter !== undefined) options.retryAfterMs = retryAfter;
  return errorFromCode(code, message, options);
}

/**
 * `waitFor` gave up: the strategy did not reach the wanted state within
 * `timeoutMs`. A client-side condition, not a server answer, so a plain
 * `Error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WaitTimeoutError } from "@qmtl/qmtl/sdk";
 * const e = new WaitTimeoutError("st_1", ["COMPLETED"], 5000);
 * assert.equal(e.message, "strategy st_1 did not reach COMPLETED within 5000 ms");
 * ```
 */
export class WaitTimeoutError extends Error {
  /** The strategy waited for. */
  readonly strategyId: string;
  /** The states waited for. */
  readonly states: StateName[];
  /** The last status seen, if any. */
  readonly lastStatus?: StrategyStatus;

  /**
   * Create the error.
   *
   * @param strategyId the strategy waited for
   * @param states the wanted states
   * @param timeoutMs the timeout that expired
   * @param lastStatus the last status seen
   */
  constructor(
    strategyId: string,
    states: StateName[],
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
 * import assert from "node:assert/strict";
 * import { UnexpectedStateError } from "@qmtl/qmtl/sdk";
 * import type { StrategyStatus } from "@qmtl/qmtl/sdk";
 * const failed = { strategyId: "st_1", state: "FAILED" } as StrategyStatus;
 * const e = new UnexpectedStateError(failed, ["COMPLETED"]);
 * assert.equal(e.state, "FAILED");
 * ```
 */
export class UnexpectedStateError extends Error {
  /** The status that stopped the wait. */
  readonly status: StrategyStatus;
  /** The state reached. */
  readonly state: StateName;

  /**
   * Create the error.
   *
   * @param status the status that stopped the wait
   * @param wanted the wanted states
   */
  constructor(status: StrategyStatus, wanted: StateName[]) {
    const state = stateName(status.state) as StateName;
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
